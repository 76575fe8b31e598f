import * as fs from "node:fs";

export type Level = "error" | "warning" | "notice";

/** Workflow-command escaping, as the runner unescapes it: a message cannot end a command early. */
const escapeData = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");

/**
 * A problem as the job log shows it: under GitHub Actions a workflow command, which the run's
 * summary lists as an annotation; elsewhere (a terminal) a plain "nexus: level: message" line.
 */
export function annotation(level: Level, message: string, props: { title?: string; file?: string } = {}, env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_ACTIONS !== "true") return `nexus: ${level}: ${props.title ? `${props.title}: ` : ""}${message}`;
  const list = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${escapeProperty(v!)}`)
    .join(",");
  return `::${level}${list ? ` ${list}` : ""}::${escapeData(message)}`;
}

/** Annotations go to standard error: standard output may be a command's result, captured by the shell. */
export function annotate(level: Level, message: string, props: { title?: string; file?: string } = {}): void {
  console.error(annotation(level, message, props));
}

/** The file's text, or undefined when it does not exist or cannot be read. */
export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** A comma-separated --envs value: the names, without blanks. */
export function listOf(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** A time to the minute, as the comments and issues show it: "2026-05-01 05:03 UTC". */
export const minuteOf = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** Why NAME cannot be a step output's name (`steps.ID.outputs.NAME` reads it back), or undefined. */
export function outputNameProblem(name: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? undefined : `--github-output must be a step output name (letters, digits, '_', '-'), got "${name}"`;
}

/**
 * Appends NAME=VALUE to the file the runner names in GITHUB_OUTPUT, so a later step reads it as
 * `steps.ID.outputs.NAME`. The command writes it itself rather than a shell `echo "...$(...)"`,
 * which would hide the command's failure behind echo's success. A value is one line: a line
 * break would let it set further outputs.
 */
export function writeGitHubOutput(name: string, value: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const badName = outputNameProblem(name);
  if (badName) return badName;
  if (/[\r\n]/.test(value)) return `the ${name} output must be one line`;
  const file = env.GITHUB_OUTPUT;
  if (!file) return "GITHUB_OUTPUT is not set: --github-output works in a GitHub Actions step only";
  try {
    fs.appendFileSync(file, `${name}=${value}\n`);
    return undefined;
  } catch (error) {
    return `cannot write the step output to ${file}: ${(error as Error).message}`;
  }
}
