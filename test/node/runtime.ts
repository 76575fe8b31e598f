import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TASK_LAST_SUCCESS, toPrometheusAlertName } from "../../components/builders/monitoring";
import type { Model } from "../../domain/model";
import { taskNamespace } from "../../domain/model/workloads";
import { s3Client, type S3Client } from "../support/s3";
import { startAlertReceiver, type AlertMatch, type AlertReceiver, type ReceivedAlert } from "../support/alertReceiver";
import { explain, jobOutcome, kubectl, portForward, run, runAsync, sleepMs, waitFor } from "./support";

/**
 * The promises the registries make at runtime, on the dev stack running on the node: Prometheus
 * scrapes every target and loads every rule, a fault reaches the alert receiver (standing in for
 * Slack, PagerDuty and e-mail) with the registry's labels and resolves when removed, backups go
 * to an S3-compatible store and restore, and each task leaves a record of its runs.
 */

/** The dev stack's keys this section sets in the checkout's stack config, removed at its end. */
const STORE = { endpoint: "backupStoreEndpoint", bucket: "backupStoreBucket", region: "backupStoreRegion" } as const;
const STORE_SECRETS = { accessKeyId: "backupStoreAccessKeyId", secretAccessKey: "backupStoreSecretAccessKey" } as const;
const BUCKET = "nexus-dev-backups";
const CREDENTIALS = { accessKeyId: "nexus-dev", secretAccessKey: "nexus-dev-secret", region: "us-east-1" };

/** `pulumi config` on the checkout's copy of the dev stack config, as scripts/stack runs it. */
function config(...args: string[]) {
  const script = [
    'export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"',
    'if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then export PULUMI_CONFIG_PASSPHRASE_FILE="${PULUMI_CONFIG_PASSPHRASE_FILE:-$PWD/.pulumi-passphrase}"; fi',
    'exec pulumi config --stack dev --config-file .pulumi-state/Pulumi.dev.yaml "$@"',
  ].join("\n");
  return run("bash", ["-c", script, "config", ...args]);
}

function within<T>(what: string, promise: Promise<T>, ms: number, receiver: AlertReceiver): Promise<T> {
  return Promise.race([
    promise,
    sleepMs(ms).then(() => {
      const seen = receiver
        .alerts()
        .map((a) => `${a.name} ${a.status} via ${a.via} ${JSON.stringify(a.labels)}`)
        .join("\n  ");
      throw new Error(`${what}: not within ${ms / 1000} s; the receiver got:\n  ${seen || "(nothing)"}`);
    }),
  ]);
}

/** Times a fault from its injection to the matching alert at the receiver. */
async function timed(receiver: AlertReceiver, match: AlertMatch, ms: number): Promise<{ alert: ReceivedAlert; seconds: number }> {
  const start = Date.now();
  const alert = await within(`${match.name} ${match.status}`, receiver.waitForAlert(match), ms, receiver);
  return { alert, seconds: Math.round((Date.now() - start) / 1000) };
}

async function prometheus<T>(url: string, path: string): Promise<T> {
  const res = await fetch(url + path);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return ((await res.json()) as { data: T }).data;
}

/** A Job made from CronJob NAME, named NAME-<digits> as the CronJob's own Jobs are, waited for. */
async function runCronJob(namespace: string, name: string): Promise<{ job: string; outcome: string; log: string }> {
  const job = `${name}-${Date.now() % 1_000_000_000}`;
  const created = await runAsync("kubectl", ["create", "job", "-n", namespace, `--from=cronjob/${name}`, job]);
  if (created.code !== 0) throw new Error(`kubectl create job ${job}: ${explain(created)}`);
  const outcome = await jobOutcome(namespace, job, 300);
  const logs = await runAsync("kubectl", ["logs", "-n", namespace, `job/${job}`, "--tail=40"]);
  return { job, outcome: outcome || "unfinished after 300 s", log: logs.stdout + logs.stderr };
}

const stamp = (daysAgo: number) =>
  new Date(Date.now() - daysAgo * 86_400_000)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");

export function runtimeSteps(getModel: () => Model): void {
  describe("runtime promises", () => {
    runtime(getModel);
  });
}

