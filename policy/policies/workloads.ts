/**
 * Kubernetes workloads: Pod Security Standards "restricted" and CIS 5.x, checked on the pod
 * template of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and bare Pods,
 * init containers included.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configSchema, stringList, type BaseConfig } from "../lib/config";
import { subjectNames } from "../lib/exceptions";
import { ANNOTATION, K8S, LABEL, WORKLOAD_TYPES, describe, labelsOf, podTemplate, workloadOf, type ContainerRef, type Workload } from "../lib/kube";
import { checked, workloadCheck } from "../lib/policy";
import { asArray, asObject, asString, isObject, list, path, q } from "../lib/props";

const securityContext = (ref: ContainerRef) => asObject(ref.container.securityContext);
const podSecurityContext = (w: Workload) => asObject(w.pod.spec.securityContext);

export const noPrivilegedContainers: ResourceValidationPolicy = {
  name: "no-privileged-containers",
  description: "Checks whether any container of a workload runs privileged (PSS baseline, CIS 5.2.1).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const ref of w.containers) {
      if (securityContext(ref).privileged === true) {
        say(
          `${w.what}: ${ref.where} runs privileged: remove securityContext.privileged or set it to false; a privileged container has every device and capability of the node`,
        );
      }
    }
  }),
};

export const noHostNamespaces: ResourceValidationPolicy = {
  name: "no-host-namespaces",
  description: "Checks whether a workload shares the node's network, PID or IPC namespace (PSS baseline, CIS 5.2.2-5.2.4).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    const shared = (["hostNetwork", "hostPID", "hostIPC"] as const).filter((k) => w.pod.spec[k] === true);
    if (shared.length > 0) {
      say(
        `${w.what}: the pod sets ${list(shared.map((k) => `${k}: true`))}: remove ${shared.length > 1 ? "them" : "it"} so the pod keeps its own namespaces; expose traffic through a Service instead`,
      );
    }
  }),
};

export const noHostPorts: ResourceValidationPolicy = {
  name: "no-host-ports",
  description: "Checks whether any container binds a port of the node (hostPort) (PSS baseline).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const ref of w.containers) {
      const ports = asArray(ref.container.ports)
        .map((p) => asObject(p).hostPort)
        .filter((p): p is number => typeof p === "number" && p !== 0);
      if (ports.length > 0) {
        say(`${w.what}: ${ref.where} binds host port ${ports.join(", ")}: remove hostPort and reach the container through a Service`);
      }
    }
  }),
};

export const noHostPathVolumes: ResourceValidationPolicy = {
  name: "no-host-path-volumes",
  description: "Checks whether a workload mounts a hostPath volume from the node (PSS baseline).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const v of asArray(w.pod.spec.volumes)) {
      const volume = asObject(v);
      if (isObject(volume.hostPath)) {
        say(
          `${w.what}: volume ${q(asString(volume.name) ?? "?")} mounts hostPath ${q(asString(volume.hostPath.path) ?? "?")} from the node: use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead`,
        );
      }
    }
  }),
};

export const runAsNonRoot: ResourceValidationPolicy = {
  name: "run-as-non-root",
  description: "Checks whether every container must run as a non-root user (PSS restricted, CIS 5.2.6).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    const pod = podSecurityContext(w);
    for (const ref of w.containers) {
      const sc = securityContext(ref);
      const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
      const uid = sc.runAsUser ?? pod.runAsUser;
      if (uid === 0) {
        say(`${w.what}: ${ref.where} runs as UID 0 (root): set runAsUser to a non-zero UID (10001 unless the image declares one)`);
      } else if (nonRoot !== true) {
        say(`${w.what}: ${ref.where} may run as root: set securityContext.runAsNonRoot: true on the pod or the container`);
      }
    }
  }),
};

export const noPrivilegeEscalation: ResourceValidationPolicy = {
  name: "no-privilege-escalation",
  description: "Checks whether every container sets allowPrivilegeEscalation: false (PSS restricted, CIS 5.2.5).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const ref of w.containers) {
      if (securityContext(ref).allowPrivilegeEscalation !== false) {
        say(`${w.what}: ${ref.where} does not forbid privilege escalation: set securityContext.allowPrivilegeEscalation: false`);
      }
    }
  }),
};

/** The one capability the restricted profile lets a container add back. */
const ALLOWED_ADD = ["NET_BIND_SERVICE"];

