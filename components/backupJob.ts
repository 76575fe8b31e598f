import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedService, ResolvedTask } from "../domain/model";
import type { Backup } from "../domain/schema";
import {
  SCRIPT_DIR,
  SCRIPT_FILE,
  backupOf,
  backupRolePolicy,
  backupScript,
  backupVolumes,
  containerEnv,
  cronJobSpec,
  destinationEnv,
  effectiveRetentionDays,
  irsaTrustPolicy,
  maxBackupAgeDays,
  methodEnv,
  serviceHost,
  storeEgressSpec,
  taskPodTemplate,
  type S3Destination,
  type SecretEnvRef,
} from "./builders/backup";
import { dependencyAddresses, serviceAddress, workloadEgressSpec, type Edge } from "./builders/network";
import type { PlatformContext } from "./context";
import { ANNOTATION, LABEL, awsTags, gdprLabels, labels, metadata, selectorLabels, traceableEntry } from "./labels";

/** The IRSA annotation the EKS pod identity webhook reads to inject web-identity credentials. */
export const ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

/** The aws CLI's credential variables, also the keys of the store's Secret. */
const STORE_ENV = { accessKeyId: "AWS_ACCESS_KEY_ID", secretAccessKey: "AWS_SECRET_ACCESS_KEY" } as const;

/** Kubernetes appends 11 characters to a CronJob's name for its Jobs, which must fit 63. */
const MAX_CRONJOB_NAME = 52;

/** Used when the target declares no storage size (the scratch space or the destination claim). */
const FALLBACK_SIZE = "1Gi";

type Volume = k8s.types.input.core.v1.Volume;
type Metadata = (objectName: string, extra?: Record<string, string>) => ReturnType<typeof metadata>;

export interface BackupStorageRef {
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
  region: string;
  oidcProviderArn: string;
  oidcIssuer: string;
}

/**
 * An S3-compatible store of a stack without AWS (the stack's backupStore settings): the same
 * upload, retention and restore as AWS S3, with static credentials instead of an IRSA role.
 */
export interface BackupStoreRef {
  endpoint: string;
  bucket: string;
  region: string;
  /** Secret values, put into a Secret of the job's namespace and given to the aws CLI by env. */
  accessKeyId: pulumi.Input<string>;
  secretAccessKey: pulumi.Input<string>;
}

export interface BackupJobArgs {
  context: PlatformContext;
  /** A task of kind backup, with its backup section. */
  task: ResolvedTask;
  /**
   * The service backed up: the job runs in its namespace, so its Secrets and claims are
   * reachable, and dumps it by its in-cluster DNS name.
   */
  target: ResolvedService;
  /**
   * The platform's network graph; the job's pods may open the edges leaving the task. A dump
   * (postgres, redis) needs the one to its target: the graph has it from the task's `target`.
   */
  edges: readonly Edge[];
  /** References to existing Secrets, e.g. the target's database password as PGPASSWORD. */
  secretEnv: readonly SecretEnvRef[];
  /** The target's data claim, mounted read-only; required by the volume-archive method only. */
  sourceClaimName?: string;
  /** The AWS S3 destination; absent when AWS is off. */
  storage?: BackupStorageRef;
  /** The S3-compatible store of a stack without AWS; with neither, backups go to a claim in the cluster. */
  store?: BackupStoreRef;
}

