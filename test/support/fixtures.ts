/**
 * Builders of model entries for the component and stack tests. Each returns a complete, valid
 * entry with plain defaults; a test overrides only the fields it is about, so what it sets is
 * what it tests.
 */
import type { PlatformContext } from "../../components/context";
import type { ResolvedAlert, ResolvedService, ResolvedTask } from "../../domain/model";

/** The stack a component under test is deployed into. */
export function context(environment = "prod", skipAwait = false): PlatformContext {
  return { environment, skipAwait };
}

export const TCP_PROBE = { type: "tcp", initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 } as const;

/** A stateless internal HTTP service, "api" unless named; its image follows its name. */
export function service(overrides: Partial<ResolvedService> = {}): ResolvedService {
  const name = overrides.name ?? "api";
  return {
    name,
    owner: "platform",
    namespace: "core",
    image: `ghcr.io/example/${name}:1.0.0`,
    port: 8000,
    protocol: "http",
    replicas: 1,
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
    probes: { liveness: TCP_PROBE, readiness: TCP_PROBE },
    dependsOn: [],
    env: {},
    secrets: [],
    stateful: false,
    writablePaths: [],
    personalData: false,
    exposure: "internal",
    userFacing: false,
    automountServiceAccountToken: false,
    topologySpread: false,
    source: "registries/orchestration.yaml:10",
    ...overrides,
  };
}

/** The postgres database "db" in namespace "data": stateful, with personal data and a password. */
export function database(overrides: Partial<ResolvedService> = {}): ResolvedService {
  return service({
    name: "db",
    owner: "data",
    namespace: "data",
    image: "docker.io/library/postgres:16.4",
    port: 5432,
    protocol: "tcp",
    secrets: [{ env: "POSTGRES_PASSWORD", configKey: "dbPassword" }],
    stateful: true,
    storage: { size: "10Gi", storageClass: "fast", mountPath: "/var/lib/postgresql/data" },
    personalData: true,
    source: "registries/orchestration.yaml:30",
    ...overrides,
  });
}

/** A weekly security audit in the cluster, without secrets: any task but a backup. */
export function task(overrides: Partial<ResolvedTask> = {}): ResolvedTask {
  return {
    name: "audit",
    kind: "security-audit",
    owner: "platform",
    runner: "k8s-cronjob",
    schedule: "30 3 * * 1",
    image: "ghcr.io/example/auditor:2.0.1",
    command: ["audit", "--all"],
    dependsOn: [],
    env: {},
    secrets: [],
    timeoutSeconds: 900,
    retries: 0,
    successfulJobsHistory: 1,
    failedJobsHistory: 5,
    enabled: true,
    source: "registries/automation.yaml:20",
    ...overrides,
  };
}

/** The nightly postgres dump of database() under "db/", kept 14 days, personal data 30 at most. */
export function backupTask(overrides: Partial<ResolvedTask> = {}): ResolvedTask {
  return task({
    name: "db-backup",
    kind: "backup",
    owner: "data",
    schedule: "0 2 * * *",
    image: "registry.example.com/tools/pg-backup:1.0.0",
    // A backup runs the generated script: the loader refuses a command of its own.
    command: undefined,
    target: "db",
    timeoutSeconds: 1800,
    retries: 1,
    successfulJobsHistory: 2,
    backup: {
      method: "postgres-dump",
      destination: { prefix: "db/", objectLock: false },
      retention: { days: 14, keepLast: 3 },
      gdpr: { personalData: true, maxRetentionDays: 30 },
    },
    source: "registries/automation.yaml:4",
    ...overrides,
  });
}

/** A backup task writing under `prefix`, kept `days` days, capped by a GDPR maximum when given. */
export function retainedBackup(name: string, prefix: string, days: number, maxRetentionDays?: number): ResolvedTask {
  return backupTask({
    name,
    backup: {
      method: "postgres-dump",
      destination: { prefix, objectLock: false },
      retention: { days, keepLast: 3 },
      ...(maxRetentionDays !== undefined ? { gdpr: { personalData: false, maxRetentionDays } } : {}),
    },
  });
}

/** The critical alert "api-down" on service api, with no runbook and no channels of its own. */
export function alert(overrides: Partial<ResolvedAlert> = {}): ResolvedAlert {
  return {
    name: "api-down",
    expr: 'up{job="api"} == 0',
    for: "2m",
    severity: "critical",
    service: "api",
    summary: "The API is down",
    enabled: true,
    source: "registries/monitoring.yaml:35",
    ...overrides,
  };
}
