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
