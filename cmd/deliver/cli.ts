import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatProblem, loadRegistries } from "../../domain/loader";
import { parseCommand, stringOptions, usageError } from "../args";
import { PROJECT_DIR, StackConfigError, stackSettings } from "../audit/stack";
import { actor, gitHead, stackRunner, type StackRunner } from "./engine";
import { countsLine, verdictLine, violationsAt, type RunSummary } from "./events";
import { deployedAt, historyEntries, historyMarkdown, lastDeployed, recordMessage } from "./record";

// The delivery commands the workflows call, and that run the same on a laptop: the pull-request
// check, the deploy (with promotion and approvals), the drift check and the history of a stack.
// Each runs the engine through scripts/stack and writes one Markdown body for the workflow to post.

export const CHECK_USAGE = `Usage: nexus check --stack NAME [--base REF] [--out FILE]

The pull-request check of one stack: a preview with the policy gate (the real engine, the stack's
backend and cluster), the credential-free audit (nexus audit), and with --base the security
changes of the registries against REF. Writes one Markdown comment body.
Exit status: 0 passed, 1 failed (a mandatory policy violation, a preview or audit error), 2 usage.

Options:
  --stack NAME   the stack to preview (a Pulumi.<stack>.yaml)
  --base REF     git revision the change is compared with (e.g. origin/main)
  --out FILE     write the comment body there (default: standard output)

Example: npx nexus check --stack dev --base origin/main --out check-dev.md`;

export const DEPLOY_USAGE = `Usage: nexus deploy --stack NAME [--approved-by LOGIN[,LOGIN...]] [--out FILE]

Deploys the checkout's commit to a stack with the policy gate, in promotion order: a stack after
the first of the pipelines registry's promotion is deployed only from a commit that the stack before
it runs (a successful update from that commit in its history), and an environment whose approval
is required only with the approvals given (--approved-by, or NEXUS_APPROVED_BY). The update's
message records the commit, who ran it (NEXUS_ACTOR, GITHUB_ACTOR or the login name), the approvals
and the policy verdicts of the preview before it: nexus history shows them.
Exit status: 0 deployed, 1 refused or failed (nothing is deployed when refused), 2 usage error.

Options:
  --stack NAME          the stack to deploy
  --approved-by LOGINS  who approved this deploy, comma-separated
  --out FILE            write a Markdown summary there (also when it fails)

Example: npx nexus deploy --stack staging --out deploy-staging.md`;

export const DRIFT_USAGE = `Usage: nexus drift --stack NAME [--out FILE]

Compares the stack's live objects with its state (pulumi refresh --preview-only), changing nothing.
Exit status: 0 no drift, 2 drift found (FILE gets an issue body listing each drifted resource and
property), 1 the check itself failed (credentials, backend, cluster), 2 also for a usage error
(then nothing is written).

Options:
  --stack NAME   the stack to check
  --out FILE     write the drift report there (default: standard output)

Example: npx nexus drift --stack prod --out drift-prod.md`;

export const HISTORY_USAGE = `Usage: nexus history --stack NAME [--json]

Every update of a stack, newest first: when, its result, who ran it, the registry commit, the
resource changes, the approvals and the policy verdicts (the last three as nexus deploy recorded
them). Reads the stack's update history from its backend; needs no passphrase and no cluster.

Options:
  --stack NAME   the stack
  --json         the entries as JSON

Example: npx nexus history --stack prod`;

