/**
 * The one place that decides how resources are labelled. Labels let `kubectl` and dashboards
 * select by owner and environment; the source annotation answers an auditor's "where was this
 * declared" with a registry file and line.
 */
import { ANNOTATION, LABEL, MANAGED_BY, PART_OF } from "../contract/labels";
import type { Backup } from "../domain/schema";

export { ANNOTATION, LABEL, MANAGED_BY, PART_OF };

export type Component = "service" | "backup" | "automation" | "monitoring" | "security";

export interface Traceable {
  /** The registry entry's name. */
  name: string;
  /** The registry entry's description, if it has one: an annotation, never a label or tag (it is free text up to 500 characters). */
  description?: string;
  owner: string;
  /** "registries/orchestration.yaml:12" */
  source: string;
  environment: string;
  component: Component;
}

/** A registry entry (a service or a task) as the objects made for it in ENVIRONMENT record it. */
export function traceableEntry(
  entry: { name: string; description?: string; owner: string; source: string },
  environment: string,
  component: Component,
): Traceable {
  return { name: entry.name, description: entry.description, owner: entry.owner, source: entry.source, environment, component };
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
    ...(t.description !== undefined ? { [ANNOTATION.description]: t.description } : {}),
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

/**
 * The GDPR labels of a backup's objects, so an auditor can list with `kubectl get -l` which copies
 * hold personal data and on which legal basis; none without a gdpr section.
 */
export function gdprLabels(gdpr: Backup["gdpr"]): Record<string, string> {
  if (!gdpr) return {};
  return { [LABEL.personalData]: String(gdpr.personalData), ...(gdpr.legalBasis ? { [LABEL.legalBasis]: gdpr.legalBasis } : {}) };
}

/** AWS tags with the same keys, so an auditor can follow a bucket back to its registry entry. */
export function awsTags(t: Traceable): Record<string, string> {
  return { ...labels(t), [ANNOTATION.source]: t.source };
}
