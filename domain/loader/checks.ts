import {
  PLATFORM_ENV,
  imageAllowed,
  parseQuantity,
  POLICY_CATALOG,
  type AutomationRegistry,
  type MonitoringRegistry,
  type OrchestrationRegistry,
  type PipelinesRegistry,
  type RegistryKey,
  type Resources,
  type SecurityRegistry,
  TMP_PATH,
} from "../schema";
import { serviceNamespaces, taskNamespaceOf } from "../model/workloads";
import { checkAlertDelivery } from "./alerting";
import { checkAccess } from "./access";
import { suggest } from "./issues";
import type { Locator } from "./locator";
import type { PathSegment } from "./problems";
import { quotaHeadroom } from "./quota";
import { registriesIn } from "./resolve";

export interface Registries {
  orchestration: OrchestrationRegistry;
  automation: AutomationRegistry;
  pipelines: PipelinesRegistry;
  monitoring: MonitoringRegistry;
  security: SecurityRegistry;
}

const FILE: Record<RegistryKey, string> = {
  orchestration: "orchestration.yaml",
  automation: "automation.yaml",
  pipelines: "pipelines.yaml",
  monitoring: "monitoring.yaml",
  security: "security.yaml",
};

/** Checks that need more than one entry or more than one file, for environment `env`. Every finding is located. */
export function crossCheck(r: Registries, env: string, at: Locator): void {
  uniqueNames(r, at);
  objectNames(r, at);
  references(r, at);
  dependencyCycles(r.orchestration, at);
  resources(r, at);
  containers(r, at);
  images(r, env, at);
  tasks(r, at);
  backups(r, at);
  pipelines(r.pipelines, at);
  quotaHeadroom(r, at);
  checkAlertDelivery(r, at);
  checkAccess(r, at);
}

function uniqueNames(r: Registries, at: Locator): void {
  const lists: [RegistryKey, string, readonly { name: string }[]][] = [
    ["orchestration", "teams", r.orchestration.teams],
    ["orchestration", "namespaces", r.orchestration.namespaces],
    ["orchestration", "services", r.orchestration.services],
    ["automation", "tasks", r.automation.tasks],
    ["pipelines", "environments", r.pipelines.environments],
    ["pipelines", "pipelines", r.pipelines.pipelines],
    ["monitoring", "channels", r.monitoring.channels],
    ["monitoring", "alerts", r.monitoring.alerts],
    ["monitoring", "slos", r.monitoring.slos],
    ["monitoring", "dashboards", r.monitoring.dashboards],
    ["security", "rbac", r.security.rbac],
    ["security", "network.egress", r.security.network.egress],
    ["security", "network.awsEgress", r.security.network.awsEgress],
    ["security", "policies", r.security.policies.map((p) => ({ name: p.id }))],
  ];
  for (const [key, section, items] of lists) {
    const base: PathSegment[] = section.split(".");
    const field = section === "policies" ? "id" : "name";
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      const earlier = first.get(item.name);
      if (earlier === undefined) {
        first.set(item.name, i);
        return;
      }
      at.report(
        key,
        [...base, i, field],
        `duplicate ${field} "${item.name}": ${section}[${earlier}] already uses it; ${field}s must be unique in ${FILE[key]}, rename one`,
        "duplicate-name",
      );
    });
  }
}

/**
 * Services and in-cluster tasks both become a workload, a ServiceAccount and a NetworkPolicy named
 * after the entry in its namespace. Two entries with one name in one namespace would share that
 * ServiceAccount, and with it the other's cloud role and network paths: names are unique across
 * both lists per namespace, not only within each list.
 */
function objectNames(r: Registries, at: Locator): void {
  const taken = new Map<string, string>();
  r.orchestration.services.forEach((s, i) => taken.set(`${s.namespace}/${s.name}`, `service "${s.name}" (orchestration.yaml services[${i}])`));
  // One lookup per task, not a scan of the services.
  const namespaces = serviceNamespaces(r.orchestration.services);
  r.automation.tasks.forEach((t, i) => {
    if (t.runner === "local-command") return;
    const namespace = taskNamespaceOf(t, namespaces);
    if (namespace === undefined) return;
    const owner = taken.get(`${namespace}/${t.name}`);
    if (owner !== undefined) {
      at.report(
        "automation",
        ["tasks", i, "name"],
        `task "${t.name}" runs in namespace "${namespace}", where ${owner} already names its ServiceAccount, workload and NetworkPolicy "${t.name}": rename one`,
        "duplicate-object",
      );
    }
  });
}

