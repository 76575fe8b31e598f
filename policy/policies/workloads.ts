/**
 * Kubernetes workloads: Pod Security Standards "restricted" and CIS 5.x, checked on the pod
 * template of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and bare Pods,
 * init containers included (and ephemeral containers, for the Pod Security checks).
 */
import type { ResourceValidation, ResourceValidationPolicy } from "@pulumi/policy";
import { secretFinding } from "../../contract/secrets";
import { configSchema, stringList, type BaseConfig } from "../lib/config";
import { subjectNames } from "../lib/exceptions";
import { ANNOTATION, K8S, LABEL, WORKLOAD_TYPES, describe, labelsOf, podTemplate, workloadOf, type ContainerRef, type Workload } from "../lib/kube";
import { checked, workloadCheck, type Say } from "../lib/policy";
import { asArray, asObject, asString, isObject, list, path, q, type Props } from "../lib/props";

const securityContext = (ref: ContainerRef) => asObject(ref.container.securityContext);
const podSecurityContext = (w: Workload) => asObject(w.pod.spec.securityContext);

/*
 * Pod Security Standards, as the PodSecurity admission of Kubernetes v1.35 enforces the
 * "restricted" level (baseline controls included). Each control is one policy below, except
 * where the restricted control replaces a baseline one (capabilities, seccomp, /proc mount), and
 * "Running as Non-root" and "Running as Non-root user", which run-as-non-root checks together.
 * A pod the API server would reject in a `pod-security.kubernetes.io/enforce: restricted`
 * namespace fails at least one of them, and a pod it admits fails none
 * (test/integration/podSecurityParity.test.ts holds the pack to that).
 */

/** The containers Pod Security judges: init, regular and ephemeral containers. */
const podSecurityContainers = (w: Workload): ContainerRef[] => [...w.containers, ...w.ephemeral];

/**
 * `spec.os.name: windows`. The restricted profile (v1.25+) exempts such pods from the
 * Linux-only controls, seccomp, capabilities and privilege escalation, whose fields the API
 * rejects on Windows pods anyway. Every other control still applies to them.
 */
const isWindows = (w: Workload) => asString(path(w.pod.spec, "os", "name")) === "windows";

/**
 * `hostUsers: false`: the pod runs in its own user namespace, where UID 0 is not root on the
 * node, so the standard (v1.35+) lifts runAsNonRoot and runAsUser for it; /proc stays masked.
 */
const inUserNamespace = (w: Workload) => w.pod.spec.hostUsers === false;

/** `the pod` or `container "api"`, for the message of a field the pod or a container sets. */
type Setter = { where: string; securityContext: Props };
const podAndContainers = (w: Workload): Setter[] => [
  { where: "the pod", securityContext: podSecurityContext(w) },
  ...podSecurityContainers(w).map((ref) => ({ where: ref.where, securityContext: securityContext(ref) })),
];

/** The finding when the condition holds, else none. */
const when = (condition: boolean, finding: string): string[] => (condition ? [finding] : []);

/**
 * Says each finding `judge` makes about a place (a container, or the pod) after the workload and
 * the place, so that every such message reads `Deployment "api": container "api" runs privileged: ...`.
 */
function sayEach<P extends { where: string }>(w: Workload, say: Say, places: readonly P[], judge: (place: P) => readonly string[]): void {
  for (const place of places) for (const finding of judge(place)) say(`${w.what}: ${place.where} ${finding}`);
}

/**
 * A workload check made only of findings about single places: `places` lists them (the containers
 * Pod Security judges, the pod and those containers, or the init and regular containers), and an
 * `exempt` workload is not judged at all (Windows pods for the Linux-only controls, batch pods for probes).
 */
function eachPlace<P extends { where: string }>(
  places: (w: Workload) => readonly P[],
  judge: (place: P) => readonly string[],
  { exempt = () => false }: { exempt?: (w: Workload) => boolean } = {},
): ResourceValidation {
  return workloadCheck((w, say) => {
    if (!exempt(w)) sayEach(w, say, places(w), judge);
  });
}

