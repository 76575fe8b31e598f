import { parseArgs } from "node:util";

export type Values = Record<string, string | boolean | undefined>;
type Options = Record<string, { type: "string" | "boolean"; short?: string }>;

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
