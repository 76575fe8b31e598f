/**
 * Read access of a task to the Kubernetes API (`clusterAccess` in registries/automation.yaml) as
 * RBAC rules, and what a deployment check is told to check. Pure: tested without mocks.
 */
import type * as k8s from "@pulumi/kubernetes";

/** The only verbs a task is ever granted: it reads, it never changes the cluster. */
export const READ_VERBS = ["get", "list", "watch"] as const;

/** A resource as kubectl names it, split: "deployments.apps" is resource deployments of group apps; "pods" is of the core group "". */
export function apiResource(name: string): { apiGroup: string; resource: string } {
  const dot = name.indexOf(".");
  return dot < 0 ? { apiGroup: "", resource: name } : { apiGroup: name.slice(dot + 1), resource: name.slice(0, dot) };
}

/**
 * The rules of a task's read-only Role: one rule per API group, with its resources sorted and each
 * once, and the read verbs only, so a reviewer reads exactly what the registry lists.
 */
export function readRules(read: readonly string[]): k8s.types.input.rbac.v1.PolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const name of read) {
    const { apiGroup, resource } = apiResource(name);
    if (!byGroup.has(apiGroup)) byGroup.set(apiGroup, new Set());
    byGroup.get(apiGroup)!.add(resource);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([apiGroup, resources]) => ({ apiGroups: [apiGroup], resources: [...resources].sort(), verbs: [...READ_VERBS] }));
}

/** One workload a deployment check reads: a Deployment or StatefulSet of a service. */
export interface CheckedWorkload {
  namespace: string;
  kind: "Deployment" | "StatefulSet";
  name: string;
}

/** NEXUS_CHECK_WORKLOADS's value: NAMESPACE/KIND/NAME of each workload, comma-separated, in order. */
export function checkWorkloadsValue(workloads: readonly CheckedWorkload[]): string {
  if (workloads.length === 0) throw new Error("a deployment check needs at least one workload to check");
  return workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}`).join(",");
}