/** The init and regular containers, for the checks beyond Pod Security, which leave ephemeral containers alone. */
const ownContainers = (w: Workload) => w.containers;

export const noPrivilegedContainers: ResourceValidationPolicy = {
  name: "no-privileged-containers",
  description: "Checks whether any container of a workload runs privileged (PSS baseline, CIS 5.2.1).",
  configSchema: configSchema(),
  validateResource: eachPlace(podSecurityContainers, (ref) =>
    when(
      securityContext(ref).privileged === true,
      "runs privileged: remove securityContext.privileged or set it to false; a privileged container has every device and capability of the node",
    ),
  ),
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
  validateResource: eachPlace(podSecurityContainers, (ref) => {
    const ports = asArray(ref.container.ports)
      .map((p) => asObject(p).hostPort)
      .filter((p): p is number => typeof p === "number" && p !== 0);
    return when(ports.length > 0, `binds host port ${ports.join(", ")}: remove hostPort and reach the container through a Service`);
  }),
};

const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
const HOOKS = ["postStart", "preStop"] as const;
/** Handlers whose `host` sends the kubelet's request elsewhere than the pod (tcpSocket hooks are deprecated but still accepted). */
const HOST_HANDLERS = ["httpGet", "tcpSocket"] as const;

export const noHostProbesAndHooks: ResourceValidationPolicy = {
  name: "no-host-probes-and-hooks",
  description: "Checks whether any probe or lifecycle hook of a container sets a host other than the pod itself (PSS baseline, v1.34+).",
  configSchema: configSchema(),
  validateResource: eachPlace(podSecurityContainers, (ref) => {
    const handlers: [string, unknown][] = [
      ...PROBES.map((p): [string, unknown] => [p, ref.container[p]]),
      ...HOOKS.map((h): [string, unknown] => [`lifecycle.${h}`, path(ref.container, "lifecycle", h)]),
    ];
    const hosts = handlers.flatMap(([field, handler]) =>
      HOST_HANDLERS.flatMap((kind) => {
        const host = asString(path(handler, kind, "host"));
        return when(host !== undefined && host !== "", `${field}.${kind}.host ${q(host)}`);
      }),
    );
    return when(
      hosts.length > 0,
      `sets ${list(hosts)}: remove host so the kubelet probes the pod's own IP; a host lets the kubelet reach any address the node can`,
    );
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

/** Inline volume sources the restricted profile allows (v1.35 includes image volumes). */
const ALLOWED_VOLUME_TYPES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"];

export const restrictedVolumeTypes: ResourceValidationPolicy = {
  name: "restricted-volume-types",
  description:
    "Checks whether every volume of a workload is of a type the restricted profile allows: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret (PSS restricted).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    for (const v of asArray(w.pod.spec.volumes)) {
      const volume = asObject(v);
      if (ALLOWED_VOLUME_TYPES.some((t) => isObject(volume[t]))) continue;
      // hostPath is no-host-path-volumes' finding; a volume without a source becomes an emptyDir.
      if (isObject(volume.hostPath)) continue;
      const types = Object.keys(volume).filter((k) => k !== "name" && volume[k] !== undefined && volume[k] !== null);
      if (types.length === 0) continue;
      say(
        `${w.what}: volume ${q(asString(volume.name) ?? "?")} is of type ${list(types)}, which the restricted Pod Security profile does not allow: mount the storage through a PersistentVolumeClaim or a CSI volume instead (allowed types: ${list(ALLOWED_VOLUME_TYPES)})`,
      );
    }
  }),
};

