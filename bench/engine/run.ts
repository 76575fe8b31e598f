/**
 * The engine benchmark: our Pulumi program against a minimal one that registers exactly the same
 * custom resources, with the real engine (`pulumi preview`, `pulumi up`) on a file backend against
 * a local API server started for the run, side by side and alternating, several rounds.
 *
 * For each N: synthetic registries (bench/generate.ts), the dump of our program under mocks
 * (bench/engine/dump.ts), two stacks (`bench-ours-N` of the repository's Pulumi project, whatever
 * its Pulumi.yaml says at the time; `bench-minimal-N` of a generated plain-JavaScript project
 * running bench/engine/minimal.js), then per round, the order alternating:
 * preview (timed) -> up (timed) -> destroy (not timed) on one side, then on the other, every one
 * from an empty stack on an empty cluster. Every node process of a timed command loads
 * bench/engine/preload.cjs (NODE_OPTIONS), which records the peak RSS and CPU time of the program.
 * No policy pack on either side: this measures the program, not the gate.
 *
 *   . .tools/env && npx tsx bench/engine/run.ts [--sizes 10,100,1000] [--rounds 3|3,3,1]
 *       [--up-sizes 10,100] [--tree-sizes 100] [--profile 100] [--skip-preview] [--port 16443] [--keep-cluster]
 *
 * Output: bench/out/engine/results.md, results.json; logs of every command in bench/out/engine/<N>/logs.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { generateRegistries } from "../generate";
import type { Dump } from "./dump";
import { profileTable, summariseProfile, type ProfileSummary } from "./profile";
import { median, option } from "../stats";

const ROOT = path.resolve(__dirname, "..", "..");
const OUT = path.join(ROOT, "bench", "out", "engine");
const PRELOAD = path.join(__dirname, "preload.cjs");
const MINIMAL_DIR = path.join(OUT, "minimal");
const MINIMAL_PROJECT = "nexus-bench-minimal";
/** The benchmark's own passphrase for its scratch stacks (placeholder secrets only). */
const PASSPHRASE = "nexus-engine-bench";
const SYSTEM_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);

/** "tree": the minimal program with our component tree (a diagnostic, --tree-sizes). */
type Side = "ours" | "minimal" | "tree";
type Op = "preview" | "up";

interface Probe {
  pid: number;
  argv: string[];
  hwmKiB: number;
  cpuMs: number;
  lifetimeMs: number;
}

interface Measurement {
  n: number;
  round: number;
  side: Side;
  op: Op;
  wallMs: number;
  /** Peak RSS of the program's node process (the largest when the command ran it twice). */
  programHwmMiB: number;
  /** CPU time of the program's node process(es). */
  programCpuMs: number;
  programRuns: number;
}

interface SizeInfo {
  n: number;
  oursProject: string;
  ours: { custom: number; components: number; providers: number; stack: number; total: number };
  minimal: { custom: number; providers: number; stack: number; total: number };
  /** Custom resources (type::name) in the deployed states that differ between the sides (must be 0). */
  stateMismatch: number | undefined;
}

// ---------------------------------------------------------------------------------------------
// Arguments

const arg = (name: string): string | undefined => option(name, "") || undefined;
const flag = (name: string) => process.argv.includes(`--${name}`);

const sizes = (arg("sizes") ?? "10,100,1000").split(",").map(Number);
const roundsArg = (arg("rounds") ?? "3").split(",").map(Number);
const roundsFor = (i: number) => roundsArg[Math.min(i, roundsArg.length - 1)]!;
const profileN = arg("profile") ? Number(arg("profile")) : undefined;
const skipPreview = flag("skip-preview");
/** Sizes at which `up` is measured too (default: all); at the others only `preview`. */
const upSizes = arg("up-sizes") ? arg("up-sizes")!.split(",").map(Number) : sizes;
/** Sizes at which the diagnostic side "minimal + our component tree" runs too (default: none). */
const treeSizes = arg("tree-sizes") ? arg("tree-sizes")!.split(",").map(Number) : [];
const keepCluster = flag("keep-cluster");
/** Start every round's rotation one side later: the minimal program first in round one. */
const minimalFirst = flag("minimal-first");
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || roundsArg.some((r) => !Number.isInteger(r) || r < 1)) {
  throw new Error(
    "usage: npx tsx bench/engine/run.ts [--sizes 10,100,1000] [--rounds 3|3,3,1] [--up-sizes 10,100] [--tree-sizes 100] [--profile N] [--skip-preview] [--port P] [--keep-cluster]",
  );
}

