import { describe, expect, it } from "vitest";
import {
  PLATFORM_GROUP,
  EMAIL_TEXT,
  PROMETHEUS_DATASOURCE_UID,
  SLACK_FIELDS,
  SLACK_TEXT,
  UNROUTED_RECEIVER,
  alertRuleGroups,
  alertmanagerConfig,
  assertUniqueAlertNames,
  backupAlertRules,
  channelSecretKeys,
  errorBudget,
  grafanaDashboard,
  grafanaDashboardProvider,
  grafanaDatasources,
  grafanaUid,
  prometheusConfig,
  ruleCount,
  sloRuleGroups,
  toPrometheusAlertName,
  type AlertingRule,
  type BackupTask,
  kubeStateMetricsArgs,
  kubeStateMetricsRules,
  monitoredTask,
  nodeScrapeConfigs,
  prometheusNodeRules,
  taskAlertRules,
  taskRunRecords,
  type MonitoredTask,
  type RecordingRule,
} from "../../../components/builders/monitoring";
import type { Model, ResolvedAlert, ResolvedChannel, ResolvedDashboard, ResolvedSlo, ResolvedTask, ResolvedTeam } from "../../../domain/model";
import { alert } from "../../support/fixtures";

const M = "registries/monitoring.yaml";
const A = "registries/automation.yaml";

const alerts: ResolvedAlert[] = [
  alert({ runbook: "https://runbooks.example/api-down", source: `${M}:40` }),
  {
    name: "api-slow",
    expr: "api_latency_seconds > 1",
    for: "10m",
    severity: "warning",
    service: "api",
    channels: ["data-mail", "ops-slack"],
    summary: "The API is slow",
    description: "p99 above one second",
    enabled: true,
    source: `${M}:48`,
  },
  {
    name: "pod-restart-loop",
    expr: "increase(kube_pod_container_status_restarts_total[15m]) > 3",
    for: "5m",
    severity: "info",
    summary: "A container restarts",
    enabled: true,
    source: `${M}:57`,
  },
  {
    name: "db-disk-full",
    expr: "disk_free_ratio < 0.1",
    for: "5m",
    severity: "critical",
    service: "db",
    channels: ["pager"],
    summary: "Disk full",
    enabled: false,
    source: `${M}:63`,
  },
];

const slo: ResolvedSlo = {
  name: "api-availability",
  service: "api",
  objective: 99.9,
  window: "30d",
  sli: {
    errorQuery: 'sum(rate(http_requests_total{job="api",code=~"5.."}[{{window}}]))',
    totalQuery: 'sum(rate(http_requests_total{job="api"}[{{window}}]))',
  },
  channels: ["ops-slack"],
  source: `${M}:70`,
};

const channels: ResolvedChannel[] = [
  {
    name: "ops-slack",
    type: "slack",
    slackChannel: "#ops",
    webhookSecret: "slackWebhookUrl",
    source: `${M}:20`,
  },
  {
    name: "data-mail",
    type: "email",
    to: "data@nexus.example",
    from: "alerts@nexus.example",
    smarthost: "smtp.nexus.example:587",
    passwordSecret: "smtpPassword",
    requireTls: true,
    source: `${M}:24`,
  },
  { name: "pager", type: "pagerduty", routingKeySecret: "pagerdutyKey", source: `${M}:30` },
  { name: "hook", type: "webhook", urlSecret: "hookUrl", source: `${M}:33` },
];

const routing: Model["monitoring"]["routing"] = {
  critical: ["pager", "ops-slack"],
  warning: ["ops-slack"],
  info: [],
  groupWait: "30s",
  groupInterval: "5m",
  repeatInterval: "4h",
};

const teams: ResolvedTeam[] = [
  { name: "platform", channel: "ops-slack", source: "registries/orchestration.yaml:4" },
  { name: "data", channel: "data-mail", source: "registries/orchestration.yaml:6" },
];

const backups: BackupTask[] = [
  {
    name: "db-backup",
    namespace: "data",
    owner: "data",
    schedule: "0 2 * * *",
    source: "registries/automation.yaml:4",
  },
];

const ownership = { services: { api: "platform", db: "data" }, fallback: "platform" };

