/**
 * Pure builders for the monitoring stack: Prometheus rule files and configuration, the
 * Alertmanager configuration and Grafana provisioning, as plain objects. No Pulumi here, so
 * every generated file can be checked exactly in tests and by the real promtool and amtool.
 */
import YAML from "yaml";
import { escapeYamlUnsafe, hasYamlUnsafe } from "../../contract/escape/yaml";
import type { Model, ResolvedAlert, ResolvedChannel, ResolvedDashboard, ResolvedSlo, ResolvedTask, ResolvedTeam } from "../../domain/model";
import type { ChannelProxies } from "../../domain/model/alerting";
import { longestCronIntervalSeconds } from "../../domain/schema/cron";

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

export type Rule = AlertingRule | RecordingRule;

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

/** A Prometheus rule file, also the `spec` of a PrometheusRule custom resource. */
export interface RuleFile {
  groups: RuleGroup[];
}

/** Who answers for an alert: the team owning its service, else the monitoring stack's team. */
export interface Ownership {
  /** Owning team per service name. */
  services: Readonly<Record<string, string>>;
  /** Team for alerts without a service, or of a service nobody is listed for. */
  fallback: string;
}

export interface BackupTask {
  /** The CronJob's name in Kubernetes: kube-state-metrics reports it as `cronjob`. */
  name: string;
  namespace: string;
  /** The owning team; its channel receives the task's alerts. */
  owner: string;
  schedule: string;
  source: string;
}

/** The headless Service whose DNS name lists the ready pods of a service that exports metrics. */
export function podsServiceName(service: string): string {
  return `${service}-pods`;
}

export interface ScrapeTarget {
  /** The service name; also its Kubernetes Service name and the Prometheus `job` label. */
  name: string;
  namespace: string;
  port: number;
  metricsPath: string;
  owner: string;
}

/**
 * The text of a generated file. No folding and no anchors: PromQL stays as written, and the
 * files read the same to a reviewer as to Prometheus.
 */
export function toYaml(value: unknown): string {
  const doc = new YAML.Document(value, { aliasDuplicateObjects: false });
  // Alert summaries are free text, and Prometheus and Alertmanager (go-yaml) break lines at LS,
  // PS and NEL where this package does not: such a string is written double-quoted, with each of
  // those characters as an escape.
  YAML.visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === "string" && hasYamlUnsafe(node.value)) node.type = "QUOTE_DOUBLE";
    },
  });
  return escapeYamlUnsafe(doc.toString({ lineWidth: 0 }));
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/**
 * `api-down` → `ApiDown`. Registry names are DNS labels; Prometheus alert names are read by
 * people in notifications and conventionally CamelCase. A leading digit is not a valid name.
 */
export function toPrometheusAlertName(name: string): string {
  const camel = name
    .split("-")
    .filter((part) => part !== "")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
  return /^[A-Za-z_]/.test(camel) ? camel : `Alert${camel}`;
}

/**
 * Grafana dashboard uids may be at most 40 characters; registry names may be 63. Long names keep
 * a readable prefix plus a short hash so two long names sharing a prefix stay distinct.
 */
