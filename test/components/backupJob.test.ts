import { describe, expect, it } from "vitest";
import { BackupJob, type BackupJobArgs } from "../../components/backupJob";
import type { ResolvedService, ResolvedTask } from "../../domain/model";
import { runMocked, type MockRun } from "../../internal/pulumi/mocks";

const TASK: ResolvedTask = {
  name: "db-backup",
  kind: "backup",
  owner: "data",
  runner: "k8s-cronjob",
  schedule: "0 2 * * *",
  timeZone: "Europe/Berlin",
  image: "registry.example.com/tools/pg-backup:1.0.0",
  command: ["pg_dump"],
  target: "db",
  dependsOn: [],
  env: { EXTRA: "1" },
  secrets: [],
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  timeoutSeconds: 1800,
  retries: 1,
  successfulJobsHistory: 2,
  failedJobsHistory: 4,
  enabled: true,
  backup: {
    method: "postgres-dump",
    destination: { prefix: "db/", objectLock: false },
    retention: { days: 14, keepLast: 3 },
    gdpr: { personalData: true, maxRetentionDays: 30 },
  },
  source: "registries/automation.yaml:4",
};

const TCP_PROBE = {
  type: "tcp",
  initialDelaySeconds: 5,
  periodSeconds: 10,
  timeoutSeconds: 2,
  failureThreshold: 3,
} as const;

const DB: ResolvedService = {
  name: "db",
  owner: "data",
  namespace: "data",
  image: "docker.io/library/postgres:16.4",
  port: 5432,
  protocol: "tcp",
  replicas: 1,
  resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  probes: { liveness: TCP_PROBE, readiness: TCP_PROBE },
  dependsOn: [],
  env: { POSTGRES_DB: "orders" },
  secrets: [{ env: "POSTGRES_PASSWORD", configKey: "dbPassword" }],
  stateful: true,
  storage: { size: "10Gi", storageClass: "fast", mountPath: "/var/lib/postgresql/data" },
  personalData: true,
  exposure: "internal",
  userFacing: false,
  automountServiceAccountToken: false,
  topologySpread: false,
  source: "registries/orchestration.yaml:30",
};

const STORAGE = {
  bucketName: "nexus-prod-backups",
  bucketArn: "arn:aws:s3:::nexus-prod-backups",
  kmsKeyArn: "arn:aws:kms:eu-central-1:111122223333:key/k1",
  region: "eu-central-1",
  oidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.example/id/ABC",
  oidcIssuer: "https://oidc.eks.example/id/ABC",
};

function args(overrides: Partial<BackupJobArgs> = {}): BackupJobArgs {
  return {
    context: { environment: "prod", skipAwait: false },
    task: TASK,
    target: DB,
    namespace: "data",
    targetNamespace: "data",
    secretEnv: [{ env: "PGPASSWORD", secretName: "db-secrets", key: "POSTGRES_PASSWORD" }],
    ...overrides,
  };
}

function deploy(a: BackupJobArgs): Promise<MockRun> {
  return runMocked(() => {
    const job = new BackupJob("db-backup", a);
    // roleArn is undefined with AWS off; a stack output cannot be undefined.
    const role = job.roleArn ? { roleArn: job.roleArn } : {};
    return { cronJobName: job.cronJobName, destination: job.destination, ...role };
  });
}

const PARENT = "nexus:backup:BackupJob";
const CRONJOB = "kubernetes:batch/v1:CronJob";

/* eslint-disable @typescript-eslint/no-explicit-any */
function cronJob(run: MockRun): any {
  return run.one(CRONJOB, "db-backup-cronjob").inputs;
}
function pod(run: MockRun): any {
  return cronJob(run).spec.jobTemplate.spec.template;
}

