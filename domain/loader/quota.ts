/**
 * Quota headroom: each namespace's ResourceQuota (components/securityBaseline.ts) caps the
 * limits.cpu, limits.memory and pod count of the pods running in it, and the API server refuses a
 * pod that would go over. A CronJob's pod refused that way leaves no trace but a Job without pods,
 * so everything that can run in a namespace at once must fit its quota in every environment.
 */
import { DEFAULT_TASK_RESOURCES, serviceNamespaces, taskNamespaceOf } from "../model/workloads";
import { parseQuantity, type Resources } from "../schema";
import type { Registries } from "./checks";
import type { Locator } from "./locator";

type Group = "services" | "monitoring" | "tasks";

/** Pods one registry entry can have running at once, and the limits of each. */
interface Claim {
  group: Group;
  name: string;
  pods: number;
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}

type Measure = "cpu" | "memory" | "pods";

const QUOTA_KEY: Record<Measure, string> = { cpu: "limits.cpu", memory: "limits.memory", pods: "pods" };

const MI = 2 ** 20;
const GI = 2 ** 30;

function limitsOf(resources: Resources): { cpu: number; memory: number } {
  return {
    cpu: Math.round((parseQuantity(resources.limits.cpu) ?? 0) * 1000),
    memory: Math.round(parseQuantity(resources.limits.memory) ?? 0),
  };
}

/** Extra pods a Deployment with the default RollingUpdate strategy starts during a rollout: maxSurge 25%, rounded up. */
function defaultSurge(replicas: number): number {
  return Math.ceil(replicas / 4);
}

/**
 * What can run at once, entry by entry, as the platform builds it:
 * - a service at its replicas, an autoscaled one at autoscaling.maxReplicas; a stateless service
 *   is a Deployment whose rollout starts one pod more (maxSurge 1, components/serviceDeployment.ts),
 *   a stateful one a StatefulSet, which replaces its pods one by one;
 * - Prometheus, Alertmanager, Grafana (where enabled) and kube-state-metrics (one replica) in the
 *   monitoring namespace, each a Deployment with the default strategy (maxSurge 25%, rounded up),
 *   except Prometheus in operator mode (the operator's StatefulSet; its config-reloader sidecar's
 *   small limits are the operator's and not counted) or with storage (recreated, no extra pod);
 * - every enabled task that runs in the cluster, once (a CronJob forbids overlapping runs of
 *   itself, but schedules of different tasks may coincide; a disabled CronJob is suspended).
 */
function claims(r: Registries): Map<string, Claim[]> {
  const byNamespace = new Map<string, Claim[]>();
  const add = (namespace: string, claim: Claim) => {
    const list = byNamespace.get(namespace) ?? [];
    list.push(claim);
    byNamespace.set(namespace, list);
  };
  for (const s of r.orchestration.services) {
    const replicas = s.autoscaling ? s.autoscaling.maxReplicas : s.replicas;
    const statefulSet = s.stateful && s.storage !== undefined;
    const surge = !statefulSet && replicas > 0 ? 1 : 0;
    add(s.namespace, { group: "services", name: s.name, pods: replicas + surge, ...limitsOf(s.resources) });
  }
  const stack = r.monitoring.stack;
  const parts = [
    // With storage, standalone Prometheus is one pod on one claim, recreated rather than rolled.
    { name: "prometheus", component: stack.prometheus, deployment: stack.mode === "standalone" && stack.prometheus.storage === undefined },
    { name: "alertmanager", component: stack.alertmanager, deployment: true },
    ...(stack.grafana.enabled ? [{ name: "grafana", component: stack.grafana, deployment: true }] : []),
    { name: "kube-state-metrics", component: { ...stack.kubeStateMetrics, replicas: 1 }, deployment: true },
  ];
  for (const { name, component, deployment } of parts) {
    const pods = component.replicas + (deployment ? defaultSurge(component.replicas) : 0);
    add(stack.namespace, { group: "monitoring", name, pods, ...limitsOf(component.resources) });
  }
  const namespaces = serviceNamespaces(r.orchestration.services);
  for (const t of r.automation.tasks) {
    if (!t.enabled || t.runner === "local-command") continue;
    const namespace = taskNamespaceOf(t, namespaces);
    if (namespace === undefined) continue;
    add(namespace, { group: "tasks", name: t.name, pods: 1, ...limitsOf(t.resources ?? DEFAULT_TASK_RESOURCES) });
  }
  return byNamespace;
}

