import { z } from "zod";
import { Cron, Description, EnvironmentOverrides, Image, Name, Owner, Resources, SecretRef, header } from "./common";

export const TASK_KINDS = [
  "backup",
  "deployment-check",
  "health-check",
  "anomaly-detection",
  "predictive-analytics",
  "load-test",
  "performance-test",
  "test",
  "security-audit",
  "security-scan",
  "optimize",
  "report",
] as const;

export const RUNNERS = ["k8s-cronjob", "k8s-job", "local-command"] as const;

export const BACKUP_METHODS = ["postgres-dump", "redis-snapshot", "volume-archive"] as const;

export const Retention = z.strictObject({
  days: z.number().int().min(1).describe("Backups older than this are deleted"),
  keepLast: z.number().int().min(1).default(3).describe("Always keep at least this many backups"),
});

export const Gdpr = z.strictObject({
  personalData: z.boolean(),
  maxRetentionDays: z.number().int().min(1).describe("Longest time personal data may be kept; the retention may not exceed it"),
  legalBasis: z.enum(["consent", "contract", "legal-obligation", "legitimate-interest"]).optional(),
});

export const Backup = z.strictObject({
  method: z.enum(BACKUP_METHODS),
  destination: z.strictObject({
    prefix: z.string().regex(/^[a-z0-9][a-z0-9-/]*\/$/, { message: 'must be an object-key prefix ending in "/", e.g. "postgres/"' }),
    objectLock: z.boolean().default(false),
  }),
  retention: Retention,
  gdpr: Gdpr.optional(),
});
export type Backup = z.infer<typeof Backup>;

export const Task = z.strictObject({
  name: Name,
  description: Description.optional(),
  kind: z.enum(TASK_KINDS),
  owner: Owner,
  runner: z.enum(RUNNERS),
  schedule: Cron.optional().describe("Five-field cron; required for the k8s-cronjob runner"),
  timeZone: z.string().optional().describe("IANA time zone of the schedule, e.g. Europe/Berlin"),
  image: Image.optional().describe("Container image; required for the k8s runners"),
  command: z.array(z.string().min(1)).min(1).describe("Command and arguments"),
  target: Name.optional().describe("Service this task works on"),
  namespace: Name.optional().describe("Namespace the task runs in; defaults to its target's namespace"),
  dependsOn: z.array(Name).default([]).describe("Services the task calls besides its target: opens those network paths"),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  secrets: z.array(z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/), configKey: SecretRef })).default([]),
  resources: Resources.optional(),
  timeoutSeconds: z.number().int().min(1).default(3600),
  retries: z.number().int().min(0).max(10).default(2),
  successfulJobsHistory: z.number().int().min(0).default(3),
  failedJobsHistory: z.number().int().min(0).default(3),
  backup: Backup.optional(),
  enabled: z.boolean().default(true),
  environments: EnvironmentOverrides,
});
export type Task = z.infer<typeof Task>;

export const AutomationRegistry = z.strictObject({
  ...header("Automation"),
  tasks: z.array(Task).min(1),
});
export type AutomationRegistry = z.infer<typeof AutomationRegistry>;
