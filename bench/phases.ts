/**
 * Where does loadRegistries spend its time? Two views of one generated registry set:
 *
 *  1. Phase timers: the steps of loadRegistries (domain/loader/index.ts) replayed in the same order
 *     with the loader's own exported functions: read+parse (parseRegistryFile), base schema
 *     (safeParse of each file as written), resolve (resolveEnvironment), env schema (safeParse of
 *     the resolved data), cross checks (crossCheck). The steps that index.ts does not export
 *     (checkOverrideNames, buildModel with deepFreeze and source lines) are not replayed: on a
 *     busy machine "full minus the sum" is noise, so read them from view 2.
 *  2. A CPU profile (node:inspector, in process) of one full loadRegistries call, summarised as
 *     inclusive time per loader function and the top self-time functions.
 *
 *   npx tsx bench/phases.ts --size 10000 [--rounds 3] [--no-profile]
 *
 * Uses bench/out/<N>/registries (generated if missing). The profile is written to
 * bench/out/<N>/load.cpuprofile (open it in Chrome DevTools or speedscope).
 */
import * as fs from "node:fs";
import * as inspector from "node:inspector";
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { LineCounter, parseAllDocuments } from "yaml";
import { loadRegistries } from "../domain/loader";
import { crossCheck, type Registries } from "../domain/loader/checks";
import { Locator } from "../domain/loader/locator";
import { parseRegistryFile, type ParsedFile } from "../domain/loader/parse";
import type { Problem } from "../domain/loader/problems";
import { resolveEnvironment } from "../domain/loader/resolve";
import { REGISTRY_FILES, type RegistryKey } from "../domain/schema";
import { generateRegistries, REGISTRY_FILE_NAMES } from "./generate";
import { median } from "./stats";

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}
const n = Number(option("size", "10000"));
const rounds = Number(option("rounds", "3"));
const env = option("env", "dev");
const profile = !process.argv.includes("--no-profile");

const gc: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

const dir = path.join(__dirname, "out", String(n), "registries");
if (!REGISTRY_FILE_NAMES.every((f) => fs.existsSync(path.join(dir, f)))) generateRegistries(dir, { services: n });
const KEYS = Object.keys(REGISTRY_FILES) as RegistryKey[];

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
/** Wall and CPU milliseconds of `run` (CPU time is steadier on a busy machine). */
function timed(run: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  run();
  const wall = ms(t0);
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** One replay of loadRegistries, phase by phase. */
function phases(): Record<string, { wall: number; cpu: number }> {
  const t: Record<string, { wall: number; cpu: number }> = {};
  const problems: Problem[] = [];
  const files = {} as Record<RegistryKey, ParsedFile>;
  t["1 read + YAML parse + toJS (parseRegistryFile)"] = timed(() => {
    for (const key of KEYS) {
      const { file } = REGISTRY_FILES[key];
      files[key] = parseRegistryFile(path.join(dir, file), `registries/${file}`, problems);
    }
  });
  t["2 base schema (zod safeParse, as written)"] = timed(() => {
    for (const key of KEYS) {
      if (!REGISTRY_FILES[key].schema.safeParse(files[key].data).success) throw new Error(`${key}: base schema failed`);
    }
  });
  const resolvedData = {} as Record<RegistryKey, unknown>;
  t[`3 resolve overrides for ${env} (resolveEnvironment)`] = timed(() => {
    for (const key of KEYS) resolvedData[key] = resolveEnvironment(files[key].data, env);
  });
  const resolved = {} as Record<RegistryKey, unknown>;
  t[`4 ${env} schema (zod safeParse, resolved)`] = timed(() => {
    for (const key of KEYS) {
      const r = REGISTRY_FILES[key].schema.safeParse(resolvedData[key]);
      if (!r.success) throw new Error(`${key}: ${env} schema failed`);
      resolved[key] = r.data;
    }
  });
  t["5 cross-registry checks (crossCheck)"] = timed(() => crossCheck(resolved as unknown as Registries, env, new Locator(files, env, problems)));
  if (problems.length > 0) throw new Error(`${problems.length} problem(s) in the replay`);
  return t;
}

function bare(): void {
  for (const file of REGISTRY_FILE_NAMES) {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    const docs = parseAllDocuments(text, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: true });
    (Array.isArray(docs) ? docs[0]! : undefined)?.toJS({ maxAliasCount: 100 });
  }
}

function full(): void {
  const r = loadRegistries({ registriesDir: dir, env });
  if (r.problems.length > 0 || !r.model) throw new Error(`loadRegistries: ${r.problems.length} problem(s)`);
}

