/**
 * Why a stack's workloads are not Ready, from what the Kubernetes API says about them: the
 * workloads, their pods, the Warning events and the failing containers' last log lines, as
 * `kubectl ... -o json` prints them. Pure: no cluster, no process, so every reason a pod gets
 * stuck for is checked with fixtures (test/cmd/diagnose.test.ts). The command that gathers the
 * JSON is cli.ts.
 */
import { ANNOTATION, LABEL } from "../../contract/labels";

// ---------------------------------------------------------------------------------------------
// The parts of the API objects read here.

interface OwnerReference {
  kind: string;
  name: string;
  uid?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A Deployment, StatefulSet, Job or ReplicaSet (ReplicaSets only link a Deployment to its events). */
export interface Workload {
  kind: string;
  metadata: ObjectMeta;
  spec?: {
    replicas?: number;
    completions?: number;
    selector?: LabelSelector;
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } };
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    observedGeneration?: number;
    succeeded?: number;
    conditions?: Condition[];
  };
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; message?: string; exitCode?: number };
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface Pod {
  metadata: ObjectMeta;
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Condition[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

/** A core/v1 Event, as `kubectl get events -o json` lists them. */
export interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
  series?: { count?: number; lastObservedTime?: string };
  lastTimestamp?: string | null;
  eventTime?: string | null;
  firstTimestamp?: string | null;
  metadata?: { creationTimestamp?: string };
}

/** The last lines of one container's log, or why they could not be read. */
export type LogText = string | { error: string };

/** What the command read from the cluster. */
export interface ClusterState {
  /** Deployments, StatefulSets, Jobs, and the ReplicaSets of the Deployments. */
  workloads: readonly Workload[];
  pods: readonly Pod[];
  /** Warning events of the namespaces read. */
  events: readonly KubeEvent[];
  /** Log text by logKey(); absent before the logs are read. */
  logs?: Readonly<Record<string, LogText>>;
}

// ---------------------------------------------------------------------------------------------
// Findings.

/** The registry entry an object comes from, as its labels and source annotation name it. */
export interface Entry {
  name: string;
  /** "service", "automation", "backup", "monitoring", "security" (the component label). */
  component?: string;
  /** "registries/orchestration.yaml:42" */
  source?: string;
}

export interface PodFinding {
  namespace: string;
  name: string;
  phase: string;
  node?: string;
  /** The state's reason: CrashLoopBackOff, ImagePullBackOff, OOMKilled, Unschedulable, Pending, ... */
  reason: string;
  /** What the API adds: the waiting message, the scheduler's message, the last exit. */
  detail?: string;
  /** The container that fails (the first not Ready one). */
  container?: string;
  restarts: number;
  /** The last failed probe (a Warning event with reason Unhealthy), with how often it failed. */
  probe?: string;
  /** Which log to read, when the container ever ran. */
  log?: { previous: boolean };
  /** The last lines of that log, once read. */
  logLines?: string[];
  logError?: string;
}

export interface Finding {
  entry: Entry;
  kind: string;
  namespace: string;
  name: string;
  desired: number;
  ready: number;
  /** What the workload or its controller says: a failed Job, pods it could not create. */
  problem?: string;
  pods: PodFinding[];
  /** Pods not Ready beyond those listed. */
  morePods: number;
}

export interface Diagnosis {
  /** Workloads looked at (Deployments, StatefulSets and Jobs not run by a CronJob). */
  checked: number;
  findings: Finding[];
}

export interface DiagnoseOptions {
  /** Log lines shown per failing container (default 10). */
  tail?: number;
  /** Pods listed per workload (default 5). */
  maxPods?: number;
}

const TOP_KINDS = ["Deployment", "StatefulSet", "Job"];
/** Waiting reasons of a container that is merely on its way. */
const BENIGN_WAITING = new Set(["ContainerCreating", "PodInitializing"]);

/** The key of one container's log in ClusterState.logs. */
export function logKey(namespace: string, pod: string, container: string, previous: boolean): string {
  return `${namespace}/${pod}/${container}${previous ? "#previous" : ""}`;
}

function matches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>> = {}): boolean {
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key];
    const inValues = has && (e.values ?? []).includes(value!);
    if (e.operator === "In" && !inValues) return false;
    if (e.operator === "NotIn" && inValues) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

const condition = (conditions: readonly Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type);