function refCheck(at: Locator, key: RegistryKey, path: PathSegment[], name: string | undefined, known: ReadonlySet<string>, what: string, where: string): void {
  if (name === undefined || known.has(name)) return;
  const guess = suggest(name, [...known]);
  at.report(
    key,
    path,
    `${what} "${name}" does not exist: ${guess ? `did you mean "${guess}"? ` : ""}use one declared in ${where}${known.size <= 12 ? ` (${[...known].join(", ")})` : ""}`,
    "unknown-reference",
  );
}

function references(r: Registries, at: Locator): void {
  const names = (items: readonly { name: string }[]) => new Set(items.map((i) => i.name));
  const teams = names(r.orchestration.teams);
  const namespaces = names(r.orchestration.namespaces);
  const services = names(r.orchestration.services);
  const tasks = names(r.automation.tasks);
  const channels = names(r.monitoring.channels);
  const environments = names(r.pipelines.environments);
  const O = "orchestration.yaml";

  r.orchestration.teams.forEach((t, i) => refCheck(at, "orchestration", ["teams", i, "channel"], t.channel, channels, "channel", "monitoring.yaml channels"));
  r.orchestration.services.forEach((s, i) => {
    refCheck(at, "orchestration", ["services", i, "owner"], s.owner, teams, "team", `${O} teams`);
    refCheck(at, "orchestration", ["services", i, "namespace"], s.namespace, namespaces, "namespace", `${O} namespaces`);
    s.dependsOn.forEach((d, j) => {
      if (d === s.name) {
        at.report("orchestration", ["services", i, "dependsOn", j], `service "${s.name}" depends on itself: remove this entry`, "dependency-cycle");
      } else {
        refCheck(at, "orchestration", ["services", i, "dependsOn", j], d, services, "service", `${O} services`);
      }
    });
  });
  r.automation.tasks.forEach((t, i) => {
    refCheck(at, "automation", ["tasks", i, "owner"], t.owner, teams, "team", `${O} teams`);
    refCheck(at, "automation", ["tasks", i, "target"], t.target, services, "service", `${O} services`);
    refCheck(at, "automation", ["tasks", i, "namespace"], t.namespace, namespaces, "namespace", `${O} namespaces`);
    t.dependsOn.forEach((d, j) => refCheck(at, "automation", ["tasks", i, "dependsOn", j], d, services, "service", `${O} services`));
    if (t.runner !== "local-command" && t.namespace === undefined && t.target === undefined) {
      at.report(
        "automation",
        ["tasks", i],
        `a ${t.runner} task needs a namespace to run in: add namespace, or a target whose namespace it uses`,
        "missing-field",
      );
    }
  });
  r.orchestration.namespaces.forEach((n, i) => refCheck(at, "orchestration", ["namespaces", i, "owner"], n.owner, teams, "team", `${O} teams`));
  const m = r.monitoring;
  refCheck(at, "monitoring", ["stack", "owner"], m.stack.owner, teams, "team", `${O} teams`);
  refCheck(at, "monitoring", ["stack", "namespace"], m.stack.namespace, namespaces, "namespace", `${O} namespaces`);
  for (const severity of ["critical", "warning", "info"] as const) {
    m.routing[severity].forEach((c, j) => refCheck(at, "monitoring", ["routing", severity, j], c, channels, "channel", "monitoring.yaml channels"));
  }
  m.alerts.forEach((a, i) => {
    refCheck(at, "monitoring", ["alerts", i, "service"], a.service, services, "service", `${O} services`);
    a.channels?.forEach((c, j) => refCheck(at, "monitoring", ["alerts", i, "channels", j], c, channels, "channel", "monitoring.yaml channels"));
  });
  m.slos.forEach((s, i) => {
    refCheck(at, "monitoring", ["slos", i, "service"], s.service, services, "service", `${O} services`);
    s.channels?.forEach((c, j) => refCheck(at, "monitoring", ["slos", i, "channels", j], c, channels, "channel", "monitoring.yaml channels"));
    for (const q of ["errorQuery", "totalQuery"] as const) {
      if (!s.sli[q].includes("{{window}}")) {
        at.report(
          "monitoring",
          ["slos", i, "sli", q],
          `the query has no [{{window}}] range placeholder: write the range as [{{window}}] so burn-rate alerts can use several windows`,
          "slo-query",
        );
      }
    }
  });
  m.dashboards.forEach((d, i) =>
    d.services.forEach((s, j) => refCheck(at, "monitoring", ["dashboards", i, "services", j], s, services, "service", `${O} services`)),
  );
  const sec = r.security;
  sec.rbac.forEach((b, i) => {
    refCheck(at, "security", ["rbac", i, "owner"], b.owner, teams, "team", `${O} teams`);
    b.namespaces.forEach((n, j) => refCheck(at, "security", ["rbac", i, "namespaces", j], n, namespaces, "namespace", `${O} namespaces`));
  });
  sec.network.egress.forEach((e, i) =>
    e.namespaces.forEach((n, j) => refCheck(at, "security", ["network", "egress", i, "namespaces", j], n, namespaces, "namespace", `${O} namespaces`)),
  );
  const policyIds = new Set(Object.keys(POLICY_CATALOG));
  sec.policies.forEach((p, i) => refCheck(at, "security", ["policies", i, "id"], p.id, policyIds, "policy", "the policy catalog (domain/schema/policies.ts)"));
  sec.exceptions.forEach((e, i) => {
    refCheck(at, "security", ["exceptions", i, "policy"], e.policy, policyIds, "policy", "the policy catalog (domain/schema/policies.ts)");
    refCheck(at, "security", ["exceptions", i, "owner"], e.owner, teams, "team", `${O} teams`);
    e.appliesTo.forEach((env, k) =>
      refCheck(at, "security", ["exceptions", i, "appliesTo", k], env, environments, "environment", "pipelines.yaml environments"),
    );
  });
  sec.imageRegistries.forEach((r, i) => {
    if (typeof r === "string") return;
    r.environments.forEach((env, k) =>
      refCheck(at, "security", ["imageRegistries", i, "environments", k], env, environments, "environment", "pipelines.yaml environments"),
    );
  });
  refCheck(at, "security", ["audit", "task"], sec.audit.task, tasks, "task", "automation.yaml tasks");
  const auditTask = r.automation.tasks.find((t) => t.name === sec.audit.task);
  if (auditTask && auditTask.kind !== "security-audit") {
    at.report(
      "security",
      ["audit", "task"],
      `task "${auditTask.name}" has kind "${auditTask.kind}": point audit.task at a task of kind security-audit`,
      "wrong-task-kind",
    );
  }
}

