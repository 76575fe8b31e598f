import { describe, expect, it } from "vitest";
import { BackupStorage } from "../../components/backupStorage";
import { KEEP_LAST_GRACE_DAYS, tlsOnlyBucketPolicy } from "../../components/builders/backup";
import { AWS } from "../../contract/types";
import type { ResolvedTask } from "../../domain/model";
import { runMocked, type MockRun } from "../../internal/pulumi/mocks";
import { context, retainedBackup } from "../support/fixtures";
import { expectComponentTree } from "../support/inputs";

const PARENT = "nexus:backup:BackupStorage";
/** Types contract/types.ts does not list (the policy pack does not inspect them). */
const KMS_ALIAS = "aws:kms/alias:Alias";
const OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";

const KEY_ARN = "arn:aws:mock:::backups-key";
const BUCKET_ARN = "arn:aws:mock:::backups-bucket";
const BUCKET_ID = "backups-bucket-id";

const TASKS = [retainedBackup("db-backup", "db/", 14, 30), retainedBackup("files-backup", "files/", 90)];

/** The task asking its bucket for Object Lock. */
const locked = (t: ResolvedTask): ResolvedTask => ({ ...t, backup: { ...t.backup!, destination: { ...t.backup!.destination, objectLock: true } } });

function deploy(tasks: readonly ResolvedTask[] = TASKS): Promise<MockRun> {
  return runMocked(() => {
    const s = new BackupStorage("backups", {
      context: context(),
      bucketName: "nexus-prod-backups",
      owner: "platform",
      source: "registries/automation.yaml:1",
      tasks,
    });
    return { bucketName: s.bucketName, bucketArn: s.bucketArn, kmsKeyArn: s.kmsKeyArn };
  });
}

describe("BackupStorage", () => {
  it("creates exactly the key, alias, bucket and its settings under the component", async () => {
    const run = await deploy(TASKS.map(locked));
    expectComponentTree(run, PARENT, "backups", {
      [AWS.kmsKey]: ["backups-key"],
      [KMS_ALIAS]: ["backups-key-alias"],
      [AWS.buckets[0]]: ["backups-bucket"],
      [AWS.versioning[0]]: ["backups-versioning"],
      [AWS.encryption[0]]: ["backups-encryption"],
      [AWS.publicAccessBlock[0]]: ["backups-public-access"],
      [AWS.bucketPolicy[0]]: ["backups-tls-only"],
      [AWS.lifecycle[0]]: ["backups-lifecycle"],
      [OBJECT_LOCK]: ["backups-object-lock"],
    });
    expect(run.outputs).toEqual({ bucketName: "nexus-prod-backups", bucketArn: BUCKET_ARN, kmsKeyArn: KEY_ARN });
  });

  it("rotates the key and keeps it recoverable for 30 days", async () => {
    const run = await deploy();
    expect(run.one(AWS.kmsKey, "backups-key").inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(run.one(KMS_ALIAS, "backups-key-alias").inputs).toMatchObject({ name: "alias/nexus-prod-backups", targetKeyId: KEY_ARN });
  });

  it("versions, encrypts with the key, blocks public access and requires TLS", async () => {
    const run = await deploy();
    const bucket = run.one(AWS.buckets[0], "backups-bucket").inputs;
    expect(bucket["bucket"]).toBe("nexus-prod-backups");
    expect(bucket["objectLockEnabled"]).toBe(false);
    expect(run.one(AWS.versioning[0], "backups-versioning").inputs).toEqual({ bucket: BUCKET_ID, versioningConfiguration: { status: "Enabled" } });
    expect(run.one(AWS.encryption[0], "backups-encryption").inputs).toEqual({
      bucket: BUCKET_ID,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN }, bucketKeyEnabled: true }],
    });
    expect(run.one(AWS.publicAccessBlock[0], "backups-public-access").inputs).toEqual({
      bucket: BUCKET_ID,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(run.one(AWS.bucketPolicy[0], "backups-tls-only").inputs["policy"]).toBe(tlsOnlyBucketPolicy(BUCKET_ARN));
  });

  it("expires each prefix at the jobs' maximum age (retention plus the keepLast grace), and locks nothing unless asked", async () => {
    const run = await deploy();
    const rules = run.one(AWS.lifecycle[0], "backups-lifecycle").inputs["rules"] as { id: string; filter: unknown; expiration: unknown }[];
    expect(rules.map((r) => [r.id, r.filter, r.expiration])).toEqual([
      ["db-backup", { prefix: "db/" }, { days: 14 + KEEP_LAST_GRACE_DAYS }],
      ["files-backup", { prefix: "files/" }, { days: 90 + KEEP_LAST_GRACE_DAYS }],
    ]);
    expect(rules.every((r) => JSON.stringify(r).includes('"noncurrentDays":1'))).toBe(true);
    expect(run.byType(OBJECT_LOCK)).toEqual([]);
  });

  it("locks new versions in GOVERNANCE mode for the smallest retention when one task asks", async () => {
    const run = await deploy([...TASKS, locked(retainedBackup("cache-backup", "cache/", 40, 7))]);
    expect(run.one(AWS.buckets[0], "backups-bucket").inputs["objectLockEnabled"]).toBe(true);
    expect(run.one(OBJECT_LOCK, "backups-object-lock").inputs).toEqual({
      bucket: BUCKET_ID,
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 7 } },
    });
  });

  it("tags every AWS resource back to its declaration", async () => {
    const run = await deploy();
    const tagged = [AWS.kmsKey, AWS.buckets[0]] as string[];
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
    const run = await deploy([]);
    expect(run.byType(AWS.lifecycle[0])).toEqual([]);
  });
});
