import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Model } from "../domain/model";
import type { Probe } from "../domain/schema";
import { apiServerEgressSpec, type ApiServerEndpoint } from "./builders/network";
import { probe, resourceRequirements, restrictedContainerSecurityContext, restrictedPodSecurityContext, tmpVolume } from "./builders/pod";
import type { PlatformContext } from "./context";
import { ANNOTATION, LABEL, annotations, labels, metadata, selectorLabels, type Traceable } from "./labels";

/** Image, resources and replicas of one of Prometheus, Alertmanager and Grafana. */
export type StackComponent = Model["monitoring"]["stack"]["alertmanager"];

/** A part's Service and the addresses the other parts and the stack's outputs reach it by. */
export interface Endpoint {
  service: k8s.core.v1.Service;
  /** "host:port" in the cluster, known before anything is deployed, for generated files. */
  address: string;
  /** "http://host:port" of the registered Service. */
  url: pulumi.Output<string>;
}

/** What one part's single-container Deployment runs. */
export interface Workload {
  component: StackComponent;
  serviceAccount: k8s.core.v1.ServiceAccount;
  port: number;
  readyPath: string;
  livePath: string;
  /** The port of the readiness path, when it is not `port`. */
  readyPort?: number;
  /** Whether the pods get the ServiceAccount's token: only those that read the Kubernetes API. */
  readsApi?: boolean;
  args: string[];
  env?: k8s.types.input.core.v1.EnvVar[];
  extraPorts?: k8s.types.input.core.v1.ContainerPort[];
  /** Hash of the configuration files the pods read, so a change rolls them; none without such files. */
  checksum?: string;
  volumes: k8s.types.input.core.v1.Volume[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
}

export interface MonitoringScopeArgs {
  /** The MonitoringStack's name, which every object name starts with. */
  name: string;
  /** The MonitoringStack: every object is its direct child, whichever part registers it. */
  parent: pulumi.Resource;
  context: PlatformContext;
  /** Kubernetes namespace of the stack, already created. */
  namespace: string;
  owner: string;
  /** Registry location of the stack, for the source annotation. */
  source: string;
}

/**
 * What the parts of the monitoring stack (Prometheus, Alertmanager, Grafana) share: names,
 * labels and the ServiceAccount, Service and Deployment each part has, all built one way.
 * Objects keep the MonitoringStack as their parent, so splitting the stack into parts leaves
 * every URN as it was.
 */
export class MonitoringScope {
  readonly name: string;
  readonly namespace: string;
  readonly environment: string;
  readonly opts: pulumi.CustomResourceOptions;

  constructor(private readonly args: MonitoringScopeArgs) {
    this.name = args.name;
    this.namespace = args.namespace;
    this.environment = args.context.environment;
    this.opts = { parent: args.parent };
  }

  /** `<stack name>-<suffix>`: the Pulumi and the Kubernetes name of a child. */
  child(suffix: string): string {
    return `${this.name}-${suffix}`;
  }

  traceable(part: string): Traceable {
    const { owner, source, context } = this.args;
    return { name: part, owner, source, environment: context.environment, component: "monitoring" };
  }

  meta(part: string, objectName: string, ns: string = this.namespace) {
    return metadata(this.traceable(part), this.args.context, objectName, ns);
  }

  /**
   * Read access to the Kubernetes API for a part's ServiceAccount: a ClusterRole of `rules`,
   * granted cluster-wide, or by a RoleBinding in each of `namespaces` only when they are given.
   * A ClusterRole's name is cluster-wide: it carries the stack's namespace, so the stacks of two
   * namespaces on one cluster do not share one.
   */
  clusterAccess(part: string, account: k8s.core.v1.ServiceAccount, rules: k8s.types.input.rbac.v1.PolicyRule[], namespaces?: readonly string[]): void {
    const objectName = this.child(part);
    const clusterName = `${this.namespace}-${objectName}`;
    const clusterMeta = metadata(this.traceable(part), this.args.context, clusterName);
    const role = new k8s.rbac.v1.ClusterRole(objectName, { metadata: clusterMeta, rules }, this.opts);
    const roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name };
    const subjects = [{ kind: "ServiceAccount", name: account.metadata.name, namespace: this.namespace }];
    if (namespaces === undefined) {
      new k8s.rbac.v1.ClusterRoleBinding(objectName, { metadata: clusterMeta, roleRef, subjects }, this.opts);
      return;
    }
    for (const ns of [...new Set(namespaces)].sort()) {
      new k8s.rbac.v1.RoleBinding(`${objectName}-${ns}`, { metadata: this.meta(part, objectName, ns), roleRef, subjects }, this.opts);
    }
  }

