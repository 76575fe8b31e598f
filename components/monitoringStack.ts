import * as pulumi from "@pulumi/pulumi";
import type { Model } from "../domain/model";
import type { ChannelProxies } from "../domain/model/alerting";
import {
  alertmanagerConfig,
  alertRuleGroups,
  assertUniqueAlertNames,
  backupAlertRules,
  channelSecretKeys,
  ruleCount,
  sloRuleGroups,
  taskAlertRules,
  taskRunRecords,
  type BackupTask,
  type MonitoredTask,
  type ScrapeTarget,
  toYaml,
} from "./builders/monitoring";
import type { PlatformContext } from "./context";
import { alertmanager } from "./monitoringAlertmanager";
import type { ApiServerEndpoint } from "./builders/network";
import { grafana } from "./monitoringGrafana";
import { kubeStateMetrics } from "./monitoringKubeStateMetrics";
import { operatorPrometheus, standalonePrometheus, type RuleFiles } from "./monitoringPrometheus";
import { MonitoringScope, sha256 } from "./monitoringScope";

export { ALERTMANAGER_PORT } from "./monitoringAlertmanager";
export { GRAFANA_PORT } from "./monitoringGrafana";
export { PROMETHEUS_PORT } from "./monitoringPrometheus";

export interface MonitoringStackArgs {
  context: PlatformContext;
  /** Kubernetes namespace, already created. */
  namespace: string;
  /** Team answerable for the monitoring stack itself (labels), and for alerts nobody else owns. */
  owner: string;
  stack: Model["monitoring"]["stack"];
  routing: Model["monitoring"]["routing"];
  channels: Model["monitoring"]["channels"];
  alerts: Model["monitoring"]["alerts"];
  slos: Model["monitoring"]["slos"];
  dashboards: Model["monitoring"]["dashboards"];
  /** Services exporting metrics; `port` is the metrics port. */
  scrapeTargets: readonly ScrapeTarget[];
  /** Backup CronJobs; `name` is the CronJob's name in Kubernetes. */
  backupTasks: readonly BackupTask[];
  teams: Model["teams"];
  /** Channel secrets by Pulumi config key: secret outputs, never plain values. */
  secrets: Readonly<Record<string, pulumi.Input<string>>>;
  /** Owning team per service, for alert labels; services of `scrapeTargets` are known already. */
  serviceOwners?: Readonly<Record<string, string>>;
  /** In-cluster tasks other than backups (enabled ones): their failure and missed-schedule alerts and run records. */
  tasks: readonly MonitoredTask[];
  /** Namespaces whose CronJobs, Jobs and Pods kube-state-metrics reports: the platform's. */
  watchedNamespaces: readonly string[];
  /** Where the Kubernetes API server answers (`readApiServerEndpoints`), for the egress of the parts reading it. */
  apiServer: pulumi.Input<readonly ApiServerEndpoint[]>;
  /** The egress proxy of each channel type that must use one (security.yaml `proxyFor`); absent, every channel goes direct. */
  proxies?: ChannelProxies;
}

/**
 * Prometheus, Alertmanager and Grafana (unless the registry turns it off), configured entirely
 * from the monitoring registry.
 *
 * `standalone` runs Prometheus from a ConfigMap of generated configuration and rule files.
 * `operator` leaves Prometheus to the Prometheus Operator: a Prometheus resource plus
 * PrometheusRule and ServiceMonitor resources. In both modes Alertmanager is a Deployment of our
 * own reading its configuration from a Secret, because that configuration holds channel secrets
 * and an AlertmanagerConfig resource would only reach an operator-managed Alertmanager.
 *
 * Each part is built by a function of its own module; all objects stay direct children of this
 * component, so their URNs do not depend on that split.
 */