export function grafanaUid(name: string): string {
  if (name.length <= 40) return name;
  let hash = 0x811c9dc5;
  for (const char of name) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${name.slice(0, 31)}-${hash.toString(16).padStart(8, "0")}`;
}

/** Throws when two rules would fire under one alert name: overrides route by that name. */
export function assertUniqueAlertNames(files: readonly RuleFile[]): void {
  const seen = new Map<string, string>();
  for (const file of files) {
    for (const group of file.groups) {
      for (const rule of group.rules) {
        if (!("alert" in rule)) continue;
        const previous = seen.get(rule.alert);
        if (previous !== undefined && previous !== group.name) {
          throw new Error(`alert name ${rule.alert} is generated in both rule groups "${previous}" and ` + `"${group.name}": rename one registry entry`);
        }
        seen.set(rule.alert, group.name);
      }
    }
  }
}

export function ruleCount(files: readonly RuleFile[]): number {
  return files.reduce((n, f) => n + f.groups.reduce((m, g) => m + g.rules.length, 0), 0);
}

// ---------------------------------------------------------------------------------------------
// Alert rules from the registry
// ---------------------------------------------------------------------------------------------

/** Alerts without a service gather here. */
export const PLATFORM_GROUP = "platform";

export function alertRuleGroups(input: { alerts: readonly ResolvedAlert[]; ownership: Ownership }): RuleFile {
  const groups = new Map<string, Rule[]>();
  const names = new Map<string, string>();
  for (const alert of input.alerts) {
    if (!alert.enabled) continue;
    const name = toPrometheusAlertName(alert.name);
    const clash = names.get(name);
    if (clash !== undefined) {
      throw new Error(`alerts "${clash}" and "${alert.name}" both become Prometheus alert ${name}: ` + `rename one (${alert.source})`);
    }
    names.set(name, alert.name);
    const team = ownerOf(alert.service, input.ownership);
    const rule: AlertingRule = {
      alert: name,
      expr: alert.expr,
      for: alert.for,
      labels: {
        severity: alert.severity,
        ...(alert.service !== undefined ? { service: alert.service } : {}),
        owner: team,
        team,
      },
      annotations: {
        summary: alert.summary,
        ...(alert.description !== undefined ? { description: alert.description } : {}),
        ...(alert.runbook !== undefined ? { runbook_url: alert.runbook } : {}),
        nexus_source: alert.source,
      },
    };
    const group = alert.service ?? PLATFORM_GROUP;
    groups.set(group, [...(groups.get(group) ?? []), rule]);
  }
  return { groups: [...groups].map(([name, rules]) => ({ name, rules })) };
}

function ownerOf(service: string | undefined, ownership: Ownership): string {
  return (service !== undefined ? ownership.services[service] : undefined) ?? ownership.fallback;
}

// ---------------------------------------------------------------------------------------------
// SLOs: multi-window, multi-burn-rate alerts (Google SRE workbook, "Alerting on SLOs")
// ---------------------------------------------------------------------------------------------

/**
 * Each pair fires only while both the long and the short window burn faster than the factor:
 * the long window proves the burn is significant, the short one that it is still going on, so
 * the alert resets minutes after the burn stops. 14.4x over 1h spends 2% of a 30-day budget.
 */
export const BURN_RATES = [
  { severity: "critical", long: "1h", short: "5m", factor: 14.4 },
  { severity: "critical", long: "6h", short: "30m", factor: 6 },
  { severity: "warning", long: "1d", short: "2h", factor: 3 },
  { severity: "warning", long: "3d", short: "6h", factor: 1 },
] as const;

export const SLO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;

export const sloErrorRatioRecord = (window: string) => `slo:sli_error:ratio_rate${window}`;

/** 1 - objective/100, printed without binary floating-point noise (99.9 → "0.001"). */
export function errorBudget(objective: number): string {
  return String(Number((1 - objective / 100).toPrecision(12)));
}

export function sloRuleGroups(slos: readonly ResolvedSlo[], ownership?: Ownership): RuleFile {
  return {
    groups: slos.map((slo) => {
      for (const [field, query] of Object.entries(slo.sli)) {
        if (!query.includes("{{window}}")) {
          // Without the placeholder every window measures the same thing and no alert is right.
          throw new Error(`SLO ${slo.name}: sli.${field} has no [{{window}}] range (${slo.source})`);
        }
      }
      const selector = `{slo="${slo.name}"}`;
      const team = ownership ? ownerOf(slo.service, ownership) : undefined;
      const budget = errorBudget(slo.objective);
      const records: RecordingRule[] = SLO_WINDOWS.map((window) => ({
        record: sloErrorRatioRecord(window),
        expr: `(${withWindow(slo.sli.errorQuery, window)})` + ` / (${withWindow(slo.sli.totalQuery, window)})`,
        labels: { slo: slo.name, service: slo.service },
      }));
      const alerts: AlertingRule[] = (["critical", "warning"] as const).map((severity) => {
        const pairs = BURN_RATES.filter((b) => b.severity === severity);
        const expr = pairs
          .map(
            (b) =>
              `(${sloErrorRatioRecord(b.long)}${selector} > (${b.factor} * ${budget})` +
              ` and ${sloErrorRatioRecord(b.short)}${selector} > (${b.factor} * ${budget}))`,
          )
          .join(" or ");
        const windows = pairs.map((b) => `${b.factor}x over ${b.long} and ${b.short}`).join(", or ");
        return {
          alert: `${toPrometheusAlertName(slo.name)}ErrorBudgetBurn`,
          expr,
          labels: {
            severity,
            service: slo.service,
            slo: slo.name,
            ...(team !== undefined ? { owner: team, team } : {}),
          },
          annotations: {
            summary:
              `SLO ${slo.name} (${slo.objective}% over ${slo.window})` + " is burning its error budget " + (severity === "critical" ? "fast" : "steadily"),
            description: (slo.description ? `${slo.description} ` : "") + `Error ratio above ${windows} times the budget of ${budget}.`,
            nexus_source: slo.source,
          },
        };
      });
      return { name: `slo-${slo.name}`, rules: [...records, ...alerts] };
    }),
  };
}

function withWindow(query: string, window: string): string {
  return query.split("{{window}}").join(window);
}

// ---------------------------------------------------------------------------------------------
// Backups: a failed or missed backup must never again go unnoticed
// ---------------------------------------------------------------------------------------------

export const BACKUP_GROUP = "backups";
export const BACKUP_MISSED = "BackupMissed";
export const BACKUP_FAILED = "BackupFailed";
export const BACKUP_SUSPENDED = "BackupSuspended";
/** Label that lets Alertmanager send backup alerts to the owning team rather than by severity. */
export const BACKUP_CATEGORY = { label: "category", value: "backup" } as const;

/**
 * The registry says the task runs (disabled tasks get no alerts), but its CronJob is suspended in
 * the cluster (by hand, or by a tool that drifted from the stack): no run will come. It fires long
 * before a missed schedule would, and the same way for a daily and a monthly task.
 */
function suspendedRule(task: { name: string; namespace: string; source: string }, what: "Task" | "Backup", labels: Record<string, string>): AlertingRule {
  return {
    alert: what === "Backup" ? BACKUP_SUSPENDED : TASK_SUSPENDED,
    expr: `max(kube_cronjob_spec_suspend${cronSelector(task)}) == 1`,
    for: SUSPENDED_FOR,
    labels,
    annotations: {
      summary: `${what} ${task.name} is suspended in the cluster: it will not run`,
      description: `CronJob ${task.namespace}/${task.name} has spec.suspend true, though the registry enables it: the next \`pulumi up\` resumes it, or kubectl -n ${task.namespace} patch cronjob ${task.name} -p '{"spec":{"suspend":false}}'.`,
      runbook_url: TASK_RUNBOOK,
      nexus_source: task.source,
    },
  };
}

