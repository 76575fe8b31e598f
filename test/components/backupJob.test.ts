import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { BackupJob, ROLE_ARN_ANNOTATION, type BackupJobArgs, type BackupStorageRef, type BackupStoreRef } from "../../components/backupJob";
import { networkEdges } from "../../components/builders/network";
import { restrictedContainerSecurityContext } from "../../components/builders/pod";
import { AWS, K8S } from "../../contract/types";
import { runMocked, type MockRun } from "../../internal/pulumi/mocks";
import { taskCronJobSpec } from "../support/expectations";
import { backupTask, context, database } from "../support/fixtures";
import { expectComponentTree, kubeInputs } from "../support/inputs";
import { expectNoPlaintextSecret, secretValues } from "../support/secrets";

const PARENT = "nexus:backup:BackupJob";
const RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } };
const TASK = backupTask({ timeZone: "Europe/Berlin", env: { EXTRA: "1" }, resources: RESOURCES });
const DB = database({ env: { POSTGRES_DB: "orders" } });
/** The platform's graph of these two: the backup task's `target` is its one edge, to db:5432. */
const EDGES = networkEdges({ services: [DB], tasks: [{ name: TASK.name, namespace: DB.namespace, target: TASK.target, dependsOn: [] }] });

const STORAGE: BackupStorageRef = {
  bucketName: "nexus-prod-backups",
  bucketArn: "arn:aws:s3:::nexus-prod-backups",
  kmsKeyArn: "arn:aws:kms:eu-central-1:111122223333:key/k1",
  region: "eu-central-1",
  oidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.example/id/ABC",
  oidcIssuer: "https://oidc.eks.example/id/ABC",
};

