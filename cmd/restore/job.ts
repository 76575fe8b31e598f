/**
 * The pure half of `nexus restore`: the time a restore goes back to, the backup task's CronJob as
 * a one-off restore Job, and what the Job's state says. No cluster here; cli.ts drives kubectl.
 */
import { ENV } from "../../components/builders/backup";
import { RESTORE_ENV } from "../../components/builders/restore";

/** How long a finished restore Job (and its pod's log) stays for inspection. */
export const RESTORE_TTL_SECONDS = 86_400;
/** Kubernetes object names of a Job's pods carry its name in a 63-character label. */
const MAX_JOB_NAME = 63;

/**
 * `--at` as the digits YYYYMMDDHHMMSS (UTC) the restore script compares backup names with: an ISO
 * 8601 time with its zone (2026-12-01T10:30:00Z, 2026-12-01T12:30+02:00) or a backup's own
 * timestamp (20261201T103000Z). A time without a zone is refused: it would mean a different backup
 * on every on-call's machine. null when the text is none of these.
 */
export function restoreAt(text: string): string | null {
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  const iso = stamp ? `${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}Z` : text;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(iso)) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  // Date accepts 2026-02-30 by rolling over: the day written must be the day parsed.
  const [y, mo, d] = iso.slice(0, 10).split("-").map(Number);
  const local = new Date(Date.UTC(y!, mo! - 1, d!));
  if (local.getUTCMonth() !== mo! - 1 || local.getUTCDate() !== d) return null;
  return date
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/[-:TZ]/g, "");
}

/** The restore Job's name: `<task>-restore-<UTC yyyymmdd-hhmmss>`, the task cut to fit. */
export function restoreJobName(task: string, now: Date): string {
  const when = now.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-").toLowerCase();
  const suffix = `-restore-${when}`;
  return `${task.slice(0, MAX_JOB_NAME - suffix.length).replace(/-+$/, "")}${suffix}`;
}

type Json = Record<string, unknown>;

/** The parts of a CronJob the restore reads; everything else is copied as it is. */
export interface CronJobObject {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    jobTemplate: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: { activeDeadlineSeconds?: number; template: { metadata?: Json; spec: { containers: ContainerObject[] } & Json } };
    };
  };
}

interface ContainerObject {
  name: string;
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  [key: string]: unknown;
}

/** Where the task's backups are, as its CronJob tells its pods: S3 when it names a bucket. */
export function backupDestination(cronJob: CronJobObject): "s3" | "pvc" {
  const env = cronJob.spec.jobTemplate.spec.template.spec.containers[0]?.env ?? [];
  return env.some((e) => e.name === ENV.bucket) ? "s3" : "pvc";
}

export interface RestoreJobOptions {
  name: string;
  script: string;
  /** Digits YYYYMMDDHHMMSS (restoreAt); absent: the newest backup. */
  at?: string;
  dryRun: boolean;
}

/**
 * The restore Job: the pod of the backup task's CronJob (its image, service account, labels,
 * security context, volumes, environment and Secret references), so the task's network policies
 * select it and it reads the backups the way the backup wrote them, running the restore script
 * instead of the backup script. One try: a restore that failed is looked at before it runs again.
 */
export function restoreJob(cronJob: CronJobObject, o: RestoreJobOptions): Json {
  const jobTemplate = cronJob.spec.jobTemplate;
  const template = jobTemplate.spec.template;
  const [first, ...others] = template.spec.containers;
  if (!first) throw new Error(`CronJob ${cronJob.metadata.namespace}/${cronJob.metadata.name} has no container`);
  const own = new Set<string>(Object.values(RESTORE_ENV));
  const env = [
    ...(first.env ?? []).filter((e) => !own.has(e.name)),
    ...(o.at !== undefined ? [{ name: RESTORE_ENV.at, value: o.at }] : []),
    ...(o.dryRun ? [{ name: RESTORE_ENV.dryRun, value: "1" }] : []),
  ];
  const container: ContainerObject = { ...first, name: "restore", command: ["/bin/sh", "-c", o.script], env };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: o.name,
      namespace: cronJob.metadata.namespace,
      labels: { ...(jobTemplate.metadata?.labels ?? {}) },
      annotations: { ...(jobTemplate.metadata?.annotations ?? {}) },
    },
    spec: {
      backoffLimit: 0,
      ...(jobTemplate.spec.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: jobTemplate.spec.activeDeadlineSeconds } : {}),
      ttlSecondsAfterFinished: RESTORE_TTL_SECONDS,
      template: { ...template, spec: { ...template.spec, containers: [container, ...others] } },
    },
  };
}

/** The state of a Job and its pods that the command waits on. */
export interface JobState {
  status?: { succeeded?: number; failed?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export interface PodState {
  metadata: { name: string };
  status?: { containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string } } }[] };
}

/** Container reasons that never resolve by waiting: the restore fails at once instead of at its deadline. */
const STUCK = new Set(["ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"]);

export type Outcome = { done: false } | { done: true; ok: true } | { done: true; ok: false; why: string };

/** Whether the Job finished, and how: its Complete/Failed condition, or a pod stuck for good. */
export function jobOutcome(job: JobState, pods: readonly PodState[]): Outcome {
  const conditions = job.status?.conditions ?? [];
  const holds = (type: string) => conditions.find((c) => c.type === type && c.status === "True");
  if (holds("Complete") || (job.status?.succeeded ?? 0) > 0) return { done: true, ok: true };
  const failed = holds("Failed");
  if (failed) return { done: true, ok: false, why: [failed.reason, failed.message].filter(Boolean).join(": ") || "the Job failed" };
  for (const pod of pods) {
    for (const c of pod.status?.containerStatuses ?? []) {
      const waiting = c.state?.waiting;
      if (waiting?.reason && STUCK.has(waiting.reason)) {
        return { done: true, ok: false, why: `pod ${pod.metadata.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}` };
      }
    }
  }
  return { done: false };
}