export const noWindowsHostProcess: ResourceValidationPolicy = {
  name: "no-windows-host-process",
  description: "Checks whether a workload runs Windows HostProcess containers (securityContext.windowsOptions.hostProcess) (PSS baseline).",
  configSchema: configSchema(),
  validateResource: eachPlace(podAndContainers, (s) =>
    when(
      path(s.securityContext, "windowsOptions", "hostProcess") === true,
      "sets securityContext.windowsOptions.hostProcess: true: remove it; a HostProcess container runs with the privileges of the Windows node",
    ),
  ),
};

export const defaultProcMount: ResourceValidationPolicy = {
  name: "default-proc-mount",
  description: "Checks whether every container keeps the default, masked /proc (securityContext.procMount unset or Default) (PSS baseline and restricted).",
  configSchema: configSchema(),
  validateResource: eachPlace(podSecurityContainers, (ref) => {
    const procMount = securityContext(ref).procMount;
    return when(
      procMount !== undefined && procMount !== null && procMount !== "Default",
      `sets securityContext.procMount: ${String(procMount)}: remove it (or set Default) so /proc keeps the runtime's masked paths; the restricted profile allows no other value, even with hostUsers: false`,
    );
  }),
};

/** The sysctls Pod Security v1.32+ counts as safe: namespaced and isolated from other pods. */
const SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ping_group_range",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.tcp_wmem",
];

export const safeSysctlsOnly: ResourceValidationPolicy = {
  name: "safe-sysctls-only",
  description: "Checks whether a workload sets only the sysctls Pod Security counts as safe (PSS baseline).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    const unsafe = asArray(podSecurityContext(w).sysctls)
      .map((s) => asString(asObject(s).name) ?? "?")
      .filter((name) => !SAFE_SYSCTLS.includes(name));
    if (unsafe.length > 0) {
      say(
        `${w.what}: the pod sets the sysctl${unsafe.length > 1 ? "s" : ""} ${list(unsafe)}: remove ${unsafe.length > 1 ? "them" : "it"} from securityContext.sysctls (a node-wide setting belongs to the node's configuration); only ${list(SAFE_SYSCTLS)} are allowed`,
      );
    }
  }),
};

/** SELinux types Pod Security v1.31+ allows; unset (or empty) leaves the runtime's default. */
const ALLOWED_SELINUX_TYPES = ["container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

export const selinuxAllowedOptions: ResourceValidationPolicy = {
  name: "selinux-allowed-options",
  description: "Checks whether the pod and every container keep to the allowed SELinux types and set no SELinux user or role (PSS baseline).",
  configSchema: configSchema(),
  validateResource: eachPlace(podAndContainers, (s) => {
    const options = asObject(s.securityContext.seLinuxOptions);
    const type = asString(options.type) ?? "";
    const bad = [
      ...when(type !== "" && !ALLOWED_SELINUX_TYPES.includes(type), `type ${q(type)}`),
      ...(["user", "role"] as const).flatMap((k) => {
        const value = asString(options[k]) ?? "";
        return when(value !== "", `${k} ${q(value)}`);
      }),
    ];
    return when(
      bad.length > 0,
      `sets securityContext.seLinuxOptions ${list(bad)}: set no user or role, and leave type unset or use one of ${ALLOWED_SELINUX_TYPES.join(", ")}`,
    );
  }),
};

const ALLOWED_APPARMOR = ["RuntimeDefault", "Localhost"];
/** The deprecated per-container AppArmor annotation, still honoured and judged by Pod Security. */
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

export const apparmorAllowedProfiles: ResourceValidationPolicy = {
  name: "apparmor-allowed-profiles",
  description:
    "Checks whether the pod and every container leave AppArmor at the runtime's default or a Localhost profile, in securityContext.appArmorProfile and the deprecated annotations (PSS baseline).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    sayEach(w, say, podAndContainers(w), (s) => {
      const profile = s.securityContext.appArmorProfile;
      const type = isObject(profile) ? (asString(profile.type) ?? "") : undefined;
      return when(
        type !== undefined && !ALLOWED_APPARMOR.includes(type),
        `sets AppArmor profile ${type === "" ? "without a type" : type}: set securityContext.appArmorProfile.type to RuntimeDefault (or Localhost with a profile loaded on the nodes)`,
      );
    });
    const annotations = asObject(w.pod.metadata.annotations);
    for (const key of Object.keys(annotations)) {
      if (!key.startsWith(APPARMOR_ANNOTATION)) continue;
      const value = asString(annotations[key]) ?? "";
      if (value !== "" && value !== "runtime/default" && !value.startsWith("localhost/")) {
        say(
          `${w.what}: the pod annotation ${key} is ${q(value)}: remove it and set securityContext.appArmorProfile.type: RuntimeDefault on the container instead (the annotation is deprecated)`,
        );
      }
    }
  }),
};