/** Long enough to ride out a deliberate pause of a few minutes, short against any schedule. */
const SUSPENDED_FOR = "2m";

export function backupAlertRules(tasks: readonly BackupTask[]): RuleFile {
  if (tasks.length === 0) return { groups: [] };
  const rules = tasks.flatMap((task): AlertingRule[] => {
    const threshold = missedThreshold(task.schedule);
    const labels = { [BACKUP_CATEGORY.label]: BACKUP_CATEGORY.value, ...taskLabels({ ...task, kind: "backup" }) };
    return [
      {
        alert: BACKUP_MISSED,
        expr: cronJobMissedExpr(task),
        for: "15m",
        labels: { severity: "critical", ...labels },
        annotations: {
          summary: `Backup ${task.name} has not succeeded for more than ${humanSeconds(threshold)}` + ` (schedule "${task.schedule}")`,
          description:
            `No successful run of CronJob ${task.namespace}/${task.name} within two schedule periods, or its last` +
            " slot passed without a run, or the CronJob is not visible to kube-state-metrics.",
          nexus_source: task.source,
        },
      },
      {
        alert: BACKUP_FAILED,
        expr: cronJobFailedExpr(task),
        labels: { severity: "warning", ...labels },
        annotations: {
          summary: `The latest run of backup ${task.name} failed`,
          description:
            `A Job of CronJob ${task.namespace}/${task.name} failed` + " after the last successful run:" + ` see kubectl -n ${task.namespace} get jobs.`,
          nexus_source: task.source,
        },
      },
      suspendedRule(task, "Backup", { severity: "critical", ...labels }),
    ];
  });
  return { groups: [{ name: BACKUP_GROUP, rules }] };
}

// ---------------------------------------------------------------------------------------------
// Tasks: every in-cluster task that fails or does not run on schedule is an alert
// ---------------------------------------------------------------------------------------------

/** An in-cluster task of the automation registry, as its alerts and run records see it. */
export type MonitoredTask = {
  /** The CronJob's or Job's name in Kubernetes: kube-state-metrics reports it as `cronjob` or `job_name`. */
  name: string;
  namespace: string;
  /** The owning team; its channel receives the task's alerts. */
  owner: string;
  /** The registry's task kind ("backup", "report", "health-check", ...). */
  kind: string;
  source: string;
} & ({ runner: "k8s-cronjob"; schedule: string } | { runner: "k8s-job" });

/** An in-cluster task of the model as its alerts and run records see it (its CronJob or Job is named after it). */
export function monitoredTask(t: ResolvedTask, namespace: string): MonitoredTask {
  const common = { name: t.name, namespace, owner: t.owner, kind: t.kind, source: t.source };
  if (t.runner === "k8s-cronjob") {
    if (t.schedule === undefined) throw new Error(`task ${t.name} is a CronJob without a schedule (${t.source})`);
    return { ...common, runner: t.runner, schedule: t.schedule };
  }
  if (t.runner === "k8s-job") return { ...common, runner: t.runner };
  throw new Error(`task ${t.name} runs beside Pulumi, not in the cluster: no alert can watch it (${t.source})`);
}

export const TASK_GROUP = "tasks";
export const TASK_MISSED = "TaskMissed";
export const TASK_FAILED = "TaskFailed";
export const TASK_SUSPENDED = "TaskSuspended";
/** Label that lets Alertmanager tell task alerts (other than backups') from service alerts. */
export const TASK_CATEGORY = { label: "category", value: "task" } as const;

/**
 * A slot counts as missed this long after it passed without a run: the CronJob controller may
 * start a Job up to its startingDeadlineSeconds (300) late, and kube-state-metrics reports the
 * new schedule time a scrape later.
 */
export const SLOT_GRACE_SECONDS = 900;

/** The labels every alert and run record of a task carries; `team` routes it in Alertmanager. */
function taskLabels(task: { name: string; namespace: string; owner: string; kind: string }): Record<string, string> {
  return { task: task.name, kind: task.kind, namespace: task.namespace, owner: task.owner, team: task.owner };
}