type Sample = { wall: number; cpu: number };
const samples: Record<string, Sample[]> = {};
const add = (k: string, v: Sample) => (samples[k] ??= []).push(v);
for (let r = 0; r < rounds; r++) {
  gc();
  const b = timed(bare);
  gc();
  const p = phases();
  gc();
  const f = timed(full);
  process.stderr.write(`round ${r + 1}/${rounds}${r === 0 && rounds > 1 ? " (warm-up)" : ""}: bare ${b.wall.toFixed(0)} ms, full ${f.wall.toFixed(0)} ms\n`);
  if (r === 0 && rounds > 1) continue;
  add("bare parse (baseline, not part of the sum)", b);
  for (const [k, v] of Object.entries(p)) add(k, v);
  add("full loadRegistries", f);
}

const fullWall = median(samples["full loadRegistries"]!.map((x) => x.wall));
const fullCpu = median(samples["full loadRegistries"]!.map((x) => x.cpu));
console.log(`\n### Phases, N=${n}, env ${env}, median of ${Math.max(1, rounds - 1)} round(s)\n`);
console.log("| phase | wall ms | share | cpu ms | share |");
console.log("|---|---:|---:|---:|---:|");
for (const [k, v] of Object.entries(samples)) {
  const w = median(v.map((x) => x.wall));
  const c = median(v.map((x) => x.cpu));
  console.log(`| ${k} | ${w.toFixed(0)} | ${((w / fullWall) * 100).toFixed(0)} % | ${c.toFixed(0)} | ${((c / fullCpu) * 100).toFixed(0)} % |`);
}

// Optional comparison: the same files through js-yaml (no positions), when it happens to be installed.
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: only when installed
  const jsYaml = require("js-yaml") as { load: (text: string) => unknown };
  gc();
  const t0 = process.hrtime.bigint();
  for (const file of REGISTRY_FILE_NAMES) jsYaml.load(fs.readFileSync(path.join(dir, file), "utf8"));
  console.log(`\nFor scale: js-yaml load() of the same files (no source positions): ${ms(t0).toFixed(0)} ms.`);
} catch {
  /* not installed: skip */
}

// ---- CPU profile of one full call ------------------------------------------------------------
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function post<T>(session: inspector.Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function profileOnce(): Promise<void> {
  const session = new inspector.Session();
  session.connect();
  await post(session, "Profiler.enable");
  await post(session, "Profiler.setSamplingInterval", { interval: 500 });
  gc();
  await post(session, "Profiler.start");
  const { wall } = timed(full);
  const { profile: prof } = await post<{ profile: Profile }>(session, "Profiler.stop");
  session.disconnect();
  const out = path.join(__dirname, "out", String(n), "load.cpuprofile");
  fs.writeFileSync(out, JSON.stringify(prof));

  // Self time per node from the sample deltas.
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000));
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  const key = (node: ProfileNode) => {
    const f = node.callFrame;
    const file = f.url ? f.url.replace(/^file:\/\//, "").replace(`${path.resolve(__dirname, "..")}/`, "") : "";
    // tsx transpiles our .ts files, so their line numbers are meaningless: name and file only.
    const line = file.includes("node_modules/") ? `:${f.lineNumber + 1}` : "";
    return `${f.functionName || "(anonymous)"}${file ? ` ${file}${line}` : ""}`;
  };
  const inclusive = new Map<string, number>();
  const selfByKey = new Map<string, number>();
  const total = (node: ProfileNode, active: Map<string, number>): number => {
    const k = key(node);
    active.set(k, (active.get(k) ?? 0) + 1);
    let t = self.get(node.id) ?? 0;
    selfByKey.set(k, (selfByKey.get(k) ?? 0) + t);
    for (const c of node.children ?? []) t += total(byId.get(c)!, active);
    active.set(k, active.get(k)! - 1);
    if (active.get(k) === 0) inclusive.set(k, (inclusive.get(k) ?? 0) + t); // outermost frame only
    return t;
  };
  total(prof.nodes[0]!, new Map());

  const sampled = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(
    `\n### CPU profile of one loadRegistries call (N=${n}): ${wall.toFixed(0)} ms wall, ${sampled.toFixed(0)} ms sampled; ${path.relative(process.cwd(), out)}\n`,
  );
  console.log("Inclusive time of the loader's functions (and what they call):\n");
  console.log("| function | inclusive ms | share |");
  console.log("|---|---:|---:|");
  const interesting = [...inclusive.entries()]
    .filter(([k]) => /src\/(loader|schema)\//.test(k) || /^(parseAllDocuments|toJS|safeParse|_safeParse) /.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30);
  for (const [k, v] of interesting) console.log(`| ${k} | ${v.toFixed(0)} | ${((v / sampled) * 100).toFixed(1)} % |`);
  console.log("\nTop self time:\n");
  console.log("| function | self ms | share |");
  console.log("|---|---:|---:|");
  for (const [k, v] of [...selfByKey.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`| ${k.replace(/node_modules\//, "")} | ${v.toFixed(0)} | ${((v / sampled) * 100).toFixed(1)} % |`);
  }
}

if (profile) void profileOnce();
