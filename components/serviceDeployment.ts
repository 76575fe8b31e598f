import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedService } from "../domain/model";
import { dependencyAddresses, serviceAddress, workloadRules, type Edge } from "./builders/network";
import { podsServiceName } from "./builders/monitoring";
import {
  platformEnv,
  envFrom,
  probe,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tmpVolume,
  writableVolumes,
} from "./builders/pod";
import type { PlatformContext } from "./context";
import { ANNOTATION, metadata, selectorLabels, type Traceable } from "./labels";

export interface ServiceDeploymentArgs {
  context: PlatformContext;
  service: ResolvedService;
  /** Kubernetes namespace, created by the SecurityBaseline. */
  namespace: string;
  /** The platform's network graph; this service opens only the edges that touch it. */
  edges: readonly Edge[];
  /** Secret values by Pulumi config key; they stay secret outputs. */
  secrets: Readonly<Record<string, pulumi.Input<string>>>;
}

/** Spread replicas over zones and nodes when the environment asks for it; never blocks scheduling. */
export function topologySpread(name: string): k8s.types.input.core.v1.TopologySpreadConstraint[] {
  return ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selectorLabels(name) },
  }));
}

/** A hash of the plain configuration, so a changed value rolls the pods. */
export function configChecksum(env: Readonly<Record<string, string>>): string {
  const sorted = Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}

/**
 * One registry service as a hardened workload: its own ServiceAccount, a Deployment (or a
 * StatefulSet with volume claims), a Service, autoscaling and a disruption budget where declared,
 * its configuration and secrets, and the NetworkPolicy that opens exactly its declared paths.
 */