const secrets = {
  slackWebhookUrl: "https://hooks.slack.example/T000/B000/XXXX",
  smtpPassword: "smtp-pass",
  pagerdutyKey: "pd-key",
  hookUrl: "https://hook.example/notify",
};

describe("toPrometheusAlertName", () => {
  it("turns kebab-case registry names into CamelCase alert names", () => {
    expect(toPrometheusAlertName("api-down")).toBe("ApiDown");
    expect(toPrometheusAlertName("backend-api-high-error-rate")).toBe("BackendApiHighErrorRate");
    expect(toPrometheusAlertName("tls")).toBe("Tls");
  });

  it("never starts a name with a digit", () => {
    expect(toPrometheusAlertName("5xx-ratio")).toBe("Alert5xxRatio");
  });
});

describe("alertRuleGroups", () => {
  const file = alertRuleGroups({ alerts, ownership });

  it("groups enabled alerts per service, the rest under platform, and drops disabled ones", () => {
    expect(file.groups.map((g) => g.name)).toEqual(["api", PLATFORM_GROUP]);
    const names = file.groups.flatMap((g) => g.rules.map((r) => (r as AlertingRule).alert));
    expect(names).toEqual(["ApiDown", "ApiSlow", "PodRestartLoop"]);
    expect(JSON.stringify(file)).not.toContain("DbDiskFull");
  });

  it("labels severity, service, owner and team and annotates the registry source", () => {
    expect(file.groups[0]!.rules).toEqual([
      {
        alert: "ApiDown",
        expr: 'up{job="api"} == 0',
        for: "2m",
        labels: { severity: "critical", service: "api", owner: "platform", team: "platform" },
        annotations: { summary: "The API is down", runbook_url: "https://runbooks.example/api-down", nexus_source: `${M}:40` },
      },
      {
        alert: "ApiSlow",
        expr: "api_latency_seconds > 1",
        for: "10m",
        labels: { severity: "warning", service: "api", owner: "platform", team: "platform" },
        annotations: { summary: "The API is slow", description: "p99 above one second", nexus_source: `${M}:48` },
      },
    ]);
    expect(file.groups[1]!.rules[0]).toMatchObject({
      alert: "PodRestartLoop",
      labels: { severity: "info", owner: "platform", team: "platform" },
    });
    expect((file.groups[1]!.rules[0] as AlertingRule).labels).not.toHaveProperty("service");
  });

  it("refuses two registry alerts that become the same Prometheus name", () => {
    // Not a valid registry name, but the builder must not rely on the schema to stay unambiguous.
    const twin = { ...alerts[0]!, name: "api--down", source: `${M}:99` };
    expect(() => alertRuleGroups({ alerts: [alerts[0]!, twin], ownership })).toThrow(/both become Prometheus alert ApiDown/);
  });
});

