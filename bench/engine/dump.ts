/**
 * The dump the minimal program of the engine benchmark replays: our whole program (stacks/program.ts
 * `buildProgram`, dev settings, local commands off, the benchmark's kubeconfig) evaluated under
 * Pulumi's mocks, and every custom resource it registers written out as type token, name, inputs
 * (wire form, secrets unwrapped to the benchmark's generated placeholder values, with the paths
 * where they were secret), options and dependencies on other dumped resources. Component
 * resources, the stack and the Kubernetes provider are left out; the provider's arguments are
 * written beside the resources (the same `kubernetesProviderArgs` our program passes).
 *
 *   npx tsx bench/engine/dump.ts --registries DIR --kubeconfig FILE --out FILE.json
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadModel } from "../../domain/loader";
import { RecordingMonitor } from "../../internal/pulumi/recording";
import { WIRE, runInPulumiStack, setMockOptions, waitForRPCs } from "../../internal/pulumi/sdk";
import { buildProgram, KUBERNETES_PROVIDER } from "../../stacks/program";
import { kubernetesProviderArgs, referencedSecrets, type StackSettings } from "../../stacks/settings";
import { DEV_SETTINGS } from "../../test/stacks/support";

export const PROJECT = "nexus-platform";

/** One custom resource of our program, as the minimal program registers it. */
export interface DumpedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Paths (keys / array indexes) of input values our program passed as secrets. */
  secretPaths: (string | number)[][];
  /** Index (into `components`) of the parent component in our program, -1 for the stack. */
  parent: number;
  /** Indexes (into `resources`) of the dumped resources this one depends on. */
  dependsOn: number[];
  options: {
    protect?: boolean;
    ignoreChanges?: string[];
    deleteBeforeReplace?: boolean;
    customTimeouts?: { create?: string; update?: string; delete?: string };
  };
}

export interface Dump {
  /** The settings our program was evaluated with (the benchmark stack's). */
  settings: StackSettings;
  /** Pulumi name and arguments of our explicit Kubernetes provider, as our program creates it. */
  provider: { name: string; args: Record<string, unknown> };
  /** Secret config key -> generated placeholder value (set in our benchmark stack too). */
  secrets: Record<string, string>;
  counts: { registrations: number; custom: number; components: number; providers: number; stack: number };
  /** Custom resources in an order where every dependency comes first. */
  resources: DumpedResource[];
  /**
   * Our component resources, parents first, for the diagnostic "minimal + component tree" side
   * only (parent: index into this list, -1 for the stack). The minimal program leaves them out.
   */
  components: { type: string; name: string; parent: number }[];
}

/** A generated stand-in per secret key: stable for a key, obviously not a credential. */
export function placeholderSecret(key: string): string {
  return `bench-placeholder-${crypto.createHash("sha256").update(`nexus-bench:${key}`).digest("hex").slice(0, 24)}`;
}

/**
 * The API server of the benchmark's cluster, from its kubeconfig: an API server alone publishes no
 * endpoint of its own on the loopback address, so the stack names it (`apiServerEndpoints`).
 */
export function apiServerOf(kubeconfig: string): { ip: string; port: number } {
  const m = /server:\s*https:\/\/([0-9.]+):(\d+)/.exec(fs.readFileSync(kubeconfig, "utf8"));
  if (!m) throw new Error(`no https://IP:PORT server in ${kubeconfig}`);
  return { ip: m[1]!, port: Number(m[2]) };
}

/**
 * The benchmark stack's settings: dev, as Pulumi.dev.yaml, local commands off, our kubeconfig and
 * its API server, and no wait for readiness (the cluster has no node; bench/engine/run.ts gives
 * our stack the same).
 */
export function benchSettings(registriesDir: string, kubeconfig: string): StackSettings {
  return {
    ...DEV_SETTINGS,
    environment: "dev",
    registriesDir,
    kubernetes: { kubeconfig },
    localCommands: false,
    skipAwait: true,
    apiServerEndpoints: [apiServerOf(kubeconfig)],
  };
}

/** Wire value -> plain value: secrets unwrapped (their paths collected), resource references and unknowns rejected. */
function plain(value: unknown, at: (string | number)[], secretPaths: (string | number)[][], where: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => plain(v, [...at, i], secretPaths, where));
  if (value === WIRE.unknown) throw new Error(`${where}: unknown value at ${at.join(".")} (evaluated as an update, there should be none)`);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[WIRE.sigKey] === WIRE.secret) {
      secretPaths.push(at);
      return plain(obj.value, at, [], where);
    }
    if (obj[WIRE.sigKey] !== undefined) throw new Error(`${where}: special value ${String(obj[WIRE.sigKey])} at ${at.join(".")}`);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = plain(v, [...at, k], secretPaths, where);
    return out;
  }
  return value;
}

const duration = (seconds: number | undefined) => (seconds ? `${seconds}s` : undefined);

