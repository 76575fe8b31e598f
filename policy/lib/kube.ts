import type { PolicyResource } from "@pulumi/policy";
import { ANNOTATION, LABEL } from "../../contract/labels";
import { K8S } from "../../contract/types";
import { UNKNOWN, asArray, asObject, asString, isObject, known, path, q, stringMap, type Props } from "./props";

export { K8S };

export { ANNOTATION, LABEL };

/** Types whose pod template the workload policies inspect; batch types need no probes. */
export const WORKLOAD_TYPES: readonly string[] = [K8S.Deployment, K8S.StatefulSet, K8S.DaemonSet, K8S.ReplicaSet, K8S.Job, K8S.CronJob, K8S.Pod];
export const BATCH_TYPES: readonly string[] = [K8S.Job, K8S.CronJob];

/** "Deployment" from "kubernetes:apps/v1:Deployment". */
export function kindOf(type: string): string {
  const parts = type.split(":");
  return parts[parts.length - 1] ?? type;
}

/** The object's name as a message shows it: metadata.name, else the Pulumi resource name. */
export function objectName(pulumiName: string, props: Props): string {
  const name = known(() => path(props, "metadata", "name"));
  return name !== UNKNOWN && typeof name === "string" && name.length > 0 ? name : pulumiName;
}

/** `Deployment "api"` */
export function describe(type: string, pulumiName: string, props: Props): string {
  return `${kindOf(type)} ${q(objectName(pulumiName, props))}`;
}

/** The name of the registry entry a resource belongs to: its name label, else its object name. */
export function entryName(pulumiName: string, props: Props): string {
  const label = known(() => stringMap(path(props, "metadata", "labels"))[LABEL.name]);
  return label !== UNKNOWN && typeof label === "string" && label.length > 0 ? label : objectName(pulumiName, props);
}

export function labelsOf(props: Props): Record<string, string> {
  const v = known(() => stringMap(path(props, "metadata", "labels")));
  return v === UNKNOWN ? {} : v;
}

export function namespaceOf(props: Props): string | undefined {
  const v = known(() => asString(path(props, "metadata", "namespace")));
  return v === UNKNOWN ? undefined : v;
}

export interface PodTemplate {
  metadata: Props;
  spec: Props;
}

/** The pod a workload runs: spec.template, a CronJob's jobTemplate.spec.template, or a bare Pod. */
export function podTemplate(type: string, props: Props): PodTemplate | undefined {
  let template: unknown;
  switch (type) {
    case K8S.Pod:
      template = props;
      break;
    case K8S.CronJob:
      template = path(props, "spec", "jobTemplate", "spec", "template");
      break;
    default:
      if (!WORKLOAD_TYPES.includes(type)) return undefined;
      template = path(props, "spec", "template");
  }
  if (!isObject(template)) return { metadata: {}, spec: {} };
  return { metadata: asObject(template.metadata), spec: asObject(template.spec) };
}

export interface ContainerRef {
  container: Props;
  init: boolean;
  /** `container "api"`, `init container "migrate"` or `ephemeral container "debugger"` */
  where: string;
}

function containerRefs(items: unknown, kind: string, init: boolean): ContainerRef[] {
  return asArray(items).map((c, i) => {
    const container = asObject(c);
    const name = asString(container.name) ?? `#${i + 1}`;
    return { container, init, where: `${kind} ${q(name)}` };
  });
}

export function containersOf(spec: Props): ContainerRef[] {
  return [...containerRefs(spec.initContainers, "init container", true), ...containerRefs(spec.containers, "container", false)];
}

/** A workload as the workload policies see it. */
export interface Workload {
  type: string;
  /** `Deployment "api"` */
  what: string;
  batch: boolean;
  pod: PodTemplate;
  containers: ContainerRef[];
  /**
   * Ephemeral containers (`kubectl debug`): Pod Security judges them like the others, but they
   * have no resources, probes or ports of their own, so only the Pod Security checks read them.
   */
  ephemeral: ContainerRef[];
}

export function workloadOf(type: string, pulumiName: string, props: Props): Workload | undefined {
  const pod = podTemplate(type, props);
  if (!pod) return undefined;
  return {
    type,
    what: describe(type, pulumiName, props),
    batch: BATCH_TYPES.includes(type),
    pod,
    containers: containersOf(pod.spec),
    ephemeral: containerRefs(pod.spec.ephemeralContainers, "ephemeral container", false),
  };
}

/** Whether a stack resource refers to another through a property, its dependencies or its parent. */
export function refersTo(resource: PolicyResource, target: PolicyResource, property?: string): boolean {
  if (property !== undefined) {
    const deps = resource.propertyDependencies?.[property];
    if (deps && deps.some((d) => d.urn === target.urn)) return true;
  }
  return (resource.dependencies ?? []).some((d) => d.urn === target.urn);
}

/** Whether a label selector's matchLabels select a set of labels (an empty selector selects all). */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  const matchLabels = stringMap(path(selector, "matchLabels"));
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

/** True for a selector that selects every pod: no matchLabels and no matchExpressions. */
export function isEmptySelector(selector: unknown): boolean {
  if (selector === undefined || selector === null) return true;
  if (!isObject(selector)) return false;
  return Object.keys(stringMap(selector.matchLabels)).length === 0 && asArray(selector.matchExpressions).length === 0;
}
