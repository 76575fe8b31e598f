/**
 * `nexus diagnose`: reads the stack's workloads, pods, Warning events and the failing
 * containers' logs with `kubectl ... -o json`, and prints findings.ts's diagnosis. Everything
 * that can go wrong on the way (no kubeconfig, no cluster, no kubectl) is one line, never a trace.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LABEL, PART_OF } from "../../contract/labels";
import { DNS_LABEL } from "../../domain/schema/common";
import { parseCommand, stringOptions, usageError } from "../args";
import { PROJECT_DIR, StackConfigError, stackSettings } from "../audit/stack";
import { diagnose, formatDiagnosis, logRequests, type ClusterState, type KubeEvent, type LogText, type Pod, type Workload } from "./findings";

const DIAGNOSE_USAGE = `Usage: nexus diagnose [--stack NAME] [--namespace NS] [--tail N]

Lists every workload of the stack (its Deployments, StatefulSets and Jobs in the cluster) that is
not Ready, one line each, opening with the registry entry it comes from (FILE:LINE), then for each
pod that is not Ready: its phase and the container's reason (CrashLoopBackOff, ImagePullBackOff,
ErrImageNeverPull, CreateContainerConfigError, OOMKilled, Unschedulable with the scheduler's
message, Pending with no node, ...), the restarts, the last failed probe and the last log lines of
the failing container (of its previous instance when it restarted).
It reads the cluster with kubectl, through the stack's kubeconfig and kubeContext settings, else
KUBECONFIG or ~/.kube/config. npm run up runs it when pulumi up fails.
Exit status: 0 every workload Ready, 1 a workload is not Ready or the cluster cannot be read,
2 usage error.

Options:
  --stack NAME      the stack whose workloads to check (default: dev); its environment selects them
  --namespace NS    only this namespace
  --tail N          log lines per failing container (default: 10)
  -h, --help        show this help

Example: npx nexus diagnose --stack dev`;

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
  /** kubectl could not be started at all (not on PATH). */
  notFound?: boolean;
}

/** Runs `kubectl ARGS`; never rejects. */
export type Kubectl = (args: readonly string[]) => Promise<KubectlResult>;

/** How long one kubectl call may take before it is stopped. */
const CALL_TIMEOUT_MS = 60_000;
/** Log reads at a time. */
const PARALLEL_LOGS = 8;

/** kubectl from PATH, with the given environment. */
function kubectlFromPath(env: NodeJS.ProcessEnv = process.env): Kubectl {
  return (args) =>
    new Promise((resolve) => {
      const child = spawn("kubectl", args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: CALL_TIMEOUT_MS });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", (error: NodeJS.ErrnoException) => {
        resolve({ code: 127, stdout: "", stderr: error.message, notFound: error.code === "ENOENT" });
      });
      child.on("close", (code, signal) => {
        const stderr = Buffer.concat(err).toString("utf8");
        resolve({
          code: code ?? 1,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: signal ? `${stderr}\nkubectl stopped after ${CALL_TIMEOUT_MS / 1000} s (${signal})` : stderr,
        });
      });
    });
}

/** The line of kubectl's error output that says what went wrong (not its klog lines). */
export function kubectlError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const plain = lines.filter((l) => !/^[IWEF]\d{4} /.test(l));
  const line = plain[plain.length - 1] ?? lines[lines.length - 1]?.replace(/^[IWEF]\d{4} [^\]]*\]\s*/, "") ?? "kubectl failed without a message";
  return line.replace(/^error: /, "");
}

/**
 * Why kubectl would have no kubeconfig, when it would not (no kubeconfig setting, no in-cluster
 * service account): KUBECONFIG names no existing file, or there is no ~/.kube/config.
 */
export function missingKubeconfig(env: NodeJS.ProcessEnv, home: string = os.homedir()): string | undefined {
  if (env.KUBERNETES_SERVICE_HOST) return undefined;
  const listed = (env.KUBECONFIG ?? "").split(path.delimiter).filter(Boolean);
  if (listed.length > 0) {
    return listed.some((f) => fs.existsSync(f)) ? undefined : `no kubeconfig: KUBECONFIG names ${listed.join(", ")}, which does not exist`;
  }
  return fs.existsSync(path.join(home, ".kube", "config"))
    ? undefined
    : "no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist (the project's local cluster: KUBECONFIG=.tools/cluster/kubeconfig)";
}

interface KubeList {
  items?: unknown[];
}

function parseList(text: string): unknown[] {
  const parsed = JSON.parse(text) as KubeList;
  return Array.isArray(parsed.items) ? parsed.items : [];
}

