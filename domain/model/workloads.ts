import type { Resources, Service, Task } from "../schema";
import type { ResolvedService, ResolvedTask } from "./index";

/**
 * What a task's container gets when the task declares no resources. The same in every
 * environment on purpose: a value that should differ per environment belongs in the registry
 * (`resources`, with overrides).
 */
export const DEFAULT_TASK_RESOURCES: Resources = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

/** The namespace of each service name: the first service's of that name, as a search of the list finds it. */
export function serviceNamespaces(services: readonly Pick<Service, "name" | "namespace">[]): Map<string, string> {
  const namespaces = new Map<string, string>();
  for (const s of services) if (!namespaces.has(s.name)) namespaces.set(s.name, s.namespace);
  return namespaces;
}

/**
 * The namespace an in-cluster task's pods run in: its own, else its target's; undefined when it
 * has neither, or its target is not a service (the loader reports such a task).
 */
export function taskNamespaceOf(task: Pick<Task, "namespace" | "target">, namespaces: ReadonlyMap<string, string>): string | undefined {
  return task.namespace ?? (task.target === undefined ? undefined : namespaces.get(task.target));
}

/** The namespace a task's pods run in, for a validated model: its own, else its target's. */
export function taskNamespace(task: ResolvedTask, services: readonly ResolvedService[]): string {
  const ns = taskNamespaceOf(task, serviceNamespaces(services));
  if (ns === undefined) throw new Error(`task ${task.name} (${task.source}) has neither namespace nor target`);
  return ns;
}
