import * as path from "node:path";
import { parse } from "yaml";
import { parseCommand, stringOptions, usageError } from "../../args";
import { annotate, outputNameProblem, readIfExists, writeGitHubOutput } from "./output";

export const REGION_USAGE = `Usage: nexus ci region --stack NAME [--dir DIR] [--github-output NAME]

Prints the AWS region of a stack: the aws:region setting of Pulumi.<NAME>.yaml, which the
workflows hand to the OIDC credentials action before any Pulumi command runs.
Exit status: 0 printed, 1 the file or the setting is missing or not an AWS region name (or the
step output cannot be written), 2 usage error.

Options:
  --stack NAME          Pulumi stack (required), e.g. prod
  --dir DIR             folder with the Pulumi.<NAME>.yaml files (default: .)
  --github-output NAME  also write NAME=REGION to the step outputs ($GITHUB_OUTPUT), read as steps.ID.outputs.NAME
  -h, --help            show this help

Examples:
  npx nexus ci region --stack prod
  npx nexus ci region --stack prod --github-output region`;

/** What AWS region names look like (us-east-1, ap-southeast-2, us-gov-west-1): nothing else reaches $GITHUB_OUTPUT. */
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The aws:region of a Pulumi stack config file's text, or why there is none. */
export function stackRegion(text: string | undefined, stack: string): { region: string } | { problem: string } {
  const fix = `pulumi config set aws:region REGION --stack ${stack}`;
  if (text === undefined) return { problem: `there is no config file for stack ${stack}: ${fix}` };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    return { problem: `the config file of stack ${stack} is not valid YAML: ${(error as Error).message.split("\n")[0]}` };
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config;
  const value = config && typeof config === "object" ? config["aws:region"] : undefined;
  if (value === undefined || value === null || value === "") return { problem: `aws:region is not set for stack ${stack}: ${fix}` };
  if (typeof value !== "string" || !AWS_REGION.test(value)) {
    return { problem: `aws:region of stack ${stack} must be a plain AWS region name such as eu-central-1, got ${JSON.stringify(value)}` };
  }
  return { region: value };
}

export async function regionCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("stack", "dir", "github-output"), REGION_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const stack = parsed.values.stack as string | undefined;
  if (!stack) return usageError("--stack is required", REGION_USAGE);
  const output = parsed.values["github-output"] as string | undefined;
  const badName = output === undefined ? undefined : outputNameProblem(output);
  if (badName) return usageError(badName, REGION_USAGE);
  const file = path.join((parsed.values.dir as string | undefined) ?? ".", `Pulumi.${stack}.yaml`);
  const result = stackRegion(readIfExists(file), stack);
  if ("problem" in result) {
    annotate("error", result.problem, { file });
    return 1;
  }
  const problem = output === undefined ? undefined : writeGitHubOutput(output, result.region);
  if (problem) {
    annotate("error", problem);
    return 1;
  }
  console.log(result.region);
  return 0;
}
