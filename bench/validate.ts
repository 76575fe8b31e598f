/**
 * Validation speed, side by side in one run: the loader's fast path (the default of
 * loadRegistries) against the parse with positions it falls back to (`parse: "positions"`, which is
 * what every load did before the fast path) and against the bare yaml parse of the same files;
 * then the wall time of `node bin/nexus.js validate --registries DIR --env dev`, process start
 * included, at the largest size.
 *
 *   npx tsx bench/validate.ts                               # N = 100, 1000, 10000; 5 rounds
 *   npx tsx bench/validate.ts --sizes 100,1000 --rounds 7   # rounds >= 2: the first is a warm-up
 *
 * For each N the generator writes bench/out/<N>/registries, which must load with no problem.
 * Every round runs the three in a rotated order (gc before each), so none always runs first or
 * on the warmest heap. The table gives medians and the spread (min-max) of the rounds after the
 * warm-up, and ratios to the bare parse. Results also go to bench/out/validate.{md,json}.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { formatProblem, loadRegistries } from "../domain/loader";
import { generateRegistries, REGISTRY_FILE_NAMES } from "./generate";
import { measure, median, sizesAndRounds, type Sample } from "./stats";

const GOAL_10K_MS = 5000; // 10 000 services validate (nexus validate, wall) in under 5 s

const { sizes, rounds } = sizesAndRounds("npx tsx bench/validate.ts [--sizes 100,1000,10000] [--rounds 5]");
const env = "dev";

/** The bare parse: read, parseAllDocuments with a LineCounter, toJS; nothing else. */
function bare(dir: string): unknown[] {
  return REGISTRY_FILE_NAMES.map((file) => {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    const docs = parseAllDocuments(text, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: false });
    if (!Array.isArray(docs) || docs[0]!.errors.length > 0) throw new Error(`${file}: YAML errors`);
    return docs[0]!.toJS({ maxAliasCount: -1 });
  });
}

function load(dir: string, parse: "fast" | "positions") {
  const result = loadRegistries({ registriesDir: dir, env, parse });
  if (result.problems.length > 0 || !result.model) throw new Error(`${dir}: ${result.problems.length} problem(s)`);
  return result;
}

const VARIANTS = {
  bare: (dir: string) => bare(dir),
  positions: (dir: string) => load(dir, "positions"),
  fast: (dir: string) => load(dir, "fast"),
} as const;
type Variant = keyof typeof VARIANTS;
const NAMES = Object.keys(VARIANTS) as Variant[];

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const spread = (xs: number[]) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;

interface Row {
  n: number;
  bytes: number;
  samples: Record<Variant, Sample[]>;
}

const outRoot = path.join(__dirname, "out");
const started = new Date();
const rows: Row[] = [];
for (const n of sizes) {
  const dir = path.join(outRoot, String(n), "registries");
  const stats = generateRegistries(dir, { services: n });
  const check = loadRegistries({ registriesDir: dir, env });
  if (check.problems.length > 0 || check.counts.services !== n) {
    console.error(`FAIL: the generated registries for N=${n} do not validate (${check.problems.length} problem(s)):`);
    for (const p of check.problems.slice(0, 25)) console.error(`  ${formatProblem(p)}`);
    process.exit(1);
  }
  const row: Row = { n, bytes: stats.bytes, samples: { bare: [], positions: [], fast: [] } };
  for (let r = 0; r < rounds; r++) {
    const order = NAMES.map((_, i) => NAMES[(i + r) % NAMES.length]!);
    for (const which of order) {
      const sample = measure(() => VARIANTS[which](dir));
      if (r > 0) row.samples[which].push(sample);
      process.stderr.write(
        `N=${n} round ${r + 1}/${rounds}${r === 0 ? " (warm-up)" : ""} ${which}: ${fmt(sample.wallMs)} ms wall, ${fmt(sample.cpuMs)} ms cpu\n`,
      );
    }
  }
  rows.push(row);
}

// End to end: the command a developer runs, a new process each time.
const biggest = rows[rows.length - 1]!;
const bigDir = path.join(outRoot, String(biggest.n), "registries");
const endToEnd: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [path.join(__dirname, "..", "bin", "nexus.js"), "validate", "--registries", bigDir, "--env", env], {
    encoding: "utf8",
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (run.status !== 0) {
    console.error(`FAIL: nexus validate exited ${run.status}:\n${run.stdout}${run.stderr}`);
    process.exit(1);
  }
  if (r > 0) endToEnd.push(ms);
  process.stderr.write(`nexus validate N=${biggest.n} round ${r + 1}/${rounds}${r === 0 ? " (warm-up)" : ""}: ${fmt(ms)} ms wall\n`);
}

const lines: string[] = [];
lines.push("| N services | files | bare parse ms (spread) | positions ms (spread) | fast ms (spread) | positions / bare | fast / bare | fast / positions |");
lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  const w = (v: Variant) => r.samples[v].map((s) => s.wallMs);
  const [b, p, f] = [median(w("bare")), median(w("positions")), median(w("fast"))];
  const size = r.bytes >= 1048576 ? `${(r.bytes / 1048576).toFixed(1)} MiB` : `${(r.bytes / 1024).toFixed(0)} KiB`;
  lines.push(
    `| ${r.n.toLocaleString("en-US")} | ${size} | ${fmt(b)} (${spread(w("bare"))}) | ${fmt(p)} (${spread(w("positions"))}) | ${fmt(f)} (${spread(w("fast"))}) | ${(p / b).toFixed(2)} | ${(f / b).toFixed(2)} | ${(f / p).toFixed(2)} |`,
  );
}
const e2e = median(endToEnd);
lines.push("");
lines.push(
  `\`nexus validate --env dev\` at ${biggest.n.toLocaleString("en-US")} services: median ${fmt(e2e)} ms wall (spread ${spread(endToEnd)}), ` +
    `goal under ${GOAL_10K_MS / 1000} s${biggest.n === 10000 ? `: ${e2e < GOAL_10K_MS ? "**met**" : "**missed**"}` : " (measured at 10 000 only)"}.`,
);
lines.push(
  `Rounds: ${rounds} (first dropped), node ${process.version}, ${os.cpus().length} CPU(s), load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} at the end, ${started.toISOString().slice(0, 16).replace("T", " ")} UTC.`,
);
const table = lines.join("\n");
console.log(table);
fs.mkdirSync(outRoot, { recursive: true });
fs.writeFileSync(path.join(outRoot, "validate.md"), `${table}\n`);
fs.writeFileSync(
  path.join(outRoot, "validate.json"),
  JSON.stringify({ started: started.toISOString(), node: process.version, rounds, rows, endToEndMs: endToEnd }, null, 2),
);
