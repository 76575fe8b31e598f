/**
 * Pure builders for the monitoring stack: Prometheus rule files and configuration, the
 * Alertmanager configuration and Grafana provisioning, as plain objects. No Pulumi here, so
 * every generated file can be checked exactly in tests and by the real promtool and amtool.
 */
import YAML from "yaml";
import { escapeYamlUnsafe, hasYamlUnsafe } from "../../contract/escape/yaml";
import type { Model, ResolvedAlert, ResolvedChannel, ResolvedDashboard, ResolvedSlo, ResolvedTeam } from "../../domain/model";
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
/** Label that lets Alertmanager send backup alerts to the owning team rather than by severity. */
export const BACKUP_CATEGORY = { label: "category", value: "backup" } as const;

export function backupAlertRules(tasks: readonly BackupTask[]): RuleFile {
  if (tasks.length === 0) return { groups: [] };
  const rules = tasks.flatMap((task): AlertingRule[] => {
    // Two periods: one late run is tolerated (slow job, node drain), a second is not.
    const threshold = 2 * longestCronIntervalSeconds(task.schedule);
    const cron = `{namespace="${task.namespace}",cronjob="${task.name}"}`;
    // CronJob-created Jobs are named "<cronjob>-<minutes since epoch>"; digits only, so the jobs
    // of a task "db-backup-verify" are not counted as jobs of "db-backup".
    const jobs = `{namespace="${task.namespace}",job_name=~"${task.name}-[0-9]+"}`;
    const labels = {
      [BACKUP_CATEGORY.label]: BACKUP_CATEGORY.value,
      task: task.name,
      namespace: task.namespace,
      owner: task.owner,
      team: task.owner,
    };
    return [
      {
        alert: BACKUP_MISSED,
        // Last success too old; or never succeeded although the CronJob exists long enough; or
        // the CronJob is not visible at all (not deployed, or kube-state-metrics not scraped),
        // in which case the backup is unmonitored, which is as bad as missed.
        expr:
          `(time() - max(kube_cronjob_status_last_successful_time${cron}) > ${threshold})` +
          ` or ((time() - max(kube_cronjob_created${cron}) > ${threshold})` +
          ` unless on() kube_cronjob_status_last_successful_time${cron})` +
          ` or absent(kube_cronjob_created${cron})`,
        for: "15m",
        labels: { severity: "critical", ...labels },
        annotations: {
          summary: `Backup ${task.name} has not succeeded for more than ${humanSeconds(threshold)}` + ` (schedule "${task.schedule}")`,
          description:
            `No successful run of CronJob ${task.namespace}/${task.name} within two schedule` +
            " periods, or the CronJob is not visible to kube-state-metrics.",
          nexus_source: task.source,
        },
      },
      {
        alert: BACKUP_FAILED,
        // Only while the newest failed Job started after the last success: failed Jobs are kept
        // for the history, and an older failure already followed by a success is resolved.
        expr:
          `max(kube_job_status_start_time${jobs}` +
          ` and on(namespace, job_name) (kube_job_status_failed${jobs} > 0))` +
          ` > (max(kube_cronjob_status_last_successful_time${cron}) or vector(0))`,
        labels: { severity: "warning", ...labels },
        annotations: {
          summary: `The latest run of backup ${task.name} failed`,
          description:
            `A Job of CronJob ${task.namespace}/${task.name} failed` + " after the last successful run:" + ` see kubectl -n ${task.namespace} get jobs.`,
          nexus_source: task.source,
        },
      },
    ];
  });
  return { groups: [{ name: BACKUP_GROUP, rules }] };
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
  /** Secret values by Pulumi config key, in plain text: the caller keeps the result secret. */
  secrets: Readonly<Record<string, string>>;
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
  const receivers = input.channels.map((c) => alertmanagerReceiver(c, secret));
  return {
    route: {
      receiver: UNROUTED_RECEIVER,
      group_by: ["alertname", "service"],
      group_wait: input.routing.groupWait,
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

/** One channel's receiver; `secret` returns a channel secret's value or throws. */
function alertmanagerReceiver(c: ResolvedChannel, secret: (key: string, channel: string) => string) {
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
            send_resolved: true,
          },
        ],
      };
    case "pagerduty":
      return {
        name: c.name,
        pagerduty_configs: [{ routing_key: secret(c.routingKeySecret, c.name), send_resolved: true }],
      };
    case "webhook":
      return {
        name: c.name,
        webhook_configs: [{ url: secret(c.urlSecret, c.name), send_resolved: true }],
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
  return [
    // Backups go to the team that owns them, whatever their severity.
    ...backupTeams.flatMap((team) => {
      const channel = teamChannel.get(team);
      if (channel === undefined) throw new Error(`backup owner "${team}" is not a declared team`);
      return fanOut([channel], [`${BACKUP_CATEGORY.label}="${BACKUP_CATEGORY.value}"`, `team="${team}"`], {
        group_by: ["alertname", "task"],
      });
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
  /** "host:port" of kube-state-metrics, which the backup alerts read; no job when absent. */
  kubeStateMetrics?: string;
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
      // Through the Service: one address per service, no Kubernetes API access (and no token)
      // needed. `up` then means "the service answers", which is what the registry alerts ask.
      ...input.targets.map((t) => ({
        job_name: t.name,
        metrics_path: t.metricsPath,
        static_configs: [
          {
            targets: [`${t.name}.${t.namespace}.svc:${t.port}`],
            labels: { namespace: t.namespace, owner: t.owner },
          },
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
    ],
  };
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