describe("sloRuleGroups", () => {
  const file = sloRuleGroups([slo], ownership);
  const rules = file.groups[0]!.rules;

  it("computes the error budget without floating-point noise", () => {
    expect(errorBudget(99.9)).toBe("0.001");
    expect(errorBudget(99)).toBe("0.01");
    expect(errorBudget(99.95)).toBe("0.0005");
  });

  it("records the error ratio for every window, substituting {{window}}", () => {
    expect(file.groups[0]!.name).toBe("slo-api-availability");
    const records = rules.filter((r) => "record" in r);
    expect(records.map((r) => ("record" in r ? r.record : ""))).toEqual([
      "slo:sli_error:ratio_rate5m",
      "slo:sli_error:ratio_rate30m",
      "slo:sli_error:ratio_rate1h",
      "slo:sli_error:ratio_rate2h",
      "slo:sli_error:ratio_rate6h",
      "slo:sli_error:ratio_rate1d",
      "slo:sli_error:ratio_rate3d",
    ]);
    expect(records[2]).toEqual({
      record: "slo:sli_error:ratio_rate1h",
      expr: '(sum(rate(http_requests_total{job="api",code=~"5.."}[1h]))) / (sum(rate(http_requests_total{job="api"}[1h])))',
      labels: { slo: "api-availability", service: "api" },
    });
    expect(JSON.stringify(file)).not.toContain("{{window}}");
  });

  it("pages on 14.4x over 1h and 5m or 6x over 6h and 30m, tickets on 3x and 1x", () => {
    const page = rules.find((r) => "alert" in r && r.labels.severity === "critical") as AlertingRule;
    const ticket = rules.find((r) => "alert" in r && r.labels.severity === "warning") as AlertingRule;
    const s = '{slo="api-availability"}';
    expect(page.alert).toBe("ApiAvailabilityErrorBudgetBurn");
    expect(page.expr).toBe(
      `(slo:sli_error:ratio_rate1h${s} > (14.4 * 0.001) and slo:sli_error:ratio_rate5m${s} > (14.4 * 0.001))` +
        ` or (slo:sli_error:ratio_rate6h${s} > (6 * 0.001) and slo:sli_error:ratio_rate30m${s} > (6 * 0.001))`,
    );
    expect(ticket.expr).toBe(
      `(slo:sli_error:ratio_rate1d${s} > (3 * 0.001) and slo:sli_error:ratio_rate2h${s} > (3 * 0.001))` +
        ` or (slo:sli_error:ratio_rate3d${s} > (1 * 0.001) and slo:sli_error:ratio_rate6h${s} > (1 * 0.001))`,
    );
    expect(page.labels).toEqual({
      severity: "critical",
      service: "api",
      slo: "api-availability",
      owner: "platform",
      team: "platform",
    });
    expect(page.annotations.nexus_source).toBe(`${M}:70`);
  });

  it("refuses an SLI without the window placeholder", () => {
    const fixed = { ...slo, sli: { ...slo.sli, errorQuery: "sum(rate(errors[5m]))" } };
    expect(() => sloRuleGroups([fixed])).toThrow(/sli.errorQuery has no \[\{\{window\}\}\]/);
  });
});

describe("backupAlertRules", () => {
  it("allows two of the schedule's longest intervals before a backup counts as missed", () => {
    const weekdays = backupAlertRules([{ ...backups[0]!, schedule: "0 1 * * 1-5" }]);
    const missed = weekdays.groups[0]!.rules[0] as AlertingRule;
    // Friday to Monday is the longest gap: three days, twice.
    expect(missed.expr).toContain(`> ${6 * 86400})`);
    expect(missed.annotations.summary).toContain("for more than 6d");
    expect(() => backupAlertRules([{ ...backups[0]!, schedule: "0 2 * *" }])).toThrow(/invalid cron schedule "0 2 \* \*": has 4 fields/);
  });

  it("adds a missed, a failed and a suspended alert per task, labelled with the owning team", () => {
    const file = backupAlertRules(backups);
    expect(file.groups.map((g) => g.name)).toEqual(["backups"]);
    const [missed, failed, suspended] = file.groups[0]!.rules as AlertingRule[];
    const cron = '{namespace="data",cronjob="db-backup"}';
    expect(missed).toEqual({
      alert: "BackupMissed",
      expr:
        `(time() - max(kube_cronjob_status_last_successful_time${cron}) > 172800)` +
        ` or ((time() - max(kube_cronjob_created${cron}) > 172800)` +
        ` unless on() kube_cronjob_status_last_successful_time${cron})` +
        ` or (time() - max(kube_cronjob_next_schedule_time${cron}) > 900)` +
        ` or absent(kube_cronjob_created${cron})`,
      for: "15m",
      labels: {
        severity: "critical",
        category: "backup",
        task: "db-backup",
        kind: "backup",
        namespace: "data",
        owner: "data",
        team: "data",
      },
      annotations: {
        summary: 'Backup db-backup has not succeeded for more than 2d (schedule "0 2 * * *")',
        description:
          "No successful run of CronJob data/db-backup within two schedule periods, or its last slot passed without a run, or the CronJob is not visible to kube-state-metrics.",
        nexus_source: "registries/automation.yaml:4",
      },
    });
    expect(failed!.alert).toBe("BackupFailed");
    expect(failed!.expr).toContain('kube_job_status_failed{namespace="data",job_name=~"db-backup-[0-9]+"} > 0');
    expect(failed!.labels).toMatchObject({ team: "data", owner: "data", task: "db-backup" });
    expect(suspended!.alert).toBe("BackupSuspended");
    expect(suspended!.expr).toBe(`max(kube_cronjob_spec_suspend${cron}) == 1`);
    expect(suspended!.labels).toMatchObject({ severity: "critical", team: "data", task: "db-backup" });
  });

  it("produces no group without tasks", () => {
    expect(backupAlertRules([])).toEqual({ groups: [] });
  });
});

