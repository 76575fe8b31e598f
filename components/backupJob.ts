import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedService, ResolvedTask } from "../domain/model";
import {
  BACKUP_DIR,
  ENV,
  SCRIPT_DIR,
  SCRIPT_FILE,
  SOURCE_DIR,
  backupOf,
  backupRolePolicy,
  backupScript,
  containerEnv,
  cronJobSpec,
  effectiveRetentionDays,
  irsaTrustPolicy,
  methodEnv,
  serviceHost,
  taskPodTemplate,
  type SecretEnvRef,
} from "./builders/backup";
import type { PlatformContext } from "./context";
import { ANNOTATION, LABEL, awsTags, labels, metadata, type Traceable } from "./labels";

/** The IRSA annotation the EKS pod identity webhook reads to inject web-identity credentials. */
export const ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

/** Kubernetes appends 11 characters to a CronJob's name for its Jobs, which must fit 63. */
const MAX_CRONJOB_NAME = 52;

/** Used when the target declares no storage size (the scratch space or the destination claim). */
const FALLBACK_SIZE = "1Gi";

export interface BackupStorageRef {
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
  region: string;
  oidcProviderArn: string;
  oidcIssuer: string;
}

export interface BackupJobArgs {
  context: PlatformContext;
  /** A task of kind backup, with its backup section. */
  task: ResolvedTask;
  /** The service backed up. */
  target: ResolvedService;
  /** Kubernetes namespace of the job: the target's, so Secrets and claims are reachable. */
  namespace: string;
  /** Kubernetes namespace of the target service (its DNS name). */
  targetNamespace: string;
  /** References to existing Secrets, e.g. the target's database password as PGPASSWORD. */
  secretEnv: readonly SecretEnvRef[];
  /** The target's data claim, mounted read-only; required by the volume-archive method only. */
  sourceClaimName?: string;
  /** The S3 destination; absent when AWS is off and backups go to a claim in the cluster. */
  storage?: BackupStorageRef;
}

/**
 * A scheduled backup of one service: a CronJob running a generated script from a ConfigMap, as
 * an unprivileged pod without an API token. With AWS on it uploads to its own prefix of the
 * backup bucket under an IRSA role allowed nothing else; with AWS off it keeps the backups in a
 * PersistentVolumeClaim of the namespace and prunes them by retention itself.
 */
export class BackupJob extends pulumi.ComponentResource {
  public readonly cronJobName: pulumi.Output<string>;
  /** "s3://bucket/prefix/" or "pvc://namespace/claim". */
  public readonly destination: pulumi.Output<string>;
  /** The IRSA role; undefined when AWS is off. */
  public readonly roleArn: pulumi.Output<string> | undefined;