function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

function formatMemory(bytes: number): string {
  if (bytes % GI === 0) return `${bytes / GI}Gi`;
  if (bytes % MI === 0) return `${bytes / MI}Mi`;
  return String(bytes);
}

function format(measure: Measure, value: number): string {
  return measure === "cpu" ? formatCpu(value) : measure === "memory" ? formatMemory(value) : String(value);
}

function total(claim: Claim, measure: Measure): number {
  return measure === "pods" ? claim.pods : claim.pods * claim[measure];
}

/** How many contributors of a group a message names before "and N more". */
const NAMED = 3;

/** The biggest contributors per group, e.g. "services: backend-api 3 × 500m, frontend 250m; tasks: performance-test 2". */
function contributors(list: readonly Claim[], measure: Measure): string {
  const groups: string[] = [];
  for (const group of ["services", "monitoring", "tasks"] as const) {
    const members = list.filter((c) => c.group === group && total(c, measure) > 0).sort((a, b) => total(b, measure) - total(a, measure));
    if (members.length === 0) continue;
    const named = members.slice(0, NAMED).map((c) => {
      if (measure === "pods") return `${c.name} ${c.pods}`;
      return c.pods === 1 ? `${c.name} ${format(measure, c[measure])}` : `${c.name} ${c.pods} × ${format(measure, c[measure])}`;
    });
    const more = members.length - named.length;
    groups.push(`${group}: ${named.join(", ")}${more > 0 ? ` and ${more} more` : ""}`);
  }
  return groups.join("; ");
}

/** Reports each namespace and quota key whose quota is smaller than what can run there at once. */
export function quotaHeadroom(r: Registries, at: Locator): void {
  const byNamespace = claims(r);
  r.orchestration.namespaces.forEach((n, i) => {
    const list = byNamespace.get(n.name) ?? [];
    const cpu = parseQuantity(n.quota.cpu);
    const allowed: Record<Measure, number | undefined> = {
      cpu: cpu === undefined ? undefined : Math.round(cpu * 1000),
      memory: parseQuantity(n.quota.memory),
      pods: n.quota.pods,
    };
    for (const measure of ["cpu", "memory", "pods"] as const) {
      const limit = allowed[measure];
      const need = list.reduce((sum, c) => sum + total(c, measure), 0);
      // An unreadable quota is reported by the quantity check.
      if (limit === undefined || need <= limit) continue;
      const path = ["namespaces", i, "quota", measure];
      // The field to raise, as written: the environment override's where it set the quota.
      const field = at.problem("orchestration", path, "", "quota-headroom").path;
      const amount =
        measure === "pods"
          ? `${need} pods, the quota allows ${n.quota.pods}`
          : `${QUOTA_KEY[measure]} ${format(measure, need)}, the quota allows ${n.quota[measure]}`;
      const fix = measure === "pods" ? "run fewer pods there" : "lower the limits";
      at.report(
        "orchestration",
        path,
        `namespace ${n.name}: the workloads and tasks that can run at once need ${amount}: raise ${field} or ${fix} ` +
          `(${contributors(list, measure)}; counted: autoscaled services at maxReplicas, each Deployment with the extra pod of its rolling update, ` +
          `each enabled in-cluster task once, as schedules may coincide)`,
        "quota-headroom",
      );
    }
  });
}
