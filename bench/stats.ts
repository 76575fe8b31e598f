/** What every side-by-side benchmark here shares: options, the alternating order, measurement and the summary. */
import * as v8 from "node:v8";
import * as vm from "node:vm";

/** `--name VALUE` or `--name=VALUE` from the command line, else fallback. */
export function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0 && args[i + 1] !== undefined) return args[i + 1]!;
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : fallback;
}

/**
 * Runs each item once per round, forwards in even rounds and backwards in odd ones, so that no
 * item always runs first (cold caches) or right after the same neighbour.
 */
export function alternating<T>(rounds: number, items: readonly T[], run: (item: T, round: number) => void): void {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? items : [...items].reverse();
    for (const item of order) run(item, round);
  }
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summary(samples: readonly number[]): Summary {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples: [...samples] };
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/** global.gc when node runs with --expose-gc, else the same function obtained at run time. */
export const gc: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

export interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** Keeps the last result alive until the next measurement, so that its collection is not timed. */
const sink: { last?: unknown } = {};

/** Wall and CPU time of one in-process run, after a full garbage collection. */
export function measure(run: () => unknown): Sample {
  gc();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = run();
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  sink.last = result;
  return { wallMs: Number(t1 - t0) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/**
 * `--sizes N,N,...` (services) and `--rounds R` of a benchmark run per size; prints usage and exits
 * 2 when they are not positive integers with at least two rounds (the first is a warm-up).
 */
export function sizesAndRounds(usage: string): { sizes: number[]; rounds: number } {
  const sizes = option("sizes", "100,1000,10000")
    .split(",")
    .map((s) => Number(s.trim()));
  const rounds = Number(option("rounds", "5"));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(rounds) || rounds < 2) {
    console.error(`usage: ${usage}  (rounds >= 2: the first is a warm-up)`);
    process.exit(2);
  }
  return { sizes, rounds };
}