export class MonitoringStack extends pulumi.ComponentResource {
  public readonly prometheusUrl: pulumi.Output<string>;
  public readonly alertmanagerUrl: pulumi.Output<string>;
  /** Absent where the registry turns Grafana off (`stack.grafana.enabled: false`). */
  public readonly grafanaUrl: pulumi.Output<string> | undefined;
  /** Alerting and recording rules generated, across every rule file. */
  public readonly ruleCount: number;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    // Everything that can be wrong in the arguments is found before anything is registered.
    const rules = ruleFilesFor(args);
    const secretKeys = requiredSecretKeys(args);
    // Hashed with placeholders for the secrets: a plain hash of the real file would let anyone
    // reading the Deployment test guesses of a weak password offline, and a secret hash would
    // hide the whole pod spec from previews. Rotating only a secret needs a rollout restart.
    const alertmanagerChecksum = sha256(renderAlertmanager(args, Object.fromEntries(secretKeys.map((k) => [k, `<secret:${k}>`]))));
    super("nexus:monitoring:MonitoringStack", name, {}, opts);
    const { context, namespace, owner, stack } = args;
    const scope = new MonitoringScope({ name, parent: this, context, namespace, owner, source: stack.source });

    const am = alertmanager(scope, { component: stack.alertmanager, config: alertmanagerYaml(args, secretKeys), checksum: alertmanagerChecksum });
    const prometheusPart = {
      component: stack.prometheus,
      scrapeInterval: stack.scrapeInterval,
      retention: stack.retention,
      rules,
      scrapeTargets: args.scrapeTargets,
      alertmanager: am,
      kubeStateMetrics: kubeStateMetrics(scope, { component: stack.kubeStateMetrics, namespaces: args.watchedNamespaces, apiServer: args.apiServer }),
      apiServer: args.apiServer,
    };
    const prom = stack.mode === "standalone" ? standalonePrometheus(scope, prometheusPart) : operatorPrometheus(scope, prometheusPart);
    // Without Grafana the dashboards are only validated (by the loader), not provisioned.
    const graf = stack.grafana.enabled
      ? grafana(scope, {
          component: stack.grafana,
          prometheusUrl: `http://${prom.address}`,
          scrapeInterval: stack.scrapeInterval,
          dashboards: args.dashboards,
        })
      : undefined;

    this.ruleCount = ruleCount(Object.values(rules));
    this.prometheusUrl = prom.url;
    this.alertmanagerUrl = am.url;
    this.grafanaUrl = graf?.url;
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      alertmanagerUrl: this.alertmanagerUrl,
      ...(this.grafanaUrl ? { grafanaUrl: this.grafanaUrl } : {}),
      ruleCount: this.ruleCount,
    });
  }
}

function ruleFilesFor(args: MonitoringStackArgs): RuleFiles {
  const ownership = {
    services: {
      ...Object.fromEntries(args.scrapeTargets.map((t) => [t.name, t.owner])),
      ...args.serviceOwners,
    },
    fallback: args.owner,
  };
  const rules = {
    alerts: alertRuleGroups({ alerts: args.alerts, ownership }),
    slos: sloRuleGroups(args.slos, ownership),
    backups: backupAlertRules(args.backupTasks),
    tasks: taskAlertRules(args.tasks),
    runs: taskRunRecords([...args.backupTasks.map((t): MonitoredTask => ({ ...t, kind: "backup", runner: "k8s-cronjob" })), ...args.tasks]),
  };
  assertUniqueAlertNames(Object.values(rules));
  return rules;
}

function requiredSecretKeys(args: MonitoringStackArgs): string[] {
  const keys = channelSecretKeys(args.channels);
  const missing = keys.filter((key) => args.secrets[key] === undefined);
  if (missing.length > 0) {
    throw new Error(`monitoring channels need the secrets ${missing.join(", ")}: ` + `pulumi config set --secret KEY VALUE (${args.stack.source})`);
  }
  return keys;
}

/** alertmanager.yml with the real secret values, kept a secret output. */
function alertmanagerYaml(args: MonitoringStackArgs, secretKeys: readonly string[]): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all(secretKeys.map((key) => args.secrets[key]!))
      .apply((values) => renderAlertmanager(args, Object.fromEntries(secretKeys.map((k, i) => [k, values[i]!])))),
  );
}

/** alertmanager.yml with the given secret values; the caller decides whether they are real. */
function renderAlertmanager(args: MonitoringStackArgs, secrets: Record<string, string>): string {
  return toYaml(
    alertmanagerConfig({
      channels: args.channels,
      routing: args.routing,
      alerts: args.alerts,
      slos: args.slos,
      teams: args.teams,
      backupTasks: args.backupTasks,
      tasks: args.tasks,
      secrets,
      ...(args.proxies !== undefined ? { proxies: args.proxies } : {}),
    }),
  );
}
