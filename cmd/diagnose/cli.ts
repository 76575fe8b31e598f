/**
 * `nexus diagnose`: reads the stack's workloads, pods, Warning events and the failing
 * containers' logs with `kubectl ... -o json`, and prints findings.ts's diagnosis. Everything
 * that can go wrong on the way (no kubeconfig, no cluster, no kubectl) is one line, never a trace.
 */
import * as fs from "node:fs";
import { LABEL, PART_OF } from "../../contract/labels";
import { DNS_LABEL } from "../../domain/schema/common";
import { parseCommand, stringOptions, usageError } from "../args";
import { PROJECT_DIR, StackConfigError, stackSettings } from "../audit/stack";
import { kubectlConnection, kubectlError, kubectlFromPath, type Kubectl } from "../kubectl";
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

/** Log reads at a time. */
const PARALLEL_LOGS = 8;

interface KubeList {
  items?: unknown[];
}

function parseList(text: string): unknown[] {
  const parsed = JSON.parse(text) as KubeList;
  return Array.isArray(parsed.items) ? parsed.items : [];
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
    const connection = kubectlConnection(settings.kubernetes, env, temp);
    if ("error" in connection) {
      console.error(`nexus: ${connection.error}`);
      return 1;
    }
    const scope = namespace ? ["--namespace", namespace] : ["--all-namespaces"];
    const call = (...a: string[]) => kubectl([...connection.args, "--request-timeout=20s", ...a]);

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
