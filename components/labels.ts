/**
 * The one place that decides how resources are labelled. Labels let `kubectl` and dashboards
 * select by owner and environment; the source annotation answers an auditor's "where was this
 * declared" with a registry file and line.
 */
import { ANNOTATION, LABEL, MANAGED_BY, PART_OF } from "../contract/labels";

export { ANNOTATION, LABEL, MANAGED_BY, PART_OF };

export type Component = "service" | "backup" | "automation" | "monitoring" | "security";

export interface Traceable {
  /** The registry entry's name. */
  name: string;
  owner: string;
  /** "registries/orchestration.yaml:12" */
  source: string;
  environment: string;
  component: Component;
}

/** Labels every resource carries. */
export function labels(t: Traceable): Record<string, string> {
  return {
    [LABEL.name]: t.name,
    [LABEL.instance]: `${t.name}-${t.environment}`,
    [LABEL.component]: t.component,
    [LABEL.partOf]: PART_OF,
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.owner]: t.owner,
    [LABEL.environment]: t.environment,
  };
}

/** The labels a Service or NetworkPolicy selects a workload's pods by: stable across releases. */
export function selectorLabels(name: string): Record<string, string> {
  return { [LABEL.name]: name, [LABEL.partOf]: PART_OF };
}

export interface AwaitBehaviour {
  /** Set on clusters without nodes (an API server alone), where workloads never become ready. */
  skipAwait: boolean;
}

/** Annotations every resource carries; await hints only where the stack asks for them. */
export function annotations(t: Traceable, await_: AwaitBehaviour, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [ANNOTATION.source]: t.source,
    // The registries are the source of truth: a field someone changed through the API is taken
    // back on the next deploy instead of failing it with a field-manager conflict.
    [ANNOTATION.patchForce]: "true",
    ...(await_.skipAwait ? { [ANNOTATION.skipAwait]: "true", [ANNOTATION.deletionPropagation]: "background" } : {}),
    ...extra,
  };
}

/** Kubernetes object metadata for a traceable resource. */
export function metadata(t: Traceable, await_: AwaitBehaviour, objectName: string, namespace?: string, extra: Record<string, string> = {}) {
  return {
    name: objectName,
    ...(namespace !== undefined ? { namespace } : {}),
    labels: labels(t),
    annotations: annotations(t, await_, extra),
  };
}

/** AWS tags with the same keys, so an auditor can follow a bucket back to its registry entry. */
export function awsTags(t: Traceable): Record<string, string> {
  return { ...labels(t), [ANNOTATION.source]: t.source };
}
