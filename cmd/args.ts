import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

export type Values = Record<string, string | boolean | undefined>;
type Options = Record<string, { type: "string" | "boolean"; short?: string }>;

/** Options that each take one value, by name: `stringOptions("env", "out")`. */
export function stringOptions(...names: string[]): Options {
  return Object.fromEntries(names.map((n) => [n, { type: "string" as const }]));
}

/** Prints a usage error with the command's usage text; exit status 2, as for every command. */
export function usageError(message: string, usage: string): number {
  console.error(`nexus: ${message}\n\n${usage}`);
  return 2;
}

/**
 * Parses a command's flags strictly (unknown flags and stray arguments are usage errors) and
 * answers `--help`. Returns the values, or the exit status when the command is done.
 */
export function parseCommand(args: string[], options: Options, usage: string): { values: Values } | { exit: number } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) return { exit: usageError(`unexpected argument "${positionals[0]}"`, usage) };
    if (values.help) {
      console.log(usage);
      return { exit: 0 };
    }
    return { values: values as Values };
  } catch (error) {
    return { exit: usageError((error as Error).message.split("\n")[0]!, usage) };
  }
}

/** Whether a text is a real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Why `--registries DIR` cannot be read as a registries folder, or undefined when it can. */
export function registriesDirProblem(dir: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    return `--registries ${dir}: no such folder; name the folder holding the five registry files`;
  }
  return stat.isDirectory() ? undefined : `--registries ${dir} is a file; name the folder holding the five registry files`;
}

/**
 * Writes a command's output to `--out FILE` (creating its folder), or to standard output. Returns
 * the exit status: 0, 2 when FILE names a folder, 1 when it cannot be written (permissions, disk).
 */
export function writeOut(out: string | undefined, text: string): number {
  if (out === undefined) {
    process.stdout.write(text);
    return 0;
  }
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) {
    console.error(`nexus: --out ${out} is a folder; name a file to write`);
    return 2;
  }
  try {
    makeFolders(path.dirname(path.resolve(out)));
    fs.writeFileSync(out, text);
    return 0;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    const why: Record<string, string> = {
      EACCES: "no permission to write there",
      EROFS: "read-only file system",
      ENOTDIR: "a part of the path is a file",
      EEXIST: "a part of the path is a file",
    };
    console.error(`nexus: cannot write --out ${out}: ${code}${why[code] ? ` (${why[code]})` : ""}`);
    return 1;
  }
}

/**
 * Creates missing folders one level at a time. (Node's recursive mkdir can loop forever on
 * pseudo file systems such as /proc, where creating a folder fails without a usable error.)
 */
function makeFolders(dir: string): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: "ENOTDIR" });
    return;
  }
  makeFolders(path.dirname(dir));
  fs.mkdirSync(dir);
}