function dependencyCycles(o: OrchestrationRegistry, at: Locator): void {
  const index = new Map(o.services.map((s, i) => [s.name, i]));
  const state = new Map<string, "visiting" | "done">();
  const reported = new Set<string>();
  for (const root of o.services) {
    if (state.has(root.name)) continue;
    // Explicit stack instead of recursion: a long dependsOn chain must not overflow the call stack.
    const path: string[] = [root.name];
    const next: number[] = [0];
    state.set(root.name, "visiting");
    while (path.length > 0) {
      const name = path[path.length - 1]!;
      const i = index.get(name)!;
      const deps = o.services[i]!.dependsOn;
      const k = next[next.length - 1]!;
      if (k >= deps.length) {
        state.set(name, "done");
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = k + 1;
      const dep = deps[k]!;
      if (!index.has(dep) || dep === name) continue;
      if (state.get(dep) === "visiting") {
        const cycle = [...path.slice(path.indexOf(dep)), dep];
        const key = [...cycle.slice(0, -1)].sort().join(",");
        if (!reported.has(key)) {
          reported.add(key);
          at.report(
            "orchestration",
            ["services", i, "dependsOn", k],
            `dependency cycle: ${cycle.join(" -> ")}: remove one of these dependsOn entries`,
            "dependency-cycle",
          );
        }
      } else if (state.get(dep) !== "done") {
        state.set(dep, "visiting");
        path.push(dep);
        next.push(0);
      }
    }
  }
}

function checkResources(at: Locator, key: RegistryKey, path: PathSegment[], res: Resources | undefined): void {
  if (!res) return;
  for (const kind of ["cpu", "memory"] as const) {
    const request = parseQuantity(res.requests[kind]);
    const limit = parseQuantity(res.limits[kind]);
    if (request !== undefined && limit !== undefined && request > limit) {
      at.report(
        key,
        [...path, "requests", kind],
        `request ${res.requests[kind]} exceeds limit ${res.limits[kind]}: lower the request or raise the limit`,
        "requests-exceed-limits",
      );
    }
  }
}

function resources(r: Registries, at: Locator): void {
  r.orchestration.services.forEach((s, i) => checkResources(at, "orchestration", ["services", i, "resources"], s.resources));
  r.automation.tasks.forEach((t, i) => checkResources(at, "automation", ["tasks", i, "resources"], t.resources));
  for (const c of ["prometheus", "alertmanager", "grafana", "kubeStateMetrics"] as const) {
    checkResources(at, "monitoring", ["stack", c, "resources"], r.monitoring.stack[c].resources);
  }
  const promStorage = r.monitoring.stack.prometheus.storage;
  if (promStorage && parseQuantity(promStorage.size) === undefined) {
    at.report("monitoring", ["stack", "prometheus", "storage", "size"], `"${promStorage.size}" is not a Kubernetes quantity: write e.g. "50Gi"`, "quantity");
  }
  const prom = r.monitoring.stack.prometheus;
  if (promStorage && prom.replicas > 1 && r.monitoring.stack.mode === "standalone") {
    at.report(
      "monitoring",
      ["stack", "prometheus", "replicas"],
      `Prometheus with storage is one pod on one claim (${prom.replicas} replicas would share one database): set replicas: 1, or run it in operator mode`,
      "replicas",
    );
  }
  r.orchestration.services.forEach((s, i) => {
    if (s.storage && parseQuantity(s.storage.size) === undefined) {
      at.report("orchestration", ["services", i, "storage", "size"], `"${s.storage.size}" is not a Kubernetes quantity: write e.g. "10Gi"`, "quantity");
    }
    if (s.autoscaling && s.replicas > s.autoscaling.maxReplicas) {
      at.report(
        "orchestration",
        ["services", i, "replicas"],
        `replicas ${s.replicas} is above autoscaling.maxReplicas ${s.autoscaling.maxReplicas}: raise maxReplicas or lower replicas`,
        "replicas",
      );
    }
    for (const probe of ["liveness", "readiness"] as const) {
      const p = s.probes[probe];
      if (p.type === "http" && !p.path) {
        at.report("orchestration", ["services", i, "probes", probe], `an http probe needs a path: add path, e.g. "/healthz"`, "probe");
      }
      if (p.type === "exec" && !p.command) {
        at.report("orchestration", ["services", i, "probes", probe], `an exec probe needs a command: add command`, "probe");
      }
    }
  });
  r.orchestration.namespaces.forEach((n, i) => {
    for (const q of ["cpu", "memory"] as const) {
      if (parseQuantity(n.quota[q]) === undefined) {
        at.report("orchestration", ["namespaces", i, "quota", q], `"${n.quota[q]}" is not a Kubernetes quantity: write e.g. "8" or "16Gi"`, "quantity");
      }
    }
  });
}

/** Where `path` stands to `other`: the same directory, inside it, holding it, or apart. */
function nesting(path: string, other: string): "same" | "inside" | "holds" | undefined {
  if (path === other) return "same";
  if (path.startsWith(`${other}/`)) return "inside";
  if (other.startsWith(`${path}/`)) return "holds";
  return undefined;
}

/** A directory a service container has writable: /tmp, its storage, or an earlier writable path (`field`). */
interface Mount {
  path: string;
  /** How a message names it, e.g. "the storage mountPath /data". */
  name: string;
  /** The registry field of an earlier writable path, e.g. "writablePaths[0]". */
  field?: string;
}

/** Why writable path `path` may not be mounted beside `mount`, or undefined when it may. */
function overlap(path: string, mount: Mount): string | undefined {
  switch (nesting(path, mount.path)) {
    case "holds":
      return `"${path}" holds ${mount.name}: mounts may not overlap; name the directories beside it that the process writes`;
    case "inside":
      return `"${path}" is inside ${mount.name}, writable already: remove it`;
    case "same":
      return mount.field ? `"${path}" is listed twice (first as ${mount.field}): remove one` : `"${path}" is ${mount.name}, writable already: remove it`;
    default:
      return undefined;
  }
}

/**
 * What a service container mounts and reads besides its image: each writable path is a mount
 * point of its own, apart from /tmp, the storage and the other writable paths (a directory
 * inside a writable one is writable already); the environment variable the platform sets is
 * not the registry's to set.
 */
function containers(r: Registries, at: Locator): void {
  const reserved = (name: string) => `${name} is set by the platform to ${PLATFORM_ENV[name]}: rename this variable`;
  r.orchestration.services.forEach((s, i) => {
    const mounts: Mount[] = [{ path: TMP_PATH, name: `the ${TMP_PATH} of every container` }];
    if (s.storage) mounts.push({ path: s.storage.mountPath, name: `the storage mountPath ${s.storage.mountPath}` });
    s.writablePaths.forEach((p, j) => {
      const problem = mounts.map((m) => overlap(p, m)).find((m) => m !== undefined);
      if (problem) at.report("orchestration", ["services", i, "writablePaths", j], problem, "writable-path");
      mounts.push({ path: p, name: `writablePaths[${j}] ${p}`, field: `writablePaths[${j}]` });
    });
    for (const name of Object.keys(PLATFORM_ENV)) {
      if (name in s.env) at.report("orchestration", ["services", i, "env", name], reserved(name), "reserved-env", true);
    }
    s.secrets.forEach((ref, j) => {
      if (ref.env in PLATFORM_ENV) at.report("orchestration", ["services", i, "secrets", j, "env"], reserved(ref.env), "reserved-env");
    });
  });
}

function images(r: Registries, env: string, at: Locator): void {
  const entries = r.security.imageRegistries;
  const allowed = registriesIn(entries, env);
  const choices = allowed.length > 0 ? `one of ${allowed.join(", ")}` : `an allowed registry (none is allowed in ${env})`;
  const check = (key: RegistryKey, path: PathSegment[], image: string | undefined) => {
    if (image === undefined || imageAllowed(image, allowed)) return;
    // A registry allowed in other environments only: the image belongs in their override.
    const scoped = entries.find((e) => typeof e !== "string" && imageAllowed(image, [e.registry]));
    at.report(
      key,
      path,
      scoped && typeof scoped !== "string"
        ? `image "${image}" is from ${scoped.registry}, which security.yaml imageRegistries allows only in ${scoped.environments.join(", ")}, not in ${env}: use ${choices} here, and this image only in an environments override for ${scoped.environments.join(", ")}`
        : `image "${image}" is not from an allowed registry: use ${choices} or add its registry to security.yaml imageRegistries`,
      "image-registry",
    );
  };
  r.orchestration.services.forEach((s, i) => check("orchestration", ["services", i, "image"], s.image));
  r.automation.tasks.forEach((t, i) => check("automation", ["tasks", i, "image"], t.image));
  for (const c of ["prometheus", "alertmanager", "grafana", "kubeStateMetrics"] as const) {
    check("monitoring", ["stack", c, "image"], r.monitoring.stack[c].image);
  }
}

function tasks(r: Registries, at: Locator): void {
  r.automation.tasks.forEach((t, i) => {
    const path = ["tasks", i];
    if (t.runner === "k8s-cronjob" && !t.schedule) {
      at.report("automation", path, `a k8s-cronjob task needs a schedule: add schedule, e.g. "0 2 * * *"`, "missing-field");
    }
    if (t.runner !== "local-command" && !t.image) {
      at.report("automation", path, `a ${t.runner} task runs in a container: add image`, "missing-field");
    }
    if (t.runner === "local-command" && t.schedule) {
      at.report(
        "automation",
        [...path, "schedule"],
        `a local-command task runs at a deploy that changes its entry, not on a schedule: remove schedule or use runner k8s-cronjob`,
        "schedule",
      );
    }
    if (t.kind === "backup" && !t.backup) {
      at.report("automation", path, `a backup task needs a backup section (method, destination, retention): add it`, "missing-field");
    }
    if (t.kind === "backup" && !t.target) {
      at.report("automation", path, `a backup task needs the service it backs up: add target`, "missing-field");
    }
    // A backup runs the script the platform generates from its backup section (it checks the
    // dump before publishing it and prunes by retention): a command of its own would never run.
    if (t.kind === "backup" && t.command) {
      at.report(
        "automation",
        [...path, "command"],
        `a backup task runs the script the platform generates from its backup section: remove command`,
        "unexpected-field",
        true,
      );
    }
    if (t.kind !== "backup" && !t.command) {
      at.report("automation", path, `a ${t.kind} task needs the command it runs: add command, e.g. ["my-tool", "--once"]`, "missing-field");
    }
    if (t.kind !== "backup" && t.backup) {
      at.report("automation", [...path, "backup"], `only a task of kind backup has a backup section: remove it or set kind: backup`, "unexpected-field");
    }
  });
}

function backups(r: Registries, at: Locator): void {
  const tasks = r.automation.tasks;
  const backedUp = new Set<string>();
  for (const t of tasks) if (t.kind === "backup" && t.enabled && t.target !== undefined) backedUp.add(t.target);
  const serviceByName = new Map(r.orchestration.services.map((s) => [s.name, s] as const));
  r.orchestration.services.forEach((s, i) => {
    if (!s.stateful) return;
    if (!s.storage) {
      at.report("orchestration", ["services", i], `stateful service "${s.name}" needs storage (size, mountPath): add it`, "missing-field");
    }
    const backed = backedUp.has(s.name);
    if (!backed) {
      at.report(
        "orchestration",
        ["services", i, "stateful"],
        `stateful service "${s.name}" has no enabled backup task: add a task of kind backup with target: ${s.name} to automation.yaml`,
        "missing-backup",
      );
    }
  });
  tasks.forEach((t, i) => {
    if (!t.backup) return;
    const service = t.target === undefined ? undefined : serviceByName.get(t.target);
    const gdpr = t.backup.gdpr;
    if (service?.personalData && !gdpr?.personalData) {
      at.report(
        "automation",
        ["tasks", i, "backup"],
        `service "${service.name}" holds personal data: add gdpr with personalData: true and maxRetentionDays`,
        "gdpr",
      );
    }
    if (gdpr?.personalData && t.backup.retention.days > gdpr.maxRetentionDays) {
      at.report(
        "automation",
        ["tasks", i, "backup", "retention", "days"],
        `keeps personal data ${t.backup.retention.days} days, longer than the GDPR maximum of ${gdpr.maxRetentionDays}: lower retention.days to ${gdpr.maxRetentionDays} or less`,
        "gdpr-retention",
      );
    }
  });
}

function pipelines(p: PipelinesRegistry, at: Locator): void {
  const envs = new Set(p.environments.map((e) => e.name));
  p.promotion.forEach((e, i) => refCheck(at, "pipelines", ["promotion", i], e, envs, "environment", "pipelines.yaml environments"));
  const seen = new Set<string>();
  p.promotion.forEach((e, i) => {
    if (seen.has(e)) at.report("pipelines", ["promotion", i], `environment "${e}" appears twice in the promotion order: remove one`, "duplicate-name");
    seen.add(e);
  });
  for (const e of envs) {
    if (!seen.has(e))
      at.report("pipelines", ["promotion"], `environment "${e}" is missing from the promotion order: add it where changes reach it`, "promotion");
  }
  p.pipelines.forEach((pl, i) => {
    if (pl.trigger === "schedule" && !pl.schedule) {
      at.report("pipelines", ["pipelines", i], `a scheduled pipeline needs a schedule: add schedule, e.g. "0 6 * * *"`, "missing-field");
    }
    pl.stages.forEach((s, j) =>
      s.targets.forEach((t, k) =>
        refCheck(at, "pipelines", ["pipelines", i, "stages", j, "targets", k], t, envs, "environment", "pipelines.yaml environments"),
      ),
    );
  });
}
