import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedTask } from "../domain/model";
import { objectLockDays, objectLockRequested, s3LifecycleRules, tlsOnlyBucketPolicy } from "./builders/backup";
import type { PlatformContext } from "./context";
import { awsTags, type Traceable } from "./labels";

export interface BackupStorageArgs {
  context: PlatformContext;
  /** The S3 bucket name, globally unique; decided by the stack, not derived here. */
  bucketName: string;
  /** Team answerable for the backups (tags). */
  owner: string;
  /** Where the storage is declared, e.g. "registries/automation.yaml:1" (tags). */
  source: string;
  /**
   * The backup tasks writing to this bucket: one lifecycle rule per task prefix, and Object Lock
   * (GOVERNANCE) on new versions when any of them asks for it.
   */
  tasks: readonly ResolvedTask[];
}

/**
 * The S3 bucket every backup job of an environment writes to, with its own KMS key. Everything a
 * backup bucket must have is fixed here rather than configurable: versioning, SSE-KMS, no public
 * access, TLS only, expiry by retention (capped by GDPR), and optionally Object Lock.
 */
export class BackupStorage extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nexus:backup:BackupStorage", name, {}, opts);
    const traceable: Traceable = { name, owner: args.owner, source: args.source, environment: args.context.environment, component: "backup" };
    const tags = awsTags(traceable);
    const objectLock = objectLockRequested(args.tasks);

    const key = this.key(name, args.bucketName, tags);
    const bucket = new aws.s3.Bucket(`${name}-bucket`, { bucket: args.bucketName, objectLockEnabled: objectLock, tags }, { parent: this });
    const versioning = this.harden(name, bucket, key);
    this.expire(name, bucket, versioning, args.tasks, objectLock);

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = key.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn });
  }

  /** A key of its own, so access to the backups can be granted and revoked apart from other data. */
  private key(name: string, bucketName: string, tags: Record<string, string>): aws.kms.Key {
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Backups in s3://${bucketName}`,
        enableKeyRotation: true,
        // The longest window: a key deleted by mistake makes every backup unreadable.
        deletionWindowInDays: 30,
        tags,
      },
      { parent: this },
    );
    new aws.kms.Alias(`${name}-key-alias`, { name: `alias/${bucketName.replace(/[^a-zA-Z0-9/_-]/g, "-")}`, targetKeyId: key.arn }, { parent: this });
    return key;
  }

  /** Versioning, SSE-KMS with the key, no public access and TLS only; returns the versioning the retention rules need. */
  private harden(name: string, bucket: aws.s3.Bucket, key: aws.kms.Key): aws.s3.BucketVersioning {
    const parent = { parent: this };
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
            // One data key per bucket instead of one KMS call per object: cheaper, same protection.
            bucketKeyEnabled: true,
          },
        ],
      },
      parent,
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    // After the access block: S3 rejects concurrent configuration changes of one bucket.
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyBucketPolicy) },
      { parent: this, dependsOn: [publicAccess] },
    );
    return versioning;
  }

  /** Expiry by retention (capped by GDPR) per task prefix, and the Object Lock when asked for. */
  private expire(name: string, bucket: aws.s3.Bucket, versioning: aws.s3.BucketVersioning, tasks: readonly ResolvedTask[], objectLock: boolean): void {
    // Both only mean something once versioning is on.
    const afterVersioning = { parent: this, dependsOn: [versioning] };
    const rules = s3LifecycleRules(tasks);
    // S3 refuses a lifecycle configuration without rules; a bucket without backup tasks has none.
    if (rules.length > 0) new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, { bucket: bucket.id, rules }, afterVersioning);

    const lockDays = objectLockDays(tasks);
    if (objectLock && lockDays !== undefined) {
      // GOVERNANCE, not COMPLIANCE: an administrator can still remove personal data on an erasure
      // request. The smallest retention, so no lock outlives the lifecycle rule of any prefix.
      new aws.s3.BucketObjectLockConfiguration(
        `${name}-object-lock`,
        { bucket: bucket.id, objectLockEnabled: "Enabled", rule: { defaultRetention: { mode: "GOVERNANCE", days: lockDays } } },
        afterVersioning,
      );
    }
  }
}
