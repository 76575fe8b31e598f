import * as pulumi from "@pulumi/pulumi";
import { KubernetesApiServer } from "../components/apiServer";
import { AutomationTask, OBJECT_KIND, type ObjectKind } from "../components/automationTask";
import { BackupJob, type BackupStorageRef, type BackupStoreRef } from "../components/backupJob";
import { BackupStorage } from "../components/backupStorage";
import type { CheckedWorkload } from "../components/builders/access";
import { awsEgressRules } from "../components/builders/awsEgress";
import { stableHash, type SecretEnvRef } from "../components/builders/backup";
import { monitoredTask } from "../components/builders/monitoring";
import { networkEdges, type Edge } from "../components/builders/network";
import type { PlatformContext } from "../components/context";
import { MonitoringStack } from "../components/monitoringStack";
import { SecurityBaseline } from "../components/securityBaseline";
import { ServiceDeployment } from "../components/serviceDeployment";
import { K8S } from "../contract/types";
import type { Model, ResolvedService, ResolvedTask } from "../domain/model";
import { channelProxies } from "../domain/model/alerting";
import { BACKUP_STORE_SECRET_KEYS, type StackSettings } from "./settings";
import { taskNamespace } from "../domain/model/workloads";

/** Names of the platform-wide components; their children's names derive from these. */
export const BASELINE = "baseline";
export const MONITORING = "nexus";
export const BACKUP_STORAGE = "backups";
export const API_SERVER = "kubernetes-api-server";

export interface PlatformOutputs {
  environment: string;
  services: Record<string, { namespace: string; address: string; kind: string }>;
  /** `grafana` is absent where the monitoring registry turns Grafana off. */
  monitoring: { prometheus: pulumi.Output<string>; alertmanager: pulumi.Output<string>; grafana?: pulumi.Output<string>; rules: number };
  backups: Record<string, pulumi.Output<string>>;
  tasks: Record<string, TaskStatus>;
  networkPaths: string[];
}

/**
 * A task as the stack exports it: its runner, what runs it, and whether this stack runs it at
 * all. A skipped task says why, so an operator does not look for an object that is not there.
 */
export type TaskStatus =
  | { runner: ResolvedTask["runner"]; kind: ObjectKind; status: "scheduled" }
  | { runner: ResolvedTask["runner"]; kind: ObjectKind; status: "skipped"; reason: string };

/** Why a stack without the Command provider has no local-command tasks. */
export const LOCAL_COMMANDS_OFF = "localCommands is off for this stack";

/**
 * The Kubernetes types whose create and update the provider holds until the object is ready:
 * workloads until their pods are Ready (a Job until it completes), a Service until its selector
 * has ready endpoints, a claim until it is bound.
 */
export const AWAITED_TYPES: readonly string[] = [K8S.Deployment, K8S.StatefulSet, K8S.DaemonSet, K8S.Job, K8S.Pod, K8S.Service, K8S.PersistentVolumeClaim];

/** The wait a stack's `readyTimeout` gives each awaited object, as Pulumi's resource option. */
function readyTimeouts(seconds: number): pulumi.CustomTimeouts {
  return { create: `${seconds}s`, update: `${seconds}s` };
}

/**
 * Bounds the wait for readiness: every awaited object the platform registers gets the stack's
 * `readyTimeout` as its create and update timeout, so a workload that never becomes Ready fails
 * the deploy after that time instead of the provider's default (10 minutes per object). An
 * object whose component set its own timeouts keeps them: a Job waits for its own deadline.
 * Without a `readyTimeout`, nothing changes.
 */
export function boundedAwait(readyTimeoutSeconds: number | undefined): pulumi.ResourceTransformation | undefined {
  if (readyTimeoutSeconds === undefined) return undefined;
  const customTimeouts = readyTimeouts(readyTimeoutSeconds);
  return ({ type, props, opts }) => {
    if (!AWAITED_TYPES.includes(type) || (opts as pulumi.CustomResourceOptions).customTimeouts) return undefined;
    return { props, opts: { ...opts, customTimeouts } };
  };
}

/**
 * A component's wait, put on every object it creates: each custom resource below the component
 * depends on `dependencies` besides its own. Pulumi registers a component only once its dependsOn
 * have registered, and a child only once its parent has, so a dependsOn on the component itself
 * holds back even its children that wait for nothing: the component and then every child queue
 * behind the slowest dependency, one wave after another. On the objects instead, the component
 * registers at once and each object goes as soon as what it waits for has; the cluster sees the
 * same order. Nested components pass it on (transformations are inherited).
 */
