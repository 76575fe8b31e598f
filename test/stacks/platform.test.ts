import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { OBJECT_KIND } from "../../components/automationTask";
import { awsServiceCidrs } from "../../components/builders/awsEgress";
import { AWS, K8S } from "../../contract/types";
import type { Model, ResolvedService } from "../../domain/model";
import { runMocked, type MockRun, type Recorded } from "../../internal/pulumi/mocks";
import {
  BACKUP_STORAGE,
  AWAITED_TYPES,
  BASELINE,
  LOCAL_COMMANDS_OFF,
  MONITORING,
  backupSecretRefs,
  boundedAwait,
  buildPlatform,
  deploymentChecks,
  readNamespaces,
  startOrder,
  type TaskStatus,
} from "../../stacks/platform";
import { taskNamespace } from "../../domain/model/workloads";
import type { StackSettings } from "../../stacks/settings";
import { backupTask, database, service, task } from "../support/fixtures";
import { kubeAs, kubeInputs, kubeObject, type KubernetesInputs } from "../support/inputs";
import { ROOT } from "../support/registries";
import { plainStrings, secretValues } from "../support/secrets";
import { DEV_SETTINGS, PROD_SETTINGS, fakeSecrets, realModel } from "./support";

const SOURCE = /^registries\/[a-z]+\.yaml:\d+$/;
/** The platform's own component types. */
const COMPONENT = {
  serviceDeployment: "nexus:workloads:ServiceDeployment",
  backupJob: "nexus:backup:BackupJob",
  backupStorage: "nexus:backup:BackupStorage",
  automationTask: "nexus:automation:AutomationTask",
  baseline: "nexus:security:SecurityBaseline",
  monitoring: "nexus:monitoring:MonitoringStack",
} as const;

/** The stack outputs the tests read. */
interface PlatformOutputs {
  services: Record<string, unknown>;
  tasks: Record<string, TaskStatus>;
  environment: string;
  networkPaths: string[];
  backups: Record<string, string>;
  monitoring: Record<string, unknown>;
}
const outputs = (run: MockRun) => run.outputs as unknown as PlatformOutputs;

interface Platform {
  env: string;
  model: Model;
  settings: StackSettings;
  run: MockRun;
  /** ServiceDeployments in construction order, with the names of what Pulumi makes each one's workload wait for. */
  constructed: { name: string; dependencies: string[]; component: string[] }[];
  /** In-cluster tasks by name, with the names of what Pulumi makes each one's Job or CronJob wait for. */
  taskWaits: Map<string, string[]>;
}

async function platform(env: "dev" | "prod", settings: StackSettings): Promise<Platform> {
  const model = realModel(env);
  const services: string[] = [];
  const names = new Map<pulumi.Resource, string>();
  // Every object's dependsOn as registered: after its own and its components' transformations.
  const waits = new Map<string, pulumi.Resource[]>();
  const run = await runMocked(
    () => {
      pulumi.runtime.registerStackTransformation((a) => {
        names.set(a.resource, a.name);
        if (a.type === COMPONENT.serviceDeployment) services.push(a.name);
        const own = a.opts.dependsOn ?? [];
        waits.set(`${a.type}::${a.name}`, (Array.isArray(own) ? own : [own]) as pulumi.Resource[]);
        return undefined;
      });
      return buildPlatform(model, settings, fakeSecrets(model)) as unknown as Record<string, unknown>;
    },
    { stack: env },
  );
  const waitsOf = (type: string, name: string) => (waits.get(`${type}::${name}`) ?? []).map((d) => names.get(d) ?? "?");
  // What a service's workload waits for, and a task's Job or CronJob.
  const constructed = services.map((name) => {
    const stateful = model.services.find((s) => s.name === name)!.stateful;
    return {
      name,
      dependencies: waitsOf(stateful ? K8S.StatefulSet : K8S.Deployment, `${name}-${stateful ? "statefulset" : "deployment"}`),
      component: waitsOf(COMPONENT.serviceDeployment, name),
    };
  });
  const taskWaits = new Map(
    model.tasks
      .filter((t) => t.runner !== "local-command")
      .map((t) => [t.name, t.runner === "k8s-job" ? waitsOf(K8S.Job, `${t.name}-job`) : waitsOf(K8S.CronJob, `${t.name}-cronjob`)]),
  );
  return { env, model, settings, run, constructed, taskWaits };
}

const names = (run: MockRun, type: string) =>
  run
    .byType(type)
    .map((r) => r.name)
    .sort();
const minReplicas = (s: ResolvedService) => s.autoscaling?.minReplicas ?? s.replicas;
const backupTasks = (m: Model) => m.tasks.filter((t) => t.kind === "backup");

/** The pod template of a workload that has one. */
function podTemplate(r: Recorded) {
  if (r.type === K8S.Deployment) return kubeAs(r, K8S.Deployment).spec.template;
  if (r.type === K8S.StatefulSet) return kubeAs(r, K8S.StatefulSet).spec.template;
  if (r.type === K8S.Job) return kubeAs(r, K8S.Job).spec.template;
  if (r.type === K8S.CronJob) return kubeAs(r, K8S.CronJob).spec.jobTemplate.spec.template;
  return undefined;
}

/** Whether the AWS resource type takes `tags`, read from the provider SDK's own declarations. */
function awsSupportsTags(type: string): boolean {
  const [, module, resource] = /^aws:([a-zA-Z0-9]+)\/([a-zA-Z0-9]+):([A-Za-z0-9]+)$/.exec(type)!;
  const className = type.split(":")[2]!;
  const dts = fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "aws", module!, `${resource}.d.ts`), "utf8");
  const start = dts.indexOf(`export interface ${className}Args {`);
  if (start < 0) throw new Error(`no ${className}Args in the AWS SDK`);
  const body = dts.slice(start, dts.indexOf("\n}", start));
  return /\n\s+tags\?:/.test(body);
}