export const runAsNonRoot: ResourceValidationPolicy = {
  name: "run-as-non-root",
  description:
    "Checks whether every container must run as a non-root user and none as UID 0, unless the pod has its own user namespace (hostUsers: false) (PSS restricted, CIS 5.2.6).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    if (inUserNamespace(w)) return;
    const pod = podSecurityContext(w);
    if (pod.runAsUser === 0) {
      say(`${w.what}: the pod runs as UID 0 (root): set securityContext.runAsUser to a non-zero UID (10001 unless the image declares one)`);
    }
    if (pod.runAsNonRoot === false) {
      say(`${w.what}: the pod sets securityContext.runAsNonRoot: false: set it to true`);
    }
    sayEach(w, say, podSecurityContainers(w), (ref) => {
      const sc = securityContext(ref);
      if (sc.runAsUser === 0) return ["runs as UID 0 (root): set runAsUser to a non-zero UID (10001 unless the image declares one)"];
      if (sc.runAsNonRoot === false) return ["sets securityContext.runAsNonRoot: false: set it to true"];
      // A pod-level false is reported once above, not again for every container inheriting it.
      return when(
        typeof sc.runAsNonRoot !== "boolean" && typeof pod.runAsNonRoot !== "boolean",
        "may run as root: set securityContext.runAsNonRoot: true on the pod or the container",
      );
    });
  }),
};

export const noPrivilegeEscalation: ResourceValidationPolicy = {
  name: "no-privilege-escalation",
  description: "Checks whether every container sets allowPrivilegeEscalation: false; Windows pods are exempt (PSS restricted, CIS 5.2.5).",
  configSchema: configSchema(),
  validateResource: eachPlace(
    podSecurityContainers,
    (ref) =>
      when(
        securityContext(ref).allowPrivilegeEscalation !== false,
        "does not forbid privilege escalation: set securityContext.allowPrivilegeEscalation: false",
      ),
    { exempt: isWindows },
  ),
};

/** The one capability the restricted profile lets a container add back. */
const ALLOWED_ADD = ["NET_BIND_SERVICE"];

export const dropAllCapabilities: ResourceValidationPolicy = {
  name: "drop-all-capabilities",
  description:
    "Checks whether every container drops ALL capabilities and adds back none but NET_BIND_SERVICE; Windows pods are exempt (PSS baseline and restricted, CIS 5.2.7-5.2.9).",
  configSchema: configSchema(),
  validateResource: eachPlace(
    podSecurityContainers,
    (ref) => {
      const caps = asObject(securityContext(ref).capabilities);
      const drop = asArray(caps.drop).filter((c): c is string => typeof c === "string");
      const added = asArray(caps.add).filter((c): c is string => typeof c === "string" && !ALLOWED_ADD.includes(c));
      return [
        ...when(!drop.includes("ALL"), 'does not drop all capabilities: set securityContext.capabilities.drop: ["ALL"]'),
        ...when(
          added.length > 0,
          `adds capabilities ${list(added)}: remove them from securityContext.capabilities.add (only NET_BIND_SERVICE may be added back)`,
        ),
      ];
    },
    { exempt: isWindows },
  ),
};