describe("assertUniqueAlertNames and ruleCount", () => {
  it("rejects one alert name in two groups and counts every rule", () => {
    const files = [alertRuleGroups({ alerts, ownership }), sloRuleGroups([slo]), backupAlertRules(backups)];
    expect(() => assertUniqueAlertNames(files)).not.toThrow();
    expect(ruleCount(files)).toBe(3 + 9 + 3);
    const clash = alertRuleGroups({
      alerts: [{ ...alerts[2]!, name: "backup-missed" }],
      ownership,
    });
    expect(() => assertUniqueAlertNames([clash, backupAlertRules(backups)])).toThrow(/BackupMissed/);
  });
});

describe("alertmanagerConfig", () => {
  const config = alertmanagerConfig({
    channels,
    routing,
    alerts,
    slos: [slo],
    teams,
    backupTasks: backups,
    tasks: [{ owner: "platform" }, { owner: "data" }, { owner: "platform" }],
    secrets,
  });

  it("has one receiver per channel, secrets in place, and a receiver for what no route claims", () => {
    expect(config.receivers).toEqual([
      { name: UNROUTED_RECEIVER },
      {
        name: "ops-slack",
        slack_configs: [
          {
            api_url: secrets.slackWebhookUrl,
            channel: "#ops",
            send_resolved: true,
            text: SLACK_TEXT,
            fields: SLACK_FIELDS,
          },
        ],
      },
      {
        name: "data-mail",
        email_configs: [
          {
            to: "data@nexus.example",
            from: "alerts@nexus.example",
            smarthost: "smtp.nexus.example:587",
            auth_username: "alerts@nexus.example",
            auth_password: "smtp-pass",
            text: EMAIL_TEXT,
            send_resolved: true,
          },
        ],
      },
      { name: "pager", pagerduty_configs: [{ routing_key: "pd-key", send_resolved: true }] },
      {
        name: "hook",
        webhook_configs: [{ url: "https://hook.example/notify", send_resolved: true }],
      },
    ]);
    expect(channelSecretKeys(channels)).toEqual(["slackWebhookUrl", "smtpPassword", "pagerdutyKey", "hookUrl"]);
  });

  it("routes backups and tasks by owning team, overrides by alert name and SLO, then by severity", () => {
    expect(config.route).toEqual({
      receiver: UNROUTED_RECEIVER,
      group_by: ["alertname", "service"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        {
          receiver: "data-mail",
          matchers: ['category="backup"', 'team="data"'],
          group_by: ["alertname", "task"],
        },
        // Each team owning a task once, whatever the number of its tasks.
        { receiver: "ops-slack", matchers: ['category="task"', 'team="platform"'], group_by: ["alertname", "task"] },
        { receiver: "data-mail", matchers: ['category="task"', 'team="data"'], group_by: ["alertname", "task"] },
        { receiver: "data-mail", matchers: ['alertname="ApiSlow"'], continue: true },
        { receiver: "ops-slack", matchers: ['alertname="ApiSlow"'] },
        { receiver: "ops-slack", matchers: ['slo="api-availability"'] },
        { receiver: "pager", matchers: ['severity="critical"'], continue: true },
        { receiver: "ops-slack", matchers: ['severity="critical"'] },
        { receiver: "ops-slack", matchers: ['severity="warning"'] },
      ],
    });
    expect(config.inhibit_rules).toEqual([
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: ["alertname", "service"],
      },
    ]);
  });

  it("has no override for a disabled alert", () => {
    expect(JSON.stringify(config.route)).not.toContain("DbDiskFull");
  });

  it("names the missing secret and the command that sets it", () => {
    const { pagerdutyKey: _, ...partial } = secrets;
    expect(() =>
      alertmanagerConfig({
        channels,
        routing,
        alerts,
        slos: [],
        teams,
        backupTasks: [],
        tasks: [],
        secrets: partial,
      }),
    ).toThrow('channel pager needs the secret "pagerdutyKey": pulumi config set --secret pagerdutyKey VALUE');
  });

  it("refuses a route to a channel that does not exist", () => {
    expect(() =>
      alertmanagerConfig({
        channels,
        routing: { ...routing, warning: ["nowhere"] },
        alerts: [],
        slos: [],
        teams,
        backupTasks: [],
        tasks: [],
        secrets,
      }),
    ).toThrow(/unknown channel "nowhere"/);
  });
});