/** Two periods: one late run is tolerated (slow job, node drain), a second is not. */
function missedThreshold(schedule: string): number {
  return 2 * longestCronIntervalSeconds(schedule);
}

function cronSelector(task: { name: string; namespace: string }): string {
  return `{namespace="${task.namespace}",cronjob="${task.name}"}`;
}

/**
 * The Jobs a CronJob created, named "<cronjob>-<minutes since epoch>": digits only, so the jobs of
 * a task "db-backup-verify" are not counted as jobs of "db-backup".
 */
function cronJobsSelector(task: { name: string; namespace: string }): string {
  return `{namespace="${task.namespace}",job_name=~"${task.name}-[0-9]+"}`;
}

function jobSelector(task: { name: string; namespace: string }): string {
  return `{namespace="${task.namespace}",job_name="${task.name}"}`;
}

/**
 * A CronJob has not run on schedule when: its last success is older than two periods; or it never
 * succeeded although it exists for two periods; or its next schedule time (which kube-state-metrics
 * computes from the last schedule, else from the creation) lies more than the grace in the past,
 * i.e. a slot passed without a Job; or the CronJob is not visible at all (not deployed, or
 * kube-state-metrics not scraped), in which case the task is unmonitored, as bad as missed.
 * A CronJob whose first slot has not come yet matches none of these.
 */
export function cronJobMissedExpr(task: { name: string; namespace: string; schedule: string }): string {
  const threshold = missedThreshold(task.schedule);
  const cron = cronSelector(task);
  return (
    `(time() - max(kube_cronjob_status_last_successful_time${cron}) > ${threshold})` +
    ` or ((time() - max(kube_cronjob_created${cron}) > ${threshold})` +
    ` unless on() kube_cronjob_status_last_successful_time${cron})` +
    ` or (time() - max(kube_cronjob_next_schedule_time${cron}) > ${SLOT_GRACE_SECONDS})` +
    ` or absent(kube_cronjob_created${cron})`
  );
}

/**
 * Only while the newest failed Job started after the last success: failed Jobs are kept for the
 * history, and an older failure already followed by a success is resolved.
 */
export function cronJobFailedExpr(task: { name: string; namespace: string }): string {
  const jobs = cronJobsSelector(task);
  return (
    `max(kube_job_status_start_time${jobs}` +
    ` and on(namespace, job_name) (kube_job_status_failed${jobs} > 0))` +
    ` > (max(kube_cronjob_status_last_successful_time${cronSelector(task)}) or vector(0))`
  );
}

/** A Job that gave up: its Failed condition is true (retries within backoffLimit do not count). */
export function jobFailedExpr(task: { name: string; namespace: string }): string {
  return `max(kube_job_failed{namespace="${task.namespace}",job_name="${task.name}",condition="true"}) == 1`;
}

/**
 * TaskMissed (CronJobs) and TaskFailed (CronJobs and Jobs) for every in-cluster task but backups,
 * which have BackupMissed and BackupFailed; labelled with the task, its kind and owning team.
 */
export function taskAlertRules(tasks: readonly MonitoredTask[]): RuleFile {
  const rules = tasks.flatMap((task): AlertingRule[] => {
    if (task.kind === "backup") throw new Error(`task ${task.name} is a backup: backupAlertRules makes its alerts (${task.source})`);
    const labels = { [TASK_CATEGORY.label]: TASK_CATEGORY.value, ...taskLabels(task) };
    const what = task.runner === "k8s-cronjob" ? `CronJob ${task.namespace}/${task.name}` : `Job ${task.namespace}/${task.name}`;
    const failed: AlertingRule = {
      alert: TASK_FAILED,
      expr: task.runner === "k8s-cronjob" ? cronJobFailedExpr(task) : jobFailedExpr(task),
      labels: { severity: "warning", ...labels },
      annotations: {
        summary: `The latest run of task ${task.name} (${task.kind}) failed`,
        description:
          `${what} failed` + (task.runner === "k8s-cronjob" ? " after its last successful run" : "") + `: see kubectl -n ${task.namespace} get jobs.`,
        runbook_url: TASK_RUNBOOK,
        nexus_source: task.source,
      },
    };
    if (task.runner === "k8s-job") return [failed];
    const missed: AlertingRule = {
      alert: TASK_MISSED,
      expr: cronJobMissedExpr(task),
      for: "15m",
      labels: { severity: "warning", ...labels },
      annotations: {
        summary: `Task ${task.name} (${task.kind}) has not succeeded for more than ${humanSeconds(missedThreshold(task.schedule))} (schedule "${task.schedule}")`,
        description: `No successful run of ${what} within two schedule periods, or its last slot passed without a run, or the CronJob is not visible to kube-state-metrics.`,
        runbook_url: TASK_RUNBOOK,
        nexus_source: task.source,
      },
    };
    return [missed, failed, suspendedRule(task, "Task", { severity: "warning", ...labels })];
  });
  return rules.length === 0 ? { groups: [] } : { groups: [{ name: TASK_GROUP, rules }] };
}

