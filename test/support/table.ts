/**
 * Table tests of pure functions: each row is the arguments, then the output they must give, and
 * runs as a test of its own so that a failing row is named and the others still run.
 */
import { describe, expect, it } from "vitest";

/** One row: the function's arguments, then what it must return for them. */
export type Row<Args extends unknown[], Out> = readonly [...Args, Out];

export interface TableOptions<Args extends unknown[], Out> {
  /** The test's title, printf-style over the row; each argument and the output as JSON unless told. */
  title?: string;
  /** What must hold of every output beyond the value written down, given the output and the row's arguments. */
  check?: (output: Out, ...args: Args) => void;
}

/** A test per row: `fn` given the row's arguments returns the row's last value (compared with `toBe`). */
export function rowTests<Args extends unknown[], Out>(
  fn: (...args: Args) => Out,
  rows: readonly NoInfer<Row<Args, Out>>[],
  options: TableOptions<Args, Out> = {},
): void {
  const arity = (rows[0]?.length ?? 1) - 1;
  const title = options.title ?? `${"%j ".repeat(arity)}→ %j`;
  it.each(rows.map((row) => [...row]))(title, (...row: unknown[]) => {
    const args = row.slice(0, -1) as Args;
    const output = fn(...args);
    expect(output).toBe(row.at(-1));
    options.check?.(output, ...args);
  });
}

/** A `describe` block named `name` that holds nothing but the row tests of `fn`. */
export function escapeTable<Args extends unknown[], Out>(
  name: string,
  fn: (...args: Args) => Out,
  rows: readonly NoInfer<Row<Args, Out>>[],
  options: TableOptions<Args, Out> = {},
): void {
  describe(name, () => rowTests(fn, rows, options));
}