function args(overrides: Partial<BackupJobArgs> = {}): BackupJobArgs {
  return {
    context: context(),
    task: TASK,
    target: DB,
    edges: EDGES,
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

const cronJob = (run: MockRun) => kubeInputs(run, K8S.CronJob, "db-backup-cronjob");
const pod = (run: MockRun) => cronJob(run).spec.jobTemplate.spec.template;
const script = (run: MockRun) => kubeInputs(run, K8S.ConfigMap, "db-backup-script").data["backup.sh"];

describe("BackupJob with AWS", () => {
  it("creates the role, its policy, account, script and CronJob under the component", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    expectComponentTree(run, PARENT, "db-backup", {
      [AWS.iamRole]: ["db-backup-role"],
      [AWS.iamPolicies[0]]: ["db-backup-role-policy"],
      [K8S.ServiceAccount]: ["db-backup-sa"],
      [K8S.ConfigMap]: ["db-backup-script"],
      [K8S.NetworkPolicy]: ["db-backup-netpol"],
      [K8S.CronJob]: ["db-backup-cronjob"],
    });
    expect(run.outputs).toEqual({
      cronJobName: "db-backup",
      destination: "s3://nexus-prod-backups/db/",
      roleArn: "arn:aws:mock:::db-backup-role",
    });
  });

  it("lets only its service account assume a role limited to its prefix and the key", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    const role = run.one(AWS.iamRole, "db-backup-role").inputs;
    const trust = JSON.parse(role["assumeRolePolicy"] as string);
    expect(trust.Statement[0].Condition.StringEquals).toEqual({
      "oidc.eks.example/id/ABC:sub": "system:serviceaccount:data:db-backup",
      "oidc.eks.example/id/ABC:aud": "sts.amazonaws.com",
    });
    expect(role["tags"]).toMatchObject({
      "nexus.platform/backup-of": "db",
      "nexus.platform/source": TASK.source,
    });
    const policy = run.one(AWS.iamPolicies[0], "db-backup-role-policy").inputs;
    expect(policy["role"]).toBe("db-backup-role-id");
    const doc = JSON.parse(policy["policy"] as string);
    expect(doc.Statement.map((s: { Action: string[]; Resource: string[] }) => [s.Action, s.Resource])).toEqual([
      [["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], ["arn:aws:s3:::nexus-prod-backups/db/*"]],
      [["s3:ListBucket"], ["arn:aws:s3:::nexus-prod-backups"]],
      [["kms:GenerateDataKey", "kms:Decrypt"], [STORAGE.kmsKeyArn]],
    ]);
  });

  it("annotates the service account with the role and mounts no API token", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    const sa = kubeInputs(run, K8S.ServiceAccount, "db-backup-sa");
    expect(sa.metadata).toMatchObject({ name: "db-backup", namespace: DB.namespace });
    expect(sa.metadata.annotations[ROLE_ARN_ANNOTATION]).toBe("arn:aws:mock:::db-backup-role");
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(pod(run).spec.automountServiceAccountToken).toBe(false);
    expect(pod(run).spec.serviceAccountName).toBe("db-backup");
  });

  it("schedules a non-overlapping, hardened run of the script to its prefix", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    const cj = cronJob(run);
    expect(cj.metadata).toMatchObject({
      name: "db-backup",
      namespace: DB.namespace,
      labels: {
        "nexus.platform/backup-of": "db",
        "app.kubernetes.io/name": "db-backup",
        "app.kubernetes.io/component": "backup",
        "nexus.platform/owner": TASK.owner,
        "nexus.platform/environment": "prod",
      },
      annotations: { "nexus.platform/source": TASK.source },
    });
    expect(cj.spec).toMatchObject({ ...taskCronJobSpec(TASK), timeZone: "Europe/Berlin", startingDeadlineSeconds: 300 });
    const p = pod(run);
    expect(p.metadata.labels["nexus.platform/backup-of"]).toBe("db");
    expect(p.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    const c = p.spec.containers[0]!;
    expect(c.image).toBe(TASK.image);
    expect(c.command).toEqual(["/bin/sh", "/scripts/backup.sh"]);
    expect(c.securityContext).toEqual(restrictedContainerSecurityContext());
    expect(c.resources).toEqual(RESOURCES);
    expect(c.volumeMounts).toEqual([
      { name: "tmp", mountPath: "/tmp" },
      { name: "script", mountPath: "/scripts", readOnly: true },
      { name: "backup", mountPath: "/backup" },
    ]);
    expect(p.spec.volumes).toEqual([
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
      { name: "script", configMap: { name: "db-backup-script", defaultMode: 0o444 } },
      { name: "backup", emptyDir: { sizeLimit: DB.storage!.size } },
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
      // The upload asks for the backup key explicitly.
      { name: "BACKUP_KMS_KEY_ID", value: STORAGE.kmsKeyArn },
      { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "db-secrets", key: "POSTGRES_PASSWORD" } } },
    ]);
  });

  it("ships the generated script in the ConfigMap, dumping the target by its service name", async () => {
    const run = await deploy(args({ storage: STORAGE }));
    expect(script(run)).toContain('target="s3://${BACKUP_BUCKET}/${BACKUP_PREFIX}db-backup-${stamp}.sql.gz"');
    expect(script(run)).toContain("pg_dump --host=db.data.svc --port=5432");
  });
});

const STORE: BackupStoreRef = {
  endpoint: "http://10.244.0.1:9000",
  bucket: "nexus-dev-backups",
  region: "us-east-1",
  accessKeyId: pulumi.secret("s3cr3t-key-id"),
  secretAccessKey: pulumi.secret("s3cr3t-access-key"),
};

describe("BackupJob with an S3-compatible store", () => {
  it("uploads by the same script as AWS, with the store's endpoint, credentials from a Secret and egress to it", async () => {
    const run = await deploy(args({ store: STORE }));
    expectComponentTree(run, PARENT, "db-backup", {
      [K8S.ServiceAccount]: ["db-backup-sa"],
      [K8S.Secret]: ["db-backup-store"],
      [K8S.ConfigMap]: ["db-backup-script"],
      [K8S.NetworkPolicy]: ["db-backup-netpol", "db-backup-store-netpol"],
      [K8S.CronJob]: ["db-backup-cronjob"],
    });
    expect(run.outputs).toEqual({ cronJobName: "db-backup", destination: "s3://nexus-dev-backups/db/ (http://10.244.0.1:9000)" });
    expect(script(run)).toBe(script(await deploy(args({ storage: STORAGE }))));
    const secret = run.one(K8S.Secret, "db-backup-store").inputs;
    expect(secret["metadata"]).toMatchObject({ name: "db-backup-store", namespace: "data" });
    // The credentials are in the Secret, as secret values only, and nowhere else.
    expect(secretValues(secret)).toEqual([{ AWS_ACCESS_KEY_ID: "s3cr3t-key-id", AWS_SECRET_ACCESS_KEY: "s3cr3t-access-key" }]);
    expectNoPlaintextSecret(run);
    const env = pod(run).spec.containers[0]!.env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: "BACKUP_BUCKET", value: "nexus-dev-backups" },
        { name: "BACKUP_ENDPOINT", value: "http://10.244.0.1:9000" },
        { name: "AWS_REGION", value: "us-east-1" },
        { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: "db-backup-store", key: "AWS_ACCESS_KEY_ID" } } },
        { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "db-backup-store", key: "AWS_SECRET_ACCESS_KEY" } } },
      ]),
    );
    expect(env.map((e) => e.name)).not.toContain("BACKUP_KMS_KEY_ID");
    expect(pod(run).spec.volumes[2]).toEqual({ name: "backup", emptyDir: { sizeLimit: DB.storage!.size } });
    const np = kubeInputs(run, K8S.NetworkPolicy, "db-backup-store-netpol");
    expect(np.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "db-backup", "app.kubernetes.io/part-of": "nexus-platform" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "10.244.0.1/32" } }], ports: [{ protocol: "TCP", port: 9000 }] }],
    });
    expect(pod(run).metadata.labels).toMatchObject(np.spec.podSelector.matchLabels!);
    expect(run.byType(AWS.iamRole)).toEqual([]);
  });

  it("refuses an AWS bucket and a store together", () => {
    expect(() => new BackupJob("db-backup", args({ storage: STORAGE, store: STORE }))).toThrow(/both an AWS bucket and a backup store/);
  });
});

describe("BackupJob without AWS", () => {
  it("creates no AWS resource and keeps backups in a claim of the target's size", async () => {
    const run = await deploy(args());
    expectComponentTree(run, PARENT, "db-backup", {
      [K8S.ServiceAccount]: ["db-backup-sa"],
      [K8S.ConfigMap]: ["db-backup-script"],
      [K8S.PersistentVolumeClaim]: ["db-backup-pvc"],
      [K8S.NetworkPolicy]: ["db-backup-netpol"],
      [K8S.CronJob]: ["db-backup-cronjob"],
    });
    const pvc = kubeInputs(run, K8S.PersistentVolumeClaim, "db-backup-pvc");
    expect(pvc.metadata.name).toBe("db-backup-backups");
    expect(pvc.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
    expect(pvc.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: DB.storage!.size } },
      storageClassName: DB.storage!.storageClass,
    });
    expect(kubeInputs(run, K8S.ServiceAccount, "db-backup-sa").metadata.annotations[ROLE_ARN_ANNOTATION]).toBeUndefined();
    const p = pod(run);
    expect(p.spec.volumes[2]).toEqual({ name: "backup", persistentVolumeClaim: { claimName: "db-backup-backups" } });
    const names = p.spec.containers[0]!.env.map((e) => e.name);
    expect(names).not.toContain("BACKUP_BUCKET");
    expect(names).not.toContain("AWS_REGION");
    expect(run.outputs).toEqual({ cronJobName: "db-backup", destination: "pvc://data/db-backup-backups" });
    expect(script(run)).not.toContain("aws s3");
  });

  it("suspends a disabled task", async () => {
    const run = await deploy(args({ task: { ...TASK, enabled: false } }));
    expect(cronJob(run).spec.suspend).toBe(true);
  });

  it("uses a small fixed default when the task declares no resources", async () => {
    const run = await deploy(args({ task: { ...TASK, resources: undefined } }));
    expect(pod(run).spec.containers[0]!.resources).toEqual({
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
  });

  it("mounts the target's claim read-only for a volume archive, and needs it", async () => {
    const archive = backupTask({ backup: { ...TASK.backup!, method: "volume-archive" } });
    // Checked before anything is registered: no Pulumi runtime is needed to see the refusal.
    expect(() => new BackupJob("db-backup", args({ task: archive }))).toThrow(/needs a source claim/);
    const run = await deploy(args({ task: archive, sourceClaimName: "data-db-0" }));
    const p = pod(run);
    expect(p.spec.volumes[3]).toEqual({ name: "source", persistentVolumeClaim: { claimName: "data-db-0", readOnly: true } });
    expect(p.spec.containers[0]!.volumeMounts[3]).toEqual({ name: "source", mountPath: "/data", readOnly: true });
  });

  it("refuses a task that is not a backup, of another target, or a name too long for a CronJob", () => {
    expect(() => new BackupJob("x", args({ task: { ...TASK, kind: "report", backup: undefined } }))).toThrow(/not a backup task/);
    expect(() => new BackupJob("x", args({ target: database({ name: "other-db" }) }))).toThrow(/targets "db", not "other-db"/);
    expect(() => new BackupJob("b".repeat(53), args())).toThrow(/longer than 52/);
  });
});

describe("BackupJob network", () => {
  it("lets its pods reach the target it dumps, on the target's port", async () => {
    const run = await deploy(args());
    const np = kubeInputs(run, K8S.NetworkPolicy, "db-backup-netpol");
    expect(np.metadata).toMatchObject({ name: "db-backup-allow", namespace: "data", labels: { "nexus.platform/backup-of": "db" } });
    expect(np.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "db-backup", "app.kubernetes.io/part-of": "nexus-platform" } },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "data" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "db", "app.kubernetes.io/part-of": "nexus-platform" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
    });
    expect(pod(run).metadata.labels).toMatchObject(np.spec.podSelector.matchLabels!);
  });

  it("refuses a dump without a path to its target in the graph, and gives an archive without edges no policy", async () => {
    expect(() => new BackupJob("db-backup", args({ edges: [] }))).toThrow(/has no network path to its target db\.data\.svc\.cluster\.local:5432/);
    const other = networkEdges({ services: [DB], tasks: [{ name: "other-backup", namespace: "data", target: "db", dependsOn: [] }] });
    expect(() => new BackupJob("db-backup", args({ edges: other }))).toThrow(/has no network path/);
    const archive = backupTask({ backup: { ...TASK.backup!, method: "volume-archive" } });
    const run = await deploy(args({ task: archive, sourceClaimName: "data-db-0", edges: [] }));
    expect(run.byType(K8S.NetworkPolicy)).toEqual([]);
  });

  it("refuses a task that names a namespace other than its target's", () => {
    expect(() => new BackupJob("db-backup", args({ task: { ...TASK, namespace: "ops" } }))).toThrow(/runs in its target's namespace "data", not "ops"/);
  });
});
