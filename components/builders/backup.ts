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
  /** An S3-compatible endpoint (the aws CLI's --endpoint-url); unset: AWS S3 itself. */
  endpoint: "BACKUP_ENDPOINT",
  /** The KMS key an upload asks for; unset: the store's default key for aws:kms. */
  kmsKey: "BACKUP_KMS_KEY_ID",
} as const;

/** Days a backup is kept: the retention, never longer than the GDPR maximum when one is set. */
export function effectiveRetentionDays(backup: Backup): number {
  return Math.min(backup.retention.days, backup.gdpr?.maxRetentionDays ?? Number.POSITIVE_INFINITY);
}

/**
 * Days the newest `keepLast` backups outlive the retention at most when no newer backup replaces
 * them (backups failing for weeks): the on-call's window to repair the job before the last copies
 * expire. The backup alerts fire on the first missed run, long before.
 */
export const KEEP_LAST_GRACE_DAYS = 30;

/**
 * The age past which no backup is kept, not even one of the newest `keepLast`: the retention plus
 * KEEP_LAST_GRACE_DAYS, and for personal data never beyond the GDPR maximum less the days a
 * deleted object lingers as a noncurrent version. The backup job prunes by it and the bucket's
 * lifecycle rule expires by it, so the rule never removes a backup the job keeps: the job does
 * the retention, the rule is the backstop for a job that no longer runs.
 */
