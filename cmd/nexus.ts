import * as path from "node:path";
import { formatProblem, loadRegistries } from "../domain/loader";
import { parseCommand, stringOptions, registriesDirProblem, usageError } from "./args";
import { policyConfig } from "./policyConfig";
import { projectStackConfigProblems } from "./stackConfig";

type Command = (args: string[]) => Promise<number>;

/**
 * A command's module, loaded when the command runs, so `validate` does not pay for the Pulumi SDK
 * (secrets, audit), the policy pack (audit) or the GitHub client (ci). A plain require: bin/nexus.js
 * runs this file compiled to CommonJS (bin/build.js), and the tests run it under vitest.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy loading, see above
const load = <T>(id: string): T => require(id) as T;

const USAGE = `Usage: nexus <command> [options]

Commands:
  validate   check the registries (schemas, references, cycles, cron, images, backups)
  schema     regenerate the JSON Schemas in registries/schema/
  secrets    list the secret config keys the registries reference
  policy-config  compile the policy pack config of one environment (--policy-pack-config)
  ci generate    write .github/workflows/ from registries/pipelines.yaml (--check: verify)
  ci SUBCOMMAND  what the workflow steps run: region, approvals, post-comment, post-issue, check-protection (nexus ci --help)
  audit      compliance report of a stack: program + policy pack under mocks (--stack dev|prod)
  diagnose   why workloads of a stack are not Ready: registry entry, pod reason, failed probe, last log lines
  restore    restore a backup task's newest backup (or the newest at or before --at) into its target
  check      pull-request check of a stack: preview with the gate, audit, security changes (--base)
  deploy     deploy the checkout's commit to a stack, in promotion order, with the approvals recorded
  drift      compare a stack's live objects with its state: exit 0 clean, 2 drift, 1 failed
  history    every update of a stack: when, who, commit, changes, approvals, policy verdicts

Run "nexus <command> --help" for a command's options.
Example: npx nexus validate --env prod`;

const VALIDATE_USAGE = `Usage: nexus validate [--registries DIR] [--env NAME] [--format text|json]

Checks the five registry files and prints one line per problem:
  FILE:LINE:COL field.path: message
When the registries folder is in a Pulumi project (its parent holds Pulumi.yaml), also checks every
Pulumi.<stack>.yaml there for plain values that look like secrets (use pulumi config set --secret).
Exit status: 0 valid, 1 problems found, 2 usage error.

Options:
  --registries DIR   folder with the registry files (default: registries)
  --env NAME         validate one environment (default: every environment in pipelines.yaml)
  --format FORMAT    text (default) or json: an array of {file, line, column, path, message, code}
  -h, --help         show this help

Example: npx nexus validate --env prod --format json`;

const SCHEMA_USAGE = `Usage: nexus schema [--out DIR]

Regenerates the JSON Schema of each registry from its zod schema, for editor completion.

Options:
  --out DIR    output folder (default: registries/schema)
  -h, --help   show this help

Example: npx nexus schema`;

const validate: Command = async (args) => {
  const parsed = parseCommand(args, stringOptions("registries", "env", "format"), VALIDATE_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values;
  const format = (v.format as string | undefined) ?? "text";
  if (format !== "text" && format !== "json") return usageError(`--format must be text or json, got "${format}"`, VALIDATE_USAGE);
  const registriesDir = (v.registries as string | undefined) ?? "registries";
  const dirProblem = registriesDirProblem(registriesDir);
  if (dirProblem) return usageError(dirProblem, VALIDATE_USAGE);
  const result = loadRegistries({ registriesDir, env: v.env as string | undefined, promql: true });
  const stackConfig = projectStackConfigProblems(registriesDir);
  const problems = [...result.problems, ...stackConfig];
  if (format === "json") {
    console.log(JSON.stringify(problems, null, 2));
  } else if (problems.length > 0) {
    for (const p of problems) console.log(formatProblem(p));
    const where = [...(result.problems.length > 0 ? [registriesDir] : []), ...new Set(stackConfig.map((p) => p.file))].join(", ");
    console.error(`nexus: ${problems.length} problem(s) in ${where}; fix them and run again`);
  } else {
    const c = result.counts;
    if (!result.promqlChecked) console.error("nexus: note: promtool is not installed, so alert PromQL and templates were not parsed");
    console.log(
      `ok: ${path.join(registriesDir)} valid for ${result.environments.join(", ")}: ` +
        `${c.services} services, ${c.tasks} tasks, ${c.pipelines} pipelines, ${c.alerts} alerts, ${c.policies} policies`,
    );
  }
  return problems.length > 0 ? 1 : 0;
};

const schema: Command = async (args) => {
  const parsed = parseCommand(args, stringOptions("out"), SCHEMA_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const { writeSchemas } = load<typeof import("./schema")>("./schema");
  const files = writeSchemas((parsed.values.out as string | undefined) ?? path.join("registries", "schema"));
  for (const f of files) console.log(`wrote ${f}`);
  return 0;
};

const audit: Command = (args) => load<typeof import("./audit/cli")>("./audit/cli").auditCommand(args);
const ci: Command = (args) => load<typeof import("./ci/cli")>("./ci/cli").ci(args);
const secrets: Command = (args) => load<typeof import("./secrets")>("./secrets").secretsCommand(args);
const diagnose: Command = (args) => load<typeof import("./diagnose/cli")>("./diagnose/cli").diagnoseCommand(args);
const restore: Command = (args) => load<typeof import("./restore/cli")>("./restore/cli").restoreCommand(args);

const deliver = () => load<typeof import("./deliver/cli")>("./deliver/cli");
const check: Command = (args) => deliver().checkCommand(args);
const deploy: Command = (args) => deliver().deployCommand(args);
const drift: Command = (args) => deliver().driftCommand(args);
const history: Command = (args) => deliver().historyCommand(args);

const COMMANDS: Record<string, Command> = {
  validate,
  schema,
  "policy-config": policyConfig,
  ci,
  audit,
  secrets,
  diagnose,
  restore,
  check,
  deploy,
  drift,
  history,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) return usageError(`unknown command "${name}"`, USAGE);
  return command(rest);
}