export async function dumpProgram(registriesDir: string, kubeconfig: string): Promise<Dump> {
  const settings = benchSettings(registriesDir, kubeconfig);
  const model = loadModel({ registriesDir, env: settings.environment });
  const secrets = Object.fromEntries([...referencedSecrets(model).keys()].map((k) => [k, placeholderSecret(k)]));
  const monitor = new RecordingMonitor();
  setMockOptions(monitor, PROJECT, "bench", false);
  await runInPulumiStack(async () => ({
    ...buildProgram(settings, model, Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, pulumi.secret(v)]))),
  }));
  await waitForRPCs();

  const regs = monitor.registrations;
  const byUrn = new Map(regs.map((r) => [r.urn, r]));
  const isDumped = (r: (typeof regs)[number]) => r.custom && !r.type.startsWith("pulumi:providers:");
  const custom = regs.filter(isDumped);
  const providers = regs.filter((r) => r.type.startsWith("pulumi:providers:"));
  if (providers.length !== 1 || providers[0]!.name !== KUBERNETES_PROVIDER) {
    throw new Error(`expected our one Kubernetes provider, found ${providers.map((p) => `${p.type}::${p.name}`).join(", ")}`);
  }
  const providerUrn = providers[0]!.urn;

  // A dependency on a component stands for its custom descendants.
  const children = new Map<string, string[]>();
  for (const r of regs) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
  const customUnder = (urn: string): string[] => {
    const r = byUrn.get(urn);
    if (!r) return [];
    if (isDumped(r)) return [urn];
    return (children.get(urn) ?? []).flatMap(customUnder);
  };

  // Topological order (stable: registration order where possible).
  const index = new Map(custom.map((r, i) => [r.urn, i]));
  const deps = custom.map((r) => [...new Set(r.dependencies.flatMap(customUnder))].map((u) => index.get(u)!).filter((i) => i !== undefined));
  const order: number[] = [];
  const state = new Array<0 | 1 | 2>(custom.length).fill(0);
  const visit = (start: number) => {
    const stack: [number, number][] = [[start, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [i, k] = top;
      if (k === 0) {
        if (state[i] === 2) {
          stack.pop();
          continue;
        }
        state[i] = 1;
      }
      const next = deps[i]![k];
      if (next !== undefined) {
        top[1] = k + 1;
        if (state[next] === 1) throw new Error(`dependency cycle through ${custom[next]!.name}`);
        if (state[next] === 0) stack.push([next, 0]);
        continue;
      }
      state[i] = 2;
      order.push(i);
      stack.pop();
    }
  };
  for (let i = 0; i < custom.length; i++) visit(i);
  const position = new Map(order.map((i, p) => [i, p]));

  const componentRegs = regs.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack");
  const componentIndex = new Map(componentRegs.map((r, i) => [r.urn, i]));
  const parentOf = (urn: string) => componentIndex.get(urn) ?? -1;
  const components = componentRegs.map((r) => ({ type: r.type, name: r.name, parent: parentOf(r.parent) }));
  components.forEach((c, i) => {
    if (c.parent >= i) throw new Error(`component ${c.type}::${c.name} registered before its parent`);
  });

  const resources = order.map((i): DumpedResource => {
    const r = custom[i]!;
    if (r.providerRef && !r.providerRef.startsWith(`${providerUrn}::`)) throw new Error(`${r.type}::${r.name}: provider ${r.providerRef} is not ours`);
    if (!r.providerRef) throw new Error(`${r.type}::${r.name}: uses a default provider`);
    const secretPaths: (string | number)[][] = [];
    const inputs = plain(r.props, [], secretPaths, `${r.type}::${r.name}`) as Record<string, unknown>;
    const o = r.options;
    const timeouts = o.customTimeouts
      ? { create: duration(o.customTimeouts.create), update: duration(o.customTimeouts.update), delete: duration(o.customTimeouts.delete) }
      : undefined;
    return {
      type: r.type,
      name: r.name,
      inputs,
      secretPaths,
      parent: parentOf(r.parent),
      dependsOn: deps[i]!.map((d) => position.get(d)!).sort((a, b) => a - b),
      options: {
        ...(o.protect ? { protect: true } : {}),
        ...(o.ignoreChanges && o.ignoreChanges.length > 0 ? { ignoreChanges: o.ignoreChanges } : {}),
        ...(o.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: o.deleteBeforeReplace } : {}),
        ...(timeouts ? { customTimeouts: JSON.parse(JSON.stringify(timeouts)) as typeof timeouts } : {}),
      },
    };
  });

  return {
    settings,
    provider: { name: KUBERNETES_PROVIDER, args: kubernetesProviderArgs(settings) },
    secrets,
    counts: {
      registrations: regs.length,
      custom: custom.length,
      components: regs.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack").length,
      providers: providers.length,
      stack: regs.filter((r) => r.type === "pulumi:pulumi:Stack").length,
    },
    resources,
    components,
  };
}

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`usage: npx tsx bench/engine/dump.ts --registries DIR --kubeconfig FILE --out FILE.json (missing --${name})`);
  return v;
}

if (require.main === module) {
  const out = path.resolve(arg("out"));
  dumpProgram(path.resolve(arg("registries")), path.resolve(arg("kubeconfig")))
    .then((dump) => {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(dump));
      console.error(`dump: ${dump.resources.length} custom resources (${dump.counts.components} components) -> ${out}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
