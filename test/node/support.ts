import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { explain, type Result } from "../integration/support";

export const ROOT = path.resolve(__dirname, "..", "..");
/** The checkout's own cluster: the one `npm run up` starts and deploys the dev stack into. */
export const KUBECONFIG = path.join(ROOT, ".tools", "cluster", "kubeconfig");

export { explain };

const ENV = { ...process.env, KUBECONFIG, NO_COLOR: "1" };
/** COMMAND with the environment .tools/env gives a shell: the project's tools first on PATH. */
const withTools = (command: string, args: readonly string[]) => ["-c", '. .tools/env && exec "$@"', "nexus", command, ...args];

export function run(command: string, args: readonly string[]): Result {
  const r = spawnSync("bash", withTools(command, args), { cwd: ROOT, env: ENV, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function runAsync(command: string, args: readonly string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn("bash", withTools(command, args), { cwd: ROOT, env: ENV });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export const kubectl = (...args: string[]): Result => run("kubectl", args);

export interface Pod {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec: { containers: { name: string; image: string }[]; ephemeralContainers?: { name: string }[] };
  status: {
    phase: string;
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state: Record<string, { reason?: string; exitCode?: number }> }[];
    ephemeralContainerStatuses?: { name: string; state: { terminated?: { exitCode: number; reason?: string } } }[];
  };
}

export function getJson<T>(...args: string[]): T {
  const r = kubectl("get", ...args, "-o", "json");
  if (r.code !== 0) throw new Error(`kubectl get ${args.join(" ")} failed:\n${explain(r)}`);
  return JSON.parse(r.stdout) as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let probes = 0;

/**
 * Runs COMMAND in an ephemeral container of the demo image inside POD: it shares the pod's
 * network namespace, so the pod's NetworkPolicies apply to it whatever the pod's own image has.
 */
export async function probeFrom(pod: Pod, image: string, command: string[], timeoutMs = 60_000): Promise<{ exitCode: number; log: string }> {
  const name = `probe-${process.pid}-${++probes}`;
  const { namespace, name: podName } = pod.metadata;
  const started = await runAsync("kubectl", [
    "debug",
    "-n",
    namespace,
    podName,
    "--image",
    image,
    "--image-pull-policy",
    "Never",
    "--profile",
    "restricted",
    "-c",
    name,
    "--",
    ...command,
  ]);
  if (started.code !== 0) throw new Error(`kubectl debug ${podName} failed:\n${explain(started)}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await runAsync("kubectl", ["get", "pod", "-n", namespace, podName, "-o", "json"]);
    const p = JSON.parse(r.stdout) as Pod;
    const t = p.status.ephemeralContainerStatuses?.find((s) => s.name === name)?.state.terminated;
    if (t) {
      const log = await runAsync("kubectl", ["logs", "-n", namespace, podName, "-c", name]);
      return { exitCode: t.exitCode, log: log.stdout + log.stderr };
    }
    await sleep(1000);
  }
  throw new Error(`probe ${name} in ${namespace}/${podName} did not finish within ${timeoutMs} ms`);
}

/** What a running node changes on the host; equal before a start and after the stop. */
export interface HostSnapshot {
  processes: string[];
  mounts: string[];
  links: string[];
  iptables: string[];
  ipsets: string[];
  sysctls: Record<string, string>;
  paths: string[];
  cgroups: string[];
}

const NODE_PROCESSES =
  /^(containerd|containerd-shim|kubelet|kube-proxy|kube-router|kube-apiserver|kube-scheduler|kube-controller|kine|coredns|pause|nexus-demo|postgres|redis-server|prometheus)/;
const SYSCTLS = [
  "net.ipv4.ip_forward",
  "net.bridge.bridge-nf-call-iptables",
  "vm.overcommit_memory",
  "kernel.panic",
  "kernel.panic_on_oops",
  "net.ipv4.conf.all.route_localnet",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
  "net.netfilter.nf_conntrack_max",
  "net.netfilter.nf_conntrack_tcp_timeout_established",
  "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
];
const FIXED_PATHS = [
  "/var/lib/kubelet",
  "/var/log/pods",
  "/var/log/containers",
  "/var/lib/cni",
  "/run/containerd",
  "/run/nexus-cluster",
  "/opt/cni",
  "/etc/cni",
  "/opt/containerd",
];

function lines(command: string, args: string[]): string[] {
  const r = spawnSync(command, args, { encoding: "utf8" });
  return (r.stdout ?? "").split("\n").filter((l) => l.trim() !== "");
}

export function hostSnapshot(): HostSnapshot {
  const processes = fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/comm`, "utf8").trim();
      } catch {
        return "";
      }
    })
    .filter((c) => NODE_PROCESSES.test(c));
  const mounts = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[4]!);
  const links = lines("ip", ["-o", "link", "show"]).map((l) => l.split(":")[1]!.trim().replace(/@.*/, ""));
  // Rules and chains without their packet counters.
  const iptables = ["iptables-save", "ip6tables-save"].flatMap((cmd) =>
    lines(cmd, [])
      .filter((l) => !l.startsWith("#"))
      .map((l) => `${cmd}: ${l.replace(/\[\d+:\d+\]/g, "")}`),
  );
  const ipsets = lines("ipset", ["list", "-n"]);
  const sysctls = Object.fromEntries(SYSCTLS.map((s) => [s, lines("sysctl", ["-n", s])[0] ?? "(absent)"]));
  const paths = FIXED_PATHS.filter((p) => fs.existsSync(p));
  const cgroups = fs
    .readdirSync("/sys/fs/cgroup")
    .filter((c) => fs.existsSync(path.join("/sys/fs/cgroup", c, "kubepods")))
    .map((c) => `${c}/kubepods`);
  const sorted = (xs: string[]) => [...new Set(xs)].sort();
  return {
    processes: sorted(processes),
    mounts: sorted(mounts),
    links: sorted(links),
    iptables: sorted(iptables),
    ipsets: sorted(ipsets),
    sysctls,
    paths: sorted(paths),
    cgroups: sorted(cgroups),
  };
}

