import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  alertRuleGroups,
  alertmanagerConfig,
  backupAlertRules,
  channelSecretKeys,
  monitoredTask,
  prometheusConfig,
  ruleCount,
  sloRuleGroups,
  taskAlertRules,
  taskRunRecords,
  toPrometheusAlertName,
  toYaml,
  type AlertingRule,
  type BackupTask,
  type MonitoredTask,
  type RuleFile,
} from "../../components/builders/monitoring";
import { loadModel } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { taskNamespace } from "../../domain/model/workloads";
import { MINIMAL_REGISTRIES, REAL_REGISTRIES } from "../support/registries";

/**
 * The generated files are checked by the real Prometheus and Alertmanager tools, not by our own
 * reading of their formats: promtool parses every PromQL expression and runs rule unit tests,
 * amtool parses the Alertmanager configuration and walks its routing tree. Missing tools fail
 * the run: a check that silently skips is a check nobody has.
 */
function tool(name: string, debianPackage: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (found.status !== 0 || found.stdout.trim() === "") {
    throw new Error(
      `${name} is not installed, so the generated monitoring files cannot be checked: ` +
        `install it with \`apt-get update && apt-get install -y ${debianPackage}\` (CI does)`,
    );
  }
  return found.stdout.trim();
}

function run(name: string, debianPackage: string, args: string[], cwd: string): string {
  const result = spawnSync(tool(name, debianPackage), args, { cwd, encoding: "utf8" });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`${name} ${args.join(" ")} failed (${result.status}):\n${output}`);
  return output;
}

const promtool = (args: string[], cwd: string) => run("promtool", "prometheus", args, cwd);
const amtool = (args: string[], cwd: string) => run("amtool", "prometheus-alertmanager", args, cwd);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-monitoring-"));
  dirs.push(dir);
  return dir;
}

interface Generated {
  dir: string;
  rules: Record<string, RuleFile>;
  backupTasks: BackupTask[];
}

/** Writes the files a model's monitoring stack would get, as the component renders them. */
function generate(model: Model): Generated {
  const dir = tempDir();
  const ownership = {
    services: Object.fromEntries(model.services.map((s) => [s.name, s.owner])),
    fallback: model.teams[0]!.name,
  };
  const namespaceOf = new Map(model.services.map((s) => [s.name, s.namespace]));
  const backupTasks: BackupTask[] = model.tasks
    .filter((t) => t.kind === "backup" && t.enabled && t.schedule !== undefined)
    .map((t) => ({
      name: t.name,
      namespace: namespaceOf.get(t.target ?? "") ?? "default",
      owner: t.owner,
      schedule: t.schedule!,
      source: t.source,
    }));
  const tasks: MonitoredTask[] = model.tasks
    .filter((t) => t.kind !== "backup" && t.enabled && t.runner !== "local-command")
    .map((t) => monitoredTask(t, taskNamespace(t, model.services)));
  const rules: Record<string, RuleFile> = {
    "alerts.rules.yml": alertRuleGroups({ alerts: model.monitoring.alerts, ownership }),
    "slos.rules.yml": sloRuleGroups(model.monitoring.slos, ownership),
    "backups.rules.yml": backupAlertRules(backupTasks),
    "tasks.rules.yml": taskAlertRules(tasks),
    "runs.rules.yml": taskRunRecords([...backupTasks.map((t): MonitoredTask => ({ ...t, kind: "backup", runner: "k8s-cronjob" })), ...tasks]),
  };
  for (const [file, content] of Object.entries(rules)) fs.writeFileSync(path.join(dir, file), toYaml(content));
  fs.writeFileSync(
    path.join(dir, "prometheus.yml"),
    toYaml(
      prometheusConfig({
        scrapeInterval: model.monitoring.stack.scrapeInterval,
        environment: model.environment.name,
        ruleFiles: Object.keys(rules),
        alertmanagers: ["mon-alertmanager.observability.svc:9093"],
        targets: model.services
          .filter((s) => s.metrics !== undefined)
          .map((s) => ({
            name: s.name,
            namespace: s.namespace,
            port: s.metrics!.port ?? s.port,
            metricsPath: s.metrics!.path,
            owner: s.owner,
          })),
        kubeStateMetrics: "kube-state-metrics.kube-system.svc:8080",
        // Debian's promtool, like its Prometheus, has no Kubernetes service discovery: a model that
        // discovers nodes is checked with its node jobs on a named node instead.
        nodes: model.monitoring.stack.prometheus.nodes ?? ["node-a"],
      }),
    ),
  );
  // Dummy secrets shaped like the real ones: amtool validates URLs.
  const secrets = Object.fromEntries(channelSecretKeys(model.monitoring.channels).map((key) => [key, `https://hooks.example.com/${key}`]));
  fs.writeFileSync(
    path.join(dir, "alertmanager.yml"),
    toYaml(
      alertmanagerConfig({
        channels: model.monitoring.channels,
        routing: model.monitoring.routing,
        alerts: model.monitoring.alerts,
        slos: model.monitoring.slos,
        teams: model.teams,
        backupTasks,
        tasks: model.tasks.filter((t) => t.enabled && t.kind !== "backup" && t.runner !== "local-command"),
        secrets,
      }),
    ),
  );
  return { dir, rules, backupTasks };
}