export class ServiceDeployment extends pulumi.ComponentResource {
  public readonly address: string;
  public readonly workloadKind: "Deployment" | "StatefulSet";
  /** The Deployment or StatefulSet: what services that call this one wait for. */
  public readonly workload: pulumi.Resource;
  public readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: ServiceDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything, so a missing secret leaves no half-made component behind.
    for (const ref of args.service.secrets) {
      if (args.secrets[ref.configKey] === undefined) {
        throw new Error(
          `service ${args.service.name} (${args.service.source}) references secret "${ref.configKey}", which is not set: ` +
            `run \`pulumi config set --secret ${ref.configKey} VALUE\``,
        );
      }
    }
    super("nexus:workloads:ServiceDeployment", name, {}, opts);
    const { context, service: s, namespace } = args;
    const child = { parent: this };
    const trace: Traceable = {
      name: s.name,
      description: s.description,
      owner: s.owner,
      source: s.source,
      environment: context.environment,
      component: "service",
    };
    const meta = (objectName: string, extra: Record<string, string> = {}) => metadata(trace, context, objectName, namespace, extra);
    const selector = selectorLabels(s.name);

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: meta(s.name, s.automountServiceAccountToken ? { [ANNOTATION.tokenAutomount]: "declared" } : {}),
        automountServiceAccountToken: s.automountServiceAccountToken,
      },
      child,
    );

    const envNames = Object.keys(s.env);
    const configMap =
      envNames.length > 0 ? new k8s.core.v1.ConfigMap(`${name}-env`, { metadata: meta(`${s.name}-env`), data: { ...s.env } }, child) : undefined;

    let secret: k8s.core.v1.Secret | undefined;
    if (s.secrets.length > 0) {
      const stringData: Record<string, pulumi.Input<string>> = {};
      for (const ref of s.secrets) stringData[ref.env] = pulumi.secret(args.secrets[ref.configKey]!);
      secret = new k8s.core.v1.Secret(`${name}-secrets`, { metadata: meta(`${s.name}-secrets`), type: "Opaque", stringData }, child);
    }

    const tmp = tmpVolume();
    const writable = writableVolumes(s.writablePaths);
    // Its port, and the addresses of what it depends on: exactly the egress paths its NetworkPolicy opens.
    const env = platformEnv(s.port, dependencyAddresses({ namespace, name: s.name }, args.edges));
    const metricsPort = s.metrics?.port;
    const container: k8s.types.input.core.v1.Container = {
      name: s.name,
      image: s.image,
      ...(s.args ? { args: [...s.args] } : {}),
      ports: [
        { name: s.protocol === "tcp" ? "tcp" : s.protocol, containerPort: s.port, protocol: "TCP" },
        ...(metricsPort !== undefined && metricsPort !== s.port ? [{ name: "metrics", containerPort: metricsPort, protocol: "TCP" }] : []),
      ],
      env,
      envFrom: envFrom(configMap?.metadata.name, secret?.metadata.name),
      resources: resourceRequirements(s.resources),
      livenessProbe: probe(s.probes.liveness, s.port),
      readinessProbe: probe(s.probes.readiness, s.port),
      securityContext: restrictedContainerSecurityContext(),
      volumeMounts: [tmp.mount, ...writable.mounts, ...(s.stateful && s.storage ? [{ name: "data", mountPath: s.storage.mountPath }] : [])],
    };
    const podTemplate: k8s.types.input.core.v1.PodTemplateSpec = {
      metadata: {
        labels: { ...meta(s.name).labels, ...selector },
        annotations: { [ANNOTATION.source]: s.source, "checksum/config": configChecksum(s.env) },
      },
      spec: {
        serviceAccountName: serviceAccount.metadata.name,
        automountServiceAccountToken: s.automountServiceAccountToken,
        securityContext: restrictedPodSecurityContext(),
        containers: [container],
        volumes: [tmp.volume, ...writable.volumes],
        ...(s.topologySpread ? { topologySpreadConstraints: topologySpread(s.name) } : {}),
      },
    };
    // Under an autoscaler the replica count is the autoscaler's to change, not ours.
    const replicas = s.autoscaling ? {} : { replicas: s.replicas };

    const svc = new k8s.core.v1.Service(
      `${name}-svc`,
      {
        metadata: meta(s.name, { [ANNOTATION.exposure]: s.exposure }),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [
            { name: s.protocol === "tcp" ? "tcp" : s.protocol, port: s.port, targetPort: s.port, protocol: "TCP" },
            ...(metricsPort !== undefined && metricsPort !== s.port ? [{ name: "metrics", port: metricsPort, targetPort: metricsPort, protocol: "TCP" }] : []),
          ],
        },
      },
      child,
    );

    if (s.metrics) {
      // Prometheus finds the ready pods by this name (one A record per ready pod).
      new k8s.core.v1.Service(
        `${name}-pods`,
        {
          metadata: meta(podsServiceName(s.name), { [ANNOTATION.exposure]: "internal" }),
          spec: {
            clusterIP: "None",
            selector,
            ports: [{ name: "metrics", port: s.metrics.port ?? s.port, targetPort: s.metrics.port ?? s.port, protocol: "TCP" }],
          },
        },
        child,
      );
    }

    if (s.stateful && s.storage) {
      const headless = new k8s.core.v1.Service(
        `${name}-headless`,
        {
          metadata: meta(`${s.name}-headless`, { [ANNOTATION.exposure]: "internal" }),
          spec: { clusterIP: "None", selector, ports: [{ name: "tcp", port: s.port, targetPort: s.port }] },
        },
        child,
      );
      this.workload = new k8s.apps.v1.StatefulSet(
        `${name}-statefulset`,
        {
          metadata: meta(s.name, { [ANNOTATION.stateful]: "true" }),
          spec: {
            ...replicas,
            serviceName: headless.metadata.name,
            selector: { matchLabels: selector },
            template: podTemplate,
            volumeClaimTemplates: [
              {
                metadata: { name: "data", labels: selector },
                spec: {
                  accessModes: ["ReadWriteOnce"],
                  resources: { requests: { storage: s.storage.size } },
                  ...(s.storage.storageClass ? { storageClassName: s.storage.storageClass } : {}),
                },
              },
            ],
          },
        },
        child,
      );
      this.workloadKind = "StatefulSet";
    } else {
      this.workload = new k8s.apps.v1.Deployment(
        `${name}-deployment`,
        {
          metadata: meta(s.name),
          spec: {
            ...replicas,
            selector: { matchLabels: selector },
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            template: podTemplate,
          },
        },
        child,
      );
      this.workloadKind = "Deployment";
    }

    const workloadRef = { apiVersion: "apps/v1", kind: this.workloadKind, name: s.name };
    if (s.autoscaling) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        {
          metadata: meta(s.name),
          spec: {
            scaleTargetRef: workloadRef,
            minReplicas: s.autoscaling.minReplicas,
            maxReplicas: s.autoscaling.maxReplicas,
            metrics: [
              {
                type: "Resource",
                resource: { name: "cpu", target: { type: "Utilization", averageUtilization: s.autoscaling.targetCPUUtilization } },
              },
            ],
          },
        },
        child,
      );
    }
    const minReplicas = s.autoscaling ? s.autoscaling.minReplicas : s.replicas;
    if (minReplicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, { metadata: meta(s.name), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } }, child);
    }

    const rules = workloadRules({ namespace, name: s.name }, args.edges, s.exposure === "public" ? s.port : undefined);
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(`${s.name}-allow`),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress", "Egress"],
          ingress: rules.ingress,
          egress: rules.egress,
        },
      },
      child,
    );

    this.address = serviceAddress(s.name, namespace, s.port);
    this.serviceName = svc.metadata.name;
    this.registerOutputs({ address: this.address, workloadKind: this.workloadKind, serviceName: this.serviceName });
  }
}