// ---------------------------------------------------------------------------------------------
// Processes

function log(message: string): void {
  console.error(`[engine-bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

const baseEnv: NodeJS.ProcessEnv = (() => {
  const env = { ...process.env };
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  delete env.NODE_OPTIONS;
  env.PULUMI_BACKEND_URL = `file://${path.join(OUT, "state")}`;
  env.PULUMI_CONFIG_PASSPHRASE = PASSPHRASE;
  env.PULUMI_SKIP_UPDATE_CHECK = "true";
  return env;
})();

function run(cmd: string, args: string[], options: SpawnSyncOptions & { logFile?: string; allowFail?: boolean } = {}): { status: number; stdout: string } {
  const { logFile, allowFail, ...spawnOptions } = options;
  const fd = logFile ? fs.openSync(logFile, "w") : undefined;
  try {
    const r = spawnSync(cmd, args, {
      cwd: ROOT,
      env: baseEnv,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      stdio: fd !== undefined ? ["ignore", fd, fd] : ["ignore", "pipe", "pipe"],
      ...spawnOptions,
    });
    const status = r.status ?? 1;
    if (status !== 0 && !allowFail) {
      const detail = logFile ? `see ${path.relative(ROOT, logFile)}:\n${tail(logFile)}` : `${r.stderr ?? ""}${r.error ? String(r.error) : ""}`;
      throw new Error(`${cmd} ${args.join(" ")} failed (${status}): ${detail}`);
    }
    return { status, stdout: typeof r.stdout === "string" ? r.stdout : "" };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function tail(file: string, lines = 30): string {
  return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

// ---------------------------------------------------------------------------------------------
// The cluster

const clusterEnv = (): NodeJS.ProcessEnv => ({
  ...baseEnv,
  NEXUS_CLUSTER_DIR: path.join(OUT, "cluster"),
  // The engine is measured against the API server alone: no node, nothing waits for pods.
  NEXUS_CLUSTER_MODE: "api",
  ...(arg("port") ? { NEXUS_CLUSTER_PORT: arg("port") } : {}),
  NEXUS_CLUSTER_TTL: String(6 * 3600),
});

function startCluster(): string {
  run("bash", ["scripts/local-cluster", "reset"], { env: clusterEnv() });
  const kubeconfig = run("bash", ["scripts/local-cluster", "start"], { env: clusterEnv() }).stdout.trim().split("\n").pop()!;
  if (!fs.existsSync(kubeconfig)) throw new Error(`local-cluster start printed no kubeconfig (${kubeconfig})`);
  baseEnv.KUBECONFIG = kubeconfig;
  return kubeconfig;
}

function stopCluster(): void {
  run("bash", ["scripts/local-cluster", "stop"], { env: clusterEnv(), allowFail: true });
}

/** Waits until the cluster holds no namespace but the system ones (namespace deletion is asynchronous). */
function waitForEmptyCluster(): void {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const out = run("kubectl", ["get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}", "--request-timeout=30s"], { allowFail: true });
    const left = out.stdout.split(/\s+/).filter((ns) => ns && !SYSTEM_NAMESPACES.has(ns));
    if (out.status === 0 && left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`namespaces still present after destroy: ${left.join(", ")}`);
    spawnSync("sleep", ["2"]);
  }
}

// ---------------------------------------------------------------------------------------------
// Projects and stacks

function oursProjectName(): string {
  const doc = parseDocument(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).toJS() as { name: string };
  return doc.name;
}

function writeMinimalProject(): void {
  fs.mkdirSync(MINIMAL_DIR, { recursive: true });
  fs.copyFileSync(path.join(__dirname, "minimal.js"), path.join(MINIMAL_DIR, "index.js"));
  fs.writeFileSync(
    path.join(MINIMAL_DIR, "Pulumi.yaml"),
    [
      `name: ${MINIMAL_PROJECT}`,
      "description: Generated by bench/engine/run.ts. The minimal program of the engine benchmark.",
      "runtime:",
      "  name: nodejs",
      "  options:",
      "    typescript: false",
      "main: index.js",
      "",
    ].join("\n"),
  );
}

interface StackRef {
  side: Side;
  name: string;
  projectDir: string;
  configFile: string;
}

/**
 * A fresh stack with a passphrase secrets provider and the given plain config. As scripts/stack:
 * `pulumi stack init` has no --config-file, so the stack is created in a scratch copy of the
 * project and its config file (salt included) copied back; the typed values are then carried over
 * by scripts/lib/stack-config.mjs.
 */
function freshStack(stack: StackRef, config: Record<string, string | boolean>, secrets: Record<string, string>, logDir: string): void {
  const list = run("pulumi", ["stack", "ls", "--json"], { cwd: stack.projectDir });
  const existing = (JSON.parse(list.stdout || "[]") as { name: string }[]).map((s) => s.name.split("/").pop());
  if (existing.includes(stack.name)) run("pulumi", ["stack", "rm", stack.name, "--force", "--yes", "--preserve-config"], { cwd: stack.projectDir });
  const project = (parseDocument(fs.readFileSync(path.join(stack.projectDir, "Pulumi.yaml"), "utf8")).toJS() as { name: string }).name;
  const template = `${stack.configFile}.template`;
  const doc = parseDocument("config: {}\n");
  for (const [k, v] of Object.entries(config)) doc.setIn(["config", `${project}:${k}`], v);
  fs.writeFileSync(template, doc.toString());
  fs.rmSync(stack.configFile, { force: true });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-bench-stack-"));
  try {
    fs.copyFileSync(path.join(stack.projectDir, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
    fs.copyFileSync(template, path.join(scratch, `Pulumi.${stack.name}.yaml`));
    run("pulumi", ["stack", "init", stack.name, "--secrets-provider", "passphrase", "--no-select", "--non-interactive", "--cwd", scratch]);
    fs.copyFileSync(path.join(scratch, `Pulumi.${stack.name}.yaml`), stack.configFile);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const pairs = Object.entries(secrets);
  for (let i = 0; i < pairs.length; i += 100) {
    const args = pairs.slice(i, i + 100).flatMap(([k, v]) => ["--secret", `${k}=${v}`]);
    run("pulumi", ["config", "set-all", "--stack", stack.name, "--config-file", stack.configFile, ...args], {
      cwd: stack.projectDir,
      logFile: path.join(logDir, `config-${stack.side}.log`),
    });
  }
  run("node", [path.join(ROOT, "scripts", "lib", "stack-config.mjs"), "local", template, stack.configFile]);
}

function common(stack: StackRef): string[] {
  return ["--stack", stack.name, "--config-file", stack.configFile, "--non-interactive"];
}

/** One timed pulumi command; the program's node process(es) found by argv among the probes. */
function timed(stack: StackRef, op: Op, logFile: string, extraNodeOptions = ""): { wallMs: number; probes: Probe[] } {
  const probeDir = fs.mkdtempSync(path.join(OUT, "probe-"));
  const args = op === "preview" ? ["preview", ...common(stack)] : ["up", "--yes", ...(skipPreview ? ["--skip-preview"] : []), ...common(stack)];
  const env = { ...baseEnv, NODE_OPTIONS: `--require ${PRELOAD} ${extraNodeOptions}`.trim(), NEXUS_BENCH_PROBE_DIR: probeDir };
  const t0 = process.hrtime.bigint();
  run("pulumi", args, { cwd: stack.projectDir, env, logFile });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const probes = fs
    .readdirSync(probeDir)
    .map((f) => JSON.parse(fs.readFileSync(path.join(probeDir, f), "utf8")) as Probe)
    .filter((p) => p.argv.some((a) => a.includes(`${path.sep}@pulumi${path.sep}pulumi${path.sep}cmd${path.sep}run`)));
  fs.rmSync(probeDir, { recursive: true, force: true });
  if (probes.length === 0) throw new Error(`${stack.name} ${op}: no probe of the program's node process (is NODE_OPTIONS passed through?)`);
  return { wallMs, probes };
}

function destroy(stack: StackRef, logFile: string): void {
  run("pulumi", ["destroy", "--yes", "--skip-preview", ...common(stack)], { cwd: stack.projectDir, logFile });
  waitForEmptyCluster();
}

/** type::name of the custom Kubernetes resources in a stack's state. */
function deployed(stack: StackRef): Set<string> {
  const out = run("pulumi", ["stack", "export", "--stack", stack.name], { cwd: stack.projectDir });
  const state = JSON.parse(out.stdout) as { deployment: { resources?: { urn: string; type: string; custom?: boolean }[] } };
  return new Set(
    (state.deployment.resources ?? [])
      .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
      .map((r) => `${r.type}::${r.urn.slice(r.urn.lastIndexOf("::") + 2)}`),
  );
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table

const sec = (ms: number) => (ms / 1000).toFixed(1);
const fmtN = (n: number) => n.toLocaleString("en-US");

function table(measurements: Measurement[], infos: SizeInfo[]): string {
  const pick = (n: number, side: Side, op: Op) => measurements.filter((m) => m.n === n && m.side === side && m.op === op);
  const lines = [
    "| N services | resources ours (custom + components + stack/provider) / minimal | rounds | preview ours (s) | preview minimal (s) | preview ratio (per-round min-max) | up ours (s) | up minimal (s) | up ratio (per-round min-max) | peak RSS ours / minimal (MiB) | program CPU ours / minimal (s) |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const info of infos) {
    const cells: string[] = [];
    for (const op of ["preview", "up"] as const) {
      const o = pick(info.n, "ours", op);
      const m = pick(info.n, "minimal", op);
      if (o.length === 0 || m.length === 0) {
        cells.push("-", "-", "not run");
        continue;
      }
      const ratios = o.map((x) => x.wallMs / m.find((y) => y.round === x.round)!.wallMs);
      const spread = (xs: Measurement[]) => `${sec(Math.min(...xs.map((x) => x.wallMs)))}-${sec(Math.max(...xs.map((x) => x.wallMs)))}`;
      cells.push(
        `${sec(median(o.map((x) => x.wallMs)))} (${spread(o)})`,
        `${sec(median(m.map((x) => x.wallMs)))} (${spread(m)})`,
        `**${(median(o.map((x) => x.wallMs)) / median(m.map((x) => x.wallMs))).toFixed(2)}** (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
      );
    }
    const all = (side: Side) => measurements.filter((x) => x.n === info.n && x.side === side);
    const hwm = (side: Side) => Math.max(...all(side).map((x) => x.programHwmMiB)).toFixed(0);
    const cpuOp: Op = pick(info.n, "ours", "up").length > 0 ? "up" : "preview";
    const cpu = (side: Side) => `${sec(median(pick(info.n, side, cpuOp).map((x) => x.programCpuMs)))}`;
    const rounds = pick(info.n, "ours", "preview").length;
    lines.push(
      `| ${fmtN(info.n)} | ${fmtN(info.ours.custom)} + ${fmtN(info.ours.components)} + 2 = ${fmtN(info.ours.total)} / ${fmtN(info.minimal.total)} | ${rounds} | ${cells.join(" | ")} | ${hwm("ours")} / ${hwm("minimal")} | ${cpu("ours")} / ${cpu("minimal")} (${cpuOp}) |`,
    );
  }
  const growth: string[] = [];
  for (const a of infos) {
    const b = infos.find((x) => x.n === a.n * 10);
    if (!b) continue;
    const g = (side: Side, op: Op) => {
      const [x, y] = [pick(a.n, side, op), pick(b.n, side, op)];
      return x.length > 0 && y.length > 0 ? `${(median(y.map((m) => m.wallMs)) / median(x.map((m) => m.wallMs))).toFixed(1)}x` : "-";
    };
    growth.push(
      `| ${fmtN(a.n)} -> ${fmtN(b.n)} | ${(b.ours.total / a.ours.total).toFixed(1)}x | ${g("ours", "preview")} | ${g("minimal", "preview")} | ${g("ours", "up")} | ${g("minimal", "up")} |`,
    );
  }
  if (growth.length > 0) {
    lines.push(
      "",
      "| growth N -> 10N | resources (ours) | preview ours | preview minimal | up ours | up minimal |",
      "|---|---:|---:|---:|---:|---:|",
      ...growth,
    );
  }
  const trees = infos.filter((i) => pick(i.n, "tree", "preview").length > 0);
  if (trees.length > 0) {
    lines.push(
      "",
      "Diagnostic: the minimal program with our component tree (same components, parents, outputs), same rounds:",
      "",
      "| N services | op | ours (s) | minimal + tree (s) | minimal (s) | ours / (minimal + tree) | (minimal + tree) / minimal |",
      "|---:|---|---:|---:|---:|---:|---:|",
    );
    for (const info of trees) {
      for (const op of ["preview", "up"] as const) {
        const [o, t, m] = (["ours", "tree", "minimal"] as const).map((side) => median(pick(info.n, side, op).map((x) => x.wallMs)));
        if (pick(info.n, "tree", op).length === 0) continue;
        lines.push(`| ${fmtN(info.n)} | ${op} | ${sec(o!)} | ${sec(t!)} | ${sec(m!)} | ${(o! / t!).toFixed(2)} | ${(t! / m!).toFixed(2)} |`);
      }
    }
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  for (const tool of ["pulumi", "kubectl"]) {
    if (spawnSync(tool, tool === "kubectl" ? ["version", "--client"] : ["version"], { stdio: "ignore" }).status !== 0)
      throw new Error(`${tool} is not on PATH: run \`. .tools/env\` first`);
  }
  fs.mkdirSync(path.join(OUT, "state"), { recursive: true });
  const started = new Date();
  log(`starting the local cluster (${path.relative(ROOT, path.join(OUT, "cluster"))})`);
  const kubeconfig = startCluster();
  const measurements: Measurement[] = [];
  const infos: SizeInfo[] = [];
  const profiles: { side: Side; summary: ProfileSummary }[] = [];
  const versions = {
    node: process.version,
    pulumi: run("pulumi", ["version"]).stdout.trim(),
    cpus: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    /** The repository's Pulumi project as it was run (runtime and entry). */
    oursProject: fs
      .readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")
      .split("\n")
      .filter((l) => /^(runtime|main| {2}name| {2}options| {4}typescript)/.test(l))
      .join("; "),
  };
  const write = () => {
    const md = [
      `# Engine benchmark: our program vs the minimal program`,
      "",
      `Run ${started.toISOString()}, node ${versions.node}, pulumi ${versions.pulumi}, ${versions.cpus} CPUs, ${versions.memGiB} GiB;`,
      `\`npx tsx bench/engine/run.ts ${process.argv.slice(2).join(" ")}\`. Wall time medians, with min-max; ratio = ours / minimal.`,
      "",
      table(measurements, infos),
      ...profiles.flatMap((p) => ["", `CPU profile of the ${p.side} program's node process, preview at N = ${profileN}:`, "", profileTable(p.summary)]),
      "",
    ].join("\n");
    fs.writeFileSync(path.join(OUT, "results.md"), md);
    fs.writeFileSync(
      path.join(OUT, "results.json"),
      JSON.stringify({ started, versions, args: process.argv.slice(2), infos, measurements, profiles }, null, 2),
    );
    return md;
  };
  try {
    writeMinimalProject();
    const oursProject = oursProjectName();
    for (const [si, n] of sizes.entries()) {
      const dir = path.join(OUT, String(n));
      const logDir = path.join(dir, "logs");
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(logDir, { recursive: true });
      const registries = path.join(dir, "registries");
      fs.mkdirSync(registries, { recursive: true });
      generateRegistries(registries, { services: n });
      const dumpFile = path.join(dir, "dump.json");
      log(`N=${n}: dumping our program under mocks`);
      run(process.execPath, ["--import", "tsx", path.join(__dirname, "dump.ts"), "--registries", registries, "--kubeconfig", kubeconfig, "--out", dumpFile], {
        logFile: path.join(logDir, "dump.log"),
      });
      const dump = JSON.parse(fs.readFileSync(dumpFile, "utf8")) as Dump;
      const info: SizeInfo = {
        n,
        oursProject,
        ours: { ...dump.counts, total: dump.counts.registrations },
        minimal: { custom: dump.resources.length, providers: 1, stack: 1, total: dump.resources.length + 2 },
        stateMismatch: undefined,
      };
      const stacks: Record<Side, StackRef> = {
        ours: { side: "ours", name: `bench-ours-${n}`, projectDir: ROOT, configFile: path.join(dir, `Pulumi.bench-ours-${n}.yaml`) },
        minimal: { side: "minimal", name: `bench-minimal-${n}`, projectDir: MINIMAL_DIR, configFile: path.join(dir, `Pulumi.bench-minimal-${n}.yaml`) },
        tree: { side: "tree", name: `bench-tree-${n}`, projectDir: MINIMAL_DIR, configFile: path.join(dir, `Pulumi.bench-tree-${n}.yaml`) },
      };
      const sides: Side[] = treeSizes.includes(n) ? ["ours", "minimal", "tree"] : ["ours", "minimal"];
      log(`N=${n}: ${info.ours.total} registrations in ours (${info.ours.custom} custom), ${info.minimal.total} in minimal; preparing stacks`);
      // Absolute path: stacks/index.ts resolves it against the project root, and path.resolve keeps an absolute one.
      // The API server's address as the dump's settings name it (the cluster publishes none).
      const api = dump.settings.apiServerEndpoints!.map((e) => `${e.ip}:${e.port}`).join(",");
      freshStack(
        stacks.ours,
        {
          environment: "dev",
          registries,
          kubeconfig,
          skipAwait: true,
          localCommands: false,
          awsEnabled: false,
          apiServerEndpoints: api,
          ...(dump.settings.readyTimeoutSeconds ? { readyTimeout: String(dump.settings.readyTimeoutSeconds) } : {}),
        },
        dump.secrets,
        logDir,
      );
      freshStack(stacks.minimal, { dump: dumpFile }, {}, logDir);
      if (sides.includes("tree")) freshStack(stacks.tree, { dump: dumpFile, components: true }, {}, logDir);
      infos.push(info);

      const rounds = roundsFor(si);
      const deployedNames = new Map<Side, Set<string>>();
      for (let round = 0; round < rounds; round++) {
        // Rotate the order every round (with two sides: alternate).
        const order = sides.map((_, i) => sides[(i + round + (minimalFirst ? 1 : 0)) % sides.length]!);
        const ops: Op[] = upSizes.includes(n) ? ["preview", "up"] : ["preview"];
        for (const side of order) {
          const stack = stacks[side];
          for (const op of ops) {
            const logFile = path.join(logDir, `r${round}-${side}-${op}.log`);
            const { wallMs, probes } = timed(stack, op, logFile);
            const m: Measurement = {
              n,
              round,
              side,
              op,
              wallMs,
              programHwmMiB: Math.max(...probes.map((p) => p.hwmKiB)) / 1024,
              programCpuMs: probes.reduce((a, p) => a + p.cpuMs, 0),
              programRuns: probes.length,
            };
            measurements.push(m);
            log(
              `N=${n} round ${round + 1}/${rounds} ${side} ${op}: ${sec(wallMs)} s, program ${sec(m.programCpuMs)} s CPU, peak RSS ${m.programHwmMiB.toFixed(0)} MiB`,
            );
          }
          if (!ops.includes("up")) continue;
          if (round === 0) deployedNames.set(side, deployed(stack));
          destroy(stack, path.join(logDir, `r${round}-${side}-destroy.log`));
        }
        if (round === 0 && ops.includes("up")) {
          const a = deployedNames.get("ours")!;
          const b = deployedNames.get("minimal")!;
          info.stateMismatch = [...a].filter((x) => !b.has(x)).length + [...b].filter((x) => !a.has(x)).length;
          if (info.stateMismatch > 0) log(`N=${n}: WARNING ${info.stateMismatch} deployed resources differ between ours and minimal`);
          else log(`N=${n}: both sides deployed the same ${a.size} Kubernetes resources`);
        }
        write();
      }

      if (profileN === n) {
        for (const side of ["ours", "minimal"] as const) {
          const profDir = path.join(dir, `cpuprofile-${side}`);
          fs.rmSync(profDir, { recursive: true, force: true });
          fs.mkdirSync(profDir, { recursive: true });
          timed(stacks[side], "preview", path.join(logDir, `profile-${side}-preview.log`), `--cpu-prof --cpu-prof-dir=${profDir}`);
          // The program's process writes the largest profile.
          const files = fs.readdirSync(profDir).map((f) => path.join(profDir, f));
          const biggest = files.sort((x, y) => fs.statSync(y).size - fs.statSync(x).size)[0];
          if (biggest) profiles.push({ side, summary: summariseProfile(biggest) });
        }
        write();
      }
    }
  } finally {
    if (!keepCluster) {
      log("stopping the local cluster");
      stopCluster();
    }
  }
  console.log(write());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