/** The receivers amtool's own routing walk picks for a label set. */
function receivers(dir: string, labels: Record<string, string>): string[] {
  const out = amtool(["config", "routes", "test", "--config.file=alertmanager.yml", ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)], dir);
  const line = out.split("\n").find((l) => l.trim() !== "" && !l.startsWith("Warning:"));
  return (line ?? "").trim().split(",");
}

function checkAll(g: Generated): void {
  const checked = promtool(["check", "rules", ...Object.keys(g.rules)], g.dir);
  for (const [file, content] of Object.entries(g.rules)) {
    expect(checked).toContain(`Checking ${file}\n  SUCCESS: ${ruleCount([content])} rules found`);
  }
  // Also loads every rule file, relative to prometheus.yml, as Prometheus does at start-up.
  // Syntax only: the node jobs name the pod's ServiceAccount token file, which exists in a pod
  // only; the rule files are checked one by one above.
  expect(promtool(["check", "config", "--syntax-only", "prometheus.yml"], g.dir)).toContain("SUCCESS: prometheus.yml is valid prometheus config file syntax");
  expect(amtool(["check-config", "alertmanager.yml"], g.dir)).toContain("SUCCESS");
}

describe("generated monitoring files, checked by promtool and amtool", () => {
  const minimal = loadModel({ registriesDir: MINIMAL_REGISTRIES, env: "dev" });

  it("a small model: rules, prometheus.yml and alertmanager.yml are valid", () => {
    checkAll(generate(minimal));
  });

  for (const env of ["dev", "prod"]) {
    it(`the real registries (${env}): every alert, SLO and backup rule passes promtool, and amtool routes each alert to its channels`, () => {
      const model = loadModel({ registriesDir: REAL_REGISTRIES, env });
      const g = generate(model);
      checkAll(g);
      const { routing } = model.monitoring;
      for (const alert of model.monitoring.alerts.filter((a) => a.enabled)) {
        const expected = alert.channels ?? routing[alert.severity];
        const labels = { alertname: toPrometheusAlertName(alert.name), severity: alert.severity };
        expect(receivers(g.dir, labels), alert.name).toEqual(expected);
      }
      const teamChannel = new Map(model.teams.map((t) => [t.name, t.channel]));
      for (const task of g.backupTasks) {
        const labels = {
          alertname: "BackupMissed",
          severity: "critical",
          category: "backup",
          team: task.owner,
        };
        expect(receivers(g.dir, labels), task.name).toEqual([teamChannel.get(task.owner)]);
      }
    });
  }
});