const ALLOWED_SECCOMP = ["RuntimeDefault", "Localhost"];
/** The seccomp profile type a security context sets: undefined when it sets none. */
const seccompType = (sc: Props) => (isObject(sc.seccompProfile) ? (asString(sc.seccompProfile.type) ?? "") : undefined);

export const seccompRuntimeDefault: ResourceValidationPolicy = {
  name: "seccomp-runtime-default",
  description:
    "Checks whether every container runs under the RuntimeDefault (or a Localhost) seccomp profile and the pod sets no other; Windows pods are exempt (PSS baseline and restricted, CIS 5.7.2).",
  configSchema: configSchema(),
  validateResource: workloadCheck((w, say) => {
    if (isWindows(w)) return;
    const podProfile = seccompType(podSecurityContext(w));
    const shown = (t: string) => (t === "" ? "without a type" : t);
    // A bad pod-level profile is a violation even when every container overrides it.
    if (podProfile !== undefined && !ALLOWED_SECCOMP.includes(podProfile)) {
      say(`${w.what}: the pod uses seccomp profile ${shown(podProfile)}: set securityContext.seccompProfile.type to RuntimeDefault`);
    }
    sayEach(w, say, podSecurityContainers(w), (ref) => {
      const profile = seccompType(securityContext(ref));
      if (profile === undefined) {
        return when(podProfile === undefined, "has no seccomp profile: set securityContext.seccompProfile.type: RuntimeDefault on the pod");
      }
      return when(!ALLOWED_SECCOMP.includes(profile), `uses seccomp profile ${shown(profile)}: set securityContext.seccompProfile.type to RuntimeDefault`);
    });
  }),
};

export const readOnlyRootFilesystem: ResourceValidationPolicy = {
  name: "read-only-root-filesystem",
  description: "Checks whether every container mounts its root filesystem read-only (CIS 5.2 hardening).",
  configSchema: configSchema(),
  validateResource: eachPlace(ownContainers, (ref) =>
    when(
      securityContext(ref).readOnlyRootFilesystem !== true,
      "has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (e.g. /tmp)",
    ),
  ),
};

export const resourcesRequired: ResourceValidationPolicy = {
  name: "resources-required",
  description: "Checks whether every container sets CPU and memory requests and limits.",
  configSchema: configSchema(),
  validateResource: eachPlace(ownContainers, (ref) => {
    const r = asObject(ref.container.resources);
    const missing = (["requests", "limits"] as const).flatMap((kind) =>
      (["cpu", "memory"] as const).filter((res) => path(r, kind, res) === undefined || path(r, kind, res) === null).map((res) => `${kind}.${res}`),
    );
    return when(missing.length > 0, `has no ${list(missing)}: set resources.requests and resources.limits for cpu and memory (the registry entry's resources)`);
  }),
};

export const probesRequired: ResourceValidationPolicy = {
  name: "probes-required",
  description: "Checks whether every long-running container has a liveness and a readiness probe (Jobs and CronJobs are exempt).",
  configSchema: configSchema(),
  validateResource: eachPlace(
    ownContainers,
    (ref) => {
      // Init containers run to completion before the others start: they take no probes.
      if (ref.init) return [];
      const missing = (["livenessProbe", "readinessProbe"] as const).filter((p) => !isObject(ref.container[p]));
      return when(missing.length > 0, `has no ${list(missing)}: declare probes.liveness and probes.readiness for it in the registry`);
    },
    { exempt: (w) => w.batch },
  ),
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
    const choices =
      allowed.length > 1
        ? `one of ${list(allowed)}`
        : allowed.length === 1
          ? allowed[0]!
          : "an allowed registry (none is configured: compile the config with `nexus policy-config`)";
    sayEach(w, say, w.containers, (ref) => {
      const image = asString(ref.container.image);
      if (image === undefined) return [];
      const repo = imageRepository(image);
      return when(
        !allowed.some((r) => repo === r || repo.startsWith(`${r}/`)),
        `image ${q(image)} is not from an allowed registry: use an image from ${choices}, or add its registry to imageRegistries in registries/security.yaml`,
      );
    });
  }),
};

