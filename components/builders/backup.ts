import { createHash } from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import type { Input } from "@pulumi/pulumi";
import type { ResolvedService, ResolvedTask } from "../../domain/model";
import type { Backup, Resources } from "../../domain/schema";
import { resourceRequirements, restrictedContainerSecurityContext, restrictedPodSecurityContext, tmpVolume } from "./pod";
import { DEFAULT_TASK_RESOURCES } from "../../domain/model/workloads";

/**
 * Pure builders for scheduled work: the backup scripts, the CronJob/Job specs and the egress
 * policy both backups and automation tasks share, and the AWS policy documents of the backup
 * storage. Nothing here talks to Pulumi, so every decision can be tested on plain values.
 */

type BackupMethod = Backup["method"];
type EnvVar = k8s.types.input.core.v1.EnvVar;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/**
 * A run that could not start within five minutes of its slot waits for the next one rather than
 * starting late into another task's window; it also keeps the controller from counting up to its
 * limit of 100 missed schedules after an outage and then refusing to schedule at all.
 */
export const STARTING_DEADLINE_SECONDS = 300;

/** Where a backup pod writes: a scratch emptyDir (AWS on) or the destination claim (AWS off). */
export const BACKUP_DIR = "/backup";
/** Where the script ConfigMap is mounted, read-only. */
export const SCRIPT_DIR = "/scripts";
export const SCRIPT_FILE = "backup.sh";
/** Where a volume-archive backup mounts the target's claim, read-only. */
export const SOURCE_DIR = "/data";

/** The environment variables the scripts read their destination from. */
export const ENV = {
  bucket: "BACKUP_BUCKET",
  prefix: "BACKUP_PREFIX",
  dir: "BACKUP_DIR",
  region: "AWS_REGION",
  defaultRegion: "AWS_DEFAULT_REGION",
} as const;

/** Days a backup is kept: the retention, never longer than the GDPR maximum when one is set. */
export function effectiveRetentionDays(backup: Backup): number {
  return Math.min(backup.retention.days, backup.gdpr?.maxRetentionDays ?? Number.POSITIVE_INFINITY);
}

/** The in-cluster DNS name of a service, the host a dump connects to. */
export function serviceHost(service: string, namespace: string): string {
  return `${service}.${namespace}.svc`;
}

export interface BackupScriptTarget {
  /** The task name: every backup object is named `<task>-<UTC timestamp><extension>`. */
  task: string;
  /** `<svc>.<ns>.svc` of the target (unused by volume-archive, which reads a mounted claim). */
  host: string;
  port: number;
  /** "s3": upload with the aws CLI; "pvc": keep in the destination claim mounted at BACKUP_DIR. */
  destination: "s3" | "pvc";
  /** Effective retention; only the "pvc" destination prunes by itself (S3 has lifecycle rules). */
  retentionDays: number;
  keepLast: number;
}

interface MethodParts {
  extension: string;
  tools: string[];
  /** A command that succeeds once the store answers; none for a volume. */
  ready?: string;
  /** Lines that write the gzip-compressed backup to "$partial". */
  dump: string[];
}

/** How long a backup waits for its store to answer before it fails. */
export const STORE_WAIT_SECONDS = 30;

function methodParts(method: BackupMethod, t: BackupScriptTarget): MethodParts {
  switch (method) {
    case "postgres-dump":
      return {
        extension: ".sql.gz",
        tools: ["pg_dump", "pg_isready"],
        ready: `pg_isready --host=${t.host} --port=${t.port} --timeout=2`,
        // PGUSER/PGDATABASE/PGPASSWORD come from the environment so no credential is ever an
        // argument (visible in `ps`) or a line of this ConfigMap; --compress on the plain format
        // writes a gzip file directly, so a failed dump cannot hide behind a pipe's exit status.
        dump: [
          ': "${PGPASSWORD:?PGPASSWORD must come from a Secret}"',
          `pg_dump --host=${t.host} --port=${t.port} --no-password --format=plain --compress=6 \\`,
          '  --file="$partial"',
        ],
      };
    case "redis-snapshot":
      // redis-cli reads the password from REDISCLI_AUTH when the target needs one.
      return {
        extension: ".rdb.gz",
        tools: ["redis-cli"],
        ready: `redis-cli -h ${t.host} -p ${t.port} ping`,
        dump: [`redis-cli -h ${t.host} -p ${t.port} --rdb "$partial.rdb"`, 'gzip -c "$partial.rdb" >"$partial"', 'rm -f "$partial.rdb"'],
      };
    case "volume-archive":
      return {
        extension: ".tar.gz",
        tools: ["tar"],
        dump: [`tar -czf "$partial" -C ${SOURCE_DIR} .`],
      };
  }
}