export const dropAllCapabilities: ResourceValidationPolicy = {
  name: "drop-all-capabilities",
  description: "Checks whether every container drops ALL capabilities and adds back none but NET_BIND_SERVICE (PSS restricted, CIS 5.2.7-5.2.9).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const ref of w.containers) {
      const caps = asObject(securityContext(ref).capabilities);
      const drop = asArray(caps.drop).filter((c): c is string => typeof c === "string");
      const added = asArray(caps.add).filter((c): c is string => typeof c === "string" && !ALLOWED_ADD.includes(c));
      if (!drop.includes("ALL")) {
        say(`${w.what}: ${ref.where} does not drop all capabilities: set securityContext.capabilities.drop: ["ALL"]`);
      }
      if (added.length > 0) {
        say(
          `${w.what}: ${ref.where} adds capabilities ${list(added)}: remove them from securityContext.capabilities.add (only NET_BIND_SERVICE may be added back)`,
        );
      }
    }
  }),
};

const ALLOWED_SECCOMP = ["RuntimeDefault", "Localhost"];

export const seccompRuntimeDefault: ResourceValidationPolicy = {
  name: "seccomp-runtime-default",
  description: "Checks whether every container runs under the RuntimeDefault (or a Localhost) seccomp profile (PSS restricted, CIS 5.7.2).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    const podProfile = asString(path(podSecurityContext(w), "seccompProfile", "type"));
    for (const ref of w.containers) {
      const profile = asString(path(securityContext(ref), "seccompProfile", "type")) ?? podProfile;
      if (profile === undefined) {
        say(`${w.what}: ${ref.where} has no seccomp profile: set securityContext.seccompProfile.type: RuntimeDefault on the pod`);
      } else if (!ALLOWED_SECCOMP.includes(profile)) {
        say(`${w.what}: ${ref.where} uses seccomp profile ${profile}: set securityContext.seccompProfile.type to RuntimeDefault`);
      }
    }
  }),
};

export const readOnlyRootFilesystem: ResourceValidationPolicy = {
  name: "read-only-root-filesystem",
  description: "Checks whether every container mounts its root filesystem read-only (CIS 5.2 hardening).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const ref of w.containers) {
      if (securityContext(ref).readOnlyRootFilesystem !== true) {
        say(
          `${w.what}: ${ref.where} has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (e.g. /tmp)`,
        );
      }
    }
  }),
};

export const resourcesRequired: ResourceValidationPolicy = {
  name: "resources-required",
  description: "Checks whether every container sets CPU and memory requests and limits.",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const ref of w.containers) {
      const r = asObject(ref.container.resources);
      const missing = (["requests", "limits"] as const).flatMap((kind) =>
        (["cpu", "memory"] as const).filter((res) => path(r, kind, res) === undefined || path(r, kind, res) === null).map((res) => `${kind}.${res}`),
      );
      if (missing.length > 0) {
        say(`${w.what}: ${ref.where} has no ${list(missing)}: set resources.requests and resources.limits for cpu and memory (the registry entry's resources)`);
      }
    }
  }),
};

export const probesRequired: ResourceValidationPolicy = {
  name: "probes-required",
  description: "Checks whether every long-running container has a liveness and a readiness probe (Jobs and CronJobs are exempt).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    if (w.batch) return;
    for (const ref of w.containers) {
      if (ref.init) continue;
      const missing = (["livenessProbe", "readinessProbe"] as const).filter((p) => !isObject(ref.container[p]));
      if (missing.length > 0) {
        say(`${w.what}: ${ref.where} has no ${list(missing)}: declare probes.liveness and probes.readiness for it in the registry`);
      }
    }
  }),
};

/**
 * The repository an image reference points at, with Docker Hub's implicit parts spelled out:
 * "postgres:16" is docker.io/library/postgres, "prom/prometheus" is docker.io/prom/prometheus.
 */
