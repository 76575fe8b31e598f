/**
 * What a user waits for on every command, side by side in one run: the stack wrapper against the
 * pulumi command it runs, the policy pack against no pack (and against a pack of one policy that
 * does nothing, the cost of any pack at all), and `nexus validate` against loading its two
 * libraries.
 *
 *   npx tsx bench/commands.ts [--rounds 7] [--only wrapper,pack,validate]
 *
 * Every variant runs once per round, in an order that alternates between rounds; the first round
 * is a warm-up and is dropped, the table gives the median and the spread (min-max) of the others
 * and each ratio against its baseline. The previews run on the checkout's dev stack against the
 * cluster of its kubeconfig (scripts/stack starts the local one when there is none), as
 * `npm run preview` does; nothing is deployed. Results: bench/out/commands/results.{md,json}.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { alternating, formatMs, option, summary, type Summary } from "./stats";

const ROOT = path.resolve(__dirname, "..");
const OUT = path.join(ROOT, "bench", "out", "commands");
const STACK = "dev";

interface Variant {
  name: string;
  /** What it is compared with (the name of another variant). */
  baseline?: string;
  argv: string[];
}

/** The environment scripts/stack gives pulumi, read from the toolchain's env file and the checkout. */
function pulumiEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const line of fs.readFileSync(path.join(ROOT, ".tools", "env"), "utf8").split("\n")) {
    const m = /^export ([A-Z_]+)="(.*)"$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace("$PATH", process.env.PATH ?? "");
  }
  env.PULUMI_BACKEND_URL ??= `file://${path.join(ROOT, ".pulumi-state")}`;
  if (!env.PULUMI_CONFIG_PASSPHRASE) env.PULUMI_CONFIG_PASSPHRASE_FILE ??= path.join(ROOT, ".pulumi-passphrase");
  if (!env.KUBECONFIG && env.NEXUS_KUBECONFIG && fs.existsSync(env.NEXUS_KUBECONFIG)) env.KUBECONFIG = env.NEXUS_KUBECONFIG;
  return env;
}

/** A policy pack of one policy that reports nothing, beside the real one's packages. */
function emptyPack(): string {
  const dir = path.join(OUT, "empty-pack");
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"), path.join(dir, "PulumiPolicy.yaml"));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "empty-pack", version: "0.1.0", main: "index.js" }));
  fs.writeFileSync(
    path.join(dir, "index.js"),
    'const { PolicyPack } = require("@pulumi/policy");\n' +
      'new PolicyPack("empty-pack", { policies: [{ name: "noop", description: "reports nothing", enforcementLevel: "advisory", validateResource: () => {} }] });\n',
  );
  const modules = path.join(dir, "node_modules");
  if (!fs.existsSync(modules)) fs.symlinkSync(path.join(ROOT, "policy", "node_modules"), modules);
  return dir;
}

function variants(only: Set<string>): Variant[] {
  const config = path.join(ROOT, ".pulumi-state", `Pulumi.${STACK}.yaml`);
  const common = ["preview", "--stack", STACK, "--config-file", config, "--non-interactive"];
  const gate = ["--policy-pack", path.join(ROOT, "policy"), "--policy-pack-config", path.join(ROOT, ".pulumi-state", `policy-config.${STACK}.json`)];
  const node = path.join(ROOT, ".tools", "bin", "node");
  const list: Variant[] = [];
  if (only.has("wrapper") || only.has("pack")) list.push({ name: "pulumi preview + pack", argv: ["pulumi", ...common, ...gate] });
  if (only.has("wrapper")) list.push({ name: "npm run preview", baseline: "pulumi preview + pack", argv: ["npm", "run", "--silent", "preview"] });
  if (only.has("pack")) {
    list.push({ name: "pulumi preview, no pack", argv: ["pulumi", ...common] });
    list.push({ name: "pulumi preview + one no-op policy", baseline: "pulumi preview, no pack", argv: ["pulumi", ...common, "--policy-pack", emptyPack()] });
    const self = list.find((v) => v.name === "pulumi preview + pack")!;
    self.baseline = "pulumi preview, no pack";
  }
  if (only.has("validate")) {
    list.push({ name: "node: require yaml + zod", argv: [node, "-e", "require('yaml'); require('zod')"] });
    list.push({ name: "nexus validate", baseline: "node: require yaml + zod", argv: [node, "bin/nexus.js", "validate"] });
  }
  return list;
}

function time(v: Variant, env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(v.argv[0]!, v.argv.slice(1), { cwd: ROOT, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${v.name} failed (exit ${r.status}):\n${(r.stdout ?? "").slice(-2000)}\n${(r.stderr ?? "").slice(-2000)}`);
  return ms;
}

function main(): void {
  const rounds = Number(option("rounds", "7"));
  const only = new Set(option("only", "wrapper,pack,validate").split(","));
  if (!Number.isInteger(rounds) || rounds < 2) throw new Error("--rounds must be an integer >= 2 (the first round is a warm-up)");
  fs.mkdirSync(OUT, { recursive: true });

  // The wrapper's first run sets the stack up (cluster, stack, secrets, policy config); the
  // measured runs are the ones a user repeats. `validate` alone needs neither (nor a cluster
  // running beside it).
  const env = pulumiEnv();
  if (only.has("wrapper") || only.has("pack")) {
    const setup = spawnSync("bash", [path.join(ROOT, "scripts", "stack"), "preview"], { cwd: ROOT, env: process.env, encoding: "utf8" });
    if (setup.status !== 0) throw new Error(`npm run preview does not pass; fix that first:\n${setup.stderr}`);
  }
  const list = variants(only);
  const samples = new Map<string, number[]>(list.map((v) => [v.name, []]));
  alternating(rounds, list, (v, round) => {
    const ms = time(v, env);
    if (round > 0) samples.get(v.name)!.push(ms);
    console.error(`round ${round}${round === 0 ? " (warm-up)" : ""}: ${v.name} ${formatMs(ms)}`);
  });

  const stats = new Map<string, Summary>([...samples].map(([name, s]) => [name, summary(s)]));
  const rows = list.map((v) => {
    const s = stats.get(v.name)!;
    const base = v.baseline ? stats.get(v.baseline) : undefined;
    const ratio = base ? `${(s.median / base.median).toFixed(2)}x` : "";
    return `| ${v.name} | ${formatMs(s.median)} | ${formatMs(s.min)}-${formatMs(s.max)} | ${v.baseline ?? ""} | ${ratio} |`;
  });
  const table = [
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs, Node ${process.versions.node}, ${rounds - 1} measured rounds (1 warm-up), \`npx tsx bench/commands.ts --rounds ${rounds}\``,
    "",
    "| command | median | spread (min-max) | baseline | ratio |",
    "|---|---:|---:|---|---:|",
    ...rows,
  ].join("\n");
  console.log(table);
  fs.writeFileSync(path.join(OUT, "results.md"), `${table}\n`);
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify(Object.fromEntries(stats), null, 2));
}

main();