const STREAMED_PREVIEW = { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" };
const MAX_ROWS = 60;

function writeOut(out: string | undefined, body: string): void {
  if (out) fs.writeFileSync(out, body);
  else process.stdout.write(body);
}

function requireStack(values: Record<string, unknown>, usage: string): string | number {
  const stack = values.stack as string | undefined;
  if (!stack) return usageError("--stack is required", usage);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(stack)) return usageError(`--stack ${stack}: not a stack name`, usage);
  if (!fs.existsSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`))) return usageError(`no Pulumi.${stack}.yaml: the stack ${stack} is not declared`, usage);
  return stack;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();

/** The planned changes and the gate's verdicts of one engine run, as Markdown sections. */
export function runMarkdown(summary: RunSummary, planned: boolean): string[] {
  const lines = [`**Resources:** ${countsLine(summary.counts, planned)}`, ""];
  if (summary.changes.length > 0) {
    lines.push("| operation | type | name | properties |", "| --- | --- | --- | --- |");
    for (const c of summary.changes.slice(0, MAX_ROWS)) lines.push(`| ${c.op} | ${c.type} | ${cell(c.name)} | ${cell(c.properties.join(", ")) || "-"} |`);
    if (summary.changes.length > MAX_ROWS) lines.push(`| ... | ${summary.changes.length - MAX_ROWS} more | | |`);
    lines.push("");
  }
  lines.push(`**Policy gate:** ${verdictLine(summary)}`, "");
  const violations = [
    ...violationsAt(summary, "mandatory").map((v) => ({ ...v, level: "mandatory" })),
    ...violationsAt(summary, "advisory").map((v) => ({ ...v, level: "advisory" })),
  ];
  if (violations.length > 0) {
    lines.push("| level | policy | resource | message |", "| --- | --- | --- | --- |");
    for (const v of violations.slice(0, MAX_ROWS)) lines.push(`| ${v.level} | ${v.policy} | ${cell(v.urn.split("::").pop() ?? v.urn)} | ${cell(v.message)} |`);
    lines.push("");
  }
  if (summary.errors.length > 0) lines.push("**Errors:**", "", ...summary.errors.map((e) => `- ${cell(e)}`), "");
  return lines;
}

export async function checkCommand(args: string[], run: StackRunner = stackRunner()): Promise<number> {
  const parsed = parseCommand(args, stringOptions("stack", "base", "out"), CHECK_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const stack = requireStack(parsed.values, CHECK_USAGE);
  if (typeof stack === "number") return stack;
  const base = parsed.values.base as string | undefined;

  const preview = await run("preview", stack, ["--json"], STREAMED_PREVIEW);
  const auditFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nexus-check-")), "audit.md");
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the audit brings the SDKs and the pack: loaded on use
  const { auditCommand } = require("../audit/cli") as typeof import("../audit/cli");
  const auditCode = await auditCommand(["--stack", stack, "--format", "md", "--out", auditFile, ...(base ? ["--base", base] : [])]);
  const audit = fs.existsSync(auditFile) ? fs.readFileSync(auditFile, "utf8") : `The audit did not run (exit ${auditCode}); see the job log.\n`;
  fs.rmSync(path.dirname(auditFile), { recursive: true, force: true });

  const passed = preview.code === 0 && auditCode === 0;
  const head = gitHead();
  const commit = "commit" in head ? head.commit.slice(0, 12) : "unknown";
  const body = [
    `<!-- nexus-check:${stack} -->`,
    `## nexus check of stack \`${stack}\`: ${passed ? "passed" : "failed"}`,
    "",
    `Commit ${commit}${base ? `, compared with ${base}` : ""}. Preview exit ${preview.code}, audit exit ${auditCode}.`,
    "",
    "### Preview with the policy gate",
    "",
    ...runMarkdown(preview.summary, true),
    "### Audit and security changes",
    "",
    audit.trim(),
    "",
  ].join("\n");
  writeOut(parsed.values.out as string | undefined, body);
  console.error(`nexus check: stack ${stack} ${passed ? "passed" : "failed"}: ${countsLine(preview.summary.counts, true)}; ${verdictLine(preview.summary)}`);
  return passed ? 0 : 1;
}

interface Promotion {
  environment: string;
  approval: { required: boolean; reviewers: readonly string[] };
  previous?: { environment: string; stack: string };
}