  /** An egress-only NetworkPolicy letting the part's pods call the Kubernetes API server. */
  apiServerEgress(part: string, apiServer: pulumi.Input<readonly ApiServerEndpoint[]>): k8s.networking.v1.NetworkPolicy {
    const objectName = this.child(`${part}-api-egress`);
    const spec = pulumi.output(apiServer).apply((endpoints) => apiServerEgressSpec(part, endpoints));
    return new k8s.networking.v1.NetworkPolicy(objectName, { metadata: this.meta(part, objectName), spec }, this.opts);
  }

  /** DNS name of a Service of the stack's namespace. */
  host(serviceName: string): string {
    return `${serviceName}.${this.namespace}.svc`;
  }

  /**
   * No token by default: a pod that reads the API (Prometheus, kube-state-metrics) asks for it in
   * its own spec, and its account says so (`readsApi`) with the token-automount annotation.
   */
  serviceAccount(part: string, objectName: string, readsApi = false): k8s.core.v1.ServiceAccount {
    const meta = metadata(this.traceable(part), this.args.context, objectName, this.namespace, readsApi ? { [ANNOTATION.tokenAutomount]: "declared" } : {});
    return new k8s.core.v1.ServiceAccount(objectName, { metadata: meta, automountServiceAccountToken: false }, this.opts);
  }

  /** A ClusterIP Service named like the part's objects, selecting its pods unless told otherwise. */
  endpoint(part: string, port: number, selector = podSelector(part, this.environment), targetPort = "http"): Endpoint {
    const objectName = this.child(part);
    const service = new k8s.core.v1.Service(
      objectName,
      {
        metadata: this.meta(part, objectName),
        spec: { type: "ClusterIP", selector, ports: [{ name: "http", port, targetPort, protocol: "TCP" }] },
      },
      this.opts,
    );
    return {
      service,
      address: `${this.host(objectName)}:${port}`,
      url: pulumi.interpolate`http://${service.metadata.name}.${this.namespace}.svc:${port}`,
    };
  }

  /** `recreate`: the old pod stops before the new one starts, for a pod holding a ReadWriteOnce claim. */
  deployment(part: string, objectName: string, w: Workload, recreate = false): k8s.apps.v1.Deployment {
    return new k8s.apps.v1.Deployment(
      objectName,
      {
        metadata: this.meta(part, objectName),
        spec: {
          replicas: w.component.replicas,
          ...(recreate ? { strategy: { type: "Recreate" } } : {}),
          selector: { matchLabels: podSelector(part, this.environment) },
          template: this.podTemplate(part, w),
        },
      },
      this.opts,
    );
  }

  /**
   * A claim of the part's own for a one-replica Deployment. Never awaited: a claim of a
   * WaitForFirstConsumer class binds only once the pod that mounts it is scheduled.
   */
  claim(part: string, objectName: string, spec: k8s.types.input.core.v1.PersistentVolumeClaimSpec): k8s.core.v1.PersistentVolumeClaim {
    const meta = metadata(this.traceable(part), this.args.context, objectName, this.namespace, { [ANNOTATION.skipAwait]: "true" });
    return new k8s.core.v1.PersistentVolumeClaim(objectName, { metadata: meta, spec }, this.opts);
  }

  private podTemplate(part: string, w: Workload): k8s.types.input.core.v1.PodTemplateSpec {
    const traceable = this.traceable(part);
    return {
      metadata: {
        labels: labels(traceable),
        // Await hints belong on the Deployment, not on its pods.
        annotations: { ...annotations(traceable, { skipAwait: false }), ...(w.checksum !== undefined ? { "checksum/config": w.checksum } : {}) },
      },
      spec: {
        serviceAccountName: w.serviceAccount.metadata.name,
        automountServiceAccountToken: w.readsApi === true,
        securityContext: restrictedPodSecurityContext(),
        containers: [container(part, w)],
        volumes: [...w.volumes, tmpVolume().volume],
      },
    };
  }
}

function container(part: string, w: Workload): k8s.types.input.core.v1.Container {
  return {
    name: part,
    image: w.component.image,
    args: w.args,
    env: w.env,
    ports: [{ name: "http", containerPort: w.port, protocol: "TCP" }, ...(w.extraPorts ?? [])],
    readinessProbe: probe(httpProbe(w.readyPath), w.readyPort ?? w.port),
    livenessProbe: probe({ ...httpProbe(w.livePath), initialDelaySeconds: 30 }, w.port),
    resources: resourceRequirements(w.component.resources),
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [...w.mounts, tmpVolume().mount],
  };
}

/** Stable across releases; the instance label keeps two environments' pods apart. */
export function podSelector(part: string, environment: string): Record<string, string> {
  return { ...selectorLabels(part), [LABEL.instance]: `${part}-${environment}` };
}

function httpProbe(path: string): Probe {
  return { type: "http", path, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 };
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
