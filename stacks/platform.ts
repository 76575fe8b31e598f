import * as pulumi from "@pulumi/pulumi";
import { AutomationTask } from "../components/automationTask";
import { BackupJob } from "../components/backupJob";
import { BackupStorage } from "../components/backupStorage";
import type { SecretEnvRef } from "../components/builders/backup";
import { networkEdges, type Edge } from "../components/builders/network";
import type { PlatformContext } from "../components/context";
import { MonitoringStack } from "../components/monitoringStack";
import { SecurityBaseline } from "../components/securityBaseline";
import { ServiceDeployment } from "../components/serviceDeployment";
import type { Model, ResolvedService, ResolvedTask } from "../domain/model";
import type { StackSettings } from "./settings";

/** Names of the platform-wide components; their children's names derive from these. */
export const BASELINE = "baseline";
export const MONITORING = "nexus";
export const BACKUP_STORAGE = "backups";

export interface PlatformOutputs {
  environment: string;
  services: Record<string, { namespace: string; address: string; kind: string }>;
  monitoring: { prometheus: pulumi.Output<string>; alertmanager: pulumi.Output<string>; grafana: pulumi.Output<string>; rules: number };
  backups: Record<string, pulumi.Output<string>>;
  tasks: Record<string, { runner: string; kind: string }>;
  networkPaths: string[];
}

/** Services ordered so that every service comes after what it depends on (the model has no cycles). */
export function startOrder(services: readonly ResolvedService[]): ResolvedService[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: ResolvedService[] = [];
  const placed = new Set<string>();
  const place = (s: ResolvedService) => {
    if (placed.has(s.name)) return;
    placed.add(s.name);
    for (const d of s.dependsOn) {
      const dep = byName.get(d);
      if (dep) place(dep);
    }
    ordered.push(s);
  };
  services.forEach(place);
  return ordered;
}

/** The namespace a task's pods run in: its own, else its target's. */
export function taskNamespace(task: ResolvedTask, services: readonly ResolvedService[]): string {
  const ns = task.namespace ?? services.find((s) => s.name === task.target)?.namespace;
  if (ns === undefined) throw new Error(`task ${task.name} (${task.source}) has neither namespace nor target`);
  return ns;
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
 * Composes the whole platform from the model. The stack entry calls this with the real
 * configuration; tests and `nexus audit` call it under mocks.
 */
export function buildPlatform(
  model: Model,
  settings: StackSettings,
  secrets: Readonly<Record<string, pulumi.Input<string>>>,
  opts: pulumi.ComponentResourceOptions = {},
): PlatformOutputs {
  const context: PlatformContext = { environment: model.environment.name, skipAwait: settings.skipAwait };
  const monitoringNs = model.monitoring.stack.namespace;
  const k8sTasks = model.tasks.filter((t) => t.runner !== "local-command");

  const edges: Edge[] = networkEdges({
    services: model.services.map((s) => ({
      name: s.name,
      namespace: s.namespace,
      port: s.port,
      dependsOn: s.dependsOn,
      ...(s.metrics ? { metricsPort: s.metrics.port ?? s.port } : {}),
    })),
    tasks: k8sTasks.map((t) => ({ name: t.name, namespace: taskNamespace(t, model.services), target: t.target, dependsOn: t.dependsOn })),
    monitoringNamespace: monitoringNs,
  });

  const baseline = new SecurityBaseline(
    BASELINE,
    {
      context,
      namespaces: model.namespaces.map((n) => ({ name: n.name, owner: n.owner, source: n.source, quota: n.quota })),
      podSecurity: { level: model.security.podSecurity.level, source: model.security.podSecurity.source },
      network: {
        defaultDeny: model.security.network.defaultDeny,
        allowDns: model.security.network.allowDns,
        source: model.security.network.source,
        egress: model.security.network.egress,
        edges,
        openNamespaces: [monitoringNs],
      },
      rbac: model.security.rbac,
    },
    opts,
  );
  const afterBaseline = { ...opts, dependsOn: [baseline] };

  const deployed = new Map<string, ServiceDeployment>();
  const services: PlatformOutputs["services"] = {};
  for (const s of startOrder(model.services)) {
    const dependencies = s.dependsOn.flatMap((d) => deployed.get(d) ?? []);
    const component = new ServiceDeployment(
      s.name,
      { context, service: s, namespace: s.namespace, edges, secrets },
      { ...opts, dependsOn: [baseline, ...dependencies] },
    );
    deployed.set(s.name, component);
    services[s.name] = { namespace: s.namespace, address: component.address, kind: component.workloadKind };
  }

  const storage =
    settings.aws.enabled && model.tasks.some((t) => t.kind === "backup")
      ? new BackupStorage(
          BACKUP_STORAGE,
          {
            context,
            bucketName: settings.aws.backupBucket,
            owner: model.monitoring.stack.owner,
            source: model.tasks.find((t) => t.kind === "backup")!.source,
            tasks: model.tasks.filter((t) => t.kind === "backup"),
            objectLock: model.tasks.some((t) => t.backup?.destination.objectLock === true),
          },
          opts,
        )
      : undefined;

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
          namespace: target.namespace,
          targetNamespace: target.namespace,
          secretEnv: backupSecretRefs(t, target),
          ...(t.backup?.method === "volume-archive" ? { sourceClaimName: `data-${target.name}-0` } : {}),
          ...(storage && settings.aws.enabled
            ? {
                storage: {
                  bucketName: storage.bucketName,
                  bucketArn: storage.bucketArn,
                  kmsKeyArn: storage.kmsKeyArn,
                  region: settings.aws.region,
                  oidcProviderArn: settings.aws.oidcProviderArn,
                  oidcIssuer: settings.aws.oidcIssuer,
                },
              }
            : {}),
        },
        { ...opts, dependsOn: [baseline, deployed.get(target.name)!] },
      );
      backups[t.name] = job.destination;
      tasks[t.name] = { runner: t.runner, kind: "CronJob" };
      continue;
    }
    if (t.runner === "local-command" && !settings.localCommands) {
      tasks[t.name] = { runner: t.runner, kind: "skipped: localCommands is off for this stack" };
      continue;
    }
    const localSecrets = Object.fromEntries(t.secrets.map((r) => [r.env, secrets[r.configKey]!]));
    const task = new AutomationTask(
      t.name,
      {
        context,
        task: t,
        namespace: t.runner === "local-command" ? "" : taskNamespace(t, model.services),
        secretEnv: [],
        localSecrets,
      },
      t.runner === "local-command" ? opts : afterBaseline,
    );
    tasks[t.name] = { runner: t.runner, kind: task.kind };
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
      backupTasks: model.tasks
        .filter((t) => t.kind === "backup" && t.schedule)
        .map((t) => ({ name: t.name, namespace: taskNamespace(t, model.services), owner: t.owner, schedule: t.schedule!, source: t.source })),
      teams: model.teams,
      secrets,
      serviceOwners: Object.fromEntries(model.services.map((s) => [s.name, s.owner])),
    },
    afterBaseline,
  );

  return {
    environment: model.environment.name,
    services,
    monitoring: {
      prometheus: monitoring.prometheusUrl,
      alertmanager: monitoring.alertmanagerUrl,
      grafana: monitoring.grafanaUrl,
      rules: monitoring.ruleCount,
    },
    backups,
    tasks,
    networkPaths: edges.map((e) => `${e.from.namespace}/${e.from.name ?? "*"} -> ${e.to.namespace}/${e.to.name}:${e.port} (${e.reason})`),
  };
}
