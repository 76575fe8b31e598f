import * as fs from "node:fs";
import * as path from "node:path";
import { isIsoDate, parseCommand, stringOptions, usageError as commandUsageError, writeOut } from "../args";
import { formatProblem, type Problem } from "../../domain/loader";
import { BaseRefError, baseLine, compareWithBase, withBase, type BaseComparison } from "./base";
import { REPORT_SCHEMA, type ComplianceReport } from "./schema";
import { PROJECT_DIR, StackConfigError, prepareStack } from "./stack";

// The report brings the components, the Pulumi SDKs and the policy pack: loaded once the
// arguments, the stack and the registries are valid (require: bin/nexus.js runs this file
// compiled to CommonJS).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see above
const loadReport = () => require("./report") as typeof import("./report");

export const AUDIT_USAGE = `Usage: nexus audit --stack NAME [--format md|json] [--registries DIR] [--base REF] [--out FILE] [--today YYYY-MM-DD]

Evaluates the stack's program and the policy pack without cloud credentials, the pulumi CLI or a
cluster: the program runs under Pulumi mocks with the settings of Pulumi.<stack>.yaml and
placeholder secrets, and the pack (policy/) judges every resource in this process, with the
enforcement and exceptions registries/security.yaml sets for the stack's environment.
The report lists every resource (URN, type, name, registry FILE:LINE), every policy verdict,
the violations, the exceptions in force and when they expire, and each policy's level.
With --base REF the report opens with what the change does to security: every setting of the
environment that loosens or tightens against the registries at git revision REF (policy levels,
exceptions, RBAC, egress, exposure, service account tokens, Pod Security, approvals, policy
gates), one line each with the registry FILE:LINE of the new value.
Exit status: 0 no mandatory violation, 1 mandatory violations or registry problems
(FILE:LINE:COL field.path: message), 2 usage error (also: REF unknown, or no git).
Loosenings do not change the exit status: the reviewers decide, and the CODEOWNERS file
\`nexus ci generate\` writes makes the security registries' owners one of them.

Options:
  --stack NAME       stack to audit (required): dev or prod, i.e. a Pulumi.<stack>.yaml
  --format FORMAT    md (default): Markdown for a pull-request comment; json: for tools
  --registries DIR   folder with the registry files (default: the stack's registries setting)
  --base REF         compare the registries with those at git revision REF (e.g. origin/main);
                     registries that do not load at REF are named in one line, the report follows
  --out FILE         write the report there (default: standard output)
  --today DATE       day exceptions are judged against, YYYY-MM-DD (default: today, UTC)
  -h, --help         show this help

Example:
  npx nexus audit --stack prod --format md --out audit-prod.md
  npx nexus audit --stack dev --format json --today 2026-11-27 > audit-dev.json
  npx nexus audit --stack prod --base origin/main --out audit-prod.md`;

function usageError(message: string): number {
  return commandUsageError(message, AUDIT_USAGE);
}

/** 0 when no mandatory policy is violated, else 1. */
export function exitCodeOf(report: ComplianceReport): 0 | 1 {
  return report.passed ? 0 : 1;
}

/** The registry folder as the evaluator takes it: relative to the project when inside it. */
function registriesArg(dir: string, PROJECT_DIR: string): string {
  const absolute = path.resolve(dir);
  const relative = path.relative(PROJECT_DIR, absolute);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : absolute;
}

interface AuditArgs {
  stack: string;
  format: "md" | "json";
  today: string;
  registries: string | undefined;
  base: string | undefined;
  out: string | undefined;
}