export function waitingFor(dependencies: readonly pulumi.Resource[]): pulumi.ResourceTransformation {
  return ({ resource, props, opts }) => {
    // instanceof: CustomResource.isInstance reads a mark that is set only after the transformations ran.
    if (!(resource instanceof pulumi.CustomResource) || dependencies.length === 0) return undefined;
    const own = opts.dependsOn;
    const mine: pulumi.Input<pulumi.Resource>[] = own === undefined ? [] : Array.isArray(own) ? own : [own as pulumi.Input<pulumi.Resource>];
    return { props, opts: { ...opts, dependsOn: [...mine, ...dependencies] } };
  };
}

/** Services ordered so that every service comes after what it depends on (the model has no cycles). */
export function startOrder(services: readonly ResolvedService[]): ResolvedService[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: ResolvedService[] = [];
  const placed = new Set<string>();
  const place = (s: ResolvedService) => {
    if (placed.has(s.name)) return;
    placed.add(s.name);
    // The registry's dependsOn: the names of the services s calls, placed before it.
    for (const upstream of s.dependsOn) {
      const u = byName.get(upstream);
      if (u) place(u);
    }
    ordered.push(s);
  };
  services.forEach(place);
  return ordered;
}

/**
 * A backup job reads the target's credentials from the target's own Secret, so a password is
 * stored once: each secret the task declares must be one the target declares under the same key.
 */
export function backupSecretRefs(task: ResolvedTask, target: ResolvedService): SecretEnvRef[] {
  return task.secrets.map((ref) => {
    const own = target.secrets.find((t) => t.configKey === ref.configKey);
    if (!own) {
      throw new Error(
        `backup task ${task.name} (${task.source}) needs secret "${ref.configKey}", which its target ` +
          `${target.name} does not declare: add it to the target's secrets in orchestration.yaml`,
      );
    }
    return { env: ref.env, secretName: `${target.name}-secrets`, key: own.env };
  });
}

/**
 * The namespaces a task reads through the API, a read-only Role in each: those its clusterAccess
 * lists, else every namespace of the platform; none without clusterAccess.
 */
export function readNamespaces(task: ResolvedTask, namespaces: readonly { name: string }[]): string[] | undefined {
  if (!task.clusterAccess) return undefined;
  return [...(task.clusterAccess.namespaces ?? namespaces.map((n) => n.name))];
}

/**
 * What a deployment check checks: the workload of every service, in start order, as the platform
 * deploys it (a StatefulSet for a stateful service with storage, else a Deployment), and a hash of
 * the services' entries, which runs the check again whenever one of them changes.
 */
export function deploymentChecks(services: readonly ResolvedService[]): { workloads: CheckedWorkload[]; revision: string } {
  const ordered = startOrder(services);
  const workloads = ordered.map((s): CheckedWorkload => ({
    namespace: s.namespace,
    kind: s.stateful && s.storage ? "StatefulSet" : "Deployment",
    name: s.name,
  }));
  // Source lines are left out: editing another entry above a service does not re-run the check.
  return { workloads, revision: stableHash(ordered.map(({ source: _source, ...entry }) => entry)) };
}

/** The values of a task's own secrets by environment name, from the stack's secrets by config key. */
function taskSecrets(task: ResolvedTask, secrets: Readonly<Record<string, pulumi.Input<string>>>): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(task.secrets.map((r) => [r.env, secrets[r.configKey]!]));
}

/**
 * The bucket every backup job of the stack writes to, as the jobs refer to it; none when AWS is
 * off or nothing is backed up.
 */
function backupStorage(
  context: PlatformContext,
  aws: StackSettings["aws"],
  owner: string,
  backupTasks: readonly ResolvedTask[],
  opts: pulumi.ComponentResourceOptions,
): BackupStorageRef | undefined {
  if (!aws.enabled || backupTasks.length === 0) return undefined;
  const storage = new BackupStorage(BACKUP_STORAGE, { context, bucketName: aws.backupBucket, owner, source: backupTasks[0]!.source, tasks: backupTasks }, opts);
  return {
    bucketName: storage.bucketName,
    bucketArn: storage.bucketArn,
    kmsKeyArn: storage.kmsKeyArn,
    region: aws.region,
    oidcProviderArn: aws.oidcProviderArn,
    oidcIssuer: aws.oidcIssuer,
  };
}

/**
 * The S3-compatible store of a stack without AWS, with its credentials from the stack's secrets
 * (by config key, like the registries' secrets); none when the stack names no store.
 */