describe("rule behaviour, by promtool's rule unit tests", () => {
  const model = loadModel({ registriesDir: MINIMAL_REGISTRIES, env: "dev" });
  const g = generate(model);
  const rules = (file: string) => g.rules[file]!.groups.flatMap((group) => group.rules);
  const alert = (file: string, name: string, severity: string) =>
    rules(file).find((r): r is AlertingRule => "alert" in r && r.alert === name && r.labels.severity === severity)!;

  function unitTest(file: string, tests: unknown[], evaluationInterval = "1m"): string {
    const spec = { rule_files: [file], evaluation_interval: evaluationInterval, tests };
    fs.writeFileSync(path.join(g.dir, "test.yml"), toYaml(spec));
    return promtool(["test", "rules", "test.yml"], g.dir);
  }

  const slo = model.monitoring.slos[0]!; // api-availability, 99.9%: budget 0.1% of requests
  const sloAlert = `${toPrometheusAlertName(slo.name)}ErrorBudgetBurn`;
  const fired = (rule: AlertingRule, extra: Record<string, string> = {}) => ({
    exp_labels: { ...rule.labels, ...extra },
    exp_annotations: rule.annotations,
  });
  const requests = (errorsPerMinute: number, okPerMinute: number, minutes: number) => [
    {
      series: 'http_requests_total{job="api",code="500"}',
      values: `0+${errorsPerMinute}x${minutes}`,
    },
    { series: 'http_requests_total{job="api",code="200"}', values: `0+${okPerMinute}x${minutes}` },
  ];

  it("pages and tickets on a 10% error ratio, only tickets on 0.5%, stays quiet without errors", () => {
    const page = alert("slos.rules.yml", sloAlert, "critical");
    const ticket = alert("slos.rules.yml", sloAlert, "warning");
    const out = unitTest("slos.rules.yml", [
      {
        interval: "1m",
        input_series: requests(10, 90, 180),
        alert_rule_test: [{ eval_time: "2h", alertname: sloAlert, exp_alerts: [fired(page), fired(ticket)] }],
      },
      {
        // 0.5% is above 3x the budget (0.3%) but below 6x (0.6%): a ticket, not a page.
        interval: "1m",
        input_series: requests(5, 995, 180),
        alert_rule_test: [{ eval_time: "2h", alertname: sloAlert, exp_alerts: [fired(ticket)] }],
      },
      {
        interval: "1m",
        input_series: requests(0, 100, 180),
        alert_rule_test: [{ eval_time: "2h", alertname: sloAlert, exp_alerts: [] }],
      },
    ]);
    expect(out).toContain("SUCCESS");
  });

  it("reports a backup missed for two schedule periods, never run, or invisible, and a failed latest run", () => {
    const task = g.backupTasks[0]!; // db-backup, daily: missed after 48h
    const missed = alert("backups.rules.yml", "BackupMissed", "critical");
    const failed = alert("backups.rules.yml", "BackupFailed", "warning");
    const cron = `{namespace="${task.namespace}",cronjob="${task.name}"}`;
    const job = `{namespace="${task.namespace}",job_name="${task.name}-28000000"}`;
    // Two days of history: sampled and evaluated every 5 minutes to keep promtool quick.
    const samples = (50 * 60) / 5;
    const out = unitTest(
      "backups.rules.yml",
      [
        {
          // Succeeded once at time 0, then never again.
          interval: "5m",
          input_series: [
            { series: `kube_cronjob_created${cron}`, values: `0x${samples}` },
            { series: `kube_cronjob_status_last_successful_time${cron}`, values: `0x${samples}` },
          ],
          alert_rule_test: [
            { eval_time: "47h", alertname: "BackupMissed", exp_alerts: [] },
            { eval_time: "49h", alertname: "BackupMissed", exp_alerts: [fired(missed)] },
          ],
        },
        {
          // Created at time 0 and has never succeeded.
          interval: "5m",
          input_series: [{ series: `kube_cronjob_created${cron}`, values: `0x${samples}` }],
          alert_rule_test: [
            { eval_time: "47h", alertname: "BackupMissed", exp_alerts: [] },
            { eval_time: "49h", alertname: "BackupMissed", exp_alerts: [fired(missed)] },
          ],
        },
        {
          // Created at time 0, its first slot at 1h: no alert before the slot (nor in the 15
          // minutes of grace after it); the slot passes without a run, so it fires 15m + 15m later.
          interval: "5m",
          input_series: [
            { series: `kube_cronjob_created${cron}`, values: "0x48" },
            { series: `kube_cronjob_next_schedule_time${cron}`, values: "3600x48" },
          ],
          alert_rule_test: [
            { eval_time: "50m", alertname: "BackupMissed", exp_alerts: [] },
            { eval_time: "1h25m", alertname: "BackupMissed", exp_alerts: [] },
            { eval_time: "1h35m", alertname: "BackupMissed", exp_alerts: [fired(missed)] },
          ],
        },
        {
          // The slot at 1h is taken (the next one is a day later) and the run is under way: quiet.
          interval: "5m",
          input_series: [
            { series: `kube_cronjob_created${cron}`, values: "0x48" },
            { series: `kube_cronjob_next_schedule_time${cron}`, values: "3600x11 90000x36" },
          ],
          alert_rule_test: [{ eval_time: "3h", alertname: "BackupMissed", exp_alerts: [] }],
        },
        {
          // kube-state-metrics shows no such CronJob: the backup is not monitored at all.
          interval: "5m",
          input_series: [{ series: 'kube_cronjob_created{namespace="data",cronjob="other"}', values: "0x12" }],
          alert_rule_test: [
            {
              eval_time: "30m",
              alertname: "BackupMissed",
              exp_alerts: [fired(missed, { cronjob: task.name })],
            },
          ],
        },
        {
          // The run started at 1h failed after the success at 0: failed until a later success.
          interval: "5m",
          input_series: [
            { series: `kube_cronjob_created${cron}`, values: "0x48" },
            { series: `kube_cronjob_status_last_successful_time${cron}`, values: "0x35 10800x12" },
            { series: `kube_job_status_start_time${job}`, values: "3600x48" },
            { series: `kube_job_status_failed${job}`, values: "1x48" },
          ],
          alert_rule_test: [
            { eval_time: "2h", alertname: "BackupFailed", exp_alerts: [fired(failed)] },
            { eval_time: "3h30m", alertname: "BackupFailed", exp_alerts: [] },
            { eval_time: "2h", alertname: "BackupMissed", exp_alerts: [] },
          ],
        },
      ],
      "5m",
    );
    expect(out).toContain("SUCCESS");
  });
});