/** The backup section of a well-formed job; throws on anything the component cannot build. */
function checkedBackup(name: string, { task, target, sourceClaimName, edges, storage, store }: BackupJobArgs): Backup {
  const backup = backupOf(task);
  const entry = `backup task "${task.name}" (${task.source})`;
  if (storage && store) throw new Error(`${entry} has both an AWS bucket and a backup store: a stack has one destination`);
  if (!task.image) throw new Error(`${entry} has no image`);
  if (!task.schedule) throw new Error(`${entry} has no schedule`);
  if (task.target !== target.name) throw new Error(`${entry} targets "${task.target}", not "${target.name}"`);
  if (task.namespace !== undefined && task.namespace !== target.namespace) {
    throw new Error(`${entry} runs in its target's namespace "${target.namespace}", not "${task.namespace}": remove its namespace`);
  }
  const path = serviceAddress(target.name, target.namespace, target.port);
  if (backup.method !== "volume-archive" && !dependencyAddresses({ namespace: target.namespace, name: task.name }, edges).includes(path)) {
    throw new Error(`${entry} has no network path to its target ${path} in the platform's edges`);
  }
  if (name.length > MAX_CRONJOB_NAME) {
    throw new Error(`backup job name "${name}" is longer than ${MAX_CRONJOB_NAME} characters`);
  }
  if (backup.method === "volume-archive" && !sourceClaimName) {
    throw new Error(`volume-archive backup "${task.name}" (${task.source}) needs a source claim`);
  }
  return backup;
}

/**
 * A scheduled backup of one service: a CronJob running a generated script from a ConfigMap, as
 * an unprivileged pod without an API token whose egress reaches its target (the edges leaving
 * the task) and the namespace's baseline, nothing else. With AWS on it uploads to its own prefix
 * of the backup bucket under an IRSA role allowed nothing else; with AWS off it keeps the backups
 * in a PersistentVolumeClaim of the namespace and prunes them by retention itself.
 */
export class BackupJob extends pulumi.ComponentResource {
  public readonly cronJobName: pulumi.Output<string>;
  /** "s3://bucket/prefix/" or "pvc://namespace/claim". */
  public readonly destination: pulumi.Output<string>;
  /** The IRSA role; undefined when AWS is off. */
  public readonly roleArn: pulumi.Output<string> | undefined;