export function imageRepository(image: string): string {
  const withoutDigest = image.split("@")[0] ?? image;
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  const parts = name.split("/");
  const first = parts[0] ?? "";
  if (parts.length === 1) return `docker.io/library/${name}`;
  if (first === "index.docker.io" || first === "registry-1.docker.io") return ["docker.io", ...parts.slice(1)].join("/");
  if (!first.includes(".") && !first.includes(":") && first !== "localhost") return `docker.io/${name}`;
  return name;
}

/** The tag of an image reference, if any, and whether it is pinned by digest. */
export function imageTag(image: string): { tag?: string; digest: boolean } {
  const [withoutDigest = image, digest] = image.split("@");
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return { ...(colon > slash ? { tag: withoutDigest.slice(colon + 1) } : {}), digest: digest !== undefined && digest.length > 0 };
}

interface RegistriesConfig extends BaseConfig {
  allowedRegistries?: string[];
}

export const allowedImageRegistries: ResourceValidationPolicy = {
  name: "allowed-image-registries",
  description: "Checks whether every container image comes from a registry allowed by registries/security.yaml (imageRegistries).",
  configSchema: configSchema({ allowedRegistries: stringList("Registries or repository prefixes images may come from, e.g. ghcr.io/nexus-platform") }),
  validateResource: workloadCheck<RegistriesConfig>((w, say, config) => {
    const allowed = (config.allowedRegistries ?? []).map((r) => r.replace(/\/+$/, ""));
    for (const ref of w.containers) {
      const image = asString(ref.container.image);
      if (image === undefined) continue;
      const repo = imageRepository(image);
      if (!allowed.some((r) => repo === r || repo.startsWith(`${r}/`))) {
        const choices =
          allowed.length > 1
            ? `one of ${list(allowed)}`
            : allowed.length === 1
              ? allowed[0]!
              : "an allowed registry (none is configured: compile the config with `nexus policy-config`)";
        say(
          `${w.what}: ${ref.where} image ${q(image)} is not from an allowed registry: use an image from ${choices}, or add its registry to imageRegistries in registries/security.yaml`,
        );
      }
    }
  }),
};

export const pinnedImageTags: ResourceValidationPolicy = {
  name: "pinned-image-tags",
  description: "Checks whether every container image is pinned to a version tag or digest, never untagged or latest.",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const ref of w.containers) {
      const image = asString(ref.container.image);
      if (image === undefined) {
        say(`${w.what}: ${ref.where} has no image: set image to a pinned reference such as ghcr.io/nexus-platform/app:1.2.3`);
        continue;
      }
      const { tag, digest } = imageTag(image);
      if (digest) continue;
      if (tag === undefined) say(`${w.what}: ${ref.where} image ${q(image)} has no tag: pin it to a version tag or a digest, e.g. ${image}:1.2.3`);
      else if (tag === "latest") say(`${w.what}: ${ref.where} image ${q(image)} uses the mutable tag latest: pin it to a version tag or a digest`);
    }
  }),
};

export const noDefaultServiceAccount: ResourceValidationPolicy = {
  name: "no-default-service-account",
  description: "Checks whether a workload runs under the namespace's default ServiceAccount (CIS 5.1.5).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    const sa = asString(w.pod.spec.serviceAccountName) ?? asString(w.pod.spec.serviceAccount);
    if (sa === undefined || sa === "" || sa === "default") {
      say(`${w.what}: the pod runs as the namespace's default ServiceAccount: set serviceAccountName to the workload's own ServiceAccount`);
    }
  }),
};

interface AutomountConfig extends BaseConfig {
  tokenAutomountServices?: string[];
}