/**
 * The shell script a backup CronJob runs. It is POSIX sh, writes the backup to a file first and
 * checks it (`gzip -t`) before it is published, so a failed run fails the Job instead of
 * uploading a truncated backup. It needs only `sh`, `date`, `gzip`, the method's tool and, for
 * the "s3" destination, `aws`: the task's image must provide them, and the script says which one
 * is missing before doing anything.
 */
export function backupScript(method: BackupMethod, t: BackupScriptTarget): string {
  const m = methodParts(method, t);
  const dump = [...(m.ready ? waitFor(m.ready, `${t.host}:${t.port}`) : []), ...m.dump];
  const base = `${t.task}-\${stamp}${m.extension}`;
  const tools = ["date", "gzip", ...m.tools];
  const lines = ["#!/bin/sh", `# ${method} backup for task ${t.task}; generated by the platform, edit automation.yaml.`, "set -eu", ""];
  if (t.destination === "s3") {
    tools.push("aws");
    lines.push(
      ...toolCheck(tools),
      `: "\${${ENV.bucket}:?}" "\${${ENV.prefix}?}" "\${${ENV.dir}:?}"`,
      'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
      `partial="\${${ENV.dir}}/${base}"`,
      `target="s3://\${${ENV.bucket}}/\${${ENV.prefix}}${base}"`,
      "",
      ...dump,
      'gzip -t "$partial"',
      // The bucket's default encryption (SSE-KMS with the backup key) applies to the upload.
      'aws s3 cp --only-show-errors "$partial" "$target"',
      'rm -f "$partial"',
      'echo "backup: wrote $target"',
    );
  } else {
    tools.push("mv", "mkdir", "ls", "grep", "sort", "tail", "find", "rm");
    // find -mtime +N matches files older than N+1 whole days.
    const olderThan = t.retentionDays - 1;
    const pattern = `^${escapeRegex(t.task)}-[0-9TZ]*${escapeRegex(m.extension)}$`;
    lines.push(
      ...toolCheck(tools),
      `: "\${${ENV.prefix}?}" "\${${ENV.dir}:?}"`,
      `dir="\${${ENV.dir}}/\${${ENV.prefix}}"`,
      'mkdir -p "$dir"',
      // Leftovers of an interrupted run; concurrencyPolicy Forbid means no other run is writing.
      `rm -f "$dir"${t.task}-*.partial "$dir"${t.task}-*.partial.rdb`,
      'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
      `target="\${dir}${base}"`,
      'partial="$target.partial"',
      "",
      ...dump,
      'gzip -t "$partial"',
      // A rename on the same volume is atomic: a reader sees a complete backup or none.
      'mv "$partial" "$target"',
      'echo "backup: wrote $target"',
      "",
      `# Keep the newest ${t.keepLast} whatever their age; delete older ones after` + ` ${t.retentionDays} days.`,
      `ls -1 "$dir" | grep '${pattern}' | sort -r | tail -n +${t.keepLast + 1} |`,
      "  while read -r old; do",
      `    if [ -n "$(find "$dir$old" -mtime +${olderThan})" ]; then rm -f "$dir$old"; fi`,
      "  done",
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Waits until READY succeeds, for at most STORE_WAIT_SECONDS: the store may be restarting, and the
 * network policy that admits a new pod takes a moment to include it, so the first connection of
 * a Job's pod can be refused.
 */
function waitFor(ready: string, address: string): string[] {
  return [
    "tries=0",
    `until ${ready} >/dev/null 2>&1; do`,
    "  tries=$((tries + 1))",
    `  if [ "$tries" -ge ${STORE_WAIT_SECONDS} ]; then echo "backup: ${address} did not answer within ${STORE_WAIT_SECONDS}s" >&2; exit 1; fi`,
    "  sleep 1",
    "done",
  ];
}

/** Fails fast, naming the tool, when the task's image lacks one the script needs. */
function toolCheck(tools: readonly string[]): string[] {
  return [
    `for tool in ${tools.join(" ")}; do`,
    '  if ! command -v "$tool" >/dev/null 2>&1; then',
    '    echo "backup: $tool is missing from the image" >&2',
    "    exit 127",
    "  fi",
    "done",
  ];
}

function escapeRegex(s: string): string {
  return s.replace(/[.\\[\]*^$]/g, "\\$&");
}

/**
 * libpq's connection settings for a postgres dump: the official image's POSTGRES_USER and
 * POSTGRES_DB when the target sets them, otherwise the image's own default user and database.
 * Set explicitly because the restricted UID has no user name for libpq to fall back on.
 */
export function methodEnv(method: BackupMethod, target: ResolvedService): Record<string, string> {
  if (method !== "postgres-dump") return {};
  const user = target.env["POSTGRES_USER"] ?? "postgres";
  return { PGUSER: user, PGDATABASE: target.env["POSTGRES_DB"] ?? user };
}

/** Where the script writes, as its environment: the directory and prefix, and with S3 the bucket and its region. */
export function destinationEnv(prefix: string, s3?: { bucketName: Input<string>; region: string }): Record<string, Input<string>> {
  const upload: Record<string, Input<string>> = s3 ? { [ENV.bucket]: s3.bucketName, [ENV.region]: s3.region, [ENV.defaultRegion]: s3.region } : {};
  return { [ENV.dir]: BACKUP_DIR, [ENV.prefix]: prefix, ...upload };
}

/**
 * The volumes of a backup pod beside /tmp, each with its mount: the script read-only, the
 * destination (scratch space, or the claim that keeps the backups) at BACKUP_DIR, and for a
 * volume archive the target's claim, read-only.
 */
export function backupVolumes(
  scriptConfigMap: Input<string>,
  destination: Omit<Volume, "name">,
  sourceClaimName?: string,
): { volumes: Volume[]; mounts: VolumeMount[] } {
  const volumes: Volume[] = [
    { name: "script", configMap: { name: scriptConfigMap, defaultMode: 0o444 } },
    { name: "backup", ...destination },
  ];
  const mounts: VolumeMount[] = [
    { name: "script", mountPath: SCRIPT_DIR, readOnly: true },
    { name: "backup", mountPath: BACKUP_DIR },
  ];
  if (sourceClaimName !== undefined) {
    volumes.push({ name: "source", persistentVolumeClaim: { claimName: sourceClaimName, readOnly: true } });
    mounts.push({ name: "source", mountPath: SOURCE_DIR, readOnly: true });
  }
  return { volumes, mounts };
}

/** A reference to a key of an existing Kubernetes Secret, exposed as one environment variable. */
export interface SecretEnvRef {
  env: string;
  secretName: string;
  key: string;
}

/**
 * Container environment: plain values in order, later sources winning, then Secret references
 * (which win over a plain value of the same name). Names are unique because server-side apply
 * merges env by name and rejects duplicates.
 */
export function containerEnv(plain: readonly Readonly<Record<string, Input<string>>>[], secrets: readonly SecretEnvRef[]): EnvVar[] {
  const byName = new Map<string, EnvVar>();
  for (const source of plain) {
    for (const [name, value] of Object.entries(source)) byName.set(name, { name, value });
  }
  for (const s of secrets) {
    byName.delete(s.env);
    const secretKeyRef = { name: s.secretName, key: s.key };
    byName.set(s.env, { name: s.env, valueFrom: { secretKeyRef } });
  }
  return [...byName.values()];
}

export interface TaskPodOptions {
  labels: Record<string, string>;
  /** Pod annotations, e.g. the source annotation, so a running pod names its registry entry. */
  annotations?: Record<string, string>;
  serviceAccountName: Input<string>;
  containerName: string;
  image: string;
  command: readonly string[];
  env: EnvVar[];
  resources: Resources | undefined;
  volumes?: Volume[];
  mounts?: VolumeMount[];
}

/**
 * The pod of a scheduled or one-shot task: restricted security context, no API token, a /tmp
 * emptyDir for the read-only root filesystem, and `restartPolicy: Never` so every retry is a new
 * pod whose logs survive for the job history.
 */
export function taskPodTemplate(o: TaskPodOptions): k8s.types.input.core.v1.PodTemplateSpec {
  const tmp = tmpVolume();
  return {
    metadata: { labels: o.labels, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      serviceAccountName: o.serviceAccountName,
      automountServiceAccountToken: false,
      // Service links would inject every service of the namespace as environment variables.
      enableServiceLinks: false,
      restartPolicy: "Never",
      securityContext: restrictedPodSecurityContext(),
      containers: [
        {
          name: o.containerName,
          image: o.image,
          command: [...o.command],
          env: o.env,
          resources: resourceRequirements(o.resources ?? DEFAULT_TASK_RESOURCES),
          securityContext: restrictedContainerSecurityContext(),
          volumeMounts: [tmp.mount, ...(o.mounts ?? [])],
        },
      ],
      volumes: [tmp.volume, ...(o.volumes ?? [])],
    },
  };
}

/** Job fields from the task: its timeout bounds the whole Job, retries are pod retries. */
export function jobSpec(task: ResolvedTask, template: k8s.types.input.core.v1.PodTemplateSpec): k8s.types.input.batch.v1.JobSpec {
  return {
    activeDeadlineSeconds: task.timeoutSeconds,
    backoffLimit: task.retries,
    template,
  };
}

/**
 * The CronJob spec of a task. Forbid: a backup or audit still running when the next slot comes is
 * not started twice (two dumps of one database compete for it and for the destination).
 */
export function cronJobSpec(task: ResolvedTask, template: k8s.types.input.core.v1.PodTemplateSpec): k8s.types.input.batch.v1.CronJobSpec {
  if (!task.schedule) throw new Error(`task "${task.name}" (${task.source}) has no schedule`);
  return {
    schedule: task.schedule,
    ...(task.timeZone ? { timeZone: task.timeZone } : {}),
    concurrencyPolicy: "Forbid",
    suspend: !task.enabled,
    startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
    successfulJobsHistoryLimit: task.successfulJobsHistory,
    failedJobsHistoryLimit: task.failedJobsHistory,
    jobTemplate: { metadata: template.metadata, spec: jobSpec(task, template) },
  };
}

/** The backup section of a backup task; the loader guarantees it, this makes it explicit. */
export function backupOf(task: ResolvedTask): Backup {
  if (task.kind !== "backup" || !task.backup) {
    throw new Error(`task "${task.name}" (${task.source}) is not a backup task with a backup`);
  }
  return task.backup;
}

export interface LifecycleRule {
  id: string;
  status: "Enabled";
  filter: { prefix: string };
  expiration: { days: number };
  noncurrentVersionExpiration: { noncurrentDays: number };
  abortIncompleteMultipartUpload: { daysAfterInitiation: number };
}

/** Days a replaced or expired backup object is kept as a noncurrent version. */
export const NONCURRENT_DAYS = 1;

/**
 * One lifecycle rule per backup task. Expiring the current version only adds a delete marker in
 * a versioned bucket, so the old version is expired one day later (S3's shortest), or personal
 * data would outlive its GDPR maximum. Abandoned multipart uploads hold data too: dropped after
 * a day.
 */
export function s3LifecycleRules(tasks: readonly ResolvedTask[]): LifecycleRule[] {
  return tasks
    .filter((t) => t.kind === "backup")
    .map((t) => {
      const backup = backupOf(t);
      // An expired object lingers as a noncurrent version for NONCURRENT_DAYS more: personal
      // data must be gone by the GDPR maximum, so it expires that much earlier.
      const days = backup.gdpr?.personalData
        ? Math.max(1, Math.min(backup.retention.days, backup.gdpr.maxRetentionDays - NONCURRENT_DAYS))
        : effectiveRetentionDays(backup);
      return {
        id: t.name,
        status: "Enabled",
        filter: { prefix: backup.destination.prefix },
        expiration: { days },
        noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_DAYS },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      };
    });
}

/**
 * Whether the bucket gets Object Lock: S3 allows it only when a bucket is created, and then for
 * the whole bucket, so one backup asking for it is enough.
 */
export function objectLockRequested(tasks: readonly ResolvedTask[]): boolean {
  return tasks.some((t) => t.kind === "backup" && backupOf(t).destination.objectLock);
}

/** Smallest effective retention of the tasks: an object lock must never outlive any retention. */
export function objectLockDays(tasks: readonly ResolvedTask[]): number | undefined {
  const days = tasks.filter((t) => t.kind === "backup").map((t) => effectiveRetentionDays(backupOf(t)));
  return days.length > 0 ? Math.min(...days) : undefined;
}

/**
 * What a backup job's role may do: write and read objects under its own prefix, list only that
 * prefix, and use the bucket key. The only wildcard is the object-key suffix after the prefix
 * (keys carry a timestamp); no action or resource is a wildcard.
 */
export function backupRolePolicy(bucketArn: string, prefix: string, kmsKeyArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ObjectsUnderOwnPrefix",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: [`${bucketArn}/${prefix}*`],
      },
      {
        Sid: "ListOwnPrefix",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [bucketArn],
        Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
      },
      {
        Sid: "UseBackupKey",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: [kmsKeyArn],
      },
    ],
  });
}

/**
 * Trust policy of an IRSA role: only the given service account of the given namespace, with a
 * token issued for STS, may assume it. The condition keys use the issuer without its scheme.
 */
export function irsaTrustPolicy(oidcProviderArn: string, oidcIssuer: string, namespace: string, serviceAccount: string): string {
  const issuer = oidcIssuer.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  });
}

/** Bucket policy refusing every request that does not arrive over TLS. */
export function tlsOnlyBucketPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

/** A stable digest of a value: object keys sorted, so key order in YAML does not matter. */
export function stableHash(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex");
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
