import * as path from "node:path";
import { parseCommand, stringOptions, usageError } from "../args";
import { formatProblem } from "../../domain/loader";
import { approvalsCommand } from "./commands/approvals";
import { commentCommand } from "./commands/auditComment";
import { driftIssueCommand } from "./commands/driftIssue";
import { postCommentCommand, postIssueCommand } from "./commands/post";
import { checkProtectionCommand } from "./commands/protection";
import { regionCommand } from "./commands/region";
import { reportErrorsCommand } from "./commands/reportErrors";
import { ADAPTERS, compareWithDisk, DEFAULT_TARGET, generateCiFiles, writeGenerated, type Difference } from "./index";

const targets = Object.values(ADAPTERS)
  .map((a) => `                     ${a.name}: ${a.description}`)
  .join("\n");

export const CI_USAGE = `Usage: nexus ci <subcommand> [options]

Subcommands:
  generate          write the CI configuration derived from registries/pipelines.yaml

Run by the generated workflows around nexus check, deploy and drift (each works by hand too):
  region            print the AWS region of a stack (Pulumi.<stack>.yaml aws:region)
  approvals         print who approved this workflow run's deployment to an environment
  post-comment      post a Markdown file as the marked pull-request comment, or update it
  post-issue        open an issue with a Markdown file as its body, or update the open one
  check-protection  check the repository's environments require the registry's approvals

Builders of reports, for use by hand:
  report-errors     show the error diagnostics of a \`pulumi ... --json\` report
  comment           write one audit comment (Markdown) from per-environment audit artifacts
  drift-issue       write the body of a stack's drift issue (Markdown) from a refresh report

Run "nexus ci <subcommand> --help" for its options.
Example: npx nexus ci generate --check`;

export const CI_GENERATE_USAGE = `Usage: nexus ci generate [--target NAME] [--registries DIR] [--out DIR] [--check]

Generates the CI configuration from the pipelines registry (environments, promotion order,
pipelines): for GitHub Actions one workflow per pipeline, .github/workflows/<pipeline>.yml,
and .github/CODEOWNERS, which makes the team owning the security audit task (security.yaml
audit.task; its githubTeam in orchestration.yaml) review the security and pipelines registries,
their schemas, the policy pack, the production floor and the workflows.
The files are derived, never edited by hand: change the registry and run this again.
Exit status: 0 written (with --check: up to date), 1 registry problems
(FILE:LINE:COL field.path: message) or, with --check, files out of date; 2 usage error.

Options:
  --target NAME      CI system (default: ${DEFAULT_TARGET}):
${targets}
  --registries DIR   folder with the registry files (default: registries)
  --out DIR          repository root the files are written under (default: .)
  --check            write nothing; list the files that differ and exit 1 if any do
  -h, --help         show this help

Examples:
  npx nexus ci generate
  npx nexus ci generate --check`;

type Command = (args: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, Command> = {
  generate: (args) => ciGenerate(args),
  region: regionCommand,
  approvals: approvalsCommand,
  "report-errors": reportErrorsCommand,
  comment: commentCommand,
  "post-comment": postCommentCommand,
  "drift-issue": driftIssueCommand,
  "post-issue": postIssueCommand,
  "check-protection": checkProtectionCommand,
};

/** `nexus ci ...` */
export async function ci(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    console.log(CI_USAGE);
    return 0;
  }
  if (sub === undefined) return usageError("ci needs a subcommand", CI_USAGE);
  const command = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (!command) return usageError(`unknown ci subcommand "${sub}"`, CI_USAGE);
  return command(rest);
}

const describe: Record<Difference["kind"], string> = {
  missing: "missing",
  changed: "differs from the registry",
  stale: "generated earlier, no pipeline produces it now",
};

export async function ciGenerate(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { ...stringOptions("target", "registries", "out"), check: { type: "boolean" } }, CI_GENERATE_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const values = parsed.values;
  const target = (values.target as string | undefined) ?? DEFAULT_TARGET;
  const adapter = ADAPTERS[target];
  if (!adapter) return usageError(`--target must be one of ${Object.keys(ADAPTERS).join(", ")}, got "${target}"`, CI_GENERATE_USAGE);
  const registriesDir = (values.registries as string | undefined) ?? "registries";
  const outDir = (values.out as string | undefined) ?? ".";

  const result = generateCiFiles(registriesDir, target);
  if (result.problems.length > 0) {
    for (const p of result.problems) console.log(formatProblem(p));
    console.error(`nexus: ${result.problems.length} problem(s) in ${registriesDir}; fix them and run again (nothing was generated)`);
    return 1;
  }

  if (values.check) {
    const differences = compareWithDisk(adapter, result.files, outDir);
    if (differences.length === 0) {
      console.log(`ok: ${result.files.length} ${target} file(s) in ${outDir} match ${registriesDir}`);
      return 0;
    }
    for (const d of differences) console.log(`${path.join(outDir, d.path)}: ${describe[d.kind]}`);
    console.error(`nexus: ${differences.length} generated file(s) out of date; run \`npx nexus ci generate\` and commit the result`);
    return 1;
  }

  const differences = writeGenerated(adapter, result.files, outDir);
  for (const d of differences) console.log(`${d.kind === "stale" ? "removed" : "wrote"} ${path.join(outDir, d.path)}`);
  console.log(`ok: ${result.files.length} ${target} file(s) from ${registriesDir}${differences.length === 0 ? ", already up to date" : ""}`);
  return 0;
}
