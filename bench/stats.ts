/** What every side-by-side benchmark here shares: options, the alternating order and the summary. */

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

export function summary(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples: [...samples] };
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}