function eventTime(e: KubeEvent): number {
  const t = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

/** The latest of the events that pass the test. */
function lastEvent(events: readonly KubeEvent[], test: (e: KubeEvent) => boolean): KubeEvent | undefined {
  let last: KubeEvent | undefined;
  for (const e of events) if (test(e) && (!last || eventTime(e) >= eventTime(last))) last = e;
  return last;
}

const about = (e: KubeEvent, kind: string, namespace: string, name: string) =>
  e.involvedObject?.kind === kind && e.involvedObject.name === name && (e.involvedObject.namespace ?? namespace) === namespace;

/** One line of free text from the API (messages may span lines). */
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim();

function times(e: KubeEvent): string {
  const n = e.series?.count ?? e.count ?? 1;
  return n > 1 ? ` (${n} times)` : "";
}

/** Desired and Ready counts; a Job counts its completions. */
function readiness(w: Workload): { desired: number; ready: number; isReady: boolean } {
  const st = w.status ?? {};
  if (w.kind === "Job") {
    const desired = w.spec?.completions ?? 1;
    const ready = st.succeeded ?? 0;
    return { desired, ready, isReady: condition(st.conditions, "Complete")?.status === "True" };
  }
  const desired = w.spec?.replicas ?? 1;
  const ready = st.readyReplicas ?? 0;
  const current = (st.observedGeneration ?? 0) >= (w.metadata.generation ?? 0);
  return { desired, ready, isReady: current && ready >= desired && (st.updatedReplicas ?? 0) >= desired };
}

function entryOf(w: Workload): Entry {
  const labels = { ...(w.spec?.template?.metadata?.labels ?? {}), ...(w.metadata.labels ?? {}) };
  const annotations = { ...(w.spec?.template?.metadata?.annotations ?? {}), ...(w.metadata.annotations ?? {}) };
  const source = annotations[ANNOTATION.source];
  const component = labels[LABEL.component];
  return { name: labels[LABEL.name] ?? w.metadata.name, ...(component ? { component } : {}), ...(source ? { source } : {}) };
}

/** A container that is not Ready, preferring one that says why; init containers first. */
function failingContainer(pod: Pod): { status: ContainerStatus; init: boolean } | undefined {
  const init = (pod.status?.initContainerStatuses ?? []).filter((c) => c.state?.terminated?.exitCode !== 0).map((status) => ({ status, init: true }));
  const main = (pod.status?.containerStatuses ?? []).filter((c) => !c.ready).map((status) => ({ status, init: false }));
  const candidates = [...init, ...main];
  const says = (c: ContainerStatus) =>
    (c.state?.waiting?.reason !== undefined && !BENIGN_WAITING.has(c.state.waiting.reason)) ||
    (c.state?.terminated !== undefined && c.state.terminated.exitCode !== 0) ||
    (c.restartCount ?? 0) > 0;
  return candidates.find((c) => says(c.status)) ?? candidates[0];
}

function lastExit(state: ContainerState | undefined): string | undefined {
  const t = state?.terminated;
  if (!t) return undefined;
  return `${t.reason ?? "exited"}, exit code ${t.exitCode ?? "?"}${t.message ? `: ${oneLine(t.message)}` : ""}`;
}

/** Why one pod is not Ready, with the container that fails and where its log is. */
function podFinding(pod: Pod, events: readonly KubeEvent[]): PodFinding {
  const namespace = pod.metadata.namespace ?? "";
  const st = pod.status ?? {};
  const phase = st.phase ?? "Unknown";
  const node = pod.spec?.nodeName;
  const podEvents = events.filter((e) => about(e, "Pod", namespace, pod.metadata.name));
  const failing = failingContainer(pod);
  const cs = failing?.status;
  const restarts = cs ? (cs.restartCount ?? 0) : 0;
  const unhealthy = lastEvent(podEvents, (e) => e.reason === "Unhealthy");
  const base = {
    namespace,
    name: pod.metadata.name,
    phase,
    ...(node ? { node } : {}),
    restarts,
    ...(cs ? { container: cs.name } : {}),
    ...(unhealthy?.message ? { probe: `${oneLine(unhealthy.message)}${times(unhealthy)}` } : {}),
  };
  // The log of the instance that failed: the previous one after a restart, else the current one
  // once it has run. A container that never started (image, config) has none.
  const log = cs
    ? restarts > 0 || cs.lastState?.terminated
      ? { previous: true }
      : cs.state?.running || cs.state?.terminated
        ? { previous: false }
        : undefined
    : undefined;
  const withLog = log ? { log } : {};
  const lastWarning = lastEvent(podEvents, (e) => e.type === "Warning" && e.reason !== "Unhealthy");

  if (pod.metadata.deletionTimestamp) return { ...base, ...withLog, reason: "Terminating" };

  const waiting = cs?.state?.waiting;
  if (waiting?.reason && !BENIGN_WAITING.has(waiting.reason)) {
    const last = lastExit(cs?.lastState);
    const oom = cs?.lastState?.terminated?.reason === "OOMKilled";
    const detail = [waiting.message ? oneLine(waiting.message) : undefined, last ? `last run: ${last}` : undefined].filter(Boolean).join("; ");
    return { ...base, ...withLog, reason: oom ? `${waiting.reason} (OOMKilled)` : waiting.reason, ...(detail ? { detail } : {}) };
  }
  const terminated = cs?.state?.terminated;
  if (terminated && terminated.exitCode !== 0) {
    const said = terminated.message ? `: ${oneLine(terminated.message)}` : "";
    return { ...base, ...withLog, reason: terminated.reason ?? "Error", detail: `exit code ${terminated.exitCode ?? "?"}${said}` };
  }
  if (phase === "Failed") {
    return { ...base, ...withLog, reason: st.reason ?? "Failed", ...(st.message ? { detail: oneLine(st.message) } : {}) };
  }
  if (!node) {
    const scheduled = condition(st.conditions, "PodScheduled");
    if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
      const said = scheduled.message ?? lastEvent(podEvents, (e) => e.reason === "FailedScheduling")?.message;
      return { ...base, reason: "Unschedulable", ...(said ? { detail: oneLine(said) } : {}) };
    }
    return { ...base, reason: "Pending", detail: "no node: not scheduled yet (the cluster has no node, or no scheduler runs)" };
  }
  if (cs?.state?.running) {
    return { ...base, ...withLog, reason: "Running, not Ready", ...(lastWarning?.message ? { detail: oneLine(lastWarning.message) } : {}) };
  }
  const detail = waiting?.message ?? lastWarning?.message ?? st.message;
  return { ...base, ...withLog, reason: waiting?.reason ?? phase, ...(detail ? { detail: oneLine(detail) } : {}) };
}