export const pinnedImageTags: ResourceValidationPolicy = {
  name: "pinned-image-tags",
  description: "Checks whether every container image is pinned to a version tag or digest, never untagged or latest.",
  configSchema: configSchema(),
  validateResource: eachPlace(ownContainers, (ref) => {
    const image = asString(ref.container.image);
    if (image === undefined) return ["has no image: set image to a pinned reference such as ghcr.io/nexus-platform/app:1.2.3"];
    const { tag, digest } = imageTag(image);
    if (digest) return [];
    if (tag === undefined) return [`image ${q(image)} has no tag: pin it to a version tag or a digest, e.g. ${image}:1.2.3`];
    return when(tag === "latest", `image ${q(image)} uses the mutable tag latest: pin it to a version tag or a digest`);
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
    "Checks whether a ServiceAccount or pod mounts a Kubernetes API token only where the registry declares it: automountServiceAccountToken: true on a service, clusterAccess on a task (CIS 5.1.6).",
  configSchema: configSchema({
    tokenAutomountServices: stringList(
      "Registry entries that call the Kubernetes API: services with automountServiceAccountToken: true, tasks with clusterAccess",
    ),
  }),
  validateResource: checked<AutomountConfig>([K8S.ServiceAccount, ...WORKLOAD_TYPES], (args, say, config) => {
    const declared = config.tokenAutomountServices ?? [];
    const names = subjectNames(args.name, args.props);
    if (names.some((n) => declared.includes(n))) return;
    const entry = labelsOf(args.props)[LABEL.name] ?? names[0] ?? args.name;
    const fix = `declare automountServiceAccountToken: true (a service) or clusterAccess (a task) for ${q(entry)} in the registry if it calls the Kubernetes API (it then carries the ${ANNOTATION.tokenAutomount} annotation)`;
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
        if (typeof value === "string" && secretFinding(key, value) !== undefined) {
          say(
            `ConfigMap "${name}": key ${key} holds a value that looks like a secret: move it to the entry's secrets: in the registry (a Pulumi config secret), which becomes a Secret`,
          );
        }
      }
      return;
    }
    const w = workloadOf(args.type, args.name, args.props);
    if (!w) return;
    sayEach(w, say, w.containers, (ref) =>
      asArray(ref.container.env).flatMap((e) => {
        const env = asObject(e);
        const name = asString(env.name) ?? "";
        const value = asString(env.value);
        return when(
          value !== undefined && secretFinding(name, value) !== undefined,
          `sets env ${name} to a literal value that looks like a secret: reference a Secret with valueFrom.secretKeyRef instead (list it under secrets: in the registry; the value lives in Pulumi config secrets)`,
        );
      }),
    );
  }),
};

/** The policies that together enforce Pod Security "restricted" (baseline included), as the admission of v1.35 does. */
export const podSecurityPolicies: ResourceValidationPolicy[] = [
  noPrivilegedContainers,
  noHostNamespaces,
  noHostPorts,
  noHostPathVolumes,
  runAsNonRoot,
  noPrivilegeEscalation,
  dropAllCapabilities,
  seccompRuntimeDefault,
  noHostProbesAndHooks,
  restrictedVolumeTypes,
  noWindowsHostProcess,
  defaultProcMount,
  safeSysctlsOnly,
  selinuxAllowedOptions,
  apparmorAllowedProfiles,
];

/** Pod Security first, then this platform's own rules and the CIS hardening beyond the standard. */
export const workloadPolicies: ResourceValidationPolicy[] = [
  ...podSecurityPolicies,
  readOnlyRootFilesystem,
  resourcesRequired,
  probesRequired,
  allowedImageRegistries,
  pinnedImageTags,
  noDefaultServiceAccount,
  tokenAutomountDeclared,
  noLiteralSecretEnv,
];
