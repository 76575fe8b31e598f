import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { DEPENDENCIES_ENV, PORT_ENV, TMP_PATH, type Probe, type Resources } from "../../domain/schema";

type Input = k8s.types.input.core.v1.SecurityContext;

/** Non-root UID used when an image does not declare one; matches the restricted profile. */
export const DEFAULT_UID = 10001;

/** The Pod Security "restricted" container context: nothing an attacker could escalate with. */
export function restrictedContainerSecurityContext(): Input {
  return {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function restrictedPodSecurityContext(uid = DEFAULT_UID): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function resourceRequirements(r: Resources): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory },
    limits: { cpu: r.limits.cpu, memory: r.limits.memory },
  };
}

/** A Kubernetes probe from a registry probe; the service port is the default target. */
export function probe(p: Probe, servicePort: number): k8s.types.input.core.v1.Probe {
  const timing = {
    initialDelaySeconds: p.initialDelaySeconds,
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    failureThreshold: p.failureThreshold,
  };
  const port = p.port ?? servicePort;
  switch (p.type) {
    case "http":
      return { httpGet: { path: p.path ?? "/", port }, ...timing };
    case "tcp":
      return { tcpSocket: { port }, ...timing };
    case "exec":
      return { exec: { command: [...(p.command ?? [])] }, ...timing };
  }
}

/**
 * A read-only root filesystem still needs somewhere to write temporary files: an emptyDir at /tmp.
 */
export function tmpVolume(): { volume: k8s.types.input.core.v1.Volume; mount: k8s.types.input.core.v1.VolumeMount } {
  return {
    volume: { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    mount: { name: "tmp", mountPath: TMP_PATH },
  };
}

/**
 * The size limit of each writable path's emptyDir. These directories hold sockets, lock and pid
 * files, a few bytes each, never data (that goes to the storage volume, scratch files to /tmp);
 * 64Mi leaves room for plenty of them and still stops a runaway writer early: an emptyDir counts
 * against the node's ephemeral storage, and the kubelet evicts a pod that writes past the limit.
 */
export const WRITABLE_PATH_SIZE_LIMIT = "64Mi";

/**
 * One emptyDir volume and its mount per writable path of a service, named by position
 * ("writable-0", ...) since a path is no volume name.
 */
export function writableVolumes(paths: readonly string[]): { volumes: k8s.types.input.core.v1.Volume[]; mounts: k8s.types.input.core.v1.VolumeMount[] } {
  const name = (i: number) => `writable-${i}`;
  return {
    volumes: paths.map((_, i) => ({ name: name(i), emptyDir: { sizeLimit: WRITABLE_PATH_SIZE_LIMIT } })),
    mounts: paths.map((mountPath, i) => ({ name: name(i), mountPath })),
  };
}

/**
 * What the platform tells a service's process: `PORT`, the port it must listen on, and
 * `NEXUS_DEPENDENCIES`, where its dependencies are ("HOST:PORT" addresses, comma-separated;
 * absent for a service without any).
 */
export function platformEnv(port: number, addresses: readonly string[]): k8s.types.input.core.v1.EnvVar[] {
  return [{ name: PORT_ENV, value: String(port) }, ...dependenciesEnv(addresses)];
}

/**
 * `NEXUS_DEPENDENCIES` alone, for a workload that listens on nothing (a task): the addresses it
 * may call, comma-separated; nothing for a workload without any.
 */
export function dependenciesEnv(addresses: readonly string[]): k8s.types.input.core.v1.EnvVar[] {
  return addresses.length === 0 ? [] : [{ name: DEPENDENCIES_ENV, value: addresses.join(",") }];
}

/** Environment variables from a ConfigMap (plain values) and a Secret (referenced secrets). */
export function envFrom(
  configMapName: pulumi.Input<string> | undefined,
  secretName: pulumi.Input<string> | undefined,
): k8s.types.input.core.v1.EnvFromSource[] {
  return [...(configMapName ? [{ configMapRef: { name: configMapName } }] : []), ...(secretName ? [{ secretRef: { name: secretName } }] : [])];
}