describe("BackupJob with AWS", () => {
  it("creates the role, its policy, account, script and CronJob under the component", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    expect(run.resources.map((r) => [r.type, r.name, r.parentType]).sort()).toEqual(
      [
        [PARENT, "db-backup", ""],
        ["aws:iam/role:Role", "db-backup-role", PARENT],
        ["aws:iam/rolePolicy:RolePolicy", "db-backup-role-policy", PARENT],
        ["kubernetes:core/v1:ServiceAccount", "db-backup-sa", PARENT],
        ["kubernetes:core/v1:ConfigMap", "db-backup-script", PARENT],
        [CRONJOB, "db-backup-cronjob", PARENT],
      ].sort(),
    );
    expect(run.outputs).toEqual({
      cronJobName: "db-backup",
      destination: "s3://nexus-prod-backups/db/",
      roleArn: "arn:aws:mock:::db-backup-role",
    });
  });

  it("lets only its service account assume a role limited to its prefix and the key", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    const role = run.one("aws:iam/role:Role", "db-backup-role").inputs;
    const trust = JSON.parse(role["assumeRolePolicy"] as string);
    expect(trust.Statement[0].Condition.StringEquals).toEqual({
      "oidc.eks.example/id/ABC:sub": "system:serviceaccount:data:db-backup",
      "oidc.eks.example/id/ABC:aud": "sts.amazonaws.com",
    });
    expect(role["tags"]).toMatchObject({
      "nexus.platform/backup-of": "db",
      "nexus.platform/source": "registries/automation.yaml:4",
    });
    const policy = run.one("aws:iam/rolePolicy:RolePolicy", "db-backup-role-policy").inputs;
    expect(policy["role"]).toBe("db-backup-role-id");
    const doc = JSON.parse(policy["policy"] as string);
    expect(doc.Statement.map((s: any) => [s.Action, s.Resource])).toEqual([
      [["s3:PutObject", "s3:GetObject"], ["arn:aws:s3:::nexus-prod-backups/db/*"]],
      [["s3:ListBucket"], ["arn:aws:s3:::nexus-prod-backups"]],
      [["kms:GenerateDataKey", "kms:Decrypt"], [STORAGE.kmsKeyArn]],
    ]);
  });

  it("annotates the service account with the role and mounts no API token", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    const sa = run.one("kubernetes:core/v1:ServiceAccount", "db-backup-sa").inputs as any;
    expect(sa.metadata.name).toBe("db-backup");
    expect(sa.metadata.namespace).toBe("data");
    expect(sa.metadata.annotations["eks.amazonaws.com/role-arn"]).toBe("arn:aws:mock:::db-backup-role");
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(pod(run).spec.automountServiceAccountToken).toBe(false);
    expect(pod(run).spec.serviceAccountName).toBe("db-backup");
  });

  it("schedules a non-overlapping, hardened run of the script to its prefix", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    const cj = cronJob(run);
    expect(cj.metadata).toMatchObject({
      name: "db-backup",
      namespace: "data",
      labels: {
        "nexus.platform/backup-of": "db",
        "app.kubernetes.io/name": "db-backup",
        "app.kubernetes.io/component": "backup",
        "nexus.platform/owner": "data",
        "nexus.platform/environment": "prod",
      },
      annotations: { "nexus.platform/source": "registries/automation.yaml:4" },
    });
    expect(cj.spec).toMatchObject({
      schedule: "0 2 * * *",
      timeZone: "Europe/Berlin",
      concurrencyPolicy: "Forbid",
      suspend: false,
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 2,
      failedJobsHistoryLimit: 4,
      jobTemplate: { spec: { activeDeadlineSeconds: 1800, backoffLimit: 1 } },
    });
    const p = pod(run);
    expect(p.metadata.labels["nexus.platform/backup-of"]).toBe("db");
    expect(p.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const c = p.spec.containers[0];
    expect(c.image).toBe(TASK.image);
    expect(c.command).toEqual(["/bin/sh", "/scripts/backup.sh"]);
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.resources).toEqual(TASK.resources);
    expect(c.volumeMounts).toEqual([
      { name: "tmp", mountPath: "/tmp" },
      { name: "script", mountPath: "/scripts", readOnly: true },
      { name: "backup", mountPath: "/backup" },
    ]);
    expect(p.spec.volumes).toEqual([
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
      { name: "script", configMap: { name: "db-backup-script", defaultMode: 0o444 } },
      { name: "backup", emptyDir: { sizeLimit: "10Gi" } },
    ]);
    expect(c.env).toEqual([
      { name: "HOME", value: "/tmp" },
      { name: "PGUSER", value: "postgres" },
      { name: "PGDATABASE", value: "orders" },
      { name: "EXTRA", value: "1" },
      { name: "BACKUP_DIR", value: "/backup" },
      { name: "BACKUP_PREFIX", value: "db/" },
      { name: "BACKUP_BUCKET", value: "nexus-prod-backups" },
      { name: "AWS_REGION", value: "eu-central-1" },
      { name: "AWS_DEFAULT_REGION", value: "eu-central-1" },
      {
        name: "PGPASSWORD",
        valueFrom: { secretKeyRef: { name: "db-secrets", key: "POSTGRES_PASSWORD" } },
      },
    ]);
  });

  it("ships the generated script in the ConfigMap", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    const cm = run.one("kubernetes:core/v1:ConfigMap", "db-backup-script").inputs as any;
    expect(cm.metadata.name).toBe("db-backup-script");
    expect(cm.data["backup.sh"]).toContain('target="s3://${BACKUP_BUCKET}/${BACKUP_PREFIX}db-backup-${stamp}.sql.gz"');
    expect(cm.data["backup.sh"]).toContain("pg_dump --host=db.data.svc --port=5432");
  });
});