/** The paths the registries declare, written as the stack exports them, derived here independently. */
function expectedPaths(m: Model): string[] {
  const svc = new Map(m.services.map((s) => [s.name, s]));
  const to = (s: ResolvedService, port = s.port) => `${s.namespace}/${s.name}:${port}`;
  const paths: string[] = [];
  for (const s of m.services) {
    for (const d of s.dependsOn) {
      const t = svc.get(d);
      if (t) paths.push(`${s.namespace}/${s.name} -> ${to(t)} (${s.name} dependsOn ${t.name})`);
    }
  }
  for (const t of m.tasks.filter((x) => x.runner !== "local-command")) {
    const ns = t.namespace ?? svc.get(t.target!)!.namespace;
    if (t.target && svc.has(t.target)) paths.push(`${ns}/${t.name} -> ${to(svc.get(t.target)!)} (task ${t.name} targets ${t.target})`);
    for (const d of t.dependsOn.filter((x) => x !== t.target && svc.has(x))) {
      paths.push(`${ns}/${t.name} -> ${to(svc.get(d)!)} (task ${t.name} dependsOn ${d})`);
    }
  }
  const mon = m.monitoring.stack.namespace;
  for (const s of m.services) {
    if (s.metrics) paths.push(`${mon}/prometheus -> ${to(s, s.metrics.port ?? s.port)} (prometheus scrapes ${s.name})`);
  }
  return paths;
}

/** A pod of a Deployment or StatefulSet: its namespace and its template's labels. */
interface Pod {
  namespace: string;
  labels: Record<string, string>;
}
type NetworkPolicy = KubernetesInputs[typeof K8S.NetworkPolicy];
type Peer = NonNullable<NonNullable<NetworkPolicy["spec"]["egress"]>[number]["to"]>[number];

function podOf(run: MockRun, workload: string): Pod {
  const r = [...run.byType(K8S.Deployment), ...run.byType(K8S.StatefulSet)].find((x) => x.name === workload);
  if (!r) throw new Error(`no Deployment or StatefulSet ${workload}`);
  return { namespace: kubeObject(r).metadata.namespace!, labels: podTemplate(r)!.metadata.labels };
}

/** A pod of a task's CronJob or Job (named `<task>-cronjob` or `<task>-job`). */
function taskPodOf(run: MockRun, task: string): Pod {
  const r = [...run.byType(K8S.CronJob), ...run.byType(K8S.Job)].find((x) => x.name === `${task}-cronjob` || x.name === `${task}-job`);
  if (!r) throw new Error(`no CronJob or Job of task ${task}`);
  return { namespace: kubeObject(r).metadata.namespace!, labels: podTemplate(r)!.metadata.labels };
}

/** A pod of a service's Deployment or StatefulSet. */
const servicePodOf = (run: MockRun, s: ResolvedService) => podOf(run, `${s.name}-${s.stateful && s.storage ? "statefulset" : "deployment"}`);

