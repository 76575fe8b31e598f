/**
 * `nexus restore` without a cluster: the pure parts (the --at time, the Job made from the task's
 * CronJob, the outcome of a Job) and the command with a stand-in for kubectl (what it creates,
 * how it waits, its exit status and messages).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi, type MockInstance } from "vitest";
import type { Kubectl, KubectlResult } from "../../cmd/kubectl";
import { restoreCommand, type RestoreDeps } from "../../cmd/restore/cli";
import { RESTORE_TTL_SECONDS, backupDestination, jobOutcome, restoreAt, restoreJob, restoreJobName, type CronJobObject } from "../../cmd/restore/job";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../components/builders/pod";
import { restoreScript } from "../../components/builders/restore";
import { main } from "../../cmd/nexus";
import { ROOT } from "../support/registries";

const LABELS = { "app.kubernetes.io/name": "postgres-backup", "app.kubernetes.io/part-of": "nexus-platform", "nexus.platform/backup-of": "postgres" };

/** The CronJob of the dev stack's postgres-backup as the API server returns it (the parts that matter). */
function cronJob(env: { name: string; value?: string; valueFrom?: unknown }[] = S3_ENV): CronJobObject {
  return {
    metadata: { name: "postgres-backup", namespace: "data", labels: LABELS },
    spec: {
      jobTemplate: {
        metadata: { labels: LABELS, annotations: { "nexus.platform/source": "registries/automation.yaml:20" } },
        spec: {
          activeDeadlineSeconds: 3600,
          template: {
            metadata: { labels: LABELS },
            spec: {
              serviceAccountName: "postgres-backup",
              automountServiceAccountToken: false,
              restartPolicy: "Never",
              securityContext: restrictedPodSecurityContext(),
              containers: [
                {
                  name: "backup",
                  image: "nexus.local/backup-runner:pg15.20-deb12",
                  command: ["/bin/sh", "/scripts/backup.sh"],
                  env,
                  securityContext: restrictedContainerSecurityContext(),
                  volumeMounts: [{ name: "backup", mountPath: "/backup" }],
                },
              ],
              volumes: [{ name: "backup", emptyDir: {} }],
            },
          },
        },
      },
    },
  } as unknown as CronJobObject;
}

const S3_ENV = [
  { name: "BACKUP_BUCKET", value: "nexus-dev-backups" },
  { name: "BACKUP_ENDPOINT", value: "http://10.244.0.1:9000" },
  { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: "postgres-backup-store", key: "AWS_ACCESS_KEY_ID" } } },
  { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "postgres-secrets", key: "POSTGRES_PASSWORD" } } },
];

describe("restoreAt", () => {
  it("takes an ISO time with its zone or a backup's timestamp, as UTC digits", () => {
    expect(restoreAt("2026-12-01T10:30:00Z")).toBe("20261201103000");
    expect(restoreAt("2026-12-01T12:30+02:00")).toBe("20261201103000");
    expect(restoreAt("2026-12-01T10:30:15.750Z")).toBe("20261201103015");
    expect(restoreAt("20261201T103000Z")).toBe("20261201103000");
  });

  it("refuses a time without a zone, a date alone and impossible dates", () => {
    for (const bad of ["2026-12-01T10:30:00", "2026-12-01", "2026-02-30T10:00Z", "20261301T000000Z", "yesterday", ""]) expect(restoreAt(bad), bad).toBeNull();
  });
});