/** What the workload's own status and its controller's Warning events say. */
function workloadProblem(w: Workload, all: readonly Workload[], events: readonly KubeEvent[]): string | undefined {
  const namespace = w.metadata.namespace ?? "";
  const conditions = w.status?.conditions;
  const failed = condition(conditions, "Failed");
  if (w.kind === "Job" && failed?.status === "True") return `Job failed: ${failed.reason ?? "Failed"}${failed.message ? `: ${oneLine(failed.message)}` : ""}`;
  const replicaFailure = condition(conditions, "ReplicaFailure");
  if (replicaFailure?.status === "True" && replicaFailure.message) return oneLine(replicaFailure.message);
  // A Deployment's pods are created by its ReplicaSets, whose events say why they could not be.
  const replicaSets = all.filter(
    (r) =>
      r.kind === "ReplicaSet" &&
      r.metadata.namespace === w.metadata.namespace &&
      r.metadata.ownerReferences?.some((o) => o.kind === w.kind && o.name === w.metadata.name),
  );
  const warning = lastEvent(
    events,
    (e) =>
      e.type === "Warning" && (about(e, w.kind, namespace, w.metadata.name) || replicaSets.some((r) => about(e, "ReplicaSet", namespace, r.metadata.name))),
  );
  if (warning?.message) return `${warning.reason ?? "Warning"}: ${oneLine(warning.message)}${times(warning)}`;
  const progressing = condition(conditions, "Progressing");
  if (progressing?.status === "False" && progressing.message) return oneLine(progressing.message);
  return undefined;
}

function podReady(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || condition(pod.status?.conditions, "Ready")?.status === "True";
}

/** The last `tail` lines of a log text. */
function lastLines(text: string, tail: number): string[] {
  const lines = text.replace(/\n+$/, "").split("\n");
  return text.trim() === "" ? [] : lines.slice(-tail);
}

/**
 * Every workload of the state that is not Ready, each with its registry entry, what its
 * controller says and its pods that are not Ready. Jobs of CronJobs are left out: a deploy does
 * not wait for them.
 */