export function backupStore(settings: StackSettings, secrets: Readonly<Record<string, pulumi.Input<string>>>): BackupStoreRef | undefined {
  if (!settings.backupStore) return undefined;
  const { AWS_ACCESS_KEY_ID: idKey, AWS_SECRET_ACCESS_KEY: secretKey } = BACKUP_STORE_SECRET_KEYS;
  const [accessKeyId, secretAccessKey] = [secrets[idKey], secrets[secretKey]];
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error(`the stack names a backup store but not its credentials: set ${idKey} and ${secretKey} with pulumi config set --secret`);
  }
  return { ...settings.backupStore, accessKeyId, secretAccessKey };
}

/**
 * Composes the whole platform from the model. The stack entry calls this with the real
 * configuration; tests and `nexus audit` call it under mocks.
 */
export function buildPlatform(
  model: Model,
  settings: StackSettings,
  secrets: Readonly<Record<string, pulumi.Input<string>>>,
  platformOpts: pulumi.ComponentResourceOptions = {},
): PlatformOutputs {
  // Every component gets these options, and through them every object it registers.
  const bound = boundedAwait(settings.readyTimeoutSeconds);
  const opts: pulumi.ComponentResourceOptions = bound ? { ...platformOpts, transformations: [...(platformOpts.transformations ?? []), bound] } : platformOpts;
  const context: PlatformContext = { environment: model.environment.name, skipAwait: settings.skipAwait };
  const monitoringNs = model.monitoring.stack.namespace;
  const k8sTasks = model.tasks.filter((t) => t.runner !== "local-command");
  const backupTasks = model.tasks.filter((t) => t.kind === "backup");
  // What the objects of a component wait for (the registry's dependsOn are names).
  const after = (...dependencies: pulumi.Resource[]): pulumi.ComponentResourceOptions => ({
    ...opts,
    transformations: [...(opts.transformations ?? []), waitingFor(dependencies)],
  });

  // Each in-cluster task's namespace, worked out once.
  const taskNs = new Map(k8sTasks.map((t) => [t.name, taskNamespace(t, model.services)]));
  const nsOf = (t: ResolvedTask): string => taskNs.get(t.name)!;
  // Prometheus's pods carry selectorLabels("prometheus") in both monitoring modes: only they scrape.
  const scraper = { namespace: monitoringNs, name: "prometheus" };
  const edges: Edge[] = networkEdges({
    services: model.services.map((s) => ({
      name: s.name,
      namespace: s.namespace,
      port: s.port,
      dependsOn: s.dependsOn,
      ...(s.metrics ? { metricsPort: s.metrics.port ?? s.port } : {}),
    })),
    tasks: k8sTasks.map((t) => ({ name: t.name, namespace: nsOf(t), target: t.target, dependsOn: t.dependsOn })),
    scraper,
  });

  // Read once: every workload that calls the Kubernetes API gets egress to exactly these addresses.
  // Listed by the stack where the cluster publishes no address for its API server.
  const apiServer = settings.apiServerEndpoints ? pulumi.output(settings.apiServerEndpoints) : new KubernetesApiServer(API_SERVER, opts).endpoints;

  const baseline = new SecurityBaseline(
    BASELINE,
    {
      context,
      namespaces: model.namespaces.map((n) => ({ name: n.name, description: n.description, owner: n.owner, source: n.source, quota: n.quota })),
      podSecurity: { level: model.security.podSecurity.level, source: model.security.podSecurity.source },
      network: {
        defaultDeny: model.security.network.defaultDeny,
        allowDns: model.security.network.allowDns,
        source: model.security.network.source,
        // Rules by AWS service become the ranges of the stack's region.
        egress: [...model.security.network.egress, ...awsEgressRules(model.security.network.awsEgress, settings.aws.enabled ? settings.aws.region : undefined)],
        edges,
        platformSources: [scraper],
        openNamespaces: [monitoringNs],
      },
      rbac: model.security.rbac,
    },
    opts,
  );

  // What a component waits for: its namespace's admission objects (not the whole baseline), and
  // for a service, the workloads of the services it calls (the registry's dependsOn).
  const admittedIn = (namespace: string): readonly pulumi.Resource[] => baseline.admission[namespace] ?? [baseline];
  const deployed = new Map<string, ServiceDeployment>();
  const services: PlatformOutputs["services"] = {};
  for (const s of startOrder(model.services)) {
    const upstream = s.dependsOn.flatMap((name) => deployed.get(name)?.workload ?? []);
    const component = new ServiceDeployment(
      s.name,
      { context, service: s, namespace: s.namespace, edges, secrets },
      after(...admittedIn(s.namespace), ...upstream),
    );
    deployed.set(s.name, component);
    services[s.name] = { namespace: s.namespace, address: component.address, kind: component.workloadKind };
  }

  const storage = backupStorage(context, settings.aws, model.monitoring.stack.owner, backupTasks, opts);
  const store = backupStore(settings, secrets);
  const backups: PlatformOutputs["backups"] = {};
  const tasks: PlatformOutputs["tasks"] = {};
  for (const t of model.tasks) {
    if (t.kind === "backup") {
      const target = model.services.find((s) => s.name === t.target)!;
      const job = new BackupJob(
        t.name,
        {
          context,
          task: t,
          target,
          edges,
          secretEnv: backupSecretRefs(t, target),
          // The first claim of the target's StatefulSet (its volume claim template "data").
          ...(t.backup?.method === "volume-archive" ? { sourceClaimName: `data-${target.name}-0` } : {}),
          ...(storage ? { storage } : {}),
          ...(store ? { store } : {}),
        },
        after(...admittedIn(nsOf(t)), deployed.get(target.name)!.workload),
      );
      backups[t.name] = job.destination;
      tasks[t.name] = { runner: t.runner, kind: "CronJob", status: "scheduled" };
    } else if (!t.enabled && t.runner !== "k8s-cronjob") {
      // A disabled CronJob stays, suspended, so its history survives; a Job or a local command
      // would run on this deploy, so a disabled one is not created at all.
      tasks[t.name] = { runner: t.runner, kind: OBJECT_KIND[t.runner], status: "skipped", reason: `disabled in ${model.environment.name}` };
    } else if (t.runner === "local-command" && !settings.localCommands) {
      tasks[t.name] = { runner: t.runner, kind: OBJECT_KIND[t.runner], status: "skipped", reason: LOCAL_COMMANDS_OFF };
    } else {
      // A local command runs beside Pulumi: no namespace, and nothing in the cluster to wait for.
      const inCluster = t.runner !== "local-command";
      // A task reading the cluster gets a Role in each namespace it reads (its own list, else all),
      // created once those exist; a deployment check runs once every service's workload is ready.
      const reads = inCluster ? readNamespaces(t, model.namespaces) : undefined;
      const checks = inCluster && t.kind === "deployment-check" ? deploymentChecks(model.services) : undefined;
      const waitFor = [...admittedIn(nsOf(t)), ...(reads ?? []).flatMap(admittedIn), ...(checks ? [...deployed.values()].map((d) => d.workload) : [])];
      const task = new AutomationTask(
        t.name,
        {
          context,
          task: t,
          ...(inCluster ? { namespace: nsOf(t) } : {}),
          edges,
          localSecrets: taskSecrets(t, secrets),
          ...(reads ? { clusterAccess: { namespaces: reads, apiServer } } : {}),
          ...(checks ? { checks } : {}),
        },
        inCluster ? after(...new Set(waitFor)) : opts,
      );
      tasks[t.name] = { runner: t.runner, kind: task.kind, status: "scheduled" };
    }
  }

  const monitoring = new MonitoringStack(
    MONITORING,
    {
      context,
      namespace: monitoringNs,
      owner: model.monitoring.stack.owner,
      stack: model.monitoring.stack,
      routing: model.monitoring.routing,
      channels: model.monitoring.channels,
      alerts: model.monitoring.alerts,
      slos: model.monitoring.slos,
      dashboards: model.monitoring.dashboards,
      scrapeTargets: model.services
        .filter((s) => s.metrics)
        .map((s) => ({ name: s.name, namespace: s.namespace, port: s.metrics!.port ?? s.port, metricsPath: s.metrics!.path, owner: s.owner })),
      // A disabled task is off on purpose (a disabled CronJob stays, suspended): no alert expects its runs.
      backupTasks: backupTasks
        .filter((t) => t.enabled && t.schedule)
        .map((t) => ({ name: t.name, namespace: nsOf(t), owner: t.owner, schedule: t.schedule!, source: t.source })),
      tasks: k8sTasks.filter((t) => t.enabled && t.kind !== "backup").map((t) => monitoredTask(t, nsOf(t))),
      watchedNamespaces: model.namespaces.map((n) => n.name),
      apiServer,
      teams: model.teams,
      secrets,
      serviceOwners: Object.fromEntries(model.services.map((s) => [s.name, s.owner])),
      proxies: channelProxies(model.security.network.egress),
    },
    after(...admittedIn(monitoringNs)),
  );

  return {
    environment: model.environment.name,
    services,
    monitoring: {
      prometheus: monitoring.prometheusUrl,
      alertmanager: monitoring.alertmanagerUrl,
      ...(monitoring.grafanaUrl ? { grafana: monitoring.grafanaUrl } : {}),
      rules: monitoring.ruleCount,
    },
    backups,
    tasks,
    networkPaths: edges.map((e) => `${e.from.namespace}/${e.from.name} -> ${e.to.namespace}/${e.to.name}:${e.port} (${e.reason})`),
  };
}