describe("restoreJob", () => {
  const script = restoreScript("postgres-dump", { task: "postgres-backup", host: "postgres.data.svc", port: 5432, destination: "s3" });

  it("is the backup's pod running the restore script once: same labels, account, security, volumes, env and secrets", () => {
    const job = restoreJob(cronJob(), { name: "postgres-backup-restore-20261201-103000", script, at: "20261201030000", dryRun: false }) as {
      metadata: { name: string; namespace: string; labels: Record<string, string> };
      spec: {
        backoffLimit: number;
        activeDeadlineSeconds: number;
        ttlSecondsAfterFinished: number;
        template: { metadata: unknown; spec: Record<string, unknown> };
      };
    };
    expect(job.metadata).toMatchObject({ name: "postgres-backup-restore-20261201-103000", namespace: "data", labels: LABELS });
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: RESTORE_TTL_SECONDS });
    const source = cronJob().spec.jobTemplate.spec.template;
    // The task's labels: its network policies (target, store) select the restore pod too.
    expect(job.spec.template.metadata).toEqual(source.metadata);
    const { containers, ...pod } = job.spec.template.spec as { containers: Record<string, unknown>[] };
    const { containers: _backup, ...sourcePod } = source.spec;
    expect(pod).toEqual(sourcePod);
    expect(containers).toHaveLength(1);
    expect(containers[0]).toEqual({
      ...source.spec.containers[0],
      name: "restore",
      command: ["/bin/sh", "-c", script],
      env: [...S3_ENV, { name: "RESTORE_AT", value: "20261201030000" }],
    });
  });

  it("marks a dry run, and replaces restore variables the CronJob might carry", () => {
    const stale = cronJob([...S3_ENV, { name: "RESTORE_AT", value: "1" }, { name: "RESTORE_DRY_RUN", value: "0" }]);
    const job = restoreJob(stale, { name: "x", script, dryRun: true }) as { spec: { template: { spec: { containers: { env: unknown[] }[] } } } };
    expect(job.spec.template.spec.containers[0]!.env).toEqual([...S3_ENV, { name: "RESTORE_DRY_RUN", value: "1" }]);
  });

  it("reads the destination from the CronJob, and names the Job within 63 characters", () => {
    expect(backupDestination(cronJob())).toBe("s3");
    expect(backupDestination(cronJob([{ name: "BACKUP_DIR", value: "/backup" }]))).toBe("pvc");
    const at = new Date("2026-12-01T10:30:00.123Z");
    expect(restoreJobName("postgres-backup", at)).toBe("postgres-backup-restore-20261201-103000");
    const long = restoreJobName("a".repeat(52), at);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^a+-restore-20261201-103000$/);
  });
});

describe("jobOutcome", () => {
  it("is done when the Job completes or fails, or a pod cannot start at all", () => {
    expect(jobOutcome({ status: { conditions: [{ type: "Complete", status: "True" }] } }, [])).toEqual({ done: true, ok: true });
    expect(
      jobOutcome(
        {
          status: {
            failed: 1,
            conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }],
          },
        },
        [],
      ),
    ).toEqual({
      done: true,
      ok: false,
      why: "BackoffLimitExceeded: Job has reached the specified backoff limit",
    });
    const pulling = {
      metadata: { name: "p" },
      status: { containerStatuses: [{ name: "restore", state: { waiting: { reason: "ImagePullBackOff", message: "back-off" } } }] },
    };
    expect(jobOutcome({ status: {} }, [pulling])).toEqual({ done: true, ok: false, why: "pod p: ImagePullBackOff: back-off" });
    const creating = { metadata: { name: "p" }, status: { containerStatuses: [{ name: "restore", state: { waiting: { reason: "ContainerCreating" } } }] } };
    expect(jobOutcome({ status: { conditions: [{ type: "Failed", status: "False" }] } }, [creating])).toEqual({ done: false });
  });
});

// ---------------------------------------------------------------------------------------------

type Reply = Partial<KubectlResult> | ((args: readonly string[]) => Partial<KubectlResult>);

/** A kubectl stand-in answering by the verb and resource of each call; records every call and the created manifest. */
function fakeKubectl(replies: Record<string, Reply>) {
  const calls: string[][] = [];
  let created: Record<string, unknown> | undefined;
  const kubectl: Kubectl = async (args) => {
    calls.push([...args]);
    const verb = args.find((a) => ["get", "create", "logs"].includes(a))!;
    const key = verb === "get" ? `get ${args[args.indexOf("get") + 1]}` : verb;
    if (verb === "create") created = JSON.parse(fs.readFileSync(args[args.indexOf("-f") + 1]!, "utf8"));
    const reply = replies[key] ?? { code: 1, stderr: `error: no reply for ${key}` };
    return { code: 0, stdout: "", stderr: "", ...(typeof reply === "function" ? reply(args) : reply) };
  };
  return { kubectl, calls, created: () => created };
}