/** The stack's kubeconfig setting as a file kubectl reads: a path (relative to the project) or the kubeconfig itself. */
function kubeconfigFile(setting: string, temp: string[]): { file: string } | { error: string } {
  if (setting.includes("\n") || /^\s*[{]/.test(setting) || /^\s*apiVersion:/.test(setting)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-diagnose-"));
    temp.push(dir);
    const file = path.join(dir, "kubeconfig");
    fs.writeFileSync(file, setting, { mode: 0o600 });
    return { file };
  }
  const file = path.resolve(PROJECT_DIR, setting);
  return fs.existsSync(file) ? { file } : { error: `the stack's kubeconfig setting names ${file}, which does not exist` };
}

async function inBatches<T, R>(items: readonly T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return results;
}

export async function diagnoseCommand(args: string[], kubectl: Kubectl = kubectlFromPath(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseCommand(args, stringOptions("stack", "namespace", "tail"), DIAGNOSE_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values;
  const stack = (v.stack as string | undefined) ?? "dev";
  const namespace = v.namespace as string | undefined;
  const tail = v.tail === undefined ? 10 : Number(v.tail);
  if (!Number.isInteger(tail) || tail < 1 || tail > 1000)
    return usageError(`--tail must be a whole number from 1 to 1000, got "${String(v.tail)}"`, DIAGNOSE_USAGE);
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) {
    return usageError(`--namespace "${namespace}" is not a namespace name`, DIAGNOSE_USAGE);
  }

  let settings;
  try {
    settings = stackSettings(PROJECT_DIR, stack).settings;
  } catch (error) {
    if (error instanceof StackConfigError && error.unknownStack) return usageError(error.message, DIAGNOSE_USAGE);
    console.error(`nexus: ${(error as Error).message.split("\n")[0]}`);
    return 1;
  }

  const temp: string[] = [];
  try {
    const connection: string[] = [];
    if (settings.kubernetes.kubeconfig) {
      const kc = kubeconfigFile(settings.kubernetes.kubeconfig, temp);
      if ("error" in kc) {
        console.error(`nexus: ${kc.error}`);
        return 1;
      }
      connection.push(`--kubeconfig=${kc.file}`);
    } else {
      const missing = missingKubeconfig(env);
      if (missing) {
        console.error(`nexus: cannot read the cluster: ${missing}`);
        return 1;
      }
    }
    if (settings.kubernetes.context) connection.push(`--context=${settings.kubernetes.context}`);
    const scope = namespace ? ["--namespace", namespace] : ["--all-namespaces"];
    const call = (...a: string[]) => kubectl([...connection, "--request-timeout=20s", ...a]);

    const selector = `${LABEL.partOf}=${PART_OF},${LABEL.environment}=${settings.environment}`;
    const objects = await call("get", "deployments.apps,statefulsets.apps,jobs.batch,replicasets.apps,pods", ...scope, "-l", selector, "-o", "json");
    if (objects.notFound) {
      console.error("nexus: kubectl is not on PATH: run `. .tools/env` first (scripts/bootstrap installs it)");
      return 1;
    }
    if (objects.code !== 0) {
      console.error(`nexus: cannot read the cluster: ${kubectlError(objects.stderr)}`);
      return 1;
    }
    let items: unknown[];
    try {
      items = parseList(objects.stdout);
    } catch {
      console.error("nexus: cannot read the cluster: kubectl printed something other than JSON");
      return 1;
    }
    const kinds = (item: unknown) => (item as { kind?: string }).kind;
    const workloads = items.filter((i) => kinds(i) !== "Pod") as Workload[];
    const pods = items.filter((i) => kinds(i) === "Pod") as Pod[];

    // Events make the diagnosis better, not possible: without them it still names every reason the pods state.
    let events: KubeEvent[] = [];
    const ev = await call("get", "events", ...scope, "--field-selector", "type=Warning", "-o", "json");
    try {
      if (ev.code !== 0) throw new Error(kubectlError(ev.stderr));
      events = parseList(ev.stdout) as KubeEvent[];
    } catch (error) {
      console.error(`nexus: note: the events could not be read (${(error as Error).message}): no probe failures or controller messages below`);
    }

    const state: ClusterState = { workloads, pods, events };
    const requests = logRequests(state, { tail });
    const logs: Record<string, LogText> = {};
    const read = await inBatches(requests, PARALLEL_LOGS, (r) =>
      call("logs", "--namespace", r.namespace, r.pod, "--container", r.container, `--tail=${tail}`, ...(r.previous ? ["--previous"] : [])),
    );
    requests.forEach((r, i) => {
      const result = read[i]!;
      logs[r.key] = result.code === 0 ? result.stdout : { error: kubectlError(result.stderr) };
    });

    const diagnosis = diagnose({ ...state, logs }, { tail });
    if (settings.skipAwait && diagnosis.findings.length > 0) {
      console.error(`nexus: note: stack ${stack} sets skipAwait, so pulumi up does not wait for these workloads to become Ready`);
    }
    process.stdout.write(formatDiagnosis(diagnosis, { stack, environment: settings.environment }));
    return diagnosis.findings.length > 0 ? 1 : 0;
  } finally {
    for (const dir of temp) fs.rmSync(dir, { recursive: true, force: true });
  }
}