export const tokenAutomountDeclared: ResourceValidationPolicy = {
  name: "token-automount-declared",
  description:
    "Checks whether a ServiceAccount or pod mounts a Kubernetes API token only where the registry declares automountServiceAccountToken: true (CIS 5.1.6).",
  configSchema: configSchema({
    tokenAutomountServices: stringList("Registry entries that declare automountServiceAccountToken: true"),
  }),
  validateResource: checked<AutomountConfig>([K8S.ServiceAccount, ...WORKLOAD_TYPES], (args, say, config) => {
    const declared = config.tokenAutomountServices ?? [];
    const names = subjectNames(args.name, args.props);
    if (names.some((n) => declared.includes(n))) return;
    const entry = labelsOf(args.props)[LABEL.name] ?? names[0] ?? args.name;
    const fix = `declare automountServiceAccountToken: true for ${q(entry)} in the registry if it calls the Kubernetes API (it then carries the ${ANNOTATION.tokenAutomount} annotation)`;
    if (args.type === K8S.ServiceAccount) {
      const automount = args.props.automountServiceAccountToken;
      if (automount !== false) {
        say(
          `${describe(args.type, args.name, args.props)} mounts its API token (automountServiceAccountToken is ${automount === true ? "true" : "unset, which means true"}): set automountServiceAccountToken: false, or ${fix}`,
        );
      }
      return;
    }
    const pod = podTemplate(args.type, args.props);
    if (pod?.spec.automountServiceAccountToken === true) {
      say(`${describe(args.type, args.name, args.props)}: the pod sets automountServiceAccountToken: true: set it to false, or ${fix}`);
    }
  }),
};

/** Name parts that mark an environment variable as holding a secret. */
const SECRET_WORDS = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS", "PRIVATEKEY", "ACCESSKEY", "SECRETKEY"];
/** Suffixes of variables that name a secret's location rather than hold it. */
const REFERENCE_SUFFIXES = ["FILE", "PATH", "DIR", "NAME", "REF", "ID", "URL_FILE"];
/** Values that are secrets whatever the variable is called. */
const SECRET_VALUES: readonly RegExp[] = [
  /^AKIA[0-9A-Z]{16}$/, // AWS access key id of a long-lived key
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^(ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}$/,
  /^xox[abprs]-[A-Za-z0-9-]{10,}$/,
  /^sk_live_[A-Za-z0-9]{10,}$/,
  /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/, // URL with a password
];

export function looksSecret(name: string, value: string): boolean {
  if (value.length === 0) return false;
  if (SECRET_VALUES.some((re) => re.test(value))) return true;
  const parts = name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  const last = parts[parts.length - 1] ?? "";
  if (REFERENCE_SUFFIXES.includes(last)) return false;
  const joined = parts.map((_, i) => parts.slice(i, i + 2).join(""));
  return parts.some((p) => SECRET_WORDS.includes(p)) || joined.some((p) => SECRET_WORDS.includes(p));
}

export const noLiteralSecretEnv: ResourceValidationPolicy = {
  name: "no-literal-secret-env",
  description:
    "Checks whether any container sets a secret as a literal environment variable value, or any ConfigMap (read as env with envFrom) holds one, instead of a Secret reference (CIS 5.4.1).",
  configSchema: configSchema(),
  validateResource: checked([...WORKLOAD_TYPES, K8S.ConfigMap], (args, say) => {
    if (args.type === K8S.ConfigMap) {
      const props = asObject(args.props);
      const name = asString(asObject(props.metadata).name) ?? args.name;
      for (const [key, value] of Object.entries(asObject(props.data))) {
        if (typeof value === "string" && looksSecret(key, value)) {
          say(
            `ConfigMap "${name}": key ${key} holds a value that looks like a secret: move it to the entry's secrets: in the registry (a Pulumi config secret), which becomes a Secret`,
          );
        }
      }
      return;
    }
    const w = workloadOf(args.type, args.name, args.props);
    if (!w) return;
    for (const ref of w.containers) {
      for (const e of asArray(ref.container.env)) {
        const env = asObject(e);
        const name = asString(env.name) ?? "";
        const value = asString(env.value);
        if (value !== undefined && looksSecret(name, value)) {
          say(
            `${w.what}: ${ref.where} sets env ${name} to a literal value that looks like a secret: reference a Secret with valueFrom.secretKeyRef instead (list it under secrets: in the registry; the value lives in Pulumi config secrets)`,
          );
        }
      }
    }
  }),
};

export const workloadPolicies: ResourceValidationPolicy[] = [
  noPrivilegedContainers,
  noHostNamespaces,
  noHostPorts,
  noHostPathVolumes,
  runAsNonRoot,
  noPrivilegeEscalation,
  dropAllCapabilities,
  seccompRuntimeDefault,
  readOnlyRootFilesystem,
  resourcesRequired,
  probesRequired,
  allowedImageRegistries,
  pinnedImageTags,
  noDefaultServiceAccount,
  tokenAutomountDeclared,
  noLiteralSecretEnv,
];