  constructor(name: string, args: BackupJobArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything, so a bad entry leaves no half-made component behind.
    const { context, task, target, namespace, storage } = args;
    const backup = backupOf(task);
    if (!task.image) throw new Error(`backup task "${task.name}" (${task.source}) has no image`);
    if (!task.schedule) {
      throw new Error(`backup task "${task.name}" (${task.source}) has no schedule`);
    }
    if (name.length > MAX_CRONJOB_NAME) {
      throw new Error(`backup job name "${name}" is longer than ${MAX_CRONJOB_NAME} characters`);
    }
    if (backup.method === "volume-archive" && !args.sourceClaimName) {
      throw new Error(`volume-archive backup "${task.name}" (${task.source}) needs a source claim`);
    }
    super("nexus:backup:BackupJob", name, {}, opts);
    const image = task.image;

    const traceable: Traceable = {
      name: task.name,
      owner: task.owner,
      source: task.source,
      environment: context.environment,
      component: "backup",
    };
    // The backup-of label lets the target's network policy admit exactly its backup pods.
    const withBackupOf = <M extends { labels: Record<string, string> }>(m: M): M => ({
      ...m,
      labels: { ...m.labels, [LABEL.backupOf]: target.name },
    });
    const meta = (objectName: string, extra: Record<string, string> = {}) => withBackupOf(metadata(traceable, context, objectName, namespace, extra));

    const serviceAccountName = name;
    let roleArn: pulumi.Output<string> | undefined;
    if (storage) {
      const role = new aws.iam.Role(
        `${name}-role`,
        {
          description: `Backup ${task.name}: write ${backup.destination.prefix} of its bucket`,
          assumeRolePolicy: irsaTrustPolicy(storage.oidcProviderArn, storage.oidcIssuer, namespace, serviceAccountName),
          tags: { ...awsTags(traceable), [LABEL.backupOf]: target.name },
        },
        { parent: this },
      );
      new aws.iam.RolePolicy(
        `${name}-role-policy`,
        {
          role: role.id,
          policy: pulumi
            .all([storage.bucketArn, storage.kmsKeyArn])
            .apply(([bucketArn, keyArn]) => backupRolePolicy(bucketArn, backup.destination.prefix, keyArn)),
        },
        { parent: this },
      );
      roleArn = role.arn;
    }

    const saMeta = meta(serviceAccountName);
    // automount stays off even with IRSA: the webhook projects its own STS-audience token, and
    // the pod never needs the Kubernetes API.
    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: roleArn ? { ...saMeta, annotations: { ...saMeta.annotations, [ROLE_ARN_ANNOTATION]: roleArn } } : saMeta,
        automountServiceAccountToken: false,
      },
      { parent: this },
    );

    const script = backupScript(backup.method, {
      task: task.name,
      host: serviceHost(target.name, args.targetNamespace),
      port: target.port,
      destination: storage ? "s3" : "pvc",
      retentionDays: effectiveRetentionDays(backup),
      keepLast: backup.retention.keepLast,
    });
    const configMap = new k8s.core.v1.ConfigMap(`${name}-script`, { metadata: meta(`${name}-script`), data: { [SCRIPT_FILE]: script } }, { parent: this });

    const size = target.storage?.size ?? FALLBACK_SIZE;
    const storageClass = target.storage?.storageClass;
    let backupVolume: k8s.types.input.core.v1.Volume;
    let destination: pulumi.Output<string>;
    if (storage) {
      // Scratch space for the finished file before upload, bounded by the size of the data.
      backupVolume = { name: "backup", emptyDir: { sizeLimit: size } };
      destination = pulumi.interpolate`s3://${storage.bucketName}/${backup.destination.prefix}`;
    } else {
      const claim = new k8s.core.v1.PersistentVolumeClaim(
        `${name}-pvc`,
        {
          // Not awaited: with WaitForFirstConsumer storage it binds only at the first run.
          metadata: meta(`${name}-backups`, { [ANNOTATION.skipAwait]: "true" }),
          spec: {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: size } },
            ...(storageClass ? { storageClassName: storageClass } : {}),
          },
        },
        { parent: this },
      );
      backupVolume = { name: "backup", persistentVolumeClaim: { claimName: claim.metadata.name } };
      destination = pulumi.interpolate`pvc://${namespace}/${claim.metadata.name}`;
    }

    const env = containerEnv(
      [
        { HOME: "/tmp" },
        methodEnv(backup.method, target),
        task.env,
        {
          [ENV.dir]: BACKUP_DIR,
          [ENV.prefix]: backup.destination.prefix,
          ...(storage
            ? {
                [ENV.bucket]: storage.bucketName,
                [ENV.region]: storage.region,
                [ENV.defaultRegion]: storage.region,
              }
            : {}),
        },
      ],
      args.secretEnv,
    );

    const volumes: k8s.types.input.core.v1.Volume[] = [{ name: "script", configMap: { name: configMap.metadata.name, defaultMode: 0o444 } }, backupVolume];
    const mounts: k8s.types.input.core.v1.VolumeMount[] = [
      { name: "script", mountPath: SCRIPT_DIR, readOnly: true },
      { name: "backup", mountPath: BACKUP_DIR },
    ];
    if (backup.method === "volume-archive") {
      volumes.push({
        name: "source",
        persistentVolumeClaim: { claimName: args.sourceClaimName!, readOnly: true },
      });
      mounts.push({ name: "source", mountPath: SOURCE_DIR, readOnly: true });
    }

    const podLabels = { ...labels(traceable), [LABEL.backupOf]: target.name };
    const cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: meta(name),
        spec: cronJobSpec(
          task,
          taskPodTemplate({
            labels: podLabels,
            annotations: { [ANNOTATION.source]: task.source },
            serviceAccountName: sa.metadata.name,
            containerName: "backup",
            image,
            command: ["/bin/sh", `${SCRIPT_DIR}/${SCRIPT_FILE}`],
            env,
            // Unset: DEFAULT_TASK_RESOURCES, one small value for every environment.
            resources: task.resources,
            volumes,
            mounts,
          }),
        ),
      },
      { parent: this },
    );

    this.cronJobName = cronJob.metadata.name;
    this.destination = destination;
    this.roleArn = roleArn;
    this.registerOutputs({
      cronJobName: this.cronJobName,
      destination: this.destination,
      roleArn: this.roleArn,
    });
  }
}
