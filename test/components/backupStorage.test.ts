import { describe, expect, it } from "vitest";
import { BackupStorage } from "../../components/backupStorage";
import type { ResolvedTask } from "../../domain/model";
import { runMocked, type MockRun } from "../../internal/pulumi/mocks";

function backupTask(name: string, prefix: string, days: number, maxDays?: number): ResolvedTask {
  return {
    name,
    kind: "backup",
    owner: "data",
    runner: "k8s-cronjob",
    schedule: "0 2 * * *",
    image: "registry.example.com/tools/pg-backup:1.0.0",
    command: ["backup"],
    target: "db",
    dependsOn: [],
    env: {},
    secrets: [],
    timeoutSeconds: 3600,
    retries: 2,
    successfulJobsHistory: 3,
    failedJobsHistory: 3,
    enabled: true,
    backup: {
      method: "postgres-dump",
      destination: { prefix, objectLock: true },
      retention: { days, keepLast: 3 },
      ...(maxDays !== undefined ? { gdpr: { personalData: true, maxRetentionDays: maxDays } } : {}),
    },
    source: `registries/automation.yaml:${days}`,
  };
}

const TASKS = [backupTask("db-backup", "db/", 14, 30), backupTask("files-backup", "files/", 90)];

function deploy(objectLock: boolean, tasks: readonly ResolvedTask[] = TASKS): Promise<MockRun> {
  return runMocked(() => {
    const s = new BackupStorage("backups", {
      context: { environment: "prod", skipAwait: false },
      bucketName: "nexus-prod-backups",
      owner: "platform",
      source: "registries/automation.yaml:1",
      tasks,
      objectLock,
    });
    return { bucketName: s.bucketName, bucketArn: s.bucketArn, kmsKeyArn: s.kmsKeyArn };
  });
}

const KEY_ARN = "arn:aws:mock:::backups-key";
const BUCKET_ARN = "arn:aws:mock:::backups-bucket";

describe("BackupStorage", () => {
  it("creates exactly the key, alias, bucket and its settings under the component", async () => {
    const run = await deploy(true);
    expect(run.resources.map((r) => [r.type, r.name, r.parentType]).sort()).toEqual(
      [
        ["nexus:backup:BackupStorage", "backups", ""],
        ["aws:kms/key:Key", "backups-key", "nexus:backup:BackupStorage"],
        ["aws:kms/alias:Alias", "backups-key-alias", "nexus:backup:BackupStorage"],
        ["aws:s3/bucket:Bucket", "backups-bucket", "nexus:backup:BackupStorage"],
        ["aws:s3/bucketVersioning:BucketVersioning", "backups-versioning", "nexus:backup:BackupStorage"],
        ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "backups-encryption", "nexus:backup:BackupStorage"],
        ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backups-public-access", "nexus:backup:BackupStorage"],
        ["aws:s3/bucketPolicy:BucketPolicy", "backups-tls-only", "nexus:backup:BackupStorage"],
        ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "backups-lifecycle", "nexus:backup:BackupStorage"],
        ["aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "backups-object-lock", "nexus:backup:BackupStorage"],
      ].sort(),
    );
    expect(run.outputs).toEqual({
      bucketName: "nexus-prod-backups",
      bucketArn: BUCKET_ARN,
      kmsKeyArn: KEY_ARN,
    });
  });

  it("rotates the key and keeps it recoverable for 30 days", async () => {
    const run = await deploy(false);
    expect(run.one("aws:kms/key:Key", "backups-key").inputs).toMatchObject({
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    });
    expect(run.one("aws:kms/alias:Alias", "backups-key-alias").inputs).toMatchObject({
      name: "alias/nexus-prod-backups",
      targetKeyId: KEY_ARN,
    });
  });

  it("versions, encrypts with the key, blocks public access and requires TLS", async () => {
    const run = await deploy(false);
    const bucket = run.one("aws:s3/bucket:Bucket", "backups-bucket").inputs;
    expect(bucket["bucket"]).toBe("nexus-prod-backups");
    expect(bucket["objectLockEnabled"]).toBe(false);
    expect(run.one("aws:s3/bucketVersioning:BucketVersioning", "backups-versioning").inputs).toEqual({
      bucket: "backups-bucket-id",
      versioningConfiguration: { status: "Enabled" },
    });
    expect(run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "backups-encryption").inputs).toEqual({
      bucket: "backups-bucket-id",
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN },
          bucketKeyEnabled: true,
        },
      ],
    });
    expect(run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backups-public-access").inputs).toEqual({
      bucket: "backups-bucket-id",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const policy = run.one("aws:s3/bucketPolicy:BucketPolicy", "backups-tls-only").inputs;
    expect(JSON.parse(policy["policy"] as string).Statement).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("expires each prefix after min(retention, GDPR maximum)", async () => {
    const run = await deploy(false);
    const rules = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "backups-lifecycle").inputs["rules"] as {
      id: string;
      filter: unknown;
      expiration: unknown;
    }[];
    expect(rules.map((r) => [r.id, r.filter, r.expiration])).toEqual([
      ["db-backup", { prefix: "db/" }, { days: 14 }],
      ["files-backup", { prefix: "files/" }, { days: 90 }],
    ]);
    expect(rules.every((r) => JSON.stringify(r).includes('"noncurrentDays":1'))).toBe(true);
    expect(run.byType("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")).toEqual([]);
  });

  it("locks new versions in GOVERNANCE mode for the smallest retention when asked", async () => {
    const run = await deploy(true, [...TASKS, backupTask("cache-backup", "cache/", 40, 7)]);
    const bucket = run.one("aws:s3/bucket:Bucket", "backups-bucket").inputs;
    expect(bucket["objectLockEnabled"]).toBe(true);
    expect(run.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "backups-object-lock").inputs).toEqual({
      bucket: "backups-bucket-id",
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 7 } },
    });
  });

  it("tags every AWS resource back to its declaration", async () => {
    const run = await deploy(false);
    const tagged = ["aws:kms/key:Key", "aws:s3/bucket:Bucket"];
    for (const r of run.resources.filter((r) => tagged.includes(r.type))) {
      expect(r.inputs["tags"]).toMatchObject({
        "nexus.platform/owner": "platform",
        "nexus.platform/environment": "prod",
        "app.kubernetes.io/component": "backup",
        "nexus.platform/source": "registries/automation.yaml:1",
      });
    }
  });

  it("creates no lifecycle configuration without backup tasks", async () => {
    const run = await deploy(false, []);
    expect(run.byType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")).toEqual([]);
  });
});
