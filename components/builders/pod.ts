import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Probe, Resources } from "../../domain/schema";

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
    mount: { name: "tmp", mountPath: "/tmp" },
  };
}

/** Environment variables from a ConfigMap (plain values) and a Secret (referenced secrets). */
export function envFrom(
  configMapName: pulumi.Input<string> | undefined,
  secretName: pulumi.Input<string> | undefined,
): k8s.types.input.core.v1.EnvFromSource[] {
  return [...(configMapName ? [{ configMapRef: { name: configMapName } }] : []), ...(secretName ? [{ secretRef: { name: secretName } }] : [])];
}
