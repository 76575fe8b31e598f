/**
 * Every row of the speed goals in one command (`npm run bench`), one benchmark after the other so
 * that they do not compete for the CPUs; each runs its variants side by side (bench/README.md).
 *
 *   npm run bench                       # the defaults below
 *   npm run bench -- --quick            # fewer rounds and sizes: a check that everything runs
 *
 * The tables land in bench/out/results.md, each benchmark's own files beside it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const OUT = path.join(ROOT, "bench", "out");
const quick = process.argv.includes("--quick");

const BENCHMARKS: { title: string; script: string; args: string[]; results: string }[] = [
  {
    title: "Commands: stack wrapper, policy pack, nexus validate",
    script: "bench/commands.ts",
    args: ["--rounds", quick ? "3" : "7"],
    results: "commands/results.md",
  },
  {
    title: "Registry load: fast path, positions, bare parse; nexus validate at 10 000 services",
    script: "bench/validate.ts",
    args: ["--sizes", quick ? "100" : "100,1000,10000", "--rounds", quick ? "2" : "5"],
    results: "validate.md",
  },
  {
    title: "The program against a minimal program with the same resources (real engine, local API server)",
    script: "bench/engine/run.ts",
    args: quick ? ["--sizes", "10", "--rounds", "2", "--up-sizes", "10"] : ["--sizes", "10,100,1000", "--rounds", "3,3,1", "--up-sizes", "10,100"],
    results: "engine/results.md",
  },
];

function main(): number {
  const sections: string[] = [];
  let failed = 0;
  for (const b of BENCHMARKS) {
    console.error(`\n== ${b.title}: npx tsx ${b.script} ${b.args.join(" ")}`);
    const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), b.script, ...b.args], { cwd: ROOT, stdio: "inherit" });
    const file = path.join(OUT, b.results);
    if (r.status !== 0 || !fs.existsSync(file)) {
      failed++;
      sections.push(`## ${b.title}\n\nfailed (exit ${r.status}); see the output above.`);
      continue;
    }
    sections.push(`## ${b.title}\n\n${fs.readFileSync(file, "utf8").trim()}`);
  }
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, "results.md"), `${sections.join("\n\n")}\n`);
  console.error(`\nall results: ${path.relative(ROOT, path.join(OUT, "results.md"))}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
