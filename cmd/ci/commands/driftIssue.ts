import { mdCell, mdCode, mdLink, mdText } from "../../../contract/escape/markdown";
import { parseCommand, stringOptions, usageError, writeOut } from "../../args";
import { runUrlOf } from "../githubApi";
import { minuteOf, readIfExists } from "./output";

/** The one open issue per stack is found again by this title. */
export const driftIssueTitle = (stack: string) => `Drift detected in stack ${stack}`;

export const DRIFT_ISSUE_USAGE = `Usage: nexus ci drift-issue --stack NAME --env NAME --report FILE [--out FILE] [--run-url URL]

Writes the Markdown body of the issue "${driftIssueTitle("NAME")}": what drifted (the change summary of
the refresh report), when, and how to resolve it. Post it with
\`nexus ci post-issue --title "${driftIssueTitle("NAME")}" --body-file FILE\`.
Exit status: 0 written (a missing or unreadable report gives a body without the summary),
1 FILE cannot be written, 2 usage error.

Options:
  --stack NAME      Pulumi stack that drifted (required)
  --env NAME        its environment (required)
  --report FILE     the JSON of \`pulumi refresh --preview-only --json\` (required)
  --out FILE        write the Markdown there (default: standard output)
  --run-url URL     link to the workflow run (default: from GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID)
  -h, --help        show this help

Example:
  npx nexus ci drift-issue --stack prod --env prod --report drift.json --out drift.md`;

export interface DriftIssueInput {
  stack: string;
  environment: string;
  /** The text of the refresh report, if there is one. */
  report: string | undefined;
  runUrl?: string;
  now: Date;
}

/** The non-zero changes of the report's changeSummary, by operation; or why there are none. */
export function changeSummary(report: string | undefined): { changes: [string, number][] } | { problem: string } {
  if (report === undefined) return { problem: "no refresh report" };
  let summary: unknown;
  try {
    summary = (JSON.parse(report) as { changeSummary?: unknown } | null)?.changeSummary;
  } catch (error) {
    return { problem: `the refresh report is not JSON (${(error as Error).message})` };
  }
  if (!summary || typeof summary !== "object") return { changes: [] };
  const changes = Object.entries(summary as Record<string, unknown>)
    .filter((e): e is [string, number] => e[0] !== "same" && typeof e[1] === "number" && e[1] > 0)
    .sort(([a], [b]) => a.localeCompare(b));
  return { changes };
}

export function driftIssueBody(input: DriftIssueInput): { body: string; warning?: string } {
  const { stack } = input;
  const summary = changeSummary(input.report);
  const changes = "changes" in summary ? summary.changes : [];
  const where = input.runUrl ? `in ${mdLink("this workflow run", input.runUrl)}` : "by the drift workflow";
  const body = [
    `The resources of stack **${mdText(stack)}** (environment ${mdText(input.environment)}) no longer match the Pulumi state.`,
    "",
    `Detected ${minuteOf(input.now)} by \`pulumi refresh --preview-only --expect-no-changes\` ${where}.`,
    "",
    changes.length > 0
      ? ["| change | resources |", "|---|---|", ...changes.map(([op, n]) => `| ${mdCell(op)} | ${n} |`)].join("\n")
      : "_No change summary available; see the run log._",
    "",
    `To resolve: either accept the live state with ${mdCode(`pulumi refresh --stack ${stack}`)}, or restore the declared state with ${mdCode(`pulumi up --stack ${stack}`)} (through the release pipeline).`,
    "This issue is updated by every drift run while it is open; close it once the stack is reconciled.",
    "",
  ].join("\n");
  return "problem" in summary ? { body, warning: `cannot read the refresh report: ${summary.problem}` } : { body };
}

export async function driftIssueCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("stack", "env", "report", "out", "run-url"), DRIFT_ISSUE_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values;
  for (const flag of ["stack", "env", "report"]) {
    if (!v[flag]) return usageError(`--${flag} is required`, DRIFT_ISSUE_USAGE);
  }
  const out = v.out as string | undefined;
  const result = driftIssueBody({
    stack: v.stack as string,
    environment: v.env as string,
    report: readIfExists(v.report as string),
    runUrl: (v["run-url"] as string | undefined) ?? runUrlOf(),
    now: new Date(),
  });
  if (result.warning) console.error(`nexus: warning: ${result.warning}`);
  const written = writeOut(out, result.body);
  if (written === 0 && out !== undefined) console.error(`wrote ${out}: the body of the issue "${driftIssueTitle(v.stack as string)}"`);
  return written;
}