export const sleepMs = sleep;

/**
 * `kubectl port-forward` to TARGET (svc/NAME or pod/NAME) in NAMESPACE on a free local port of
 * 127.0.0.1: the kubelet forwards inside the pod, so the test reads a pod's HTTP API without a
 * network path of its own. Close it when done.
 */
export async function portForward(namespace: string, target: string, port: number): Promise<{ url: string; close: () => void }> {
  const child = spawn("bash", withTools("kubectl", ["port-forward", "-n", namespace, "--address", "127.0.0.1", target, `:${port}`]), {
    cwd: ROOT,
    env: ENV,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const close = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  };
  const local = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`port-forward ${namespace}/${target} gave no port within 30 s: ${stderr}`)), 30_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward ${namespace}/${target} exited with ${code}: ${stderr}`));
    });
  }).catch((e: unknown) => {
    close();
    throw e;
  });
  return { url: `http://127.0.0.1:${local}`, close };
}

/** Polls CHECK every INTERVAL ms until it returns a value, or fails naming WHAT after TIMEOUT ms. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s${last ? ` (last error: ${String(last)})` : ""}`);
    await sleep(intervalMs);
  }
}

/**
 * Waits for Job NAME in NAMESPACE to finish, for at most SECONDS: "Complete" or "Failed", or ""
 * when it did not finish. SuccessCriteriaMet and FailureTarget come first, while its pods still
 * terminate, so they do not count.
 */
export async function jobOutcome(namespace: string, name: string, seconds: number): Promise<string> {
  for (let i = 0; i < seconds; i++) {
    const r = await runAsync("kubectl", ["get", "-n", namespace, `job/${name}`, "-o", 'jsonpath={.status.conditions[?(@.status=="True")].type}']);
    const finished = r.stdout.split(" ").find((t) => t === "Complete" || t === "Failed");
    if (finished) return finished;
    await sleep(1000);
  }
  return "";
}