/** The command's options, checked; or the exit status of a usage error or --help. */
function auditArgs(args: string[]): AuditArgs | { exit: number } {
  const parsed = parseCommand(args, stringOptions("stack", "format", "registries", "base", "out", "today"), AUDIT_USAGE);
  if ("exit" in parsed) return parsed;
  const values = parsed.values;
  const stack = values.stack as string | undefined;
  if (!stack) return { exit: usageError("--stack is required") };
  const format = (values.format as string | undefined) ?? "md";
  if (format !== "md" && format !== "json") return { exit: usageError(`--format must be md or json, got "${format}"`) };
  const today = (values.today as string | undefined) ?? new Date().toISOString().slice(0, 10);
  if (!isIsoDate(today)) return { exit: usageError(`--today must be a date YYYY-MM-DD, got "${today}"`) };
  const registries = values.registries as string | undefined;
  if (registries !== undefined && !fs.existsSync(registries)) return { exit: usageError(`--registries ${registries}: no such folder`) };
  const base = values.base as string | undefined;
  // A revision starting with "-" would reach git as an option.
  if (base !== undefined && (base === "" || base.startsWith("-"))) return { exit: usageError(`--base must name a git revision, got "${base}"`) };
  return { stack, format, today, registries, base, out: values.out as string | undefined };
}

/** Registry problems instead of a report: located lines, or a JSON document tools can read. */
function writeProblems(a: AuditArgs, registriesDir: string, problems: Problem[]): number {
  if (a.format === "json") {
    const doc = { schema: REPORT_SCHEMA, stack: a.stack, today: a.today, registries: registriesDir, passed: false, problems };
    writeOut(a.out, `${JSON.stringify(doc, null, 2)}\n`);
  } else {
    writeOut(a.out, problems.map((p) => `${formatProblem(p)}\n`).join(""));
  }
  console.error(`nexus: ${problems.length} problem(s) in ${registriesDir}; fix them and run again (npx nexus validate --env ...)`);
  return 1;
}

export async function auditCommand(args: string[]): Promise<number> {
  const a = auditArgs(args);
  if ("exit" in a) return a.exit;
  const { stack, today, registries, out } = a;
  // Refused before the program runs, so a wrong --out costs no evaluation.
  if (out !== undefined && fs.existsSync(out) && fs.statSync(out).isDirectory()) return writeOut(out, "");

  const fail = (error: unknown): number => {
    if (error instanceof StackConfigError) {
      if (error.unknownStack) return usageError(error.message);
      console.error(`nexus: ${error.message}`);
      return 1;
    }
    console.error(`nexus: the program of stack ${stack} failed under mocks: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  };

  let prepared: ReturnType<typeof prepareStack>;
  try {
    prepared = prepareStack({ stack, today, ...(registries !== undefined ? { registriesDir: registriesArg(registries, PROJECT_DIR) } : {}) });
  } catch (error) {
    return fail(error);
  }
  if (!prepared.ok) return writeProblems(a, prepared.registriesDir, prepared.problems);

  let comparison: BaseComparison | undefined;
  if (a.base !== undefined) {
    try {
      comparison = compareWithBase({ ref: a.base, registriesDir: path.resolve(PROJECT_DIR, prepared.stack.registriesDir), head: prepared.stack.model, today });
    } catch (error) {
      if (!(error instanceof BaseRefError)) throw error;
      console.error(`nexus: ${error.message}`);
      return 2;
    }
    if (!comparison.base.loaded) console.error(`nexus: ${baseLine(comparison)}`);
  }

  const { auditPrepared, renderJson, renderMarkdown, summaryLine } = loadReport();
  let result: Awaited<ReturnType<typeof auditPrepared>>;
  try {
    result = await auditPrepared(prepared.stack);
  } catch (error) {
    return fail(error);
  }

  const report = comparison ? withBase(result.report, comparison) : result.report;
  const written = writeOut(out, a.format === "json" ? renderJson(report) : renderMarkdown(report));
  if (written !== 0) return written;
  const code = exitCodeOf(report);
  console.error(
    `nexus audit ${stack}: ${summaryLine(report)}${out !== undefined ? ` (report in ${out})` : ""}` + (code === 0 ? "" : ": mandatory policies are violated"),
  );
  if (comparison?.base.loaded) console.error(`nexus audit ${stack}: ${baseLine(comparison)}`);
  return code;
}
