import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as k8s from "@pulumi/kubernetes";
import { afterEach, describe, expect, it } from "vitest";
import {
  STARTING_DEADLINE_SECONDS,
  backupRolePolicy,
  backupScript,
  backupVolumes,
  containerEnv,
  cronJobSpec,
  destinationEnv,
  effectiveRetentionDays,
  irsaTrustPolicy,
  KEEP_LAST_GRACE_DAYS,
  maxBackupAgeDays,
  methodEnv,
  objectLockDays,
  objectLockRequested,
  s3LifecycleRules,
  stableHash,
  STORE_WAIT_SECONDS,
  taskPodTemplate,
  tlsOnlyBucketPolicy,
  type BackupScriptTarget,
} from "../../../components/builders/backup";
import { DEFAULT_TASK_RESOURCES } from "../../../domain/model/workloads";
import { restrictedContainerSecurityContext } from "../../../components/builders/pod";
import type { ResolvedService } from "../../../domain/model";
import { backupTask, retainedBackup, task } from "../../support/fixtures";
import { FAKE_AWS, nameDaysAgo } from "../../support/fakeAws";

const BUCKET_ARN = "arn:aws:s3:::nexus-prod-backups";
const KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/0b1c2d3e-aaaa-bbbb-cccc-123456789012";

/** Every Action and Resource string of a policy document. */
function actionsAndResources(doc: { Statement: Record<string, unknown>[] }): {
  actions: string[];
  resources: string[];
} {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).map(String);
  return {
    actions: doc.Statement.flatMap((s) => strings(s["Action"])),
    resources: doc.Statement.flatMap((s) => strings(s["Resource"])),
  };
}

describe("backupRolePolicy", () => {
  const doc = JSON.parse(backupRolePolicy(BUCKET_ARN, "db/", KEY_ARN));

  it("is exactly put/get/delete on the prefix, list of the prefix, and the key", () => {
    expect(doc).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ObjectsUnderOwnPrefix",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
          Resource: ["arn:aws:s3:::nexus-prod-backups/db/*"],
        },
        {
          Sid: "ListOwnPrefix",
          Effect: "Allow",
          Action: ["s3:ListBucket"],
          Resource: ["arn:aws:s3:::nexus-prod-backups"],
          Condition: { StringLike: { "s3:prefix": ["db/*"] } },
        },
        {
          Sid: "UseBackupKey",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: [KEY_ARN],
        },
      ],
    });
  });

  it("has no wildcard action and no wildcard resource beyond the key suffix of its prefix", () => {
    const { actions, resources } = actionsAndResources(doc);
    for (const a of actions) expect(a).not.toContain("*");
    for (const r of resources) {
      expect(r).not.toBe("*");
      expect(r).not.toBe(`${BUCKET_ARN}/*`);
      // The only "*" allowed: object keys after the task's own prefix (they carry a timestamp).
      if (r.includes("*")) expect(r).toBe(`${BUCKET_ARN}/db/*`);
    }
    expect(doc.Statement.every((s: { Effect: string }) => s.Effect === "Allow")).toBe(true);
  });
});

describe("irsaTrustPolicy", () => {
  it("trusts only the service account of the namespace, for STS, without the issuer scheme", () => {
    const doc = JSON.parse(
      irsaTrustPolicy(
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC",
        "https://oidc.eks.eu-central-1.amazonaws.com/id/ABC",
        "data",
        "db-backup",
      ),
    );
    expect(doc).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: {
            Federated: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC",
          },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              "oidc.eks.eu-central-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:data:db-backup",
              "oidc.eks.eu-central-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
            },
          },
        },
      ],
    });
  });
});

