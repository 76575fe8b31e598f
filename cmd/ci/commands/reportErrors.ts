import { parseCommand, stringOptions, usageError } from "../../args";
import { annotate, readIfExists } from "./output";

export const REPORT_ERRORS_USAGE = `Usage: nexus ci report-errors --report FILE

Shows the error diagnostics of a \`pulumi ... --json\` report (one annotation each under GitHub
Actions), so a failed refresh or preview says why. It only reports: the exit status is 0 even
when the report is missing or unreadable (the caller decides whether the job fails), 2 on a
usage error.

Options:
  --report FILE   the JSON that \`pulumi preview|refresh --json\` wrote (required)
  -h, --help      show this help

Example:
  npx nexus ci report-errors --report "$RUNNER_TEMP/nexus-drift-prod.json"`;

export interface Diagnostic {
  message: string;
  urn?: string;
}

/** The error-severity diagnostics of a Pulumi JSON report, or why the text is not one. */
export function errorDiagnostics(text: string | undefined): { errors: Diagnostic[] } | { problem: string } {
  if (text === undefined || text.trim() === "") return { problem: "pulumi wrote no JSON report" };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    return { problem: `the report is not JSON (${(error as Error).message})` };
  }
  const diagnostics = (doc as { diagnostics?: unknown } | null)?.diagnostics;
  if (!Array.isArray(diagnostics)) return { errors: [] };
  const errors = diagnostics.flatMap((d: unknown) => {
    if (!d || typeof d !== "object") return [];
    const { severity, message, urn } = d as Record<string, unknown>;
    if (severity !== "error" || typeof message !== "string" || message.trim() === "") return [];
    return [{ message: message.trim(), ...(typeof urn === "string" && urn !== "" ? { urn } : {}) }];
  });
  return { errors };
}

export async function reportErrorsCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("report"), REPORT_ERRORS_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const file = parsed.values.report as string | undefined;
  if (!file) return usageError("--report is required", REPORT_ERRORS_USAGE);
  const result = errorDiagnostics(readIfExists(file));
  if ("problem" in result) {
    console.error(`nexus: no diagnostics to show from ${file}: ${result.problem}`);
    return 0;
  }
  for (const e of result.errors) annotate("error", e.message, e.urn ? { title: e.urn } : {});
  if (result.errors.length === 0) console.error(`nexus: ${file} holds no error diagnostic`);
  return 0;
}