  constructor(name: string, args: BackupJobArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything, so a bad entry leaves no half-made component behind.
    const backup = checkedBackup(name, args);
    super("nexus:backup:BackupJob", name, {}, opts);
    const { context, task, target, storage, store } = args;
    const traceable = traceableEntry(task, context.environment, "backup");
    // The backup-of label names the service backed up: the policy pack finds each StatefulSet's backup by it.
    // The GDPR labels say whether the copies hold personal data and on which legal basis.
    const backupOfLabel = { [LABEL.backupOf]: target.name, ...gdprLabels(backup.gdpr) };
    const meta: Metadata = (objectName, extra) => {
      const m = metadata(traceable, context, objectName, target.namespace, extra);
      return { ...m, labels: { ...m.labels, ...backupOfLabel } };
    };

    // The service account is named like the job; the role trusts exactly that account.
    const roleArn = storage ? this.role(name, args, storage, backup.destination.prefix, { ...awsTags(traceable), ...backupOfLabel }) : undefined;
    const saMeta = meta(name);
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
      host: serviceHost(target.name, target.namespace),
      port: target.port,
      destination: storage || store ? "s3" : "pvc",
      retentionDays: effectiveRetentionDays(backup),
      keepLast: backup.retention.keepLast,
      maxAgeDays: maxBackupAgeDays(backup),
    });
    const configMap = new k8s.core.v1.ConfigMap(`${name}-script`, { metadata: meta(`${name}-script`), data: { [SCRIPT_FILE]: script } }, { parent: this });
    const { volume, destination } = this.destinationVolume(name, args, backup.destination.prefix, meta);
    const sourceClaim = backup.method === "volume-archive" ? args.sourceClaimName : undefined;
    const { volumes, mounts } = backupVolumes(configMap.metadata.name, volume, sourceClaim);
    const access = store ? this.storeAccess(name, store, selectorLabels(task.name), meta) : undefined;
    const s3: S3Destination | undefined = storage
      ? { bucketName: storage.bucketName, region: storage.region, kmsKeyId: storage.kmsKeyArn }
      : store && { bucketName: store.bucket, region: store.region, endpoint: store.endpoint };
    const plainEnv = [{ HOME: "/tmp" }, methodEnv(backup.method, target), task.env, destinationEnv(backup.destination.prefix, s3)];

    const template = taskPodTemplate({
      labels: { ...labels(traceable), ...backupOfLabel },
      annotations: { [ANNOTATION.source]: task.source },
      serviceAccountName: sa.metadata.name,
      containerName: "backup",
      image: task.image!,
      command: ["/bin/sh", `${SCRIPT_DIR}/${SCRIPT_FILE}`],
      env: containerEnv(plainEnv, [...args.secretEnv, ...(access ?? [])]),
      // Unset: DEFAULT_TASK_RESOURCES, one small value for every environment.
      resources: task.resources,
      volumes,
      mounts,
    });
    // The pods carry selectorLabels(task.name) through labels(traceable): the policy selects them.
    const egress = workloadEgressSpec({ namespace: target.namespace, name: task.name }, args.edges);
    if (egress) new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, { metadata: meta(`${name}-allow`), spec: egress }, { parent: this });
    const cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, { metadata: meta(name), spec: cronJobSpec(task, template) }, { parent: this });

    this.cronJobName = cronJob.metadata.name;
    this.destination = destination;
    this.roleArn = roleArn;
    this.registerOutputs({ cronJobName: this.cronJobName, destination: this.destination, roleArn: this.roleArn });
  }

  /**
   * What the job's pods need to reach an S3-compatible store: its credentials in a Secret of the
   * namespace, as the aws CLI's environment, and egress to its address (the restore Job of the
   * task carries the same labels, so it gets both).
   */
  private storeAccess(name: string, store: BackupStoreRef, podLabels: Record<string, string>, meta: Metadata): SecretEnvRef[] {
    new k8s.core.v1.Secret(
      `${name}-store`,
      {
        metadata: meta(`${name}-store`),
        type: "Opaque",
        stringData: { [STORE_ENV.accessKeyId]: store.accessKeyId, [STORE_ENV.secretAccessKey]: store.secretAccessKey },
      },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-store-netpol`,
      { metadata: meta(`${name}-store`), spec: storeEgressSpec(podLabels, store.endpoint) },
      { parent: this },
    );
    // By name, as the target's own Secret is referenced: a pod started before it exists waits for it.
    return Object.values(STORE_ENV).map((env) => ({ env, secretName: `${name}-store`, key: env }));
  }

  /** The IRSA role of the job's service account (named like the job), allowed its own prefix and the bucket key. */
  private role(name: string, { task, target }: BackupJobArgs, storage: BackupStorageRef, prefix: string, tags: Record<string, string>): pulumi.Output<string> {
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Backup ${task.name}: write ${prefix} of its bucket`,
        assumeRolePolicy: irsaTrustPolicy(storage.oidcProviderArn, storage.oidcIssuer, target.namespace, name),
        tags,
      },
      { parent: this },
    );
    const policy = pulumi.all([storage.bucketArn, storage.kmsKeyArn]).apply(([bucketArn, keyArn]) => backupRolePolicy(bucketArn, prefix, keyArn));
    new aws.iam.RolePolicy(`${name}-role-policy`, { role: role.id, policy }, { parent: this });
    return role.arn;
  }

  /**
   * Where the finished backup is written: with S3, scratch space for it before the upload,
   * bounded by the size of the data; without, a claim of the namespace that keeps the backups.
   */
  private destinationVolume(
    name: string,
    { target, storage, store }: BackupJobArgs,
    prefix: string,
    meta: Metadata,
  ): { volume: Omit<Volume, "name">; destination: pulumi.Output<string> } {
    const size = target.storage?.size ?? FALLBACK_SIZE;
    if (storage) {
      return { volume: { emptyDir: { sizeLimit: size } }, destination: pulumi.interpolate`s3://${storage.bucketName}/${prefix}` };
    }
    if (store) {
      return { volume: { emptyDir: { sizeLimit: size } }, destination: pulumi.output(`s3://${store.bucket}/${prefix} (${store.endpoint})`) };
    }
    const storageClass = target.storage?.storageClass;
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
    return {
      volume: { persistentVolumeClaim: { claimName: claim.metadata.name } },
      destination: pulumi.interpolate`pvc://${target.namespace}/${claim.metadata.name}`,
    };
  }
}