/** Where the README explains a task alert and the record of runs; the same for every task. */
export const TASK_RUNBOOK = "https://runbooks.nexus.example/alerts/task";

// ---------------------------------------------------------------------------------------------
// A record of runs: last success and last failure of every task, kept for the retention
// ---------------------------------------------------------------------------------------------

export const TASK_RUNS_GROUP = "task-runs";
export const TASK_LAST_SUCCESS = "nexus:task_last_success_timestamp_seconds";
export const TASK_LAST_FAILURE = "nexus:task_last_failure_timestamp_seconds";

/**
 * Per task, the time of its last success and of the start of its last failed run. Each record
 * also takes the maximum with its own previous value, so it still holds after the Job it was read
 * from is deleted (history limit, TTL) or kube-state-metrics restarts; the series then stays for
 * Prometheus's retention.
 */
export function taskRunRecords(tasks: readonly MonitoredTask[]): RuleFile {
  const rules = tasks.flatMap((task): RecordingRule[] => {
    const labels = { task: task.name, kind: task.kind, owner: task.owner };
    const self = (record: string) => `${record}{task="${task.name}"}`;
    const cron = task.runner === "k8s-cronjob";
    const jobs = cron ? cronJobsSelector(task) : jobSelector(task);
    const success = cron ? `max(kube_cronjob_status_last_successful_time${cronSelector(task)})` : `max(kube_job_status_completion_time${jobs})`;
    const failure = `max(kube_job_status_start_time${jobs} and on(namespace, job_name) (kube_job_failed{${jobs.slice(1, -1)},condition="true"} == 1))`;
    return [
      { record: TASK_LAST_SUCCESS, expr: `max(${success} or ${self(TASK_LAST_SUCCESS)})`, labels },
      { record: TASK_LAST_FAILURE, expr: `max(${failure} or ${self(TASK_LAST_FAILURE)})`, labels },
    ];
  });
  return rules.length === 0 ? { groups: [] } : { groups: [{ name: TASK_RUNS_GROUP, rules }] };
}

