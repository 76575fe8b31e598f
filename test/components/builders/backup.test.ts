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

  it("is exactly put/get on the prefix, list of the prefix, and the key", () => {
    expect(doc).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ObjectsUnderOwnPrefix",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:GetObject"],
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

  it("expires each prefix after min(retention, GDPR maximum), old versions a day later", () => {
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
    expect(rules).toEqual([rule("db-backup", "db/", 14), rule("cache-backup", "cache/", 30), rule("files-backup", "files/", 90)]);
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

  it("tells the script its destination, with the bucket and region only for S3", () => {
    expect(destinationEnv("db/")).toEqual({ BACKUP_DIR: "/backup", BACKUP_PREFIX: "db/" });
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
};
const PVC: BackupScriptTarget = { ...S3, destination: "pvc" };

describe("backupScript", () => {
  it("uploads a postgres dump to s3://<bucket>/<prefix><task>-<timestamp>", () => {
    const script = backupScript("postgres-dump", S3);
    expect(script).toContain('target="s3://${BACKUP_BUCKET}/${BACKUP_PREFIX}db-backup-${stamp}.sql.gz"');
    expect(script).toContain("pg_dump --host=db.data.svc --port=5432 --no-password");
    expect(script).toContain(': "${PGPASSWORD:?PGPASSWORD must come from a Secret}"');
    expect(script).toContain('aws s3 cp --only-show-errors "$partial" "$target"');
    expect(script).toContain("for tool in date gzip pg_dump pg_isready aws; do");
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
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    stub("pg_dump", pgDump);
    stub("pg_isready", pgIsReady);
    // The wait between tries, without waiting.
    stub("sleep", "exit 0");
    // The aws stub records its arguments and keeps a copy of what would be uploaded.
    stub("aws", `echo "$@" >"${root}/aws.args"; cp "$4" "${root}/uploaded"`);
    const run = (script: string, env: Record<string, string>) => {
      const file = path.join(root, "backup.sh");
      fs.writeFileSync(file, script);
      return spawnSync("/bin/sh", [file], {
        env: { PATH: `${bin}:/usr/bin:/bin`, BACKUP_DIR: path.join(root, "backup"), ...env },
        encoding: "utf8",
      });
    };
    return { root, run };
  }

  const GOOD_DUMP = 'for a; do case "$a" in --file=*) f="${a#--file=}";; esac; done\n' + 'echo "CREATE TABLE t();" | gzip -c >"$f"';

  it("dumps, checks and uploads to the bucket key", () => {
    const { root, run } = sandbox(GOOD_DUMP);
    const r = run(backupScript("postgres-dump", S3), {
      BACKUP_BUCKET: "nexus-prod-backups",
      BACKUP_PREFIX: "db/",
      PGPASSWORD: "not-a-real-password",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const args = fs.readFileSync(path.join(root, "aws.args"), "utf8").trim().split(" ");
    expect(args.slice(0, 3)).toEqual(["s3", "cp", "--only-show-errors"]);
    expect(args[4]).toMatch(/^s3:\/\/nexus-prod-backups\/db\/db-backup-\d{8}T\d{6}Z\.sql\.gz$/);
    expect(spawnSync("gzip", ["-dc", path.join(root, "uploaded")]).stdout.toString()).toContain("CREATE TABLE");
    expect(r.stdout).not.toContain("not-a-real-password");
  });

  it("fails without uploading when the dump fails or the password is missing", () => {
    const failing = sandbox("echo boom >&2; exit 3");
    const r = failing.run(backupScript("postgres-dump", S3), {
      BACKUP_BUCKET: "b",
      BACKUP_PREFIX: "db/",
      PGPASSWORD: "x",
    });
    expect(r.status).toBe(3);
    expect(fs.existsSync(path.join(failing.root, "aws.args"))).toBe(false);

    const noPassword = sandbox(GOOD_DUMP);
    const r2 = noPassword.run(backupScript("postgres-dump", S3), {
      BACKUP_BUCKET: "b",
      BACKUP_PREFIX: "db/",
    });
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toContain("PGPASSWORD must come from a Secret");
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
    expect(fs.existsSync(path.join(never.root, "aws.args"))).toBe(false);
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

  it("keeps the newest backups in the claim and prunes older ones past retention", () => {
    const { root, run } = sandbox(GOOD_DUMP);
    const dir = path.join(root, "backup", "db");
    fs.mkdirSync(dir);
    const day = 24 * 3600;
    const now = Date.now() / 1000;
    const files: Record<string, number> = {
      "db-backup-20200101T020000Z.sql.gz": 40,
      "db-backup-20200102T020000Z.sql.gz": 40,
      "db-backup-20200103T020000Z.sql.gz": 2,
      "other-task-20200101T020000Z.sql.gz": 40,
      "db-backup-20200104T020000Z.sql.gz.partial": 1,
    };
    for (const [f, age] of Object.entries(files)) {
      fs.writeFileSync(path.join(dir, f), "x");
      fs.utimesSync(path.join(dir, f), now - age * day, now - age * day);
    }
    const r = run(backupScript("postgres-dump", { ...PVC, keepLast: 1 }), {
      BACKUP_PREFIX: "db/",
      PGPASSWORD: "x",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const left = fs.readdirSync(dir).sort();
    expect(left).toHaveLength(3);
    expect(left[0]).toBe("db-backup-20200103T020000Z.sql.gz");
    expect(left[1]).toMatch(/^db-backup-\d{8}T\d{6}Z\.sql\.gz$/);
    expect(left[2]).toBe("other-task-20200101T020000Z.sql.gz");
  });
});