describe("BackupJob without AWS", () => {
  it("creates no AWS resource and keeps backups in a claim of the target's size", async () => {
    const run = await deploy(args());
    expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    expect(run.resources.map((r) => [r.type, r.name, r.parentType]).sort()).toEqual(
      [
        [PARENT, "db-backup", ""],
        ["kubernetes:core/v1:ServiceAccount", "db-backup-sa", PARENT],
        ["kubernetes:core/v1:ConfigMap", "db-backup-script", PARENT],
        ["kubernetes:core/v1:PersistentVolumeClaim", "db-backup-pvc", PARENT],
        [CRONJOB, "db-backup-cronjob", PARENT],
      ].sort(),
    );
    const pvc = run.one("kubernetes:core/v1:PersistentVolumeClaim", "db-backup-pvc").inputs as any;
    expect(pvc.metadata.name).toBe("db-backup-backups");
    expect(pvc.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
    expect(pvc.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "10Gi" } },
      storageClassName: "fast",
    });
    const sa = run.one("kubernetes:core/v1:ServiceAccount", "db-backup-sa").inputs as any;
    expect(sa.metadata.annotations["eks.amazonaws.com/role-arn"]).toBeUndefined();
    const p = pod(run);
    expect(p.spec.volumes[2]).toEqual({
      name: "backup",
      persistentVolumeClaim: { claimName: "db-backup-backups" },
    });
    const names = p.spec.containers[0].env.map((e: { name: string }) => e.name);
    expect(names).not.toContain("BACKUP_BUCKET");
    expect(names).not.toContain("AWS_REGION");
    expect(run.outputs).toEqual({
      cronJobName: "db-backup",
      destination: "pvc://data/db-backup-backups",
    });
    const cm = run.one("kubernetes:core/v1:ConfigMap", "db-backup-script").inputs as any;
    expect(cm.data["backup.sh"]).not.toContain("aws s3");
  });

  it("suspends a disabled task", async () => {
    const run = await deploy(args({ task: { ...TASK, enabled: false } }));
    expect(cronJob(run).spec.suspend).toBe(true);
  });

  it("uses a small fixed default when the task declares no resources", async () => {
    const { resources: _, ...noResources } = TASK;
    const run = await deploy(args({ task: noResources }));
    expect(pod(run).spec.containers[0].resources).toEqual({
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
  });

  it("mounts the target's claim read-only for a volume archive, and needs it", async () => {
    const archive: ResolvedTask = {
      ...TASK,
      backup: { ...TASK.backup!, method: "volume-archive" },
    };
    // Checked before anything is registered: no Pulumi runtime is needed to see the refusal.
    expect(() => new BackupJob("db-backup", args({ task: archive }))).toThrow(/needs a source claim/);
    const run = await deploy(args({ task: archive, sourceClaimName: "data-db-0" }));
    const p = pod(run);
    expect(p.spec.volumes[3]).toEqual({
      name: "source",
      persistentVolumeClaim: { claimName: "data-db-0", readOnly: true },
    });
    expect(p.spec.containers[0].volumeMounts[3]).toEqual({
      name: "source",
      mountPath: "/data",
      readOnly: true,
    });
  });

  it("refuses a task that is not a backup, or a name too long for a CronJob", () => {
    expect(() => new BackupJob("x", args({ task: { ...TASK, kind: "report", backup: undefined } }))).toThrow(/not a backup task/);
    expect(() => new BackupJob("b".repeat(53), args())).toThrow(/longer than 52/);
  });
});