describe("prometheusConfig", () => {
  it("scrapes each ready pod of every target, found through its headless Service, and sends alerts to Alertmanager", () => {
    const config = prometheusConfig({
      scrapeInterval: "30s",
      environment: "dev",
      ruleFiles: ["alerts.rules.yml"],
      alertmanagers: ["mon-alertmanager.observability.svc:9093"],
      targets: [{ name: "api", namespace: "core", port: 9100, metricsPath: "/metrics", owner: "platform" }],
    });
    expect(config).toEqual({
      global: {
        scrape_interval: "30s",
        evaluation_interval: "30s",
        external_labels: { environment: "dev" },
      },
      rule_files: ["alerts.rules.yml"],
      alerting: {
        alertmanagers: [{ static_configs: [{ targets: ["mon-alertmanager.observability.svc:9093"] }] }],
      },
      scrape_configs: [
        { job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] },
        {
          job_name: "api",
          metrics_path: "/metrics",
          dns_sd_configs: [{ names: ["api-pods.core.svc.cluster.local"], type: "A", port: 9100, refresh_interval: "30s" }],
          relabel_configs: [
            { target_label: "namespace", replacement: "core" },
            { target_label: "owner", replacement: "platform" },
          ],
        },
        ...nodeScrapeConfigs(),
      ],
    });
  });

  it("scrapes kube-state-metrics with its labels kept, and every node's kubelet and cAdvisor through the API server", () => {
    const config = prometheusConfig({
      scrapeInterval: "30s",
      environment: "dev",
      ruleFiles: [],
      alertmanagers: [],
      targets: [],
      kubeStateMetrics: "mon-kube-state-metrics.observability.svc:8080",
    });
    expect(config.scrape_configs.map((j) => j.job_name)).toEqual(["prometheus", "kube-state-metrics", "kubelet", "cadvisor"]);
    expect(config.scrape_configs[1]).toEqual({
      job_name: "kube-state-metrics",
      honor_labels: true,
      static_configs: [{ targets: ["mon-kube-state-metrics.observability.svc:8080"] }],
    });
    const paths = { kubelet: "metrics", cadvisor: "metrics/cadvisor" };
    for (const [job, path] of Object.entries(paths)) {
      expect(config.scrape_configs.find((j) => j.job_name === job)).toEqual({
        job_name: job,
        scheme: "https",
        kubernetes_sd_configs: [{ role: "node" }],
        authorization: { credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token" },
        tls_config: { ca_file: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
        relabel_configs: [
          { target_label: "__address__", replacement: "kubernetes.default.svc:443" },
          { source_labels: ["__meta_kubernetes_node_name"], regex: "(.+)", target_label: "__metrics_path__", replacement: `/api/v1/nodes/\${1}/proxy/${path}` },
          { source_labels: ["__meta_kubernetes_node_name"], target_label: "instance" },
          { source_labels: ["__meta_kubernetes_node_name"], target_label: "node" },
        ],
      });
    }
  });

  it("names the nodes statically for a Prometheus without Kubernetes discovery", () => {
    const [kubelet, cadvisor] = nodeScrapeConfigs(["b", "a", "b"]);
    expect(kubelet).toEqual({
      job_name: "kubelet",
      scheme: "https",
      static_configs: [
        { targets: ["kubernetes.default.svc:443"], labels: { node: "a" } },
        { targets: ["kubernetes.default.svc:443"], labels: { node: "b" } },
      ],
      authorization: { credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token" },
      tls_config: { ca_file: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
      relabel_configs: [
        { target_label: "__address__", replacement: "kubernetes.default.svc:443" },
        { source_labels: ["node"], regex: "(.+)", target_label: "__metrics_path__", replacement: "/api/v1/nodes/${1}/proxy/metrics" },
        { source_labels: ["node"], target_label: "instance" },
      ],
    });
    expect(cadvisor!.relabel_configs[1]!.replacement).toBe("/api/v1/nodes/${1}/proxy/metrics/cadvisor");
    expect(() => nodeScrapeConfigs([])).toThrow(/empty node list/);
  });
});

describe("kube-state-metrics and Prometheus cluster access", () => {
  it("lets kube-state-metrics list and watch exactly the resources it reports", () => {
    expect(kubeStateMetricsRules()).toEqual([
      { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
    ]);
    expect(kubeStateMetricsArgs(["web", "core", "web"])).toEqual([
      "--port=8080",
      "--telemetry-port=8081",
      "--resources=cronjobs,jobs,pods",
      "--namespaces=core,web",
    ]);
    expect(() => kubeStateMetricsArgs([])).toThrow(/at least one namespace/);
  });

  it("lets Prometheus list nodes and get their proxy, not their metrics directly", () => {
    expect(prometheusNodeRules()).toEqual([
      { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
      { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] },
    ]);
  });
});

describe("taskAlertRules and taskRunRecords", () => {
  const cronTask: MonitoredTask = {
    name: "report",
    namespace: "core",
    owner: "sre",
    kind: "report",
    runner: "k8s-cronjob",
    schedule: "0 7 * * 1",
    source: `${A}:40`,
  };
  const jobTask: MonitoredTask = { name: "migrate", namespace: "core", owner: "platform", kind: "migration", runner: "k8s-job", source: `${A}:50` };

  it("gives a CronJob task a missed, a failed and a suspended alert, a Job task a failed alert, labelled with task, kind and owner", () => {
    const file = taskAlertRules([cronTask, jobTask]);
    expect(file.groups.map((g) => g.name)).toEqual(["tasks"]);
    const rules = file.groups[0]!.rules as AlertingRule[];
    expect(rules.map((r) => [r.alert, r.labels.task, r.labels.severity])).toEqual([
      ["TaskMissed", "report", "warning"],
      ["TaskFailed", "report", "warning"],
      ["TaskSuspended", "report", "warning"],
      ["TaskFailed", "migrate", "warning"],
    ]);
    const cron = '{namespace="core",cronjob="report"}';
    expect(rules[0]!.expr).toBe(
      `(time() - max(kube_cronjob_status_last_successful_time${cron}) > 1209600)` +
        ` or ((time() - max(kube_cronjob_created${cron}) > 1209600) unless on() kube_cronjob_status_last_successful_time${cron})` +
        ` or (time() - max(kube_cronjob_next_schedule_time${cron}) > 900)` +
        ` or absent(kube_cronjob_created${cron})`,
    );
    expect(rules[0]!.for).toBe("15m");
    expect(rules[0]!.labels).toEqual({ severity: "warning", category: "task", task: "report", kind: "report", namespace: "core", owner: "sre", team: "sre" });
    expect(rules[1]!.expr).toContain('kube_job_status_failed{namespace="core",job_name=~"report-[0-9]+"} > 0');
    // Suspended in the cluster while the registry enables it: no run will come.
    expect(rules[2]!.expr).toBe(`max(kube_cronjob_spec_suspend${cron}) == 1`);
    expect(rules[2]!.for).toBe("2m");
    expect(rules[3]!.expr).toBe('max(kube_job_failed{namespace="core",job_name="migrate",condition="true"}) == 1');
    expect(rules[3]!.labels).toMatchObject({ task: "migrate", kind: "migration", owner: "platform", team: "platform" });
    for (const r of rules) {
      expect(r.annotations.runbook_url).toBe("https://runbooks.nexus.example/alerts/task");
      expect(r.annotations.summary).toContain(r.labels.task!);
    }
    expect(rules[0]!.annotations.summary).toBe('Task report (report) has not succeeded for more than 14d (schedule "0 7 * * 1")');
  });

  it("leaves backups to backupAlertRules, and makes no group without tasks", () => {
    expect(() => taskAlertRules([{ ...cronTask, kind: "backup" }])).toThrow(/backupAlertRules/);
    expect(taskAlertRules([])).toEqual({ groups: [] });
    expect(taskRunRecords([])).toEqual({ groups: [] });
  });

  it("records each task's last success and last failure, carrying its own previous value forward", () => {
    const file = taskRunRecords([cronTask, jobTask]);
    expect(file.groups.map((g) => g.name)).toEqual(["task-runs"]);
    const [cronSuccess, cronFailure, jobSuccess, jobFailure] = file.groups[0]!.rules as RecordingRule[];
    expect(cronSuccess).toEqual({
      record: "nexus:task_last_success_timestamp_seconds",
      expr:
        'max(max(kube_cronjob_status_last_successful_time{namespace="core",cronjob="report"})' +
        ' or nexus:task_last_success_timestamp_seconds{task="report"})',
      labels: { task: "report", kind: "report", owner: "sre" },
    });
    expect(cronFailure!.expr).toBe(
      'max(max(kube_job_status_start_time{namespace="core",job_name=~"report-[0-9]+"} and on(namespace, job_name)' +
        ' (kube_job_failed{namespace="core",job_name=~"report-[0-9]+",condition="true"} == 1))' +
        ' or nexus:task_last_failure_timestamp_seconds{task="report"})',
    );
    expect(jobSuccess!.expr).toBe(
      'max(max(kube_job_status_completion_time{namespace="core",job_name="migrate"}) or nexus:task_last_success_timestamp_seconds{task="migrate"})',
    );
    expect(jobFailure!.record).toBe("nexus:task_last_failure_timestamp_seconds");
    expect(jobFailure!.labels).toEqual({ task: "migrate", kind: "migration", owner: "platform" });
  });

  it("turns a model task into a monitored one by its runner", () => {
    const base = { name: "t", owner: "sre", kind: "report", source: `${A}:60` };
    expect(monitoredTask({ ...base, runner: "k8s-cronjob", schedule: "0 1 * * *" } as ResolvedTask, "core")).toEqual({
      ...base,
      namespace: "core",
      runner: "k8s-cronjob",
      schedule: "0 1 * * *",
    });
    expect(monitoredTask({ ...base, runner: "k8s-job" } as ResolvedTask, "core")).toEqual({ ...base, namespace: "core", runner: "k8s-job" });
    expect(() => monitoredTask({ ...base, runner: "local-command" } as ResolvedTask, "core")).toThrow(/beside Pulumi/);
  });
});

describe("grafana", () => {
  const dashboard: ResolvedDashboard = {
    name: "overview",
    title: "Overview",
    services: ["api"],
    panels: [
      { title: "Up", type: "stat", expr: "up" },
      {
        title: "Requests",
        type: "timeseries",
        expr: "rate(http_requests_total[5m])",
        unit: "reqps",
      },
      { title: "Errors", type: "table", expr: "errors" },
    ],
    source: `${M}:90`,
  };

  it("builds a dashboard with unique panel ids, a grid layout and the provisioned datasource", () => {
    const json = grafanaDashboard(dashboard);
    expect(json.uid).toBe("overview");
    expect(json.panels.map((p) => p.id)).toEqual([1, 2, 3]);
    expect(new Set(json.panels.map((p) => p.id)).size).toBe(json.panels.length);
    expect(json.panels.map((p) => p.gridPos)).toEqual([
      { x: 0, y: 0, w: 12, h: 8 },
      { x: 12, y: 0, w: 12, h: 8 },
      { x: 0, y: 8, w: 12, h: 8 },
    ]);
    for (const panel of json.panels) {
      expect(panel.datasource).toEqual({ type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID });
    }
    expect(json.panels[1]!.fieldConfig.defaults).toEqual({ unit: "reqps" });
    expect(json.panels[2]!.targets[0]).toMatchObject({ instant: true, format: "table" });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it("keeps uids within Grafana's 40 characters and distinct", () => {
    const a = grafanaUid("a-very-long-dashboard-name-that-goes-on-and-on-1");
    const b = grafanaUid("a-very-long-dashboard-name-that-goes-on-and-on-2");
    expect(a.length).toBeLessThanOrEqual(40);
    expect(a).not.toBe(b);
  });

  it("provisions the Prometheus datasource under the uid the dashboards use, and the dashboards", () => {
    expect(grafanaDatasources({ prometheusUrl: "http://p:9090", scrapeInterval: "30s" }).datasources[0]).toMatchObject({
      uid: PROMETHEUS_DATASOURCE_UID,
      type: "prometheus",
      url: "http://p:9090",
      isDefault: true,
    });
    expect(grafanaDashboardProvider({ path: "/d" }).providers[0]).toMatchObject({
      type: "file",
      options: { path: "/d" },
      allowUiUpdates: false,
    });
  });
});