/** Whether a label selector (matchLabels only: the platform writes no expressions) selects these labels. */
function selects(selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }, labels: Record<string, string>): boolean {
  if ((selector.matchExpressions ?? []).length > 0) throw new Error("matchExpressions are not evaluated here");
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/** Whether a rule's peers admit a pod; `policyNamespace` is the namespace a peer without namespaceSelector means. */
function admits(peers: Peer[] | undefined, policyNamespace: string, pod: Pod): boolean {
  if (!peers || peers.length === 0) return true;
  return peers.some(
    (p) =>
      p.ipBlock === undefined &&
      (p.namespaceSelector ? selects(p.namespaceSelector, { "kubernetes.io/metadata.name": pod.namespace }) : pod.namespace === policyNamespace) &&
      (p.podSelector ? selects(p.podSelector, pod.labels) : true),
  );
}

/**
 * Whether the cluster's NetworkPolicies let `from` open a TCP connection to `to` on `port`, as
 * Kubernetes evaluates them: a direction no policy selects the pod for is open; otherwise some
 * rule of a selecting policy must admit the peer and the port.
 */
function reachable(run: MockRun, from: Pod, to: Pod, port: number): boolean {
  const policies = run.byType(K8S.NetworkPolicy).map((r) => kubeAs(r, K8S.NetworkPolicy));
  const applying = (pod: Pod, type: string) =>
    policies.filter((np) => np.metadata.namespace === pod.namespace && np.spec.policyTypes.includes(type) && selects(np.spec.podSelector, pod.labels));
  const onPort = (ports: { port?: number | string; protocol?: string }[] | undefined) =>
    !ports || ports.length === 0 || ports.some((p) => (p.port === undefined || p.port === port) && (p.protocol ?? "TCP") === "TCP");
  const egress = applying(from, "Egress");
  const ingress = applying(to, "Ingress");
  const out = egress.length === 0 || egress.some((np) => (np.spec.egress ?? []).some((r) => onPort(r.ports) && admits(r.to, np.metadata.namespace!, to)));
  const into =
    ingress.length === 0 || ingress.some((np) => (np.spec.ingress ?? []).some((r) => onPort(r.ports) && admits(r.from, np.metadata.namespace!, from)));
  return out && into;
}

let dev: Platform;
let prod: Platform;
beforeAll(async () => {
  dev = await platform("dev", DEV_SETTINGS);
  prod = await platform("prod", PROD_SETTINGS);
});

describe.each([
  ["dev", () => dev],
  ["prod", () => prod],
] as const)("the %s platform", (env, get) => {
  it("labels, owns and traces every Kubernetes resource and its pod template", () => {
    const { run, model } = get();
    const teams = new Set(model.teams.map((t) => t.name));
    const k8s = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(k8s.length).toBeGreaterThan(100);
    let templates = 0;
    for (const r of k8s) {
      const objects = [kubeObject(r).metadata, podTemplate(r)?.metadata].filter((x) => x !== undefined);
      if (objects.length === 2) templates++;
      for (const meta of objects) {
        const where = `${r.type} ${r.name}`;
        expect(typeof meta.labels["app.kubernetes.io/name"], where).toBe("string");
        expect(meta.labels["app.kubernetes.io/name"], where).not.toBe("");
        expect(meta.labels["app.kubernetes.io/managed-by"], where).toBe("pulumi");
        expect(teams.has(meta.labels["nexus.platform/owner"] ?? ""), `${where}: owner ${meta.labels["nexus.platform/owner"]}`).toBe(true);
        expect(meta.labels["nexus.platform/environment"], where).toBe(env);
        expect(meta.annotations?.["nexus.platform/source"], where).toMatch(SOURCE);
      }
    }
    expect(templates).toBe(
      run.byType(K8S.Deployment).length + run.byType(K8S.StatefulSet).length + run.byType(K8S.CronJob).length + run.byType(K8S.Job).length,
    );
  });

  it("tags every AWS resource that takes tags like its Kubernetes resources", () => {
    const { run, model } = get();
    const teams = new Set(model.teams.map((t) => t.name));
    for (const r of run.resources.filter((x) => x.type.startsWith("aws:"))) {
      if (!awsSupportsTags(r.type)) {
        expect(r.inputs.tags, r.name).toBeUndefined();
        continue;
      }
      const tags = r.inputs.tags as Record<string, string>;
      expect(typeof tags["app.kubernetes.io/name"], r.name).toBe("string");
      expect(tags["app.kubernetes.io/managed-by"], r.name).toBe("pulumi");
      expect(teams.has(tags["nexus.platform/owner"] ?? ""), r.name).toBe(true);
      expect(tags["nexus.platform/environment"], r.name).toBe(env);
      expect(tags["nexus.platform/source"], r.name).toMatch(SOURCE);
    }
  });

  it("never shows a secret value outside a secret", () => {
    const { run } = get();
    for (const r of run.resources) {
      for (const s of plainStrings(r.inputs)) expect(s, `${r.type} ${r.name}`).not.toContain("s3cr3t");
    }
    expect(JSON.stringify(run.outputs)).not.toContain("s3cr3t");
    // The fake secrets do reach the cluster, inside secret values.
    const wrapped = run.resources.flatMap((r) => secretValues(r.inputs)).map((v) => JSON.stringify(v));
    expect(wrapped.filter((v) => v.includes("s3cr3t-postgresPassword")).length).toBeGreaterThan(0);
  });

  it("asks Pulumi to await every object: no committed environment sets skipAwait", () => {
    const { run } = get();
    // The read of the API server's EndpointSlice registers nothing: it has no annotations of ours.
    for (const r of run.resources.filter((x) => x.type.startsWith("kubernetes:") && x.type !== "kubernetes:discovery.k8s.io/v1:EndpointSlice")) {
      const a = kubeObject(r).metadata.annotations;
      // A backup volume's claim binds only when its first Job runs, Prometheus's when its pod is scheduled (WaitForFirstConsumer): never awaited.
      if (r.type === K8S.PersistentVolumeClaim) expect(a["pulumi.com/skipAwait"], r.name).toBe("true");
      else expect(a["pulumi.com/skipAwait"], r.name).toBeUndefined();
      expect(a["pulumi.com/deletionPropagationPolicy"], r.name).toBeUndefined();
    }
  });

  it("builds one component per service and task, under the stack", () => {
    const { run, model } = get();
    expect(names(run, COMPONENT.serviceDeployment)).toEqual(model.services.map((s) => s.name).sort());
    expect(names(run, COMPONENT.backupJob)).toEqual(
      backupTasks(model)
        .map((t) => t.name)
        .sort(),
    );
    // A disabled Job or local command would run on the deploy, so it is not created; a disabled CronJob stays, suspended.
    const created = model.tasks.filter((t) => t.enabled || t.runner === "k8s-cronjob");
    expect(names(run, COMPONENT.automationTask)).toEqual(
      created
        .filter((t) => t.kind !== "backup")
        .map((t) => t.name)
        .sort(),
    );
    const skipped = model.tasks.filter((t) => !t.enabled && t.runner !== "k8s-cronjob");
    expect(skipped.length).toBeGreaterThan(0);
    for (const t of skipped)
      expect(outputs(run).tasks, t.name).toMatchObject({ [t.name]: { status: "skipped", reason: `disabled in ${model.environment.name}` } });
    expect(names(run, COMPONENT.baseline)).toEqual([BASELINE]);
    expect(names(run, COMPONENT.monitoring)).toEqual([MONITORING]);
    for (const type of [
      COMPONENT.serviceDeployment,
      COMPONENT.backupJob,
      COMPONENT.automationTask,
      COMPONENT.baseline,
      COMPONENT.monitoring,
      COMPONENT.backupStorage,
    ]) {
      for (const r of run.byType(type)) expect(r.parentType, r.name).toBe("");
    }
    expect(Object.keys(outputs(run).services).sort()).toEqual(model.services.map((s) => s.name).sort());
    expect(Object.keys(outputs(run).tasks).sort()).toEqual(model.tasks.map((t) => t.name).sort());
    for (const t of created) {
      const kind = t.kind === "backup" ? "CronJob" : OBJECT_KIND[t.runner];
      expect(outputs(run).tasks[t.name], t.name).toEqual({ runner: t.runner, kind, status: "scheduled" });
    }
    expect(outputs(run).environment).toBe(env);
  });

  it("deploys services after their namespace's admission objects and the workloads they call, in startOrder", () => {
    const { run, model, constructed } = get();
    const order = startOrder(model.services).map((s) => s.name);
    expect(constructed.map((c) => c.name)).toEqual(order);
    const { defaultDeny, allowDns } = model.security.network;
    for (const c of constructed) {
      const s = model.services.find((x) => x.name === c.name)!;
      const ns = `${BASELINE}-${s.namespace}`;
      const admission = [ns, ...(defaultDeny ? [`${ns}-default-deny`] : []), ...(allowDns ? [`${ns}-allow-dns`] : []), `${ns}-quota`, `${ns}-limits`];
      const workloads = s.dependsOn.map((d) => `${d}-${model.services.find((x) => x.name === d)!.stateful ? "statefulset" : "deployment"}`);
      expect(c.dependencies, c.name).toEqual([...admission, ...workloads]);
      // The component itself waits for nothing, so its other objects need not wait for it.
      expect(c.component, c.name).toEqual([]);
    }
    // The engine sees the same order: a workload registers only once those it waits for have.
    const registered = run.resources.map((r) => r.name);
    const workload = (name: string) => `${name}-${model.services.find((x) => x.name === name)!.stateful ? "statefulset" : "deployment"}`;
    for (const s of model.services) {
      for (const d of s.dependsOn) expect(registered.indexOf(workload(d)), `${d} before ${s.name}`).toBeLessThan(registered.indexOf(workload(s.name)));
    }
  });

  it("exports exactly the paths of the dependency graph", () => {
    const { run, model } = get();
    const paths = outputs(run).networkPaths;
    expect([...paths].sort()).toEqual(expectedPaths(model).sort());
    expect(new Set(paths).size).toBe(paths.length);
    const declared = model.services.reduce((n, s) => n + s.dependsOn.length, 0);
    expect(paths.filter((p) => / \((?!task |prometheus )\S+ dependsOn \S+\)$/.test(p))).toHaveLength(declared);
    expect(paths.filter((p) => p.includes("(prometheus scrapes "))).toHaveLength(model.services.filter((s) => s.metrics).length);
  });

  it("lets Prometheus, and not the other pods of its namespace, reach the metrics ports", () => {
    const { run, model } = get();
    const mon = model.monitoring.stack.namespace;
    const workload = (s: ResolvedService) => podOf(run, `${s.name}-${s.stateful && s.storage ? "statefulset" : "deployment"}`);
    const prometheus = podOf(run, `${MONITORING}-prometheus`);
    const systemMonitor = model.services.find((s) => s.name === "system-monitor")!;
    const monitor = workload(systemMonitor);
    const dashboard = workload(model.services.find((s) => s.name === "system-dashboard")!);
    expect([prometheus.namespace, monitor.namespace]).toEqual([mon, mon]);
    // system-monitor lives beside Prometheus; the dashboard depends on it, not the other way round.
    expect(reachable(run, prometheus, dashboard, 8050)).toBe(true);
    expect(reachable(run, monitor, dashboard, 8050)).toBe(false);
    expect(reachable(run, dashboard, monitor, 9108)).toBe(true);
    expect(outputs(run).networkPaths.filter((p) => p.startsWith(`${mon}/system-monitor -> web/system-dashboard:`))).toEqual([]);
    expect(outputs(run).networkPaths).toContain(`${mon}/prometheus -> web/system-dashboard:8050 (prometheus scrapes system-dashboard)`);
    for (const s of model.services.filter((x) => x.metrics)) {
      const port = s.metrics!.port ?? s.port;
      expect(reachable(run, prometheus, workload(s), port), s.name).toBe(true);
      if (s.namespace !== mon && !systemMonitor.dependsOn.includes(s.name)) expect(reachable(run, monitor, workload(s), port), s.name).toBe(false);
    }
  });

  it("lets each backup reach the store it dumps through the namespace's default-deny, and no other", () => {
    const { run, model } = get();
    const byName = new Map(model.services.map((s) => [s.name, s]));
    expect(model.security.network.defaultDeny).toBe(true);
    for (const [task, store, other] of [
      ["postgres-backup", "postgres", "redis"],
      ["redis-backup", "redis", "postgres"],
    ] as const) {
      const target = byName.get(store)!;
      const np = kubeInputs(run, K8S.NetworkPolicy, `${task}-netpol`);
      expect(np.metadata).toMatchObject({ name: `${task}-allow`, namespace: target.namespace });
      expect(np.spec.policyTypes, task).toEqual(["Egress"]);
      expect(np.spec.egress, task).toEqual([
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": target.namespace } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": store, "app.kubernetes.io/part-of": "nexus-platform" } },
            },
          ],
          ports: [{ protocol: "TCP", port: target.port }],
        },
      ]);
      const backup = taskPodOf(run, task);
      expect(selects(np.spec.podSelector, backup.labels), task).toBe(true);
      expect(reachable(run, backup, servicePodOf(run, target), target.port), `${task} -> ${store}`).toBe(true);
      const elsewhere = byName.get(other)!;
      expect(reachable(run, backup, servicePodOf(run, elsewhere), elsewhere.port), `${task} -> ${other}`).toBe(false);
    }
    expect([byName.get("postgres")!.port, byName.get("redis")!.port]).toEqual([5432, 6379]);
  });

  it("lets each task in the cluster reach what it targets and depends on, and tells an automation task where", () => {
    const { run, model } = get();
    const byName = new Map(model.services.map((s) => [s.name, s]));
    const running = model.tasks.filter((t) => t.runner !== "local-command" && (t.enabled || t.runner === "k8s-cronjob"));
    expect(running.filter((t) => t.kind !== "backup" && t.target !== undefined).length).toBeGreaterThan(0);
    for (const t of running) {
      const called = [...new Set([...(t.target ? [t.target] : []), ...t.dependsOn])].flatMap((n) => byName.get(n) ?? []);
      expect(
        run.byType(K8S.NetworkPolicy).some((r) => r.name === `${t.name}-netpol`),
        t.name,
      ).toBe(called.length > 0);
      const pod = taskPodOf(run, t.name);
      for (const s of called) expect(reachable(run, pod, servicePodOf(run, s), s.port), `${t.name} -> ${s.name}`).toBe(true);
      if (t.kind === "backup") continue;
      const kind = t.runner === "k8s-job" ? K8S.Job : K8S.CronJob;
      const r = run.one(kind, `${t.name}-${t.runner === "k8s-job" ? "job" : "cronjob"}`);
      const env = podTemplate(r)!.spec.containers[0]!.env ?? [];
      const addresses = called.map((s) => `${s.name}.${s.namespace}.svc.cluster.local:${s.port}`).join(",");
      expect(
        env.filter((e) => e.name === "NEXUS_DEPENDENCIES" || e.name === "PORT"),
        t.name,
      ).toEqual(called.length > 0 ? [{ name: "NEXUS_DEPENDENCIES", value: addresses }] : []);
    }
  });

  it("gives disruption budgets exactly to services with more than one replica at minimum", () => {
    const { run, model } = get();
    expect(names(run, K8S.PodDisruptionBudget)).toEqual(
      model.services
        .filter((s) => minReplicas(s) > 1)
        .map((s) => `${s.name}-pdb`)
        .sort(),
    );
    expect(names(run, K8S.HorizontalPodAutoscaler)).toEqual(
      model.services
        .filter((s) => s.autoscaling)
        .map((s) => `${s.name}-hpa`)
        .sort(),
    );
  });

  it("tells each service container where its dependencies are, and mounts postgres's socket directory writable", () => {
    const { run, model } = get();
    const byName = new Map(model.services.map((s) => [s.name, s]));
    for (const s of model.services) {
      const kind = s.stateful && s.storage ? K8S.StatefulSet : K8S.Deployment;
      const c = kubeInputs(run, kind, `${s.name}-${kind === K8S.StatefulSet ? "statefulset" : "deployment"}`).spec.template.spec.containers[0]!;
      const addresses = s.dependsOn.map((d) => `${d}.${byName.get(d)!.namespace}.svc.cluster.local:${byName.get(d)!.port}`);
      expect(c.env, s.name).toEqual([
        { name: "PORT", value: String(s.port) },
        ...(addresses.length > 0 ? [{ name: "NEXUS_DEPENDENCIES", value: addresses.join(",") }] : []),
      ]);
    }
    const postgres = kubeInputs(run, K8S.StatefulSet, "postgres-statefulset").spec.template.spec;
    expect(postgres.containers[0]!.volumeMounts).toContainEqual({ name: "writable-0", mountPath: "/var/run/postgresql" });
    expect(postgres.volumes).toContainEqual({ name: "writable-0", emptyDir: { sizeLimit: "64Mi" } });
    expect(postgres.containers[0]!.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it("sets each workload's replicas and topology spread from the model", () => {
    const { run, model } = get();
    for (const s of model.services) {
      const kind = s.stateful && s.storage ? K8S.StatefulSet : K8S.Deployment;
      const w = kubeInputs(run, kind, `${s.name}-${kind === K8S.StatefulSet ? "statefulset" : "deployment"}`);
      if (s.autoscaling) {
        expect("replicas" in w.spec, s.name).toBe(false);
        expect(kubeInputs(run, K8S.HorizontalPodAutoscaler, `${s.name}-hpa`).spec.minReplicas, s.name).toBe(s.autoscaling.minReplicas);
        expect(kubeInputs(run, K8S.HorizontalPodAutoscaler, `${s.name}-hpa`).spec.maxReplicas, s.name).toBe(s.autoscaling.maxReplicas);
      } else {
        expect(w.spec.replicas, s.name).toBe(s.replicas);
      }
      expect(w.spec.template.spec.topologySpreadConstraints?.length ?? 0, s.name).toBe(s.topologySpread ? 2 : 0);
    }
  });
});

describe("dev and prod differ as the registries say", () => {
  it("keeps dev off AWS with backups on claims, and puts prod backups in an encrypted bucket", () => {
    expect(dev.run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    expect(dev.run.byType(COMPONENT.backupStorage)).toEqual([]);
    expect(names(dev.run, K8S.PersistentVolumeClaim)).toEqual(
      backupTasks(dev.model)
        .map((t) => `${t.name}-pvc`)
        .sort(),
    );
    expect(outputs(dev.run).backups).toEqual(
      Object.fromEntries(backupTasks(dev.model).map((t) => [t.name, `pvc://${taskNamespace(t, dev.model.services)}/${t.name}-backups`])),
    );

    const aws = PROD_SETTINGS.aws as Extract<StackSettings["aws"], { enabled: true }>;
    expect(names(prod.run, COMPONENT.backupStorage)).toEqual([BACKUP_STORAGE]);
    // In prod the only claim is Prometheus's (stack.prometheus.storage): no backup writes to one.
    expect(names(prod.run, K8S.PersistentVolumeClaim)).toEqual(["nexus-prometheus-data"]);
    expect(names(dev.run, K8S.PersistentVolumeClaim)).not.toContain("nexus-prometheus-data");
    expect(prod.run.byType(AWS.buckets[0]).map((r) => [r.name, r.parentType, r.inputs.bucket])).toEqual([
      [`${BACKUP_STORAGE}-bucket`, COMPONENT.backupStorage, aws.backupBucket],
    ]);
    expect(prod.run.byType(AWS.kmsKey).map((r) => [r.name, r.parentType, r.inputs.enableKeyRotation])).toEqual([
      [`${BACKUP_STORAGE}-key`, COMPONENT.backupStorage, true],
    ]);
    expect(
      prod.run
        .byType(AWS.iamRole)
        .map((r) => [r.name, r.parentType])
        .sort(),
    ).toEqual(
      backupTasks(prod.model)
        .map((t) => [`${t.name}-role`, COMPONENT.backupJob])
        .sort(),
    );
    expect(outputs(prod.run).backups).toEqual(
      Object.fromEntries(backupTasks(prod.model).map((t) => [t.name, `s3://${aws.backupBucket}/${t.backup!.destination.prefix}`])),
    );
  });

  it("runs dev on local images only, which prod never runs", () => {
    const images = (run: MockRun) => run.resources.flatMap((r) => podTemplate(r)?.spec.containers.map((c) => `${r.name}: ${c.image}`) ?? []);
    expect(images(dev.run).length).toBeGreaterThan(10);
    for (const image of images(dev.run)) expect(image).toMatch(/: nexus\.local\//);
    expect(images(prod.run).length).toBeGreaterThan(10);
    for (const image of images(prod.run)) expect(image).not.toMatch(/nexus\.local/);
    expect(dev.model.security.imageRegistries).toContain("nexus.local");
    expect(prod.model.security.imageRegistries).not.toContain("nexus.local");
  });

  it("runs Grafana in prod and not in dev, with Prometheus and Alertmanager in both", () => {
    const grafana = (run: MockRun) => run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.name.startsWith(`${MONITORING}-grafana`));
    expect(dev.model.monitoring.stack.grafana.enabled).toBe(false);
    expect(grafana(dev.run)).toEqual([]);
    expect(Object.keys(outputs(dev.run).monitoring).sort()).toEqual(["alertmanager", "prometheus", "rules"]);
    expect(prod.model.monitoring.stack.grafana.enabled).toBe(true);
    expect(grafana(prod.run).map((r) => `${r.type} ${r.name}`)).toEqual(
      expect.arrayContaining([
        `${K8S.Deployment} ${MONITORING}-grafana`,
        `${K8S.Service} ${MONITORING}-grafana`,
        `${K8S.ConfigMap} ${MONITORING}-grafana-dashboards`,
      ]),
    );
    expect(Object.keys(outputs(prod.run).monitoring).sort()).toEqual(["alertmanager", "grafana", "prometheus", "rules"]);
    for (const { run } of [dev, prod]) {
      expect(names(run, K8S.Deployment)).toEqual(expect.arrayContaining([`${MONITORING}-prometheus`, `${MONITORING}-alertmanager`]));
    }
  });

  it("runs more replicas with spread and disruption budgets for user-facing services in prod", () => {
    const byName = (m: Model) => new Map(m.services.map((s) => [s.name, s]));
    const d = byName(dev.model);
    const p = byName(prod.model);
    for (const [name, s] of p) expect(minReplicas(s), name).toBeGreaterThanOrEqual(minReplicas(d.get(name)!));
    const total = (m: Model) => m.services.reduce((n, s) => n + minReplicas(s), 0);
    expect(total(prod.model)).toBeGreaterThan(total(dev.model));

    const userFacing = prod.model.services.filter((s) => s.userFacing).map((s) => `${s.name}-pdb`);
    expect(userFacing.length).toBeGreaterThan(0);
    for (const pdb of userFacing) expect(names(prod.run, K8S.PodDisruptionBudget)).toContain(pdb);
    expect(dev.run.byType(K8S.PodDisruptionBudget)).toEqual([]);

    const spread = (run: MockRun) =>
      [...run.byType(K8S.Deployment), ...run.byType(K8S.StatefulSet)]
        .filter((r) => podTemplate(r)?.spec.topologySpreadConstraints !== undefined)
        .map((r) => kubeObject(r).metadata.name)
        .sort();
    expect(spread(dev.run)).toEqual([]);
    expect(spread(prod.run)).toEqual(
      prod.model.services
        .filter((s) => s.topologySpread)
        .map((s) => s.name)
        .sort(),
    );
    expect(spread(prod.run).length).toBeGreaterThan(0);
  });
});

// --- helpers of the composition, directly -------------------------------------------------------

/** A service calling the `upstream` services (the registry's dependsOn). */
const calling = (name: string, ...upstream: string[]) => service({ name, dependsOn: upstream });

describe("startOrder", () => {
  it("puts every service after its dependencies, keeping declaration order otherwise", () => {
    const services = [calling("web", "api"), calling("api", "db", "cache"), calling("db"), calling("cache", "db"), calling("solo")];
    expect(startOrder(services).map((s) => s.name)).toEqual(["db", "cache", "api", "web", "solo"]);
  });

  it("ignores dependencies that are not services and returns each service once", () => {
    const services = [calling("a", "ghost", "b"), calling("b", "ghost"), calling("c", "a", "b")];
    expect(startOrder(services).map((s) => s.name)).toEqual(["b", "a", "c"]);
    expect(startOrder([])).toEqual([]);
  });

  it("orders the real services", () => {
    expect(startOrder(realModel("prod").services).map((s) => s.name)).toEqual([
      "postgres",
      "redis",
      "coordination-hub",
      "orchestrator",
      "backend-api",
      "frontend",
      "system-monitor",
      "system-dashboard",
    ]);
  });
});

describe("taskNamespace", () => {
  const services = [database(), service()];

  it("is the task's own namespace first, else its target's", () => {
    expect(taskNamespace(backupTask({ namespace: "ops" }), services)).toBe("ops");
    expect(taskNamespace(backupTask(), services)).toBe("data");
    expect(taskNamespace(backupTask({ target: "api" }), services)).toBe("core");
  });

  it("refuses a task with neither", () => {
    const refusal = "task db-backup (registries/automation.yaml:4) has neither namespace nor target";
    expect(() => taskNamespace(backupTask({ target: undefined }), services)).toThrow(refusal);
    expect(() => taskNamespace(backupTask({ target: "ghost" }), services)).toThrow(refusal);
  });
});

describe("backupSecretRefs", () => {
  const db = database({
    secrets: [
      { env: "POSTGRES_PASSWORD", configKey: "dbPassword" },
      { env: "REPLICATION_KEY", configKey: "replKey" },
    ],
  });

  it("reads each secret from the target's own Secret under the target's key", () => {
    expect(
      backupSecretRefs(
        backupTask({
          secrets: [
            { env: "PGPASSWORD", configKey: "dbPassword" },
            { env: "REPL", configKey: "replKey" },
          ],
        }),
        db,
      ),
    ).toEqual([
      { env: "PGPASSWORD", secretName: "db-secrets", key: "POSTGRES_PASSWORD" },
      { env: "REPL", secretName: "db-secrets", key: "REPLICATION_KEY" },
    ]);
    expect(backupSecretRefs(backupTask(), db)).toEqual([]);
  });

  it("refuses a secret the target does not declare", () => {
    expect(() => backupSecretRefs(backupTask({ secrets: [{ env: "S3_KEY", configKey: "s3Key" }] }), db)).toThrow(
      'backup task db-backup (registries/automation.yaml:4) needs secret "s3Key", which its target db does not declare: ' +
        "add it to the target's secrets in orchestration.yaml",
    );
  });

  it("maps the real postgres backup onto the postgres Secret", () => {
    const m = realModel("prod");
    const t = m.tasks.find((x) => x.name === "postgres-backup")!;
    const target = m.services.find((s) => s.name === t.target)!;
    expect(backupSecretRefs(t, target)).toEqual([{ env: "PGPASSWORD", secretName: "postgres-secrets", key: "POSTGRES_PASSWORD" }]);
  });
});

describe("a stack without the Command provider", () => {
  it("skips the local-command tasks and says so in its outputs", async () => {
    const model = realModel("dev");
    const run = await runMocked(() => buildPlatform(model, { ...DEV_SETTINGS, localCommands: false }, fakeSecrets(model)) as never, { stack: "dev" });
    const local = model.tasks.filter((t) => t.runner === "local-command").map((t) => t.name);
    expect(local.length).toBeGreaterThan(0);
    expect(run.byType("command:local:Command")).toEqual([]);
    for (const name of local) {
      expect(outputs(run).tasks[name]).toEqual({ runner: "local-command", kind: "Command", status: "skipped", reason: LOCAL_COMMANDS_OFF });
    }
  });
});

describe("a stack with a readyTimeout", () => {
  /** The custom timeouts of every resource as the SDK registers it, by "type name". */
  async function timeouts(settings: StackSettings, env: "dev" | "prod" = "dev"): Promise<Map<string, pulumi.CustomTimeouts | undefined>> {
    const model = realModel(env);
    const seen = new Map<string, pulumi.CustomTimeouts | undefined>();
    await runMocked(
      () => {
        // Registered first, so it runs last: it sees the options the resource is registered with.
        pulumi.runtime.registerStackTransformation((a) => {
          seen.set(`${a.type} ${a.name}`, (a.opts as pulumi.CustomResourceOptions).customTimeouts);
          return undefined;
        });
        return buildPlatform(model, settings, fakeSecrets(model)) as never;
      },
      { stack: env },
    );
    return seen;
  }
  const ofType = (seen: Map<string, pulumi.CustomTimeouts | undefined>, type: string) => [...seen].filter(([key]) => key.startsWith(`${type} `));

  it("bounds the wait of every awaited object but Jobs, which keep their own deadline, and of nothing else", async () => {
    const settings: StackSettings = { ...PROD_SETTINGS, readyTimeoutSeconds: 180 };
    const seen = await timeouts(settings, "prod");
    for (const type of [K8S.Deployment, K8S.StatefulSet, K8S.Service]) {
      const objects = ofType(seen, type);
      expect(objects.length, type).toBeGreaterThan(0);
      for (const [key, t] of objects) expect(t, key).toEqual({ create: "180s", update: "180s" });
    }
    const jobs = ofType(seen, K8S.Job);
    expect(jobs.length).toBeGreaterThan(0);
    for (const [key, t] of jobs) expect(t?.create, key).not.toBe("180s");
    const others = [...seen].filter(([key]) => !AWAITED_TYPES.some((type) => key.startsWith(`${type} `)));
    expect(others.length).toBeGreaterThan(0);
    for (const [key, t] of others) expect(t, key).toBeUndefined();
  });

  it("leaves the provider's defaults without one", async () => {
    const seen = await timeouts(PROD_SETTINGS, "prod");
    for (const type of [K8S.Deployment, K8S.StatefulSet, K8S.Service]) for (const [key, t] of ofType(seen, type)) expect(t, key).toBeUndefined();
  });

  it("is a transformation only when the stack sets one", () => {
    expect(boundedAwait(undefined)).toBeUndefined();
    const bound = boundedAwait(90)!;
    const args = (type: string, opts: pulumi.CustomResourceOptions = {}) => ({ resource: undefined as never, type, name: "x", props: { a: 1 }, opts });
    expect(bound(args(K8S.Deployment, { protect: true }))).toEqual({
      props: { a: 1 },
      opts: { protect: true, customTimeouts: { create: "90s", update: "90s" } },
    });
    expect(bound(args(K8S.ConfigMap))).toBeUndefined();
    expect(bound(args(K8S.Job, { customTimeouts: { create: "1200s" } }))).toBeUndefined();
  });
});

describe("tasks that read the cluster", () => {
  const workloadKind = (s: ResolvedService) => (s.stateful && s.storage ? "StatefulSet" : "Deployment");

  it.each([
    ["dev", () => dev],
    ["prod", () => prod],
  ])("%s: gives exactly the tasks with clusterAccess a token, read-only Roles where they read and egress to the API server", (_env, get) => {
    const { run, model } = get();
    const inCluster = model.tasks.filter((t) => t.kind !== "backup" && t.runner !== "local-command" && (t.enabled || t.runner === "k8s-cronjob"));
    const readers = inCluster.filter((t) => t.clusterAccess);
    expect(readers.map((t) => t.name).sort()).toEqual(["deployment-check", "security-audit", "security-scan"]);
    for (const t of inCluster) {
      const sa = kubeInputs(run, K8S.ServiceAccount, `${t.name}-sa`);
      expect(sa.automountServiceAccountToken, t.name).toBe(t.clusterAccess !== undefined);
      expect(
        podTemplate(run.one(t.runner === "k8s-job" ? K8S.Job : K8S.CronJob, `${t.name}-${t.runner === "k8s-job" ? "job" : "cronjob"}`))!.spec
          .automountServiceAccountToken,
      ).toBe(t.clusterAccess !== undefined);
    }
    for (const t of readers) {
      const roles = run.byType(K8S.Role).filter((r) => r.name.startsWith(`${t.name}-read-`));
      const where = (t.clusterAccess!.namespaces ?? model.namespaces.map((n) => n.name)).slice().sort();
      expect(roles.map((r) => kubeAs(r, K8S.Role).metadata.namespace).sort()).toEqual(where);
      for (const r of roles) {
        for (const rule of kubeAs(r, K8S.Role).rules) {
          expect(rule.verbs).toEqual(["get", "list", "watch"]);
          expect(rule.resources).not.toContain("secrets");
        }
      }
      const bindings = run.byType(K8S.RoleBinding).filter((r) => r.name.startsWith(`${t.name}-read-`));
      for (const b of bindings) {
        expect(kubeAs(b, K8S.RoleBinding).subjects).toEqual([{ kind: "ServiceAccount", name: t.name, namespace: taskPodOf(run, t.name).namespace }]);
      }
      expect(bindings).toHaveLength(where.length);
      // The task's pods, and only they, may open a connection to the API server's address (the mock cluster's).
      const np = kubeInputs(run, K8S.NetworkPolicy, `${t.name}-api-server`);
      expect(selects(np.spec.podSelector, taskPodOf(run, t.name).labels)).toBe(true);
      expect(np.spec.egress).toEqual([{ to: [{ ipBlock: { cidr: "10.244.0.1/32" } }], ports: [{ protocol: "TCP", port: 6443 }] }]);
    }
    // Nothing cluster-wide is granted to any task.
    const cluster = [...run.byType(K8S.ClusterRole), ...run.byType(K8S.ClusterRoleBinding)];
    expect(cluster.filter((r) => r.parentType === COMPONENT.automationTask)).toEqual([]);
    const taskNames = new Set(model.tasks.map((t) => t.name));
    const clusterSubjects = run.byType(K8S.ClusterRoleBinding).flatMap((r) => (r.inputs as { subjects?: { kind: string; name: string }[] }).subjects ?? []);
    expect(clusterSubjects.filter((sub) => sub.kind === "ServiceAccount" && taskNames.has(sub.name))).toEqual([]);
  });

  it.each([
    ["dev", () => dev, "nexus.local/deploy-check:1.0.0"],
    ["prod", () => prod, "ghcr.io/nexus-platform/deploy-check:1.0.0"],
  ])("%s: runs the deployment check after every service, telling it each service's workload in start order", (_env, get, image) => {
    const { run, model, taskWaits } = get();
    const container = kubeInputs(run, K8S.Job, "deployment-check-job").spec.template.spec.containers[0]!;
    expect(container.image).toBe(image);
    const expected = startOrder(model.services).map((s) => `${s.namespace}/${workloadKind(s)}/${s.name}`);
    expect(container.env).toContainEqual({ name: "NEXUS_CHECK_WORKLOADS", value: expected.join(",") });
    const waited = taskWaits.get("deployment-check")!;
    for (const s of model.services) expect(waited).toContain(`${s.name}-${workloadKind(s).toLowerCase()}`);
    // Another Job does not wait for the services.
    expect(taskWaits.get("security-audit")!.some((w) => w.endsWith("-deployment"))).toBe(false);
  });
});

describe("readNamespaces", () => {
  const namespaces = [{ name: "core" }, { name: "data" }, { name: "web" }];

  it("reads in the namespaces a task's clusterAccess lists, else in every namespace, and nowhere without clusterAccess", () => {
    expect(readNamespaces(task({ clusterAccess: { read: ["pods"], namespaces: ["web"] } }), namespaces)).toEqual(["web"]);
    expect(readNamespaces(task({ clusterAccess: { read: ["pods"] } }), namespaces)).toEqual(["core", "data", "web"]);
    expect(readNamespaces(task(), namespaces)).toBeUndefined();
  });
});

describe("deploymentChecks", () => {
  const services = [service({ name: "api", dependsOn: ["db"] }), database()];

  it("lists every service's workload in start order", () => {
    expect(deploymentChecks(services).workloads).toEqual([
      { namespace: "data", kind: "StatefulSet", name: "db" },
      { namespace: "core", kind: "Deployment", name: "api" },
    ]);
  });

  it("changes its revision when a service changes, not when only its line in the file moves", () => {
    const { revision } = deploymentChecks(services);
    expect(deploymentChecks([service({ name: "api", dependsOn: ["db"], image: "ghcr.io/example/api:1.0.1" }), database()]).revision).not.toBe(revision);
    expect(deploymentChecks([service({ name: "api", dependsOn: ["db"], source: "registries/orchestration.yaml:99" }), database()]).revision).toBe(revision);
  });
});

describe("AWS egress follows the stack's region", () => {
  it("opens the backups' namespace to STS and S3 in prod's region, from the snapshot, and nothing to AWS in dev", () => {
    if (!PROD_SETTINGS.aws.enabled) throw new Error("the prod settings have AWS on");
    const region = PROD_SETTINGS.aws.region;
    const np = kubeInputs(prod.run, K8S.NetworkPolicy, "baseline-data-egress-aws-backups");
    expect(np.metadata.namespace).toBe("data");
    expect(np.spec.podSelector).toEqual({});
    expect(np.spec.egress).toHaveLength(1);
    expect(np.spec.egress![0]!.ports).toEqual([{ protocol: "TCP", port: 443 }]);
    const cidrs = np.spec.egress![0]!.to!.map((p) => p.ipBlock!.cidr);
    expect(cidrs).toEqual([...new Set([...awsServiceCidrs("sts", region), ...awsServiceCidrs("s3", region)])]);
    // The hand-copied us-east-1 range is gone.
    expect(cidrs).not.toContain("52.216.0.0/15");
    expect(dev.run.byType(K8S.NetworkPolicy).filter((r) => r.name.includes("aws"))).toEqual([]);
  });
});