describe("tlsOnlyBucketPolicy", () => {
  it("denies every request without TLS on the bucket and its objects, and allows nothing", () => {
    const [deny, ...others] = JSON.parse(tlsOnlyBucketPolicy(BUCKET_ARN)).Statement;
    expect(others).toEqual([]);
    expect(deny).toMatchObject({ Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(deny.Resource).toEqual([BUCKET_ARN, `${BUCKET_ARN}/*`]);
  });
});

describe("s3LifecycleRules", () => {
  it("expires personal data a noncurrent-version period early, so no copy outlives the GDPR maximum", () => {
    const kept = retainedBackup("db-backup", "db/", 30, 30);
    const personal = { ...kept, backup: { ...kept.backup!, gdpr: { personalData: true, maxRetentionDays: 30 } } };
    const [rule] = s3LifecycleRules([personal]);
    expect(rule!.expiration).toEqual({ days: 29 });
    expect(rule!.expiration.days + rule!.noncurrentVersionExpiration.noncurrentDays).toBe(30);
  });

  it("expires each prefix after min(retention, GDPR maximum) plus the keepLast grace, old versions a day later", () => {
    const rules = s3LifecycleRules([
      retainedBackup("db-backup", "db/", 14, 30),
      retainedBackup("cache-backup", "cache/", 60, 30),
      retainedBackup("files-backup", "files/", 90),
      task(),
    ]);
    const rule = (id: string, prefix: string, days: number) => ({
      id,
      status: "Enabled",
      filter: { prefix },
      expiration: { days },
      noncurrentVersionExpiration: { noncurrentDays: 1 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    });
    const grace = KEEP_LAST_GRACE_DAYS;
    expect(rules).toEqual([rule("db-backup", "db/", 14 + grace), rule("cache-backup", "cache/", 30 + grace), rule("files-backup", "files/", 90 + grace)]);
  });

  it("never expires a backup the job keeps: the rule's age is the job's maxAgeDays, past the retention", () => {
    for (const t of [retainedBackup("a", "a/", 7), retainedBackup("b", "b/", 35, 90), backupTask()]) {
      const [rule] = s3LifecycleRules([t]);
      expect(rule!.expiration.days).toBe(maxBackupAgeDays(t.backup!));
      expect(rule!.expiration.days).toBeGreaterThanOrEqual(effectiveRetentionDays(t.backup!));
    }
    // Personal data: the GDPR maximum wins over keepLast, the noncurrent day included.
    const personal = backupTask({
      backup: { ...backupTask().backup!, retention: { days: 25, keepLast: 3 }, gdpr: { personalData: true, maxRetentionDays: 30 } },
    });
    expect(maxBackupAgeDays(personal.backup!)).toBe(29);
  });

  it("object lock lasts the smallest effective retention, none without backup tasks", () => {
    expect(objectLockDays([retainedBackup("a", "a/", 40, 20), retainedBackup("b", "b/", 25)])).toBe(20);
    expect(objectLockDays([])).toBeUndefined();
    expect(effectiveRetentionDays(retainedBackup("c", "c/", 7, 30).backup!)).toBe(7);
  });

  it("locks the bucket when any backup asks for it", () => {
    const locked = backupTask({ backup: { ...backupTask().backup!, destination: { prefix: "db/", objectLock: true } } });
    expect(objectLockRequested([retainedBackup("a", "a/", 7), locked, task()])).toBe(true);
    expect(objectLockRequested([retainedBackup("a", "a/", 7), task()])).toBe(false);
  });
});

describe("cronJobSpec", () => {
  const template = { metadata: { labels: { a: "b" } }, spec: { containers: [] } };

  it("carries the task's schedule, limits and deadlines and forbids overlapping runs", () => {
    expect(cronJobSpec(backupTask(), template)).toEqual({
      schedule: "0 2 * * *",
      concurrencyPolicy: "Forbid",
      suspend: false,
      startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
      successfulJobsHistoryLimit: 2,
      failedJobsHistoryLimit: 5,
      jobTemplate: {
        metadata: { labels: { a: "b" } },
        spec: { activeDeadlineSeconds: 1800, backoffLimit: 1, template },
      },
    });
  });

  it("suspends a disabled task and keeps its time zone", () => {
    const spec = cronJobSpec(backupTask({ enabled: false, timeZone: "Europe/Berlin" }), template);
    expect(spec.suspend).toBe(true);
    expect(spec.timeZone).toBe("Europe/Berlin");
  });

  it("refuses a task without a schedule", () => {
    expect(() => cronJobSpec(backupTask({ schedule: undefined }), template)).toThrow(/db-backup.*automation.yaml:4.*no schedule/);
  });
});

describe("taskPodTemplate and env", () => {
  it("is restricted, tokenless, never restarts in place, and has a writable /tmp", () => {
    const t = taskPodTemplate({
      labels: { x: "y" },
      serviceAccountName: "sa",
      containerName: "task",
      image: "img",
      command: ["run"],
      env: [],
      resources: undefined,
    });
    // The builder returns plain values: the output type is their shape.
    const spec = t.spec as k8s.types.output.core.v1.PodSpec;
    expect(spec["automountServiceAccountToken"]).toBe(false);
    expect(spec["restartPolicy"]).toBe("Never");
    expect(spec["securityContext"]).toMatchObject({ runAsNonRoot: true });
    const c = spec["containers"][0]!;
    expect(c.securityContext).toEqual(restrictedContainerSecurityContext());
    expect(c.resources).toEqual(DEFAULT_TASK_RESOURCES);
    expect(c.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
  });

  it("keeps env names unique, later sources and Secret references winning", () => {
    expect(containerEnv([{ A: "1", B: "2" }, { B: "3" }], [{ env: "A", secretName: "s", key: "k" }])).toEqual([
      { name: "B", value: "3" },
      { name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
    ]);
  });

  it("mounts the script, the destination and, when given, the source claim read-only", () => {
    const scratch = { emptyDir: { sizeLimit: "1Gi" } };
    expect(backupVolumes("s", scratch)).toEqual({
      volumes: [
        { name: "script", configMap: { name: "s", defaultMode: 0o444 } },
        { name: "backup", ...scratch },
      ],
      mounts: [
        { name: "script", mountPath: "/scripts", readOnly: true },
        { name: "backup", mountPath: "/backup" },
      ],
    });
    const archive = backupVolumes("s", scratch, "data-db-0");
    expect(archive.volumes[2]).toEqual({ name: "source", persistentVolumeClaim: { claimName: "data-db-0", readOnly: true } });
    expect(archive.mounts[2]).toEqual({ name: "source", mountPath: "/data", readOnly: true });
  });

  it("tells the script its destination, with the bucket and region only for S3, the endpoint only for a store", () => {
    expect(destinationEnv("db/")).toEqual({ BACKUP_DIR: "/backup", BACKUP_PREFIX: "db/" });
    expect(destinationEnv("db/", { bucketName: "b", region: "us-east-1", endpoint: "http://10.244.0.1:9000" })).toMatchObject({
      BACKUP_BUCKET: "b",
      BACKUP_ENDPOINT: "http://10.244.0.1:9000",
    });
    expect(destinationEnv("db/", { bucketName: "b", region: "eu-central-1", kmsKeyId: KEY_ARN })).toMatchObject({ BACKUP_KMS_KEY_ID: KEY_ARN });
    expect(destinationEnv("db/", { bucketName: "b", region: "eu-central-1" })).not.toHaveProperty("BACKUP_ENDPOINT");
    expect(destinationEnv("db/", { bucketName: "b", region: "eu-central-1" })).toEqual({
      BACKUP_DIR: "/backup",
      BACKUP_PREFIX: "db/",
      BACKUP_BUCKET: "b",
      AWS_REGION: "eu-central-1",
      AWS_DEFAULT_REGION: "eu-central-1",
    });
  });

  it("connects a postgres dump as the image's user and database", () => {
    const db = { env: { POSTGRES_USER: "app" } } as unknown as ResolvedService;
    expect(methodEnv("postgres-dump", db)).toEqual({ PGUSER: "app", PGDATABASE: "app" });
    expect(methodEnv("redis-snapshot", db)).toEqual({});
  });

  it("hashes independent of key order", () => {
    expect(stableHash({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(stableHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
  });
});

const S3: BackupScriptTarget = {
  task: "db-backup",
  host: "db.data.svc",
  port: 5432,
  destination: "s3",
  retentionDays: 14,
  keepLast: 3,
  maxAgeDays: 44,
};
const PVC: BackupScriptTarget = { ...S3, destination: "pvc" };

describe("backupScript", () => {
  it("uploads a postgres dump to s3://<bucket>/<prefix><task>-<timestamp>", () => {
    const script = backupScript("postgres-dump", S3);
    expect(script).toContain('target="s3://${BACKUP_BUCKET}/${BACKUP_PREFIX}db-backup-${stamp}.sql.gz"');
    expect(script).toContain("pg_dump --host=db.data.svc --port=5432 --no-password");
    expect(script).toContain(': "${PGPASSWORD:?PGPASSWORD must come from a Secret}"');
    expect(script).toContain('s3 s3 cp --only-show-errors "$@" "$partial" "$target"');
    expect(script).toContain("set -- --sse aws:kms");
    expect(script).toContain("for tool in date gzip pg_dump pg_isready grep sort aws; do");
    expect(script).toContain("until pg_isready --host=db.data.svc --port=5432 --timeout=2 >/dev/null 2>&1; do");
    expect(script).not.toMatch(/set -x/);
  });

  it("keeps backups in the claim under the prefix when AWS is off, with no aws CLI", () => {
    const script = backupScript("redis-snapshot", PVC);
    expect(script).toContain('dir="${BACKUP_DIR}/${BACKUP_PREFIX}"');
    expect(script).toContain('target="${dir}db-backup-${stamp}.rdb.gz"');
    expect(script).toContain('redis-cli -h db.data.svc -p 5432 --rdb "$partial.rdb"');
    expect(script).not.toContain("aws");
  });

  it("archives the mounted claim for volume-archive", () => {
    expect(backupScript("volume-archive", S3)).toContain('tar -czf "$partial" -C /data .');
  });
});

/** Runs a generated script under dash with stub tools, as the container would. */
describe("backupScript under sh", () => {
  let dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    dirs = [];
  });

  function sandbox(pgDump: string, pgIsReady = "exit 0") {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-backup-"));
    dirs.push(root);
    const bin = path.join(root, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(root, "backup"));
    fs.mkdirSync(path.join(root, "s3"));
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    stub("pg_dump", pgDump);
    stub("pg_isready", pgIsReady);
    // The wait between tries, without waiting.
    stub("sleep", "exit 0");
    fs.writeFileSync(path.join(bin, "aws"), FAKE_AWS, { mode: 0o755 });
    const run = (script: string, env: Record<string, string>) => {
      const file = path.join(root, "backup.sh");
      fs.writeFileSync(file, script);
      return spawnSync("/bin/sh", [file], {
        env: {
          PATH: `${bin}:/usr/bin:/bin`,
          BACKUP_DIR: path.join(root, "backup"),
          FAKE_S3: path.join(root, "s3"),
          AWS_LOG: path.join(root, "aws.log"),
          ...env,
        },
        encoding: "utf8",
      });
    };
    const awsCalls = () => (fs.existsSync(path.join(root, "aws.log")) ? fs.readFileSync(path.join(root, "aws.log"), "utf8").trim().split("\n") : []);
    const objects = (bucket: string) => {
      const dir = path.join(root, "s3", bucket);
      return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort() : [];
    };
    return { root, run, awsCalls, objects };
  }

  const GOOD_DUMP = 'for a; do case "$a" in --file=*) f="${a#--file=}";; esac; done\n' + 'echo "CREATE TABLE t();" | gzip -c >"$f"';

  it("dumps, checks and uploads to the bucket key, asking for SSE-KMS with the backup key", () => {
    const { root, run, awsCalls, objects } = sandbox(GOOD_DUMP);
    fs.mkdirSync(path.join(root, "s3", "nexus-prod-backups"));
    const r = run(backupScript("postgres-dump", S3), {
      BACKUP_BUCKET: "nexus-prod-backups",
      BACKUP_PREFIX: "db/",
      BACKUP_KMS_KEY_ID: KEY_ARN,
      PGPASSWORD: "not-a-real-password",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const upload = awsCalls()
      .find((c) => c.startsWith("s3 cp"))!
      .split(" ");
    expect(upload.slice(0, 7)).toEqual(["s3", "cp", "--only-show-errors", "--sse", "aws:kms", "--sse-kms-key-id", KEY_ARN]);
    expect(upload[8]).toMatch(/^s3:\/\/nexus-prod-backups\/db\/db-backup-\d{8}T\d{6}Z\.sql\.gz$/);
    // AWS: no endpoint, and the program's bucket is never created by the job.
    expect(awsCalls().some((c) => c.includes("--endpoint-url") || c.includes("create-bucket"))).toBe(false);
    const [key] = objects("nexus-prod-backups");
    expect(spawnSync("gzip", ["-dc", path.join(root, "s3", "nexus-prod-backups", key!)]).stdout.toString()).toContain("CREATE TABLE");
    expect(r.stdout).not.toContain("not-a-real-password");
    // The scratch copy is gone once uploaded.
    expect(fs.readdirSync(path.join(root, "backup"))).toEqual([]);
  });

  it("goes to an S3-compatible store by its endpoint, creating the bucket once, with the same upload", () => {
    const { run, awsCalls, objects } = sandbox(GOOD_DUMP);
    const env = {
      BACKUP_BUCKET: "nexus-dev-backups",
      BACKUP_PREFIX: "db/",
      BACKUP_ENDPOINT: "http://10.244.0.1:9000",
      AWS_REGION: "eu-central-1",
      PGPASSWORD: "x",
    };
    expect(run(backupScript("postgres-dump", S3), env).status).toBe(0);
    const calls = awsCalls();
    expect(calls.every((c) => c.startsWith("--endpoint-url http://10.244.0.1:9000 "))).toBe(true);
    expect(calls.filter((c) => c.includes("create-bucket"))).toEqual([
      "--endpoint-url http://10.244.0.1:9000 s3api create-bucket --bucket nexus-dev-backups --create-bucket-configuration LocationConstraint=eu-central-1",
    ]);
    expect(calls.find((c) => c.includes(" s3 cp "))).toContain("--sse aws:kms /");
    expect(objects("nexus-dev-backups")).toHaveLength(1);
  });

  it("keeps the newest keepLast on S3 whatever their age, deletes older ones past retention and any past the maximum age", () => {
    const retention = (keepLast: number, ages: number[]) => {
      const { root, run, objects } = sandbox(GOOD_DUMP);
      const seeded = ages.map((days) => `db/${nameDaysAgo("db-backup", days)}`);
      const foreign = [`db/${nameDaysAgo("other-backup", 100)}`, "db/db-backup-notes.txt"];
      for (const key of [...seeded, ...foreign]) {
        fs.mkdirSync(path.dirname(path.join(root, "s3", "b", key)), { recursive: true });
        fs.writeFileSync(path.join(root, "s3", "b", key), "x");
      }
      // S3: retention 14 days, maximum age 44.
      const r = run(backupScript("postgres-dump", { ...S3, keepLast }), { BACKUP_BUCKET: "b", BACKUP_PREFIX: "db/", PGPASSWORD: "x" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const left = objects("b");
      // Another task's backups and objects not named like a backup are never touched.
      for (const key of foreign) expect(left).toContain(key);
      const fresh = left.filter((k) => /^db\/db-backup-\d{8}T\d{6}Z\.sql\.gz$/.test(k) && !seeded.includes(k));
      expect(fresh).toHaveLength(1);
      return seeded.map((key) => left.includes(key));
    };
    // Newest three kept though past the retention: the new backup, 20 and 21 days; 22 is past it.
    expect(retention(3, [20, 21, 22])).toEqual([true, true, false]);
    // Beyond keepLast but younger than the retention: kept.
    expect(retention(1, [2, 5, 20])).toEqual([true, true, false]);
    // Past the maximum age: deleted even among the newest keepLast.
    expect(retention(3, [50])).toEqual([false]);
  });

  it("fails without uploading when the dump fails or the password is missing", () => {
    const failing = sandbox("echo boom >&2; exit 3");
    const r = failing.run(backupScript("postgres-dump", S3), {
      BACKUP_BUCKET: "b",
      BACKUP_PREFIX: "db/",
      PGPASSWORD: "x",
    });
    expect(r.status).toBe(3);
    expect(failing.awsCalls()).toEqual([]);

    const noPassword = sandbox(GOOD_DUMP);
    const r2 = noPassword.run(backupScript("postgres-dump", S3), {
      BACKUP_BUCKET: "b",
      BACKUP_PREFIX: "db/",
    });
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toContain("PGPASSWORD must come from a Secret");
  });

  it("fails the run when the store cannot list the backups, after the upload", () => {
    const { root, run } = sandbox(GOOD_DUMP);
    const bin = path.join(root, "bin");
    fs.renameSync(path.join(bin, "aws"), path.join(bin, "aws-real"));
    fs.writeFileSync(
      path.join(bin, "aws"),
      `#!/bin/sh\ncase "$*" in *list-objects-v2*) echo "AccessDenied" >&2; exit 254 ;; esac\nexec "${bin}/aws-real" "$@"\n`,
      { mode: 0o755 },
    );
    const r = run(backupScript("postgres-dump", S3), { BACKUP_BUCKET: "b", BACKUP_PREFIX: "db/", PGPASSWORD: "x" });
    expect(r.status).toBe(254);
    expect(r.stdout).toContain("backup: wrote s3://b/db/");
  });

  it("waits for the store to answer, and fails naming it when it never does", () => {
    // Answers on the third try: the first connections of a new pod may be refused.
    const late = sandbox(GOOD_DUMP, 'n=$(cat "$0.n" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$0.n"; [ "$n" -ge 3 ]');
    const r = late.run(backupScript("postgres-dump", S3), { BACKUP_BUCKET: "b", BACKUP_PREFIX: "db/", PGPASSWORD: "x" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(late.root, "bin", "pg_isready.n"), "utf8").trim()).toBe("3");

    const never = sandbox(GOOD_DUMP, "exit 2");
    const r2 = never.run(backupScript("postgres-dump", S3), { BACKUP_BUCKET: "b", BACKUP_PREFIX: "db/", PGPASSWORD: "x" });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(`backup: db.data.svc:5432 did not answer within ${STORE_WAIT_SECONDS}s`);
    expect(never.awsCalls()).toEqual([]);
  });

  it("names a tool the image lacks", () => {
    const { root } = sandbox(GOOD_DUMP);
    // Only date and gzip beside the stubs: redis-cli is nowhere on the PATH.
    const bin = path.join(root, "bin");
    for (const tool of ["date", "gzip"]) {
      const found = spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
      fs.symlinkSync(found.stdout.trim(), path.join(bin, tool));
    }
    const r = spawnSync("/bin/sh", ["-c", backupScript("redis-snapshot", S3)], {
      env: { PATH: bin, BACKUP_BUCKET: "b", BACKUP_PREFIX: "r/", BACKUP_DIR: root },
      encoding: "utf8",
    });
    expect(r.status).toBe(127);
    expect(r.stderr).toContain("backup: redis-cli is missing from the image");
  });

  it("keeps the newest backups in the claim and prunes older ones past retention, by the time in their names", () => {
    const { root, run } = sandbox(GOOD_DUMP);
    const dir = path.join(root, "backup", "db");
    fs.mkdirSync(dir);
    const files = [
      nameDaysAgo("db-backup", 40),
      nameDaysAgo("db-backup", 39),
      nameDaysAgo("db-backup", 2),
      nameDaysAgo("other-task", 40),
      `${nameDaysAgo("db-backup", 1)}.partial`,
    ];
    for (const f of files) fs.writeFileSync(path.join(dir, f), "x");
    const r = run(backupScript("postgres-dump", { ...PVC, keepLast: 1 }), {
      BACKUP_PREFIX: "db/",
      PGPASSWORD: "x",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const left = fs.readdirSync(dir).sort();
    expect(left).toHaveLength(3);
    expect(left[0]).toBe(files[2]);
    expect(left[1]).toMatch(/^db-backup-\d{8}T\d{6}Z\.sql\.gz$/);
    expect(left[2]).toBe(files[3]);
  });
});