export function diagnose(state: ClusterState, options: DiagnoseOptions = {}): Diagnosis {
  const tail = options.tail ?? 10;
  const maxPods = options.maxPods ?? 5;
  const top = state.workloads.filter((w) => TOP_KINDS.includes(w.kind) && !w.metadata.ownerReferences?.some((o) => o.kind === "CronJob"));
  const findings: Finding[] = [];
  for (const w of top) {
    const { desired, ready, isReady } = readiness(w);
    if (isReady) continue;
    const namespace = w.metadata.namespace ?? "";
    const pods = state.pods
      .filter((p) => p.metadata.namespace === w.metadata.namespace && matches(w.spec?.selector, p.metadata.labels))
      .filter((p) => !podReady(p))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const listed = pods.slice(0, maxPods).map((p) => {
      const f = podFinding(p, state.events);
      const text = f.log && f.container ? state.logs?.[logKey(f.namespace, f.name, f.container, f.log.previous)] : undefined;
      if (text === undefined) return f;
      return typeof text === "string" ? { ...f, logLines: lastLines(text, tail) } : { ...f, logError: text.error };
    });
    const problem = workloadProblem(w, state.workloads, state.events);
    findings.push({
      entry: entryOf(w),
      kind: w.kind,
      namespace,
      name: w.metadata.name,
      desired,
      ready,
      ...(problem ? { problem } : {}),
      pods: listed,
      morePods: pods.length - listed.length,
    });
  }
  const order = (f: Finding) => `${f.entry.source ?? "~"}\n${f.entry.name}\n${f.kind}\n${f.namespace}/${f.name}`;
  // By file, then line number (":75" before ":112").
  findings.sort((a, b) => order(a).localeCompare(order(b), "en", { numeric: true }));
  return { checked: top.length, findings };
}

export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
  key: string;
}

/** The logs diagnose() shows: one per failing container that ever ran, of the pods it lists. */
export function logRequests(state: ClusterState, options: DiagnoseOptions = {}): LogRequest[] {
  return diagnose({ ...state, logs: {} }, options).findings.flatMap((f) =>
    f.pods.flatMap((p) =>
      p.log && p.container
        ? [
            {
              namespace: p.namespace,
              pod: p.name,
              container: p.container,
              previous: p.log.previous,
              key: logKey(p.namespace, p.name, p.container, p.log.previous),
            },
          ]
        : [],
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Text.

function entryLabel(e: Entry): string {
  return `${e.source ?? "(no registry source)"} ${e.component ? `${e.component} ` : ""}${e.name}`;
}

/** The reasons of a workload's pods, most frequent first, e.g. "CrashLoopBackOff (2 pods)". */
function reasonsOf(f: Finding): string {
  const counts = new Map<string, number>();
  for (const p of f.pods) {
    const r = p.reason === "Pending" && !p.node ? "Pending, no node" : p.reason;
    counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([r, n]) => (n > 1 ? `${r} (${n} pods)` : r));
  if (parts.length === 0) return f.problem ?? "no pods";
  return parts.join(", ");
}

/** One line per workload, "FILE:LINE component entry: Kind ns/name r/d ready: reasons", then its pods. */
export function formatDiagnosis(d: Diagnosis, context: { stack: string; environment: string }): string {
  const out: string[] = [];
  for (const f of d.findings) {
    const count = f.kind === "Job" ? `${f.ready}/${f.desired} completed` : `${f.ready}/${f.desired} ready`;
    out.push(`${entryLabel(f.entry)}: ${f.kind} ${f.namespace}/${f.name} ${count}: ${reasonsOf(f)}`);
    if (f.problem && f.pods.length > 0) out.push(`  ${f.kind.toLowerCase()}: ${f.problem}`);
    for (const p of f.pods) {
      const where = p.node ? `${p.phase} on ${p.node}` : p.phase;
      const container = p.container ? `, container ${p.container}` : "";
      const restarts = p.restarts > 0 ? `, ${p.restarts} restart${p.restarts === 1 ? "" : "s"}` : "";
      out.push(`  pod ${p.name} (${where}${container}${restarts}): ${p.reason}${p.detail ? `: ${p.detail}` : ""}`);
      if (p.probe) out.push(`    failed probe: ${p.probe}`);
      if (p.logLines && p.log) {
        const which = p.log.previous ? "previous instance" : "current instance";
        if (p.logLines.length === 0) out.push(`    log of ${p.container} (${which}): empty`);
        else {
          out.push(`    last ${p.logLines.length} log line${p.logLines.length === 1 ? "" : "s"} of ${p.container} (${which}):`);
          for (const line of p.logLines) out.push(`      | ${line}`);
        }
      } else if (p.logError) out.push(`    log of ${p.container}: not readable: ${p.logError}`);
    }
    if (f.morePods > 0) out.push(`  ... and ${f.morePods} more pod${f.morePods === 1 ? "" : "s"} not Ready`);
  }
  const where = `stack ${context.stack}, environment ${context.environment}`;
  if (d.findings.length === 0) {
    out.push(d.checked === 0 ? `ok: no workloads of ${where} in the cluster` : `ok: all ${d.checked} workloads Ready (${where})`);
  } else {
    out.push(`nexus diagnose: ${d.findings.length} of ${d.checked} workloads not Ready (${where})`);
  }
  return `${out.join("\n")}\n`;
}
