import { z } from "zod";
import { Description, EnvironmentOverrides, Image, Name, Owner, Resources, SecretRef, header } from "./common";

export const Team = z.strictObject({
  name: Name,
  channel: Name.describe("Notification channel (monitoring.yaml) that receives this team's alerts"),
  githubTeam: z
    .string()
    .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
      message: 'must be a GitHub team "org/team", e.g. "nexus-platform/security"',
    })
    .optional()
    .describe("GitHub team (org/team) whose review .github/CODEOWNERS requires for the files this team owns (`nexus ci generate`)"),
});
export type Team = z.infer<typeof Team>;

export const Namespace = z.strictObject({
  name: Name,
  description: Description.optional(),
  owner: Owner,
  quota: z
    .strictObject({
      cpu: z.string().default("8"),
      memory: z.string().default("16Gi"),
      pods: z.number().int().positive().default(50),
    })
    .prefault({}),
  environments: EnvironmentOverrides,
});
export type Namespace = z.infer<typeof Namespace>;

const Port = z.number().int().min(1).max(65535);

export const Probe = z.strictObject({
  type: z.enum(["http", "tcp", "exec"]).default("http"),
  path: z.string().startsWith("/").optional(),
  port: Port.optional(),
  command: z.array(z.string()).min(1).optional(),
  initialDelaySeconds: z.number().int().min(0).default(5),
  periodSeconds: z.number().int().min(1).default(10),
  timeoutSeconds: z.number().int().min(1).default(2),
  failureThreshold: z.number().int().min(1).default(3),
});
export type Probe = z.infer<typeof Probe>;

export const Autoscaling = z
  .strictObject({
    minReplicas: z.number().int().min(1),
    maxReplicas: z.number().int().min(1),
    targetCPUUtilization: z.number().int().min(1).max(100).default(75),
  })
  .refine((a) => a.maxReplicas >= a.minReplicas, {
    message: "maxReplicas must be at least minReplicas",
    path: ["maxReplicas"],
  });
export type Autoscaling = z.infer<typeof Autoscaling>;

export const SecretEnv = z.strictObject({
  env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: "must be an environment variable name (A-Z, 0-9, _)" }),
  configKey: SecretRef,
});
export type SecretEnv = z.infer<typeof SecretEnv>;

/**
 * The environment variable every service container gets with the addresses of its `dependsOn`
 * ("HOST:PORT,..."); the registry's own `env` may not set it.
 */
export const DEPENDENCIES_ENV = "NEXUS_DEPENDENCIES";

/** The environment variable every service container gets with its declared `port`, as many platforms do. */
export const PORT_ENV = "PORT";

/** The variables the platform sets in every service container; the registry's `env` may not. */
export const PLATFORM_ENV: Readonly<Record<string, string>> = {
  [PORT_ENV]: "the service's port",
  [DEPENDENCIES_ENV]: "the addresses of dependsOn (HOST:PORT,...)",
};

/** Always writable in a container: an emptyDir the platform mounts for every workload. */
export const TMP_PATH = "/tmp";

/**
 * An absolute directory path written plainly: no trailing "/", no empty, "." or ".." segment,
 * so two spellings of one directory cannot pass as two paths.
 */
const WritablePath = z.string().regex(/^(\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~@+-]+)+$/, {
  message: 'must be an absolute directory path other than "/", written plainly (e.g. "/var/run/postgresql": no trailing "/", no "." or ".." segment)',
});

export const Storage = z.strictObject({
  size: z.string(),
  storageClass: z.string().optional(),
  mountPath: z.string().startsWith("/"),
});
export type Storage = z.infer<typeof Storage>;

export const Service = z.strictObject({
  name: Name,
  description: Description.optional(),
  owner: Owner,
  namespace: Name.describe("Namespace declared in this file's namespaces"),
  image: Image,
  args: z.array(z.string()).optional().describe("Container arguments; $(VAR) expands environment variables"),
  port: Port,
  protocol: z.enum(["http", "grpc", "tcp"]).default("http"),
  replicas: z.number().int().min(0).default(1),
  autoscaling: Autoscaling.optional(),
  resources: Resources,
  probes: z.strictObject({ liveness: Probe, readiness: Probe }),
  dependsOn: z.array(Name).default([]),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  secrets: z.array(SecretEnv).default([]),
  stateful: z.boolean().default(false),
  storage: Storage.optional(),
  writablePaths: z
    .array(WritablePath)
    .default([])
    .describe(
      "Directories the process writes besides /tmp and its storage (sockets, lock and pid files), since the root filesystem is read-only: each gets an emptyDir of its own; none may be inside another, /tmp or storage.mountPath",
    ),
  personalData: z.boolean().default(false).describe("Holds personal data: its backups must follow GDPR rules"),
  exposure: z.enum(["internal", "public"]).default("internal"),
  userFacing: z.boolean().default(false),
  metrics: z.strictObject({ path: z.string().startsWith("/").default("/metrics"), port: Port.optional() }).optional(),
  automountServiceAccountToken: z.boolean().default(false),
  topologySpread: z.boolean().default(false),
  environments: EnvironmentOverrides,
});
export type Service = z.infer<typeof Service>;

export const OrchestrationRegistry = z.strictObject({
  ...header("Orchestration"),
  teams: z.array(Team).min(1),
  namespaces: z.array(Namespace).min(1),
  services: z.array(Service).min(1),
});
export type OrchestrationRegistry = z.infer<typeof OrchestrationRegistry>;
