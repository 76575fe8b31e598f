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
  methodEnv,
  serviceHost,
  taskPodTemplate,
  type SecretEnvRef,
} from "./builders/backup";
import { dependencyAddresses, serviceAddress, workloadEgressSpec, type Edge } from "./builders/network";
import type { PlatformContext } from "./context";
import { ANNOTATION, LABEL, awsTags, labels, metadata, type Traceable } from "./labels";

/** The IRSA annotation the EKS pod identity webhook reads to inject web-identity credentials. */
export const ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

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
  /** The S3 destination; absent when AWS is off and backups go to a claim in the cluster. */
  storage?: BackupStorageRef;
}

/** The backup section of a well-formed job; throws on anything the component cannot build. */
function checkedBackup(name: string, { task, target, sourceClaimName, edges }: BackupJobArgs): Backup {
  const backup = backupOf(task);
  const entry = `backup task "${task.name}" (${task.source})`;
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
    const { context, task, target, storage } = args;
    const traceable: Traceable = { name: task.name, owner: task.owner, source: task.source, environment: context.environment, component: "backup" };
    // The backup-of label names the service backed up: the policy pack finds each StatefulSet's backup by it.
    const backupOfLabel = { [LABEL.backupOf]: target.name };
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
      destination: storage ? "s3" : "pvc",
      retentionDays: effectiveRetentionDays(backup),
      keepLast: backup.retention.keepLast,
    });
    const configMap = new k8s.core.v1.ConfigMap(`${name}-script`, { metadata: meta(`${name}-script`), data: { [SCRIPT_FILE]: script } }, { parent: this });
    const { volume, destination } = this.destinationVolume(name, args, backup.destination.prefix, meta);
    const sourceClaim = backup.method === "volume-archive" ? args.sourceClaimName : undefined;
    const { volumes, mounts } = backupVolumes(configMap.metadata.name, volume, sourceClaim);
    const plainEnv = [{ HOME: "/tmp" }, methodEnv(backup.method, target), task.env, destinationEnv(backup.destination.prefix, storage)];

    const template = taskPodTemplate({
      labels: { ...labels(traceable), ...backupOfLabel },
      annotations: { [ANNOTATION.source]: task.source },
      serviceAccountName: sa.metadata.name,
      containerName: "backup",
      image: task.image!,
      command: ["/bin/sh", `${SCRIPT_DIR}/${SCRIPT_FILE}`],
      env: containerEnv(plainEnv, args.secretEnv),
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
    { target, storage }: BackupJobArgs,
    prefix: string,
    meta: Metadata,
  ): { volume: Omit<Volume, "name">; destination: pulumi.Output<string> } {
    const size = target.storage?.size ?? FALLBACK_SIZE;
    if (storage) {
      return { volume: { emptyDir: { sizeLimit: size } }, destination: pulumi.interpolate`s3://${storage.bucketName}/${prefix}` };
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
