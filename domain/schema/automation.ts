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

/** The lawful bases of GDPR Art. 6(1) a backup of personal data may rest on. */
export const LEGAL_BASES = ["consent", "contract", "legal-obligation", "legitimate-interest"] as const;

export const Retention = z.strictObject({
  days: z.number().int().min(1).describe("Backups older than this are deleted"),
  keepLast: z.number().int().min(1).default(3).describe("Always keep at least this many backups"),
});

export const Gdpr = z.strictObject({
  personalData: z.boolean(),
  maxRetentionDays: z.number().int().min(1).describe("Longest time personal data may be kept; the retention may not exceed it"),
  legalBasis: z
    .enum(LEGAL_BASES)
    .optional()
    .describe("GDPR Art. 6 basis of the processing: labels the backup's objects and is a column of the `nexus audit` report's backups"),
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

/**
 * A resource as kubectl names it: the plural, then the API group unless it is the core group
 * ("pods", "deployments.apps", "networkpolicies.networking.k8s.io"). No subresource and no
 * wildcard can be written, so a task can never be granted `pods/exec` or `*`.
 */
export const ApiResource = z.string().regex(/^[a-z][a-z0-9]*(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
  message: 'must be a resource as kubectl names it: the plural and its API group, e.g. "pods", "deployments.apps", "networkpolicies.networking.k8s.io"',
});

/**
 * Resources the API serves cluster-wide: a namespaced Role cannot grant them, and the platform
 * grants tasks no cluster-wide access, so the loader refuses them by name.
 */
export const CLUSTER_SCOPED_RESOURCES: readonly string[] = [
  "namespaces",
  "nodes",
  "persistentvolumes",
  "componentstatuses",
  "clusterroles.rbac.authorization.k8s.io",
  "clusterrolebindings.rbac.authorization.k8s.io",
  "storageclasses.storage.k8s.io",
  "csidrivers.storage.k8s.io",
  "csinodes.storage.k8s.io",
  "volumeattachments.storage.k8s.io",
  "priorityclasses.scheduling.k8s.io",
  "runtimeclasses.node.k8s.io",
  "ingressclasses.networking.k8s.io",
  "customresourcedefinitions.apiextensions.k8s.io",
  "apiservices.apiregistration.k8s.io",
  "mutatingwebhookconfigurations.admissionregistration.k8s.io",
  "validatingwebhookconfigurations.admissionregistration.k8s.io",
  "validatingadmissionpolicies.admissionregistration.k8s.io",
  "certificatesigningrequests.certificates.k8s.io",
  "tokenreviews.authentication.k8s.io",
  "selfsubjectaccessreviews.authorization.k8s.io",
  "subjectaccessreviews.authorization.k8s.io",
];

/** The environment variable the platform sets in a deployment-check task: the workloads it checks. */
export const CHECK_WORKLOADS_ENV = "NEXUS_CHECK_WORKLOADS";

/** What a deployment check must be able to read in every namespace of the workloads it checks. */
export const DEPLOYMENT_CHECK_READS: readonly string[] = ["deployments.apps", "statefulsets.apps"];

/**
 * Read access of a task to the Kubernetes API. The task gets an API token, and in each namespace a
 * Role granting get, list and watch on exactly these resources, bound to its own service account,
 * and egress to the API server. Nothing else: no write verb, no cluster-wide role.
 */
export const ClusterAccess = z.strictObject({
  read: z
    .array(ApiResource)
    .min(1)
    .describe('Resources the task reads (get, list, watch), as kubectl names them: "pods", "deployments.apps"; "secrets" only when it must read credentials'),
  namespaces: z
    .array(Name)
    .min(1)
    .optional()
    .describe("Namespaces (orchestration.yaml) it reads in, one Role in each; absent: every namespace of the platform"),
});
export type ClusterAccess = z.infer<typeof ClusterAccess>;

export const Task = z.strictObject({
  name: Name,
  description: Description.optional(),
  kind: z.enum(TASK_KINDS),
  owner: Owner,
  runner: z.enum(RUNNERS),
  schedule: Cron.optional().describe("Five-field cron; required for the k8s-cronjob runner"),
  timeZone: z.string().optional().describe("IANA time zone of the schedule, e.g. Europe/Berlin"),
  image: Image.optional().describe("Container image; required for the k8s runners"),
  command: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      "Command and arguments; required for every kind but backup, whose script the platform generates from its backup section (a backup may not set it)",
    ),
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
  clusterAccess: ClusterAccess.optional().describe(
    "Read access to the Kubernetes API for an in-cluster task: an API token, a read-only Role per namespace and egress to the API server; absent: no token",
  ),
  environments: EnvironmentOverrides,
});
export type Task = z.infer<typeof Task>;

export const AutomationRegistry = z.strictObject({
  ...header("Automation"),
  tasks: z.array(Task).min(1),
});
export type AutomationRegistry = z.infer<typeof AutomationRegistry>;