export function maxBackupAgeDays(backup: Backup): number {
  const days = effectiveRetentionDays(backup) + KEEP_LAST_GRACE_DAYS;
  return backup.gdpr?.personalData ? Math.max(1, Math.min(days, backup.gdpr.maxRetentionDays - NONCURRENT_DAYS)) : days;
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
  /** "s3": upload with the aws CLI (AWS or an S3-compatible store); "pvc": keep in the claim mounted at BACKUP_DIR. */
  destination: "s3" | "pvc";
  /** Backups beyond the newest `keepLast` are deleted once older than this (effectiveRetentionDays). */
  retentionDays: number;
  keepLast: number;
  /** No backup is kept past this age, whatever keepLast says (maxBackupAgeDays). */
  maxAgeDays: number;
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

/**
 * What a method's backups are named with, and the command that succeeds once its target answers
 * (none for a volume): the backup writes and the restore reads the same files of the same target.
 */
export function methodStore(method: BackupMethod, host: string, port: number): { extension: string; ready?: string } {
  switch (method) {
    case "postgres-dump":
      return { extension: ".sql.gz", ready: `pg_isready --host=${host} --port=${port} --timeout=2` };
    case "redis-snapshot":
      return { extension: ".rdb.gz", ready: `redis-cli -h ${host} -p ${port} ping` };
    case "volume-archive":
      return { extension: ".tar.gz" };
  }
}

function methodParts(method: BackupMethod, t: BackupScriptTarget): MethodParts {
  switch (method) {
    case "postgres-dump":
      return {
        ...methodStore(method, t.host, t.port),
        tools: ["pg_dump", "pg_isready"],
        // PGUSER/PGDATABASE/PGPASSWORD come from the environment so no credential is ever an
        // argument (visible in `ps`) or a line of this ConfigMap; --compress on the plain format
        // writes a gzip file directly, so a failed dump cannot hide behind a pipe's exit status.
        // --clean --if-exists: the dump drops each object before creating it, so psql replays it
        // over the live database (restoreScript) instead of failing on the first existing table.
        dump: [
          ': "${PGPASSWORD:?PGPASSWORD must come from a Secret}"',
          `pg_dump --host=${t.host} --port=${t.port} --no-password --format=plain --clean --if-exists --compress=6 \\`,
          '  --file="$partial"',
        ],
      };
    case "redis-snapshot":
      // redis-cli reads the password from REDISCLI_AUTH when the target needs one.
      return {
        ...methodStore(method, t.host, t.port),
        tools: ["redis-cli"],
        dump: [`redis-cli -h ${t.host} -p ${t.port} --rdb "$partial.rdb"`, 'gzip -c "$partial.rdb" >"$partial"', 'rm -f "$partial.rdb"'],
      };
    case "volume-archive":
      return {
        ...methodStore(method, t.host, t.port),
        tools: ["tar"],
        dump: [`tar -czf "$partial" -C ${SOURCE_DIR} .`],
      };
  }
}

/**
 * The shell script a backup CronJob runs. It is POSIX sh, writes the backup to a file first and
 * checks it (`gzip -t`) before it is published, so a failed run fails the Job instead of
 * uploading a truncated backup, then applies the retention (retentionLines). It needs only `sh`,
 * `date`, `gzip`, the method's tool and, for the "s3" destination, `aws`: the task's image must
 * provide them, and the script says which one is missing before doing anything.
 *
 * The "s3" destination is one path for AWS and for an S3-compatible store: the store differs only
 * by BACKUP_ENDPOINT (given to the CLI as --endpoint-url; the aws CLI v2.9 of the backup runner
 * predates AWS_ENDPOINT_URL) and creates its bucket when it is missing, which AWS never needs (the
 * program creates that bucket, and the job's role may not).
 */
export function backupScript(method: BackupMethod, t: BackupScriptTarget): string {
  const m = methodParts(method, t);
  const dump = [...(m.ready ? waitFor(m.ready, `${t.host}:${t.port}`, "backup") : []), ...m.dump];
  const base = `${t.task}-\${stamp}${m.extension}`;
  const tools = ["date", "gzip", ...m.tools, ...RETENTION_TOOLS];
  const lines = ["#!/bin/sh", `# ${method} backup for task ${t.task}; generated by the platform, edit automation.yaml.`, "set -eu", ""];
  if (t.destination === "s3") {
    tools.push("aws");
    lines.push(
      ...toolCheck(tools, "backup"),
      ...s3Function(),
      `: "\${${ENV.bucket}:?}" "\${${ENV.prefix}?}" "\${${ENV.dir}:?}"`,
      ...ensureBucket(),
      'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
      `partial="\${${ENV.dir}}/${base}"`,
      `target="s3://\${${ENV.bucket}}/\${${ENV.prefix}}${base}"`,
      "",
      ...dump,
      'gzip -t "$partial"',
      // Encryption is asked for, not left to the bucket's default: the object says aws:kms (and
      // with AWS, the backup key) whatever the store's default is, and a store that cannot
      // encrypt refuses the upload instead of keeping the backup in the clear.
      `set -- --sse aws:kms`,
      `if [ -n "\${${ENV.kmsKey}:-}" ]; then set -- "$@" --sse-kms-key-id "$${ENV.kmsKey}"; fi`,
      's3 s3 cp --only-show-errors "$@" "$partial" "$target"',
      'rm -f "$partial"',
      'echo "backup: wrote $target"',
      "",
      ...retentionLines(t, m.extension, {
        list: `s3 s3api list-objects-v2 --bucket "$${ENV.bucket}" --prefix "\${${ENV.prefix}}${t.task}-" --query 'Contents[].[Key]' --output text`,
        remove: 's3 s3 rm --only-show-errors "s3://${BACKUP_BUCKET}/$old"',
      }),
    );
  } else {
    tools.push("mv", "mkdir", "ls", "rm");
    lines.push(
      ...toolCheck(tools, "backup"),
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
      ...retentionLines(t, m.extension, { list: 'ls -1 "$dir"', remove: 'rm -f "$dir$old"' }),
    );
  }
  return lines.join("\n") + "\n";
}

/** Tools the retention needs beside date: listing, ordering, matching. */
const RETENTION_TOOLS = ["grep", "sort"];

/**
 * The pattern of a task's backup names (`<task>-<UTC timestamp><extension>`), alone or as the last
 * part of an object key, as a basic regex for grep.
 */
export function backupNamePattern(task: string, extension: string): string {
  return `^\\(.*/\\)\\{0,1\\}${escapeRegex(task)}-[0-9]\\{8\\}T[0-9]\\{6\\}Z${escapeRegex(extension)}$`;
}

/**
 * `s3 ARGS`: the aws CLI, against BACKUP_ENDPOINT when the store is not AWS S3. A function, so
 * every call of the script goes to the same store the same way.
 */
export function s3Function(): string[] {
  return [`s3() { if [ -n "\${${ENV.endpoint}:-}" ]; then aws --endpoint-url "$${ENV.endpoint}" "$@"; else aws "$@"; fi; }`];
}

/**
 * An S3-compatible store's bucket is created on first use (the store starts empty); AWS's bucket
 * comes from the program. us-east-1 is the one region S3 refuses a location constraint for.
 */
function ensureBucket(): string[] {
  const bucket = `"$${ENV.bucket}"`;
  return [
    `if [ -n "\${${ENV.endpoint}:-}" ] && ! s3 s3api head-bucket --bucket ${bucket} >/dev/null 2>&1; then`,
    `  if [ "\${${ENV.region}:-us-east-1}" = us-east-1 ]; then s3 s3api create-bucket --bucket ${bucket} >/dev/null;`,
    `  else s3 s3api create-bucket --bucket ${bucket} --create-bucket-configuration "LocationConstraint=$${ENV.region}" >/dev/null; fi`,
    "fi",
  ];
}

/**
 * The retention, the same for both destinations: the task's backups newest first (names sort by
 * their UTC timestamp); the newest `keepLast` are kept whatever their age, older ones are deleted
 * once older than the retention, and none outlives maxAgeDays. Age comes from the timestamp in the
 * name, which S3 and a claim both keep, not from a modification time a copy would reset.
 * `list` prints names or keys one a line (anything else is filtered out), `remove` deletes "$old".
 */
function retentionLines(t: BackupScriptTarget, extension: string, io: { list: string; remove: string }): string[] {
  const cutoff = (days: number) => `$(date -u -d "@$((now - ${days} * 86400))" +%Y%m%d%H%M%S)`;
  return [
    `# Keep the newest ${t.keepLast} whatever their age; delete older ones after ${t.retentionDays} days, and any after ${t.maxAgeDays} days.`,
    'now="$(date -u +%s)"',
    `expired="${cutoff(t.retentionDays)}"`,
    `too_old="${cutoff(t.maxAgeDays)}"`,
    // Listed first, so a failed listing fails the run (set -e) instead of skipping the retention.
    `listing="$(${io.list})"`,
    "n=0",
    `for old in $(printf '%s\\n' "$listing" | grep '${backupNamePattern(t.task, extension)}' | sort -r); do`,
    "  n=$((n + 1))",
    `  age="\${old##*${t.task}-}"`,
    '  age="${age%%Z*}"',
    '  age="${age%%T*}${age#*T}"',
    `  if { [ "$n" -gt ${t.keepLast} ] && [ "$age" -lt "$expired" ]; } || [ "$age" -lt "$too_old" ]; then`,
    `    ${io.remove}`,
    '    echo "backup: removed $old"',
    "  fi",
    "done",
  ];
}

/**
 * Waits until READY succeeds, for at most STORE_WAIT_SECONDS: the store may be restarting, and the
 * network policy that admits a new pod takes a moment to include it, so the first connection of
 * a Job's pod can be refused.
 */
export function waitFor(ready: string, address: string, who: string): string[] {
  return [
    "tries=0",
    `until ${ready} >/dev/null 2>&1; do`,
    "  tries=$((tries + 1))",
    `  if [ "$tries" -ge ${STORE_WAIT_SECONDS} ]; then echo "${who}: ${address} did not answer within ${STORE_WAIT_SECONDS}s" >&2; exit 1; fi`,
    "  sleep 1",
    "done",
  ];
}

/** Fails fast, naming the tool, when the task's image lacks one the script needs. */
export function toolCheck(tools: readonly string[], who: string): string[] {
  return [
    `for tool in ${tools.join(" ")}; do`,
    '  if ! command -v "$tool" >/dev/null 2>&1; then',
    `    echo "${who}: $tool is missing from the image" >&2`,
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

/** An S3 destination as the scripts see it: the bucket, its region, and what sets a store apart from AWS. */
export interface S3Destination {
  bucketName: Input<string>;
  region: string;
  /** An S3-compatible store's endpoint URL; absent: AWS S3. */
  endpoint?: string;
  /** The KMS key the upload asks for (AWS: the backup key); absent: the store's default. */
  kmsKeyId?: Input<string>;
}

/** Where the script writes, as its environment: the directory and prefix, and with S3 the bucket, its region, endpoint and key. */
export function destinationEnv(prefix: string, s3?: S3Destination): Record<string, Input<string>> {
  const upload: Record<string, Input<string>> = s3
    ? {
        [ENV.bucket]: s3.bucketName,
        [ENV.region]: s3.region,
        [ENV.defaultRegion]: s3.region,
        ...(s3.endpoint !== undefined ? { [ENV.endpoint]: s3.endpoint } : {}),
        ...(s3.kmsKeyId !== undefined ? { [ENV.kmsKey]: s3.kmsKeyId } : {}),
      }
    : {};
  return { [ENV.dir]: BACKUP_DIR, [ENV.prefix]: prefix, ...upload };
}

/**
 * Egress of a backup task's pods (its backup and restore Jobs) to an S3-compatible store: its
 * address, on its port. The address must be an IPv4 literal, as a NetworkPolicy admits addresses,
 * not names. AWS S3 is admitted by the security registry's egress rules instead.
 */
export function storeEgressSpec(podLabels: Record<string, string>, endpoint: string): k8s.types.input.networking.v1.NetworkPolicySpec {
  const url = new URL(endpoint);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname)) {
    throw new Error(`backup store ${endpoint}: give its address as an IPv4 address (a NetworkPolicy admits addresses, not names)`);
  }
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  return {
    podSelector: { matchLabels: podLabels },
    policyTypes: ["Egress"],
    egress: [{ to: [{ ipBlock: { cidr: `${url.hostname}/32` } }], ports: [{ protocol: "TCP", port }] }],
  };
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
  /** Mount the service account's API token: only for a task whose registry entry declares clusterAccess. */
  apiToken?: boolean;
}

/**
 * The pod of a scheduled or one-shot task: restricted security context, no API token unless asked, a /tmp
 * emptyDir for the read-only root filesystem, and `restartPolicy: Never` so every retry is a new
 * pod whose logs survive for the job history.
 */
export function taskPodTemplate(o: TaskPodOptions): k8s.types.input.core.v1.PodTemplateSpec {
  const tmp = tmpVolume();
  return {
    metadata: { labels: o.labels, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      serviceAccountName: o.serviceAccountName,
      automountServiceAccountToken: o.apiToken ?? false,
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
 * One lifecycle rule per backup task, expiring its prefix after maxBackupAgeDays: the backup job
 * applies the retention itself (the newest keepLast whatever their age, older ones after the
 * retention), so the rule only removes what the job would have removed too, when the job no longer
 * runs, and the GDPR maximum holds either way. Expiring the current version only adds a delete
 * marker in a versioned bucket, so the old version is expired one day later (S3's shortest);
 * maxBackupAgeDays leaves that day for personal data. Abandoned multipart uploads hold data too:
 * dropped after a day.
 */
export function s3LifecycleRules(tasks: readonly ResolvedTask[]): LifecycleRule[] {
  return tasks
    .filter((t) => t.kind === "backup")
    .map((t) => {
      const backup = backupOf(t);
      return {
        id: t.name,
        status: "Enabled",
        filter: { prefix: backup.destination.prefix },
        expiration: { days: maxBackupAgeDays(backup) },
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
 * What a backup job's role may do: write, read and delete objects under its own prefix, list only
 * that prefix, and use the bucket key. The only wildcard is the object-key suffix after the prefix
 * (keys carry a timestamp); no action or resource is a wildcard.
 */
export function backupRolePolicy(bucketArn: string, prefix: string, kmsKeyArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ObjectsUnderOwnPrefix",
        Effect: "Allow",
        // Delete: the job applies the retention itself (backupScript); in the versioned bucket a
        // delete is a marker, and the lifecycle rule expires the old version a day later.
        Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
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