function deps(kubectl: Kubectl): RestoreDeps {
  let t = Date.parse("2026-12-01T10:30:00Z");
  // Each wait moves the clock, so a Job that never finishes runs the wait out without waiting.
  return { kubectl, env: { KUBERNETES_SERVICE_HOST: "10.0.0.1" }, sleep: async (ms) => void (t += ms), now: () => new Date(t) };
}

const done = { code: 0, stdout: JSON.stringify({ status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }) };
const noPods = { code: 0, stdout: JSON.stringify({ items: [] }) };

describe("nexus restore", () => {
  let err: MockInstance<typeof console.error>;
  let out: MockInstance<typeof process.stdout.write>;
  const captured = () => ({ stderr: err.mock.calls.map((c) => String(c[0])).join("\n"), stdout: out.mock.calls.map((c) => String(c[0])).join("") });
  const spy = () => {
    err = vi.spyOn(console, "error").mockImplementation(() => undefined);
    out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  };
  afterEach(() => vi.restoreAllMocks());

  it("creates the restore Job in the task's namespace, waits for it, prints its log and exits 0", async () => {
    spy();
    let polls = 0;
    const k = fakeKubectl({
      "get cronjob": { stdout: JSON.stringify(cronJob()) },
      create: { stdout: "job.batch/postgres-backup-restore-20261201-103000 created" },
      "get job": () => (++polls < 3 ? { stdout: JSON.stringify({ status: { active: 1 } }) } : done),
      "get pods": noPods,
      logs: { stdout: "restore: chose s3://nexus-dev-backups/postgres/postgres-backup-20261201T021500Z.sql.gz\nrestore: restored ...\n" },
    });
    const code = await restoreCommand(["postgres-backup", "--at", "2026-12-01T03:00:00Z"], deps(k.kubectl));
    const { stderr, stdout } = captured();
    expect(code).toBe(0);
    expect(polls).toBe(3);
    expect(stdout).toContain("restore: chose s3://nexus-dev-backups/postgres/postgres-backup-20261201T021500Z.sql.gz");
    expect(stderr).toContain(
      "nexus: started Job data/postgres-backup-restore-20261201-103000: restore of postgres-backup (S3 backups, at or before 2026-12-01T03:00:00Z) into postgres",
    );
    expect(stderr).toContain("nexus: Job data/postgres-backup-restore-20261201-103000 succeeded: postgres restored");
    for (const call of k.calls) expect(call.slice(call.indexOf("--namespace"), call.indexOf("--namespace") + 2)).toEqual(["--namespace", "data"]);
    const job = k.created() as { spec: { template: { spec: { containers: { command: string[]; env: { name: string; value?: string }[] }[] } } } };
    const container = job.spec.template.spec.containers[0]!;
    expect(container.command[2]).toBe(restoreScript("postgres-dump", { task: "postgres-backup", host: "postgres.data.svc", port: 5432, destination: "s3" }));
    expect(container.env).toContainEqual({ name: "RESTORE_AT", value: "20261201030000" });
  });

  it("runs a dry run as a Job that leaves the target alone", async () => {
    spy();
    const k = fakeKubectl({ "get cronjob": { stdout: JSON.stringify(cronJob()) }, create: {}, "get job": done, "get pods": noPods, logs: { stdout: "" } });
    expect(await restoreCommand(["postgres-backup", "--dry-run"], deps(k.kubectl))).toBe(0);
    const env = (k.created() as { spec: { template: { spec: { containers: { env: { name: string }[] }[] } } } }).spec.template.spec.containers[0]!.env;
    expect(env).toContainEqual({ name: "RESTORE_DRY_RUN", value: "1" });
    expect(env.map((e) => e.name)).not.toContain("RESTORE_AT");
    expect(captured().stderr).toContain("succeeded: the backup is complete, the target was not changed");
  });

  it("exits 1 with the Job's reason and its log when the restore fails", async () => {
    spy();
    const failed = { stdout: JSON.stringify({ status: { failed: 1, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] } }) };
    const k = fakeKubectl({
      "get cronjob": { stdout: JSON.stringify(cronJob()) },
      create: {},
      "get job": failed,
      "get pods": noPods,
      logs: { stdout: "ERROR: permission denied\n" },
    });
    expect(await restoreCommand(["redis-backup"], deps(k.kubectl))).toBe(1);
    const { stderr, stdout } = captured();
    expect(stdout).toContain("ERROR: permission denied");
    expect(stderr).toMatch(/nexus: Job data\/redis-backup-restore-20261201-103000 failed: BackoffLimitExceeded; redis may be partly restored/);
  });

  it("exits 1 at once when the pod cannot start, and when the wait runs out", async () => {
    spy();
    const stuck = {
      stdout: JSON.stringify({
        items: [
          {
            metadata: { name: "p1" },
            status: {
              containerStatuses: [
                { name: "restore", state: { waiting: { reason: "CreateContainerConfigError", message: 'secret "postgres-backup-store" not found' } } },
              ],
            },
          },
        ],
      }),
    };
    const k = fakeKubectl({
      "get cronjob": { stdout: JSON.stringify(cronJob()) },
      create: {},
      "get job": { stdout: "{}" },
      "get pods": stuck,
      logs: { code: 1, stderr: "error: container not started" },
    });
    expect(await restoreCommand(["postgres-backup"], deps(k.kubectl))).toBe(1);
    expect(captured().stderr).toContain('failed: pod p1: CreateContainerConfigError: secret "postgres-backup-store" not found');

    const forever = fakeKubectl({
      "get cronjob": { stdout: JSON.stringify(cronJob()) },
      create: {},
      "get job": { stdout: "{}" },
      "get pods": noPods,
      logs: {},
    });
    expect(await restoreCommand(["postgres-backup"], deps(forever.kubectl))).toBe(1);
    expect(captured().stderr).toContain("failed: not finished after 3720 s");
  });

  it("exits 1 naming the problem when the cluster has no such CronJob or kubectl is missing", async () => {
    spy();
    const none = fakeKubectl({ "get cronjob": { code: 1, stderr: 'Error from server (NotFound): cronjobs.batch "postgres-backup" not found' } });
    expect(await restoreCommand(["postgres-backup"], deps(none.kubectl))).toBe(1);
    expect(captured().stderr).toContain(
      'nexus: cannot read the CronJob data/postgres-backup of stack dev: Error from server (NotFound): cronjobs.batch "postgres-backup" not found (is the stack deployed?)',
    );
    expect(none.calls.some((c) => c.includes("create"))).toBe(false);

    const missing: Kubectl = async () => ({ code: 127, stdout: "", stderr: "spawn kubectl ENOENT", notFound: true });
    expect(await restoreCommand(["postgres-backup"], deps(missing))).toBe(1);
    expect(captured().stderr).toContain("nexus: kubectl is not on PATH");
  });

  it("exits 2 on usage errors, before reading the cluster", async () => {
    spy();
    const k = fakeKubectl({});
    expect(await restoreCommand([], deps(k.kubectl))).toBe(2);
    expect(await restoreCommand(["health-check"], deps(k.kubectl))).toBe(2);
    expect(captured().stderr).toContain('"health-check" is not a backup task of environment dev; backup tasks: postgres-backup, redis-backup');
    expect(await restoreCommand(["postgres-backup", "--at", "yesterday"], deps(k.kubectl))).toBe(2);
    expect(await restoreCommand(["postgres-backup", "--stack", "qa"], deps(k.kubectl))).toBe(2);
    expect(await restoreCommand(["postgres-backup", "--bogus"], deps(k.kubectl))).toBe(2);
    expect(k.calls).toEqual([]);
    expect(await restoreCommand(["--help"], deps(k.kubectl))).toBe(0);
  });

  it("is a command of nexus, listed in its usage", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(await main(["--help"])).toBe(0);
    expect(String(log.mock.calls[0]![0])).toMatch(/\n {2}restore {4}restore a backup task's newest backup/);
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "nexus.js"), "restore"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("nexus: name the backup task to restore\n\nUsage: nexus restore TASK");
  });
});