/** The stack's environment in the pipelines registry: its approval rule and the stack before it. */
function promotionOf(stack: string): Promotion | string {
  let settings;
  try {
    settings = stackSettings(PROJECT_DIR, stack).settings;
  } catch (e) {
    if (e instanceof StackConfigError) return e.message;
    throw e;
  }
  const result = loadRegistries({ registriesDir: path.resolve(PROJECT_DIR, settings.registriesDir), env: settings.environment });
  if (!result.model) return `the registries are invalid:\n${result.problems.map(formatProblem).join("\n")}`;
  const { environment, promotion, environments } = result.model;
  const index = promotion.indexOf(environment.name);
  if (index < 0) return `environment ${environment.name} is not in the pipelines registry's promotion (${promotion.join(", ")}): it is never deployed`;
  const before = index > 0 ? environments.find((e) => e.name === promotion[index - 1]) : undefined;
  return {
    environment: environment.name,
    approval: { required: environment.approval.required, reviewers: environment.approval.reviewers },
    previous: before ? { environment: before.name, stack: before.stack } : undefined,
  };
}

export async function deployCommand(args: string[], run: StackRunner = stackRunner(), head: ReturnType<typeof gitHead> = gitHead()): Promise<number> {
  const parsed = parseCommand(args, stringOptions("stack", "approved-by", "out"), DEPLOY_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const stack = requireStack(parsed.values, DEPLOY_USAGE);
  if (typeof stack === "number") return stack;
  const out = parsed.values.out as string | undefined;
  const approvals = ((parsed.values["approved-by"] as string | undefined) ?? process.env.NEXUS_APPROVED_BY ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  const refuse = (why: string): number => {
    writeOut(out, `## nexus deploy of stack \`${stack}\`: refused\n\n${why}\n\nNothing was deployed.\n`);
    console.error(`nexus deploy: refused: ${why}`);
    return 1;
  };

  if ("error" in head) return refuse(head.error);
  if (head.dirty) return refuse("the checkout has uncommitted changes or untracked files: deploy a commit, so that the stack's history names what runs");
  const promotion = promotionOf(stack);
  if (typeof promotion === "string") return refuse(promotion);
  if (promotion.previous) {
    const history = await run("history", promotion.previous.stack, ["--json"]);
    if (history.code !== 0) return refuse(`cannot read the history of stack ${promotion.previous.stack} (exit ${history.code}): see the log above`);
    const entries = historyEntries(JSON.parse(history.stdout || "[]"));
    if (!deployedAt(entries, head.commit)) {
      const last = lastDeployed(entries);
      const runs = last
        ? `it runs ${last.commit?.slice(0, 12) ?? "an unknown commit"}${last.dirty ? " (with uncommitted changes)" : ""}, deployed ${last.start}`
        : "it was never deployed";
      return refuse(
        `commit ${head.commit.slice(0, 12)} is not deployed to ${promotion.previous.environment} (stack ${promotion.previous.stack}), the environment before ${promotion.environment}; ${runs}. Deploy it there first.`,
      );
    }
  }
  if (promotion.approval.required && approvals.length === 0) {
    return refuse(
      `${promotion.environment} requires an approval (reviewers: ${promotion.approval.reviewers.join(", ") || "any"}); none was given (--approved-by or NEXUS_APPROVED_BY)`,
    );
  }

  const preview = await run("preview", stack, ["--json"], STREAMED_PREVIEW);
  if (preview.code !== 0) {
    writeOut(
      out,
      [`## nexus deploy of stack \`${stack}\`: refused by the preview`, "", ...runMarkdown(preview.summary, true), "Nothing was deployed."].join("\n") + "\n",
    );
    console.error(`nexus deploy: the preview of ${stack} failed (exit ${preview.code}); nothing was deployed`);
    return 1;
  }
  const mandatory = violationsAt(preview.summary, "mandatory").length;
  const advisory = violationsAt(preview.summary, "advisory").length;
  const verdicts = `${preview.summary.verdicts.length} evaluated, ${mandatory} mandatory and ${advisory} advisory violations`;
  const by = actor();
  const message = recordMessage({ commit: head.commit, by, approvals, verdicts });
  // The preview above was this update's preview, gate included; the pack still judges every
  // resource as the update registers it.
  const up = await run("up", stack, ["--json", "--skip-preview", "--message", message]);
  const ok = up.code === 0;
  const body = [
    `## nexus deploy of stack \`${stack}\`: ${ok ? "deployed" : `failed (exit ${up.code})`}`,
    "",
    `Commit ${head.commit.slice(0, 12)} by ${by}; approvals: ${approvals.join(", ") || "none"}${promotion.previous ? `; promoted from ${promotion.previous.environment}` : ""}.`,
    "",
    ...runMarkdown({ ...up.summary, verdicts: preview.summary.verdicts }, false),
  ].join("\n");
  writeOut(out, body + "\n");
  console.error(`nexus deploy: stack ${stack} ${ok ? "deployed" : "failed"}: ${countsLine(up.summary.counts, false)}`);
  return ok ? 0 : 1;
}

export async function driftCommand(args: string[], run: StackRunner = stackRunner()): Promise<number> {
  const parsed = parseCommand(args, stringOptions("stack", "out"), DRIFT_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const stack = requireStack(parsed.values, DRIFT_USAGE);
  if (typeof stack === "number") return stack;
  const r = await run("drift", stack, ["--json"]);
  const drifted = r.summary.changes;
  // The refresh preview names each drifted resource in its steps for the Kubernetes provider; a
  // provider that reports no per-resource diff still counts it in the change summary.
  const counted = Object.entries(r.summary.counts).reduce((n, [op, count]) => (op === "same" ? n : n + count), 0);
  if (r.code === 0 && drifted.length === 0 && counted === 0) {
    console.error(`nexus drift: stack ${stack}: no drift`);
    return 0;
  }
  if (r.summary.errors.length > 0 || (drifted.length === 0 && counted === 0)) {
    console.error(`nexus drift: the check of stack ${stack} failed (exit ${r.code}); this is not drift:\n${r.summary.errors.map((e) => `  ${e}`).join("\n")}`);
    return 1;
  }
  const body = [
    `## Drift detected in stack \`${stack}\``,
    "",
    `The live objects of ${Math.max(drifted.length, counted)} resource(s) differ from the stack's state (${countsLine(r.summary.counts, true)}): they were changed outside the stack (kubectl, the console, a controller).`,
    `Either put the registry's values back with \`npx nexus deploy --stack ${stack}\` (through the pipeline), or, when the live value is right, change the registry to match it.`,
    "",
    "| operation | type | name | properties that differ |",
    "| --- | --- | --- | --- |",
    ...drifted.slice(0, MAX_ROWS).map((c) => `| ${c.op} | ${c.type} | ${cell(c.name)} | ${cell(c.properties.join(", ")) || "-"} |`),
    "",
  ].join("\n");
  writeOut(parsed.values.out as string | undefined, body);
  console.error(`nexus drift: stack ${stack}: drift in ${Math.max(drifted.length, counted)} resource(s)`);
  return 2;
}

export async function historyCommand(args: string[], run: StackRunner = stackRunner()): Promise<number> {
  const parsed = parseCommand(args, { ...stringOptions("stack"), json: { type: "boolean" } }, HISTORY_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const stack = requireStack(parsed.values, HISTORY_USAGE);
  if (typeof stack === "number") return stack;
  const r = await run("history", stack, ["--json"]);
  if (r.code !== 0) {
    console.error(`nexus history: cannot read the history of stack ${stack} (exit ${r.code})`);
    return 1;
  }
  const entries = historyEntries(JSON.parse(r.stdout || "[]"));
  process.stdout.write(parsed.values.json ? `${JSON.stringify(entries, null, 2)}\n` : historyMarkdown(stack, entries));
  return 0;
}