function runtime(getModel: () => Model): void {
  let receiver: AlertReceiver;
  let endpoint = "";
  let store: S3Client;
  const closers: (() => void)[] = [];
  let promUrl = "";
  const timings: string[] = [];

  beforeAll(async () => {
    receiver = await startAlertReceiver();
  });

  afterAll(async () => {
    for (const close of closers) close();
    await receiver?.close();
    for (const key of [...Object.values(STORE), ...Object.values(STORE_SECRETS)]) config("rm", key);
    run("bash", ["scripts/s3-store", "stop"]);
    if (timings.length > 0) console.log(`fault to alert at the receiver:\n  ${timings.join("\n  ")}`);
  });

  it("R1. the dev stack sends its alerts to the local receiver and its backups to the local S3-compatible store", async () => {
    const started = run("bash", ["scripts/s3-store", "start"]);
    expect(started.code, explain(started)).toBe(0);
    endpoint = started.stdout.trim().split("\n").pop()!;
    expect(endpoint).toMatch(/^http:\/\/10\.244\.0\.1:\d+$/);
    store = s3Client(endpoint, BUCKET, CREDENTIALS);
    const settings: [string, string, boolean][] = [
      [STORE.endpoint, endpoint, false],
      [STORE.bucket, BUCKET, false],
      [STORE.region, CREDENTIALS.region, false],
      [STORE_SECRETS.accessKeyId, CREDENTIALS.accessKeyId, true],
      [STORE_SECRETS.secretAccessKey, CREDENTIALS.secretAccessKey, true],
      ...getModel()
        .monitoring.channels.filter((c) => c.type === "slack")
        .map((c): [string, string, boolean] => [(c as { webhookSecret: string }).webhookSecret, `${receiver.url}/slack/${c.name}`, true]),
    ];
    for (const [key, value, secret] of settings) {
      const r = config("set", ...(secret ? ["--secret"] : []), key, value);
      expect(r.code, explain(r)).toBe(0);
    }
    const up = run("bash", ["scripts/stack", "up"]);
    expect(up.code, explain(up)).toBe(0);
    // Only secrets of the Alertmanager configuration changed: its pod keeps the old file until a
    // restart, the documented step after rotating a channel secret.
    for (const args of [
      ["rollout", "restart"],
      ["rollout", "status", "--timeout=180s"],
    ]) {
      const r = kubectl(...args, "-n", "observability", "deploy/nexus-alertmanager");
      expect(r.code, explain(r)).toBe(0);
    }
    const pf = await portForward("observability", "svc/nexus-prometheus", 9090);
    closers.push(pf.close);
    promUrl = pf.url;
  });

  it("R2. every scrape target is up, and the rules API lists every alert, SLO burn rule and task alert of the registry", async () => {
    const model = getModel();
    type Target = { labels: { job: string; instance: string }; health: string; lastError: string };
    const targets = await waitFor(
      "every scrape target up",
      async () => {
        const t = (await prometheus<{ activeTargets: Target[] }>(promUrl, "/api/v1/targets")).activeTargets;
        return t.length > 0 && t.every((x) => x.health === "up") ? t : undefined;
      },
      180_000,
    ).catch(async (e: Error) => {
      const t = (await prometheus<{ activeTargets: Target[] }>(promUrl, "/api/v1/targets")).activeTargets;
      throw new Error(`${e.message}\n${t.map((x) => `${x.labels.job} ${x.labels.instance} ${x.health} ${x.lastError}`).join("\n")}`);
    });
    const jobs = new Set(targets.map((t) => t.labels.job));
    for (const s of model.services.filter((x) => x.metrics)) expect(jobs, `scrape job of ${s.name}`).toContain(s.name);
    for (const j of ["kube-state-metrics", "kubelet", "cadvisor", "prometheus"]) expect(jobs).toContain(j);

    type Rule = { type: string; name: string; labels?: Record<string, string> };
    const groups = (await prometheus<{ groups: { name: string; rules: Rule[] }[] }>(promUrl, "/api/v1/rules")).groups;
    const alerts = groups.flatMap((g) => g.rules.filter((r) => r.type === "alerting"));
    const names = new Set(alerts.map((r) => r.name));
    for (const a of model.monitoring.alerts.filter((x) => x.enabled)) expect(names, `alert ${a.name} (${a.source})`).toContain(toPrometheusAlertName(a.name));
    for (const slo of model.monitoring.slos) expect(names, `SLO ${slo.name}`).toContain(`${toPrometheusAlertName(slo.name)}ErrorBudgetBurn`);
    const inCluster = model.tasks.filter((t) => t.enabled && t.runner !== "local-command");
    expect(inCluster.length).toBeGreaterThan(0);
    for (const t of inCluster) {
      const own = alerts.filter((r) => r.labels?.task === t.name).map((r) => r.name);
      const expected =
        t.kind === "backup"
          ? ["BackupMissed", "BackupFailed", "BackupSuspended"]
          : t.runner === "k8s-job"
            ? ["TaskFailed"]
            : ["TaskMissed", "TaskFailed", "TaskSuspended"];
      expect(own.sort(), `alerts of task ${t.name} (${t.source})`).toEqual(expected.sort());
    }
  });

  it("R3. backup and restore round trip: PostgreSQL and Redis data come back, the objects are encrypted, keepLast prunes old ones", async () => {
    const model = getModel();
    const pg = model.tasks.find((t) => t.backup?.method === "postgres-dump")!;
    const redis = model.tasks.find((t) => t.backup?.method === "redis-snapshot")!;
    const psql = (sql: string) =>
      kubectl("exec", "-n", "data", "postgres-0", "--", "psql", "-h", "/var/run/postgresql", "-U", "nexus", "-d", "nexus", "-tAc", sql);
    const redisCli = (...a: string[]) => kubectl("exec", "-n", "data", "redis-0", "--", "redis-cli", ...a);
    for (const r of [
      psql("drop table if exists roundtrip; create table roundtrip(id int primary key, v text); insert into roundtrip values (1, 'before')"),
      redisCli("set", "roundtrip", "before"),
    ]) {
      expect(r.code, explain(r)).toBe(0);
    }
    // Old objects beyond keepLast and past the retention, which the next backup must remove; the
    // newest keepLast stay whatever their age.
    const prefix = pg.backup!.destination.prefix;
    const keepLast = pg.backup!.retention.keepLast;
    const seeded = [pg.backup!.retention.days + 3, pg.backup!.retention.days + 4, pg.backup!.retention.days + 5].map(
      (d) => `${prefix}${pg.name}-${stamp(d)}.sql.gz`,
    );

    const first = await Promise.all([runCronJob("data", pg.name), runCronJob("data", redis.name)]);
    for (const r of first) expect(r.outcome, r.log).toBe("Complete");
    for (const key of seeded) expect((await store.request("PUT", key, { body: "old" })).status).toBe(200);
    const second = await runCronJob("data", pg.name);
    expect(second.outcome, second.log).toBe("Complete");
    // The two runs' backups are the newest; the oldest seeded ones are beyond keepLast and past
    // the retention whatever else the store holds.
    const kept = await store.listKeys(prefix);
    const ours = (log: string) => /wrote s3:\/\/[^/]+\/(\S+)/.exec(log)?.[1];
    for (const r of [first[0]!, second]) expect(kept, r.log).toContain(ours(r.log));
    expect(keepLast).toBeLessThanOrEqual(3);
    for (const key of seeded.slice(keepLast - 2)) expect(kept, `${key} is beyond keepLast ${keepLast} and past the retention`).not.toContain(key);

    // Encrypted the way the registry says: server-side with the backup key (aws:kms).
    for (const key of [...kept, ...(await store.listKeys(redis.backup!.destination.prefix))].filter((k) => !seeded.includes(k))) {
      const head = await store.request("HEAD", key);
      expect(head.status, key).toBe(200);
      expect(head.headers.get("x-amz-server-side-encryption"), key).toBe("aws:kms");
    }

    for (const r of [psql("update roundtrip set v = 'after'"), redisCli("set", "roundtrip", "after")]) expect(r.code, explain(r)).toBe(0);
    for (const task of [pg.name, redis.name]) {
      const restore = run("node", ["bin/nexus.js", "restore", task, "--stack", "dev"]);
      expect(restore.code, explain(restore)).toBe(0);
    }
    expect(psql("select v from roundtrip where id = 1").stdout.trim()).toBe("before");
    expect(redisCli("get", "roundtrip").stdout.trim()).toBe("before");
  });

  it("R4. faults reach the receiver with the registry's labels and resolve: readiness, a failed backup, a suspended schedule", async () => {
    const model = getModel();
    const api = model.services.find((s) => s.name === "backend-api")!;
    const readyPath = (api.probes?.readiness as { path?: string } | undefined)?.path;
    expect(readyPath, "backend-api's readiness path").toBeDefined();
    const apiAlert = model.monitoring.alerts.find((a) => a.name === "backend-api-down")!;
    const redis = model.tasks.find((t) => t.backup?.method === "redis-snapshot")!;
    const scheduled = model.tasks.find((t) => t.enabled && t.runner === "k8s-cronjob" && t.kind !== "backup")!;
    const scheduledNs = taskNamespace(scheduled, model.services);
    const demo = (...a: string[]) => kubectl("exec", "-n", api.namespace, `deploy/${api.name}`, "--", "nexus-demo", ...a);
    const suspend = (value: boolean) =>
      kubectl("patch", "cronjob", "-n", scheduledNs, scheduled.name, "--type=merge", "-p", JSON.stringify({ spec: { suspend: value } }));

    // Three faults at once.
    let r = demo("fault", readyPath!);
    expect(r.code, explain(r)).toBe(0);
    r = suspend(true);
    expect(r.code, explain(r)).toBe(0);
    r = run("bash", ["scripts/s3-store", "stop"]);
    expect(r.code, explain(r)).toBe(0);
    const apiLabels = { severity: apiAlert.severity, owner: api.owner };
    const [down, failedBackup, suspended, failedRun] = await Promise.all([
      timed(receiver, { name: toPrometheusAlertName(apiAlert.name), status: "firing", labels: apiLabels, via: "pagerduty" }, 420_000),
      timed(receiver, { name: "BackupFailed", status: "firing", labels: { owner: redis.owner, task: redis.name }, via: "email" }, 420_000),
      // To the owning team's channel; severity and owner are what every carrier shows (Slack as fields).
      timed(receiver, { name: "TaskSuspended", status: "firing", labels: { owner: scheduled.owner, severity: "warning" } }, 420_000),
      runCronJob("data", redis.name),
    ]);
    expect(failedRun.outcome, failedRun.log).toBe("Failed");
    expect(down.alert.annotations["runbook_url"]).toBe(apiAlert.runbook);
    expect(suspended.alert.annotations["runbook_url"]).toMatch(/^https:\/\//);
    timings.push(
      `readiness of ${api.name} failing -> ${down.alert.name} firing via ${down.alert.via}: ${down.seconds} s`,
      `store down, backup ${redis.name} failed -> BackupFailed firing via ${failedBackup.alert.via}: ${failedBackup.seconds} s`,
      `CronJob ${scheduled.name} suspended -> TaskSuspended firing via ${suspended.alert.via}: ${suspended.seconds} s`,
    );

    // Recovery: each alert resolves once its fault is removed.
    r = demo("fault", "--clear");
    expect(r.code, explain(r)).toBe(0);
    r = suspend(false);
    expect(r.code, explain(r)).toBe(0);
    r = run("bash", ["scripts/s3-store", "start"]);
    expect(r.code, explain(r)).toBe(0);
    const [recovered, , ,] = await Promise.all([
      runCronJob("data", redis.name),
      timed(receiver, { name: toPrometheusAlertName(apiAlert.name), status: "resolved", labels: apiLabels }, 300_000),
      timed(receiver, { name: "BackupFailed", status: "resolved", labels: { task: redis.name } }, 420_000),
      timed(receiver, { name: "TaskSuspended", status: "resolved", labels: { owner: scheduled.owner } }, 300_000),
    ]);
    expect(recovered.outcome, recovered.log).toBe("Complete");
  });

  it("R5. every in-cluster task leaves a record of its last success that outlives its Jobs", async () => {
    const model = getModel();
    const tasks = model.tasks.filter((t) => t.enabled && t.runner !== "local-command");
    const recorded = await waitFor(
      "a last-success record for every task",
      async () => {
        const result = (await prometheus<{ result: { metric: { task: string } }[] }>(promUrl, `/api/v1/query?query=${encodeURIComponent(TASK_LAST_SUCCESS)}`))
          .result;
        const have = new Set(result.map((x) => x.metric.task));
        return tasks.every((t) => have.has(t.name)) ? have : undefined;
      },
      180_000,
    );
    for (const t of tasks) expect(recorded, `record of ${t.name} (${t.source})`).toContain(t.name);
  });
}
