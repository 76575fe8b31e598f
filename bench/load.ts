/**
 * Load benchmark: how much the registry loader (parse + zod schemas + per-environment resolve +
 * cross-registry checks + model build) costs on top of the bare YAML parse of the same files.
 *
 *   npx tsx bench/load.ts                          # sizes 100,1000,10000, 5 rounds
 *   npx tsx bench/load.ts --sizes 100,1000 --rounds 7
 *
 * For each size N the generator (bench/generate.ts) writes bench/out/<N>/registries, the set is
 * asserted to load with zero problems for env dev, then (a) the bare parse and (b) the full
 * loadRegistries({ registriesDir, env: "dev" }) run interleaved for several rounds (the order
 * alternates each round, gc runs before every measurement). The first round is a warm-up and
 * is dropped; the table reports medians. Results also go to bench/out/results.{md,json}.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { formatProblem, loadRegistries } from "../domain/loader";
import { generateRegistries, REGISTRY_FILE_NAMES } from "./generate";
import { measure, median, option, sizesAndRounds, type Sample } from "./stats";

const GOAL_OVERHEAD = 0.5; // validation adds at most 50 % over the bare parse
const GOAL_10K_MS = 5000; // 10 000 services validate in under 5 s (see also bench/validate.ts)

const { sizes, rounds } = sizesAndRounds("npx tsx bench/load.ts [--sizes 100,1000,10000] [--rounds 5] [--env dev]");
const env = option("env", "dev");

/** (a) The parse the loader does, and nothing else: read, parseAllDocuments with a LineCounter, toJS. */
function bareParse(dir: string): unknown[] {
  return REGISTRY_FILE_NAMES.map((file) => {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    if (!Array.isArray(docs) || docs[0]!.errors.length > 0) throw new Error(`${file}: YAML errors`);
    return docs[0]!.toJS({ maxAliasCount: 100 });
  });
}

/** (b) The full loader for one environment. */
function fullLoad(dir: string) {
  const result = loadRegistries({ registriesDir: dir, env });
  if (result.problems.length > 0 || !result.model) throw new Error(`${dir}: ${result.problems.length} problem(s)`);
  return result;
}

/** A fixed amount of pure CPU work, to tell a slow or busy machine from a slow loader. */
function calibrate(): Sample {
  return measure(() => {
    let x = 0;
    for (let i = 0; i < 1e8; i++) x = (x + i) | 0;
    return x;
  });
}

interface Row {
  n: number;
  bytes: number;
  tasks: number;
  alerts: number;
  bare: Sample[];
  load: Sample[];
}

const outRoot = path.join(__dirname, "out");
const rows: Row[] = [];
const started = new Date();
const calibrationBefore = calibrate();

for (const n of sizes) {
  const dir = path.join(outRoot, String(n), "registries");
  const stats = generateRegistries(dir, { services: n });
  process.stderr.write(`N=${n}: ${stats.tasks} tasks, ${stats.alerts} alerts, ${(stats.bytes / 1048576).toFixed(2)} MiB; validating... `);

  // The generated set must be valid, or the benchmark would time the error path.
  const check = loadRegistries({ registriesDir: dir, env });
  if (check.problems.length > 0 || !check.model || check.counts.services !== n) {
    console.error(`\nFAIL: the generated registries for N=${n} do not validate for env ${env} (${check.problems.length} problem(s)):`);
    for (const p of check.problems.slice(0, 25)) console.error(`  ${formatProblem(p)}`);
    if (check.problems.length > 25) console.error(`  ... and ${check.problems.length - 25} more`);
    process.exit(1);
  }
  process.stderr.write("0 problems\n");

  const row: Row = { n, bytes: stats.bytes, tasks: stats.tasks, alerts: stats.alerts, bare: [], load: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so neither side always runs on a warmer (or more fragmented) heap.
    const order = r % 2 === 0 ? (["bare", "load"] as const) : (["load", "bare"] as const);
    for (const which of order) {
      const sample = which === "bare" ? measure(() => bareParse(dir)) : measure(() => fullLoad(dir));
      if (r > 0) row[which].push(sample);
      process.stderr.write(
        `  round ${r + 1}/${rounds}${r === 0 ? " (warm-up)" : ""} ${which}: ${sample.wallMs.toFixed(1)} ms wall, ${sample.cpuMs.toFixed(1)} ms cpu\n`,
      );
    }
  }
  rows.push(row);
}
const calibrationAfter = calibrate();

// ---- report ------------------------------------------------------------------------------------
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const fmtBytes = (b: number) => (b >= 1048576 ? `${(b / 1048576).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);
const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(0)} %`;

const lines: string[] = [];
lines.push(
  `| N services | tasks / alerts | files total | bare parse median (ms) | load+validate median (ms) | overhead (b-a)/a | cpu-time overhead | within 50 %? |`,
);
lines.push(`|---:|---:|---:|---:|---:|---:|---:|:---:|`);
for (const r of rows) {
  const a = median(r.bare.map((s) => s.wallMs));
  const b = median(r.load.map((s) => s.wallMs));
  const ac = median(r.bare.map((s) => s.cpuMs));
  const bc = median(r.load.map((s) => s.cpuMs));
  lines.push(
    `| ${r.n.toLocaleString("en-US")} | ${r.tasks.toLocaleString("en-US")} / ${r.alerts.toLocaleString("en-US")} | ${fmtBytes(r.bytes)} | ${fmtMs(a)} | ${fmtMs(b)} | ${pct(a, b)} | ${pct(ac, bc)} | ${(b - a) / a <= GOAL_OVERHEAD ? "yes" : "**no**"} |`,
  );
}
const big = rows.find((r) => r.n === 10000);
lines.push("");
if (big) {
  const b = median(big.load.map((s) => s.wallMs));
  lines.push(`10 000 services load+validate in under ${GOAL_10K_MS / 1000} s: ${b < GOAL_10K_MS ? "**yes**" : "**no**"} (median ${fmtMs(b)} ms).`);
} else {
  lines.push(`10 000 services load+validate in under ${GOAL_10K_MS / 1000} s: not measured (add 10000 to --sizes).`);
}
lines.push(
  `Rounds: ${rounds} (first dropped as warm-up), env ${env}, node ${process.version}, ${os.cpus().length} CPU(s), ${started.toISOString().slice(0, 16).replace("T", " ")} UTC.`,
  `Machine speed: a 1e8-iteration integer loop took ${calibrationBefore.wallMs.toFixed(0)} ms wall / ${calibrationBefore.cpuMs.toFixed(0)} ms cpu before and ${calibrationAfter.wallMs.toFixed(0)} / ${calibrationAfter.cpuMs.toFixed(0)} ms after the run (~100 ms on an idle modern core); wall well above cpu means other processes competed for the CPUs. Compare ratios, not absolute times, across machines.`,
);
const table = lines.join("\n");
console.log(table);
fs.mkdirSync(outRoot, { recursive: true });
fs.writeFileSync(path.join(outRoot, "results.md"), `${table}\n`);
fs.writeFileSync(
  path.join(outRoot, "results.json"),
  JSON.stringify({ started: started.toISOString(), node: process.version, env, rounds, calibrationMs: [calibrationBefore, calibrationAfter], rows }, null, 2),
);