function humanSeconds(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${Math.ceil(seconds / 60)}m`;
}

// ---------------------------------------------------------------------------------------------
// Alertmanager
// ---------------------------------------------------------------------------------------------

/** Root receiver for what no route claims: with `info: []`, info alerts notify nobody. */
export const UNROUTED_RECEIVER = "_unrouted";

export const SLACK_TEXT =
  "{{ range .Alerts }}*{{ .Annotations.summary }}*" + "{{ if .Annotations.runbook_url }} <{{ .Annotations.runbook_url }}|runbook>{{ end }}\n{{ end }}";

/**
 * Who must act and how urgently, beside the message: a Slack reader should not have to open the
 * alert to see its severity and owning team. The titles are the label names they show.
 */
export const SLACK_FIELDS = [
  { title: "severity", value: "{{ .CommonLabels.severity }}", short: true },
  { title: "owner", value: "{{ .CommonLabels.owner }}", short: true },
];

/**
 * The plain-text part of an alert e-mail (Alertmanager sends only HTML by default): every alert
 * with its labels and annotations, runbook included, in Alertmanager's own text list, under
 * "Firing:" and "Resolved:".
 */
export const EMAIL_TEXT =
  '{{ if .Alerts.Firing }}Firing:\n{{ template "__text_alert_list" .Alerts.Firing }}{{ end }}' +
  '{{ if .Alerts.Resolved }}Resolved:\n{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}';

/** The Pulumi config secrets the channels need, in channel order. */
export function channelSecretKeys(channels: readonly ResolvedChannel[]): string[] {
  const keys = channels.flatMap((c) => {
    switch (c.type) {
      case "slack":
        return [c.webhookSecret];
      case "email":
        return c.passwordSecret !== undefined ? [c.passwordSecret] : [];
      case "pagerduty":
        return [c.routingKeySecret];
      case "webhook":
        return [c.urlSecret];
    }
  });
  return [...new Set(keys)];
}

export interface AlertmanagerInput {
  channels: readonly ResolvedChannel[];
  routing: Model["monitoring"]["routing"];
  alerts: readonly ResolvedAlert[];
  slos: readonly ResolvedSlo[];
  teams: readonly ResolvedTeam[];
  backupTasks: readonly BackupTask[];
  /** The in-cluster tasks other than backups: their alerts go to the team that owns each. */
  tasks: readonly Pick<MonitoredTask, "owner">[];
  /** Secret values by Pulumi config key, in plain text: the caller keeps the result secret. */
  secrets: Readonly<Record<string, string>>;
  /** The HTTP proxy of each channel type sent through one (security.yaml `proxyFor`); the others go direct. */
  proxies?: ChannelProxies;
}

export interface Route {
  receiver: string;
  matchers?: string[];
  group_by?: string[];
  continue?: boolean;
}

export function alertmanagerConfig(input: AlertmanagerInput) {
  const secret = (key: string, channel: string): string => {
    const value = input.secrets[key];
    if (value === undefined || value === "") {
      throw new Error(`channel ${channel} needs the secret "${key}": pulumi config set --secret ${key} VALUE`);
    }
    return value;
  };
  const receivers = input.channels.map((c) => alertmanagerReceiver(c, secret, input.proxies ?? {}));
  return {
    route: {
      receiver: UNROUTED_RECEIVER,
      group_by: ["alertname", "service"],
      group_wait: input.routing.groupWait,
      group_interval: input.routing.groupInterval,
      repeat_interval: input.routing.repeatInterval,
      routes: alertmanagerRoutes(input),
    },
    // A page already says the service is in trouble; the ticket about the same thing is noise.
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: ["alertname", "service"],
      },
    ],
    receivers: [{ name: UNROUTED_RECEIVER }, ...receivers],
  };
}

/**
 * One channel's receiver; `secret` returns a channel secret's value or throws. An HTTP channel
 * whose type has a proxy sends through it: under default-deny egress the proxy is the only way
 * out to services without stable addresses (Slack, PagerDuty).
 */
function alertmanagerReceiver(c: ResolvedChannel, secret: (key: string, channel: string) => string, proxies: ChannelProxies) {
  const proxy = c.type !== "email" ? proxies[c.type] : undefined;
  const http = proxy !== undefined ? { http_config: { proxy_url: proxy } } : {};
  switch (c.type) {
    case "slack":
      return {
        name: c.name,
        slack_configs: [
          {
            api_url: secret(c.webhookSecret, c.name),
            channel: c.slackChannel,
            send_resolved: true,
            text: SLACK_TEXT,
            fields: SLACK_FIELDS,
            ...http,
          },
        ],
      };
    case "email":
      return {
        name: c.name,
        email_configs: [
          {
            to: c.to,
            from: c.from,
            smarthost: c.smarthost,
            // The registry has no separate login: the sender address is the SMTP user.
            ...(c.passwordSecret !== undefined ? { auth_username: c.from, auth_password: secret(c.passwordSecret, c.name) } : {}),
            // Written only when off: Alertmanager requires STARTTLS by default.
            ...(c.requireTls ? {} : { require_tls: false }),
            text: EMAIL_TEXT,
            send_resolved: true,
          },
        ],
      };
    case "pagerduty":
      return {
        name: c.name,
        pagerduty_configs: [
          {
            routing_key: secret(c.routingKeySecret, c.name),
            ...(c.url !== undefined ? { url: c.url } : {}),
            send_resolved: true,
            ...http,
          },
        ],
      };
    case "webhook":
      return {
        name: c.name,
        webhook_configs: [{ url: secret(c.urlSecret, c.name), send_resolved: true, ...http }],
      };
  }
}

/** Backups by owning team, then overrides by alert name and by SLO, then by severity. */
function alertmanagerRoutes(input: AlertmanagerInput): Route[] {
  const known = new Set(input.channels.map((c) => c.name));
  // One sibling route per receiver: each but the last continues, so every listed channel is
  // notified and the alert still stops before the routes below it.
  const fanOut = (channels: readonly string[], matchers: string[], extra: Partial<Route> = {}): Route[] =>
    channels.map((receiver, i) => {
      if (!known.has(receiver)) throw new Error(`route to unknown channel "${receiver}" (${matchers.join(", ")})`);
      return {
        receiver,
        matchers: [...matchers],
        ...extra,
        ...(i < channels.length - 1 ? { continue: true } : {}),
      };
    });
  const teamChannel = new Map(input.teams.map((t) => [t.name, t.channel]));
  const backupTeams = [...new Set(input.backupTasks.map((t) => t.owner))];
  const taskTeams = [...new Set(input.tasks.map((t) => t.owner))];
  return [
    // Backups and tasks go to the team that owns them, whatever their severity.
    ...backupTeams.flatMap((team) => {
      const channel = teamChannel.get(team);
      if (channel === undefined) throw new Error(`backup owner "${team}" is not a declared team`);
      return fanOut([channel], [`${BACKUP_CATEGORY.label}="${BACKUP_CATEGORY.value}"`, `team="${team}"`], {
        group_by: ["alertname", "task"],
      });
    }),
    ...taskTeams.flatMap((team) => {
      const channel = teamChannel.get(team);
      if (channel === undefined) throw new Error(`task owner "${team}" is not a declared team`);
      return fanOut([channel], [`${TASK_CATEGORY.label}="${TASK_CATEGORY.value}"`, `team="${team}"`], { group_by: ["alertname", "task"] });
    }),
    ...input.alerts
      .filter((a) => a.enabled && a.channels !== undefined && a.channels.length > 0)
      .flatMap((a) => fanOut(a.channels!, [`alertname="${toPrometheusAlertName(a.name)}"`])),
    ...input.slos.filter((s) => s.channels !== undefined && s.channels.length > 0).flatMap((s) => fanOut(s.channels!, [`slo="${s.name}"`])),
    ...(["critical", "warning", "info"] as const).flatMap((severity) => fanOut(input.routing[severity], [`severity="${severity}"`])),
  ];
}

// ---------------------------------------------------------------------------------------------
// Prometheus
// ---------------------------------------------------------------------------------------------

export interface PrometheusInput {
  scrapeInterval: string;
  environment: string;
  /** Rule file paths, relative to prometheus.yml. */
  ruleFiles: readonly string[];
  /** Alertmanager "host:port" addresses. */
  alertmanagers: readonly string[];
  targets: readonly ScrapeTarget[];
  /** "host:port" of kube-state-metrics, which the task and backup alerts read; no job when absent. */
  kubeStateMetrics?: string;
  /** The nodes whose kubelets are scraped, for a Prometheus without Kubernetes discovery; absent, discovered. */
  nodes?: readonly string[];
}

/** Where a pod finds its ServiceAccount token and the cluster's CA (automountServiceAccountToken). */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The kubelet's paths scraped on every node: its own metrics (kubelet_*, among them the volume
 * statistics) and cAdvisor's (container_*), each as a job of its own.
 */
export const NODE_JOBS = [
  { job: "kubelet", path: "metrics" },
  { job: "cadvisor", path: "metrics/cadvisor" },
] as const;

/**
 * A node scrape job: nodes found through the API, each scraped through the API server's node
 * proxy (/api/v1/nodes/NAME/proxy/...), so Prometheus needs egress to the API server only, never
 * to the nodes' kubelet port, and verifies the API server's certificate with the cluster's CA;
 * the kubelets' serving certificates (often self-signed) do not matter. Needs `get` on
 * nodes/proxy and `list`/`watch` on nodes.
 */
export function nodeScrapeConfigs(nodes?: readonly string[]) {
  return NODE_JOBS.map((n) => nodeScrapeJob(n.job, n.path, nodes));
}

/** The API server as the pods of the cluster call it (the `kubernetes` Service). */
const API_SERVER_SERVICE = "kubernetes.default.svc:443";

/**
 * With `nodes`, one static target per named node, told apart by its `node` label (Debian's
 * Prometheus is built without Kubernetes discovery); without, every node the API lists.
 */
function nodeScrapeJob(job: string, path: string, nodes?: readonly string[]) {
  const discovered = nodes === undefined;
  if (nodes !== undefined && nodes.length === 0) throw new Error(`scrape job ${job}: an empty node list would scrape nothing`);
  const nodeLabel = discovered ? "__meta_kubernetes_node_name" : "node";
  return {
    job_name: job,
    scheme: "https",
    ...(discovered
      ? { kubernetes_sd_configs: [{ role: "node" }] }
      : { static_configs: [...new Set(nodes)].sort().map((node) => ({ targets: [API_SERVER_SERVICE], labels: { node } })) }),
    authorization: { credentials_file: `${SERVICE_ACCOUNT_DIR}/token` },
    tls_config: { ca_file: `${SERVICE_ACCOUNT_DIR}/ca.crt` },
    relabel_configs: [
      { target_label: "__address__", replacement: API_SERVER_SERVICE },
      { source_labels: [nodeLabel], regex: "(.+)", target_label: "__metrics_path__", replacement: `/api/v1/nodes/\${1}/proxy/${path}` },
      // The node, not the API server every target shares, tells the targets apart.
      { source_labels: [nodeLabel], target_label: "instance" },
      ...(discovered ? [{ source_labels: [nodeLabel], target_label: "node" }] : []),
    ],
  };
}

export function prometheusConfig(input: PrometheusInput) {
  return {
    global: {
      scrape_interval: input.scrapeInterval,
      evaluation_interval: input.scrapeInterval,
      external_labels: { environment: input.environment },
    },
    rule_files: [...input.ruleFiles],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [...input.alertmanagers] }] }] },
    scrape_configs: [
      { job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] },
      // Each ready pod, found by DNS through the service's headless Service (podsServiceName): a
      // pod whose readiness fails leaves the DNS answer and its target goes, so a service with no
      // ready pod has no \`up\` series (the registry's \`absent(up{job=...})\` alerts). Scraping
      // through the ClusterIP instead reaches one pod at random per scrape, and a kept-alive
      // connection keeps reaching a pod after it left the Service.
      ...input.targets.map((t) => ({
        job_name: t.name,
        metrics_path: t.metricsPath,
        dns_sd_configs: [
          { names: [`${podsServiceName(t.name)}.${t.namespace}.svc.cluster.local`], type: "A", port: t.port, refresh_interval: input.scrapeInterval },
        ],
        relabel_configs: [
          { target_label: "namespace", replacement: t.namespace },
          { target_label: "owner", replacement: t.owner },
        ],
      })),
      ...(input.kubeStateMetrics !== undefined
        ? [
            {
              job_name: "kube-state-metrics",
              // Its series describe other objects; their namespace label must win.
              honor_labels: true,
              static_configs: [{ targets: [input.kubeStateMetrics] }],
            },
          ]
        : []),
      ...nodeScrapeConfigs(input.nodes),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Cluster access of kube-state-metrics and Prometheus
// ---------------------------------------------------------------------------------------------

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * The objects kube-state-metrics reports, by API group: exactly those whose kube_* series the
 * generated rules and the registry's alerts read (CronJobs and Jobs for the task and backup
 * alerts and the record of runs, Pods for restarts). Its `--resources` and its role both come
 * from this table, so it can neither watch more than it may nor be allowed more than it watches.
 */
export const KUBE_STATE_METRICS_RESOURCES = [
  { apiGroup: "batch", resource: "cronjobs" },
  { apiGroup: "batch", resource: "jobs" },
  { apiGroup: "", resource: "pods" },
] as const;

export const KUBE_STATE_METRICS_PORT = 8080;
/** kube-state-metrics's own metrics and its readiness (/readyz). */
export const KUBE_STATE_METRICS_TELEMETRY_PORT = 8081;

/** Read-only: list and watch of the reported resources, nothing else. */
export function kubeStateMetricsRules(): PolicyRule[] {
  const groups = [...new Set(KUBE_STATE_METRICS_RESOURCES.map((r) => r.apiGroup))];
  return groups.map((group) => ({
    apiGroups: [group],
    resources: KUBE_STATE_METRICS_RESOURCES.filter((r) => r.apiGroup === group).map((r) => r.resource),
    verbs: ["list", "watch"],
  }));
}

/** Its arguments: the reported resources, and only in the given namespaces (where it may read). */
export function kubeStateMetricsArgs(namespaces: readonly string[]): string[] {
  if (namespaces.length === 0) throw new Error("kube-state-metrics needs at least one namespace to report on");
  return [
    `--port=${KUBE_STATE_METRICS_PORT}`,
    `--telemetry-port=${KUBE_STATE_METRICS_TELEMETRY_PORT}`,
    `--resources=${KUBE_STATE_METRICS_RESOURCES.map((r) => r.resource).join(",")}`,
    `--namespaces=${[...new Set(namespaces)].sort().join(",")}`,
  ];
}

/**
 * Prometheus's cluster-wide access for the node jobs: find nodes (list, watch) and read their
 * kubelet through the API server's node proxy (get nodes/proxy). Not nodes/metrics: that is what
 * a kubelet asks for a direct scrape, which the node jobs do not do.
 */
export function prometheusNodeRules(): PolicyRule[] {
  return [
    { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
    { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] },
  ];
}

// ---------------------------------------------------------------------------------------------
// Grafana
// ---------------------------------------------------------------------------------------------

export const PROMETHEUS_DATASOURCE_UID = "nexus-prometheus";

const PANEL_WIDTH = 12;
const PANEL_HEIGHT = 8;

export function grafanaDashboard(dashboard: ResolvedDashboard, datasourceUid = PROMETHEUS_DATASOURCE_UID) {
  const datasource = { type: "prometheus", uid: datasourceUid };
  return {
    uid: grafanaUid(dashboard.name),
    title: dashboard.title,
    description: `Declared in ${dashboard.source}`,
    tags: ["nexus", ...dashboard.services],
    editable: false,
    timezone: "browser",
    refresh: "1m",
    time: { from: "now-6h", to: "now" },
    // The JSON model format this file is written in; without it Grafana migrates from scratch.
    schemaVersion: 39,
    panels: dashboard.panels.map((panel, i) => {
      // Tables show the current value per series; the other types plot or reduce a range.
      const instant = panel.type === "table";
      return {
        id: i + 1,
        type: panel.type,
        title: panel.title,
        datasource,
        gridPos: {
          x: (i % 2) * PANEL_WIDTH,
          y: Math.floor(i / 2) * PANEL_HEIGHT,
          w: PANEL_WIDTH,
          h: PANEL_HEIGHT,
        },
        targets: [
          {
            refId: "A",
            datasource,
            expr: panel.expr,
            ...(instant ? { instant: true, range: false, format: "table" } : { range: true }),
          },
        ],
        fieldConfig: {
          defaults: panel.unit !== undefined ? { unit: panel.unit } : {},
          overrides: [],
        },
      };
    }),
  };
}

export function grafanaDatasources(input: { prometheusUrl: string; scrapeInterval: string; uid?: string }) {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        uid: input.uid ?? PROMETHEUS_DATASOURCE_UID,
        type: "prometheus",
        access: "proxy",
        url: input.prometheusUrl,
        isDefault: true,
        editable: false,
        jsonData: { timeInterval: input.scrapeInterval },
      },
    ],
  };
}

export function grafanaDashboardProvider(input: { path: string }) {
  return {
    apiVersion: 1,
    providers: [
      {
        name: "nexus",
        orgId: 1,
        folder: "NEXUS",
        type: "file",
        // The registry is the source: edits in the UI would be lost on the next deploy.
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: input.path },
      },
    ],
  };
}
