import type * as k8s from "@pulumi/kubernetes";
import { expect } from "vitest";
import { SECRET_SIG, type MockRun, type Recorded } from "../../internal/pulumi/mocks";

/**
 * The Kubernetes type tokens the components register, each with the plain shape of its object
 * (@pulumi/kubernetes' output types: what the recorded inputs are once every Input is resolved).
 */
export interface KubernetesInputs {
  "kubernetes:apps/v1:Deployment": k8s.types.output.apps.v1.Deployment;
  "kubernetes:apps/v1:StatefulSet": k8s.types.output.apps.v1.StatefulSet;
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": k8s.types.output.autoscaling.v2.HorizontalPodAutoscaler;
  "kubernetes:batch/v1:CronJob": k8s.types.output.batch.v1.CronJob;
  "kubernetes:batch/v1:Job": k8s.types.output.batch.v1.Job;
  "kubernetes:core/v1:ConfigMap": k8s.types.output.core.v1.ConfigMap;
  "kubernetes:core/v1:LimitRange": k8s.types.output.core.v1.LimitRange;
  "kubernetes:core/v1:Namespace": k8s.types.output.core.v1.Namespace;
  "kubernetes:core/v1:PersistentVolumeClaim": k8s.types.output.core.v1.PersistentVolumeClaim;
  "kubernetes:core/v1:ResourceQuota": k8s.types.output.core.v1.ResourceQuota;
  "kubernetes:core/v1:Secret": k8s.types.output.core.v1.Secret;
  "kubernetes:core/v1:Service": k8s.types.output.core.v1.Service;
  "kubernetes:core/v1:ServiceAccount": k8s.types.output.core.v1.ServiceAccount;
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": k8s.types.output.networking.v1.NetworkPolicy;
  "kubernetes:policy/v1:PodDisruptionBudget": k8s.types.output.policy.v1.PodDisruptionBudget;
  "kubernetes:rbac.authorization.k8s.io/v1:Role": k8s.types.output.rbac.v1.Role;
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": k8s.types.output.rbac.v1.RoleBinding;
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": k8s.types.output.rbac.v1.ClusterRole;
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": k8s.types.output.rbac.v1.ClusterRoleBinding;
  // The Prometheus operator's custom resources: the fields the tests read.
  "kubernetes:monitoring.coreos.com/v1:Prometheus": KubernetesObject & {
    apiVersion: string;
    spec: {
      image: string;
      replicas: number;
      resources: unknown;
      ruleSelector: k8s.types.output.meta.v1.LabelSelector;
      serviceMonitorSelector: k8s.types.output.meta.v1.LabelSelector;
      storage?: unknown;
      additionalScrapeConfigs?: { name: string; key: string };
    };
  };
  "kubernetes:monitoring.coreos.com/v1:PrometheusRule": KubernetesObject & { spec: unknown };
  "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": KubernetesObject & { spec: { endpoints?: unknown[] } & Record<string, unknown> };
}

/** Any Kubernetes object: what every one of them has. */
export interface KubernetesObject {
  metadata: k8s.types.output.meta.v1.ObjectMeta;
}

/**
 * The inputs of the one resource of `type` named `name`, typed as that Kubernetes object. The
 * recording is plain JSON; this is the one place it gets a type, and the tests' assertions check
 * that the shape holds.
 */
export function kubeInputs<T extends keyof KubernetesInputs>(run: MockRun, type: T, name: string): KubernetesInputs[T] {
  return kubeAs(run.one(type, name), type);
}

/** A recorded resource's inputs as the Kubernetes object of `type`; throws if it has another type. */
export function kubeAs<T extends keyof KubernetesInputs>(resource: Recorded, type: T): KubernetesInputs[T] {
  if (resource.type !== type) throw new Error(`${resource.name} is a ${resource.type}, not a ${type}`);
  return resource.inputs as unknown as KubernetesInputs[T];
}

/** A recorded Kubernetes resource's object (its metadata is what every kind shares). */
export function kubeObject(resource: Recorded): KubernetesObject {
  if (!resource.type.startsWith("kubernetes:")) throw new Error(`${resource.name} is a ${resource.type}, not a Kubernetes object`);
  return resource.inputs as unknown as KubernetesObject;
}

/** The inside of a secret in the wire form the mock monitor records (`{ [SECRET_SIG]: …, value }`). */
export function secretInside<T = unknown>(value: unknown): T {
  if (value === null || typeof value !== "object" || !(SECRET_SIG in value) || !("value" in value)) {
    throw new Error(`expected a secret value, got ${JSON.stringify(value)}`);
  }
  return value.value as T;
}

/** Every resource of a run as a [type, name, parent type] row, sorted: the tree a test compares whole. */
export function resourceTree(run: MockRun): string[][] {
  return run.resources.map((r) => [r.type, r.name, r.parentType]).sort();
}

/**
 * The run registered exactly one component of `type` named `name`, at the root, and under it exactly
 * `children`: the names registered under each child type.
 */
export function expectComponentTree(run: MockRun, type: string, name: string, children: Record<string, readonly string[]>): void {
  const rows = [[type, name, ""], ...Object.entries(children).flatMap(([childType, names]) => names.map((n) => [childType, n, type]))];
  expect(resourceTree(run)).toEqual(rows.sort());
}
