import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { SecurityBaseline } from "../../components/securityBaseline";
import { ServiceDeployment } from "../../components/serviceDeployment";
import type { Model, ResolvedService, ResolvedTask } from "../../domain/model";
import { BACKUP_STORAGE, BASELINE, MONITORING, backupSecretRefs, buildPlatform, startOrder, taskNamespace } from "../../stacks/platform";
import type { StackSettings } from "../../stacks/settings";
import { SECRET_SIG, runMocked, type MockRun, type Recorded } from "../../internal/pulumi/mocks";
import { ROOT } from "../support/registries";
import { DEV_SETTINGS, PROD_SETTINGS, fakeSecrets, realModel } from "./support";

const SOURCE = /^registries\/[a-z]+\.yaml:\d+$/;
const T = {
  serviceDeployment: "nexus:workloads:ServiceDeployment",
  backupJob: "nexus:backup:BackupJob",
  backupStorage: "nexus:backup:BackupStorage",
  automationTask: "nexus:automation:AutomationTask",
  baseline: "nexus:security:SecurityBaseline",
  monitoring: "nexus:monitoring:MonitoringStack",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  cronJob: "kubernetes:batch/v1:CronJob",
  job: "kubernetes:batch/v1:Job",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  pvc: "kubernetes:core/v1:PersistentVolumeClaim",
  bucket: "aws:s3/bucket:Bucket",
  key: "aws:kms/key:Key",
  role: "aws:iam/role:Role",
} as const;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

interface Platform {
  env: string;
  model: Model;
  settings: StackSettings;
  run: MockRun;
  /** ServiceDeployments in construction order, with the names of what each depends on. */
  constructed: { name: string; dependsOn: string[] }[];
}

async function platform(env: "dev" | "prod", settings: StackSettings): Promise<Platform> {
  const model = realModel(env);
  const constructed: Platform["constructed"] = [];
  const run = await runMocked(
    () => {
      pulumi.runtime.registerStackTransformation((a) => {
        if (a.type === T.serviceDeployment) {
          const deps = (a.opts.dependsOn ?? []) as pulumi.Resource[];
          constructed.push({
            name: a.name,
            dependsOn: deps.map((d) => (d instanceof ServiceDeployment ? d.address.split(".")[0]! : d instanceof SecurityBaseline ? BASELINE : "?")),
          });
        }
        return undefined;
      });
      return buildPlatform(model, settings, fakeSecrets(model)) as unknown as Record<string, unknown>;
    },
    { stack: env },
  );
  return { env, model, settings, run, constructed };
}

const inputs = (r: Recorded): Json => r.inputs as Json;
const names = (run: MockRun, type: string) =>
  run
    .byType(type)
    .map((r) => r.name)
    .sort();
const minReplicas = (s: ResolvedService) => s.autoscaling?.minReplicas ?? s.replicas;
const backupTasks = (m: Model) => m.tasks.filter((t) => t.kind === "backup");

/** The pod template of a workload that has one. */
function podTemplate(r: Recorded): Json | undefined {
  const spec = inputs(r).spec;
  if (r.type === T.deployment || r.type === T.statefulSet || r.type === T.job) return spec.template;
  if (r.type === T.cronJob) return spec.jobTemplate.spec.template;
  return undefined;
}

/** Every string (keys too) of a value, skipping the insides of secret values. */
function plainStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (value !== null && typeof value === "object") {
    if (SECRET_SIG in value) return [];
    return Object.entries(value).flatMap(([k, v]) => [k, ...plainStrings(v)]);
  }
  return [];
}

/** The insides of every secret value. */
function secretValues(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(secretValues);
  if (value !== null && typeof value === "object") {
    if (SECRET_SIG in value) return [(value as Json).value];
    return Object.values(value).flatMap(secretValues);
  }
  return [];
}

/** Whether the AWS resource type takes `tags`, read from the provider SDK's own declarations. */
function awsSupportsTags(type: string): boolean {
  const [, module, resource] = /^aws:([a-zA-Z0-9]+)\/([a-zA-Z0-9]+):([A-Za-z0-9]+)$/.exec(type)!;
  const className = type.split(":")[2]!;
  const dts = fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "aws", module!, `${resource}.d.ts`), "utf8");
  const start = dts.indexOf(`export interface ${className}Args {`);
  if (start < 0) throw new Error(`no ${className}Args in the AWS SDK`);
  const body = dts.slice(start, dts.indexOf("\n}", start));
  return /\n\s+tags\?:/.test(body);
}

/** The paths the registries declare, written as the stack exports them, derived here independently. */
function expectedPaths(m: Model): string[] {
  const svc = new Map(m.services.map((s) => [s.name, s]));
  const to = (s: ResolvedService, port = s.port) => `${s.namespace}/${s.name}:${port}`;
  const paths: string[] = [];
  for (const s of m.services) {
    for (const d of s.dependsOn) {
      const t = svc.get(d);
      if (t) paths.push(`${s.namespace}/${s.name} -> ${to(t)} (${s.name} dependsOn ${t.name})`);
    }
  }
  for (const t of m.tasks.filter((x) => x.runner !== "local-command")) {
    const ns = t.namespace ?? svc.get(t.target!)!.namespace;
    if (t.target && svc.has(t.target)) paths.push(`${ns}/${t.name} -> ${to(svc.get(t.target)!)} (task ${t.name} targets ${t.target})`);
    for (const d of t.dependsOn.filter((x) => x !== t.target && svc.has(x))) {
      paths.push(`${ns}/${t.name} -> ${to(svc.get(d)!)} (task ${t.name} dependsOn ${d})`);
    }
  }
  const mon = m.monitoring.stack.namespace;
  for (const s of m.services) {
    if (s.metrics) paths.push(`${mon}/* -> ${to(s, s.metrics.port ?? s.port)} (prometheus scrapes ${s.name})`);
  }
  return paths;
}

let dev: Platform;
let prod: Platform;
beforeAll(async () => {
  dev = await platform("dev", DEV_SETTINGS);
  prod = await platform("prod", PROD_SETTINGS);
});

describe.each([
  ["dev", () => dev],
  ["prod", () => prod],
] as const)("the %s platform", (env, get) => {
  it("labels, owns and traces every Kubernetes resource and its pod template", () => {
    const { run, model } = get();
    const teams = new Set(model.teams.map((t) => t.name));
    const k8s = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(k8s.length).toBeGreaterThan(100);
    let templates = 0;
    for (const r of k8s) {
      const objects = [inputs(r).metadata, podTemplate(r)?.metadata].filter((x) => x !== undefined);
      if (objects.length === 2) templates++;
      for (const meta of objects) {
        const where = `${r.type} ${r.name}`;
        expect(typeof meta.labels["app.kubernetes.io/name"], where).toBe("string");
        expect(meta.labels["app.kubernetes.io/name"], where).not.toBe("");
        expect(meta.labels["app.kubernetes.io/managed-by"], where).toBe("pulumi");
        expect(teams.has(meta.labels["nexus.platform/owner"]), `${where}: owner ${meta.labels["nexus.platform/owner"]}`).toBe(true);
        expect(meta.labels["nexus.platform/environment"], where).toBe(env);
        expect(meta.annotations?.["nexus.platform/source"], where).toMatch(SOURCE);
      }
    }
    expect(templates).toBe(run.byType(T.deployment).length + run.byType(T.statefulSet).length + run.byType(T.cronJob).length + run.byType(T.job).length);
  });

  it("tags every AWS resource that takes tags like its Kubernetes resources", () => {
    const { run, model } = get();
    const teams = new Set(model.teams.map((t) => t.name));
    for (const r of run.resources.filter((x) => x.type.startsWith("aws:"))) {
      if (!awsSupportsTags(r.type)) {
        expect(inputs(r).tags, r.name).toBeUndefined();
        continue;
      }
      const tags = inputs(r).tags;
      expect(typeof tags["app.kubernetes.io/name"], r.name).toBe("string");
      expect(tags["app.kubernetes.io/managed-by"], r.name).toBe("pulumi");
      expect(teams.has(tags["nexus.platform/owner"]), r.name).toBe(true);
      expect(tags["nexus.platform/environment"], r.name).toBe(env);
      expect(tags["nexus.platform/source"], r.name).toMatch(SOURCE);
    }
  });

  it("never shows a secret value outside a secret", () => {
    const { run } = get();
    for (const r of run.resources) {
      for (const s of plainStrings(r.inputs)) expect(s, `${r.type} ${r.name}`).not.toContain("s3cr3t");
    }
    expect(JSON.stringify(run.outputs)).not.toContain("s3cr3t");
    // The fake secrets do reach the cluster, inside secret values.
    const wrapped = run.resources.flatMap((r) => secretValues(r.inputs)).map((v) => JSON.stringify(v));
    expect(wrapped.filter((v) => v.includes("s3cr3t-postgresPassword")).length).toBeGreaterThan(0);
  });

  it("asks Pulumi not to await exactly in dev", () => {
    const { run } = get();
    for (const r of run.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
      const a = inputs(r).metadata.annotations;
      if (env === "dev") {
        expect(a["pulumi.com/skipAwait"], r.name).toBe("true");
        expect(a["pulumi.com/deletionPropagationPolicy"], r.name).toBe("background");
      } else {
        expect(a["pulumi.com/skipAwait"], r.name).toBeUndefined();
        expect(a["pulumi.com/deletionPropagationPolicy"], r.name).toBeUndefined();
      }
    }
  });

  it("builds one component per service and task, under the stack", () => {
    const { run, model } = get();
    expect(names(run, T.serviceDeployment)).toEqual(model.services.map((s) => s.name).sort());
    expect(names(run, T.backupJob)).toEqual(
      backupTasks(model)
        .map((t) => t.name)
        .sort(),
    );
    expect(names(run, T.automationTask)).toEqual(
      model.tasks
        .filter((t) => t.kind !== "backup")
        .map((t) => t.name)
        .sort(),
    );
    expect(names(run, T.baseline)).toEqual([BASELINE]);
    expect(names(run, T.monitoring)).toEqual([MONITORING]);
    for (const type of [T.serviceDeployment, T.backupJob, T.automationTask, T.baseline, T.monitoring, T.backupStorage]) {
      for (const r of run.byType(type)) expect(r.parentType, r.name).toBe("");
    }
    expect(Object.keys((run.outputs as Json).services).sort()).toEqual(model.services.map((s) => s.name).sort());
    expect(Object.keys((run.outputs as Json).tasks).sort()).toEqual(model.tasks.map((t) => t.name).sort());
    expect((run.outputs as Json).environment).toBe(env);
  });

  it("deploys services after what they depend on, in startOrder", () => {
    const { run, model, constructed } = get();
    const order = startOrder(model.services).map((s) => s.name);
    expect(constructed.map((c) => c.name)).toEqual(order);
    for (const c of constructed) {
      const s = model.services.find((x) => x.name === c.name)!;
      expect(c.dependsOn, c.name).toEqual([BASELINE, ...s.dependsOn]);
    }
    // The engine sees the same order: a component registers only once its dependencies have.
    const registered = run.byType(T.serviceDeployment).map((r) => r.name);
    for (const s of model.services) {
      for (const d of s.dependsOn) expect(registered.indexOf(d), `${d} before ${s.name}`).toBeLessThan(registered.indexOf(s.name));
    }
  });

  it("exports exactly the paths of the dependency graph", () => {
    const { run, model } = get();
    const paths = (run.outputs as Json).networkPaths as string[];
    expect([...paths].sort()).toEqual(expectedPaths(model).sort());
    expect(new Set(paths).size).toBe(paths.length);
    const declared = model.services.reduce((n, s) => n + s.dependsOn.length, 0);
    expect(paths.filter((p) => / \((?!task |prometheus )\S+ dependsOn \S+\)$/.test(p))).toHaveLength(declared);
    expect(paths.filter((p) => p.includes("(prometheus scrapes "))).toHaveLength(model.services.filter((s) => s.metrics).length);
  });

  it("gives disruption budgets exactly to services with more than one replica at minimum", () => {
    const { run, model } = get();
    expect(names(run, T.pdb)).toEqual(
      model.services
        .filter((s) => minReplicas(s) > 1)
        .map((s) => `${s.name}-pdb`)
        .sort(),
    );
    expect(names(run, T.hpa)).toEqual(
      model.services
        .filter((s) => s.autoscaling)
        .map((s) => `${s.name}-hpa`)
        .sort(),
    );
  });

  it("sets each workload's replicas and topology spread from the model", () => {
    const { run, model } = get();
    for (const s of model.services) {
      const kind = s.stateful && s.storage ? T.statefulSet : T.deployment;
      const w = inputs(run.one(kind, `${s.name}-${kind === T.statefulSet ? "statefulset" : "deployment"}`));
      if (s.autoscaling) {
        expect("replicas" in w.spec, s.name).toBe(false);
        expect(inputs(run.one(T.hpa, `${s.name}-hpa`)).spec.minReplicas, s.name).toBe(s.autoscaling.minReplicas);
        expect(inputs(run.one(T.hpa, `${s.name}-hpa`)).spec.maxReplicas, s.name).toBe(s.autoscaling.maxReplicas);
      } else {
        expect(w.spec.replicas, s.name).toBe(s.replicas);
      }
      expect(w.spec.template.spec.topologySpreadConstraints?.length ?? 0, s.name).toBe(s.topologySpread ? 2 : 0);
    }
  });
});

describe("dev and prod differ as the registries say", () => {
  it("keeps dev off AWS with backups on claims, and puts prod backups in an encrypted bucket", () => {
    expect(dev.run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    expect(dev.run.byType(T.backupStorage)).toEqual([]);
    expect(names(dev.run, T.pvc)).toEqual(
      backupTasks(dev.model)
        .map((t) => `${t.name}-pvc`)
        .sort(),
    );
    expect((dev.run.outputs as Json).backups).toEqual(
      Object.fromEntries(backupTasks(dev.model).map((t) => [t.name, `pvc://${taskNamespace(t, dev.model.services)}/${t.name}-backups`])),
    );

    const aws = PROD_SETTINGS.aws as Extract<StackSettings["aws"], { enabled: true }>;
    expect(names(prod.run, T.backupStorage)).toEqual([BACKUP_STORAGE]);
    expect(prod.run.byType(T.pvc)).toEqual([]);
    expect(prod.run.byType(T.bucket).map((r) => [r.name, r.parentType, inputs(r).bucket])).toEqual([
      [`${BACKUP_STORAGE}-bucket`, T.backupStorage, aws.backupBucket],
    ]);
    expect(prod.run.byType(T.key).map((r) => [r.name, r.parentType, inputs(r).enableKeyRotation])).toEqual([[`${BACKUP_STORAGE}-key`, T.backupStorage, true]]);
    expect(
      prod.run
        .byType(T.role)
        .map((r) => [r.name, r.parentType])
        .sort(),
    ).toEqual(
      backupTasks(prod.model)
        .map((t) => [`${t.name}-role`, T.backupJob])
        .sort(),
    );
    expect((prod.run.outputs as Json).backups).toEqual(
      Object.fromEntries(backupTasks(prod.model).map((t) => [t.name, `s3://${aws.backupBucket}/${t.backup!.destination.prefix}`])),
    );
  });

  it("runs more replicas with spread and disruption budgets for user-facing services in prod", () => {
    const byName = (m: Model) => new Map(m.services.map((s) => [s.name, s]));
    const d = byName(dev.model);
    const p = byName(prod.model);
    for (const [name, s] of p) expect(minReplicas(s), name).toBeGreaterThanOrEqual(minReplicas(d.get(name)!));
    const total = (m: Model) => m.services.reduce((n, s) => n + minReplicas(s), 0);
    expect(total(prod.model)).toBeGreaterThan(total(dev.model));

    const userFacing = prod.model.services.filter((s) => s.userFacing).map((s) => `${s.name}-pdb`);
    expect(userFacing.length).toBeGreaterThan(0);
    for (const pdb of userFacing) expect(names(prod.run, T.pdb)).toContain(pdb);
    expect(dev.run.byType(T.pdb)).toEqual([]);

    const spread = (run: MockRun) =>
      [...run.byType(T.deployment), ...run.byType(T.statefulSet)]
        .filter((r) => inputs(r).spec.template.spec.topologySpreadConstraints !== undefined)
        .map((r) => inputs(r).metadata.name)
        .sort();
    expect(spread(dev.run)).toEqual([]);
    expect(spread(prod.run)).toEqual(
      prod.model.services
        .filter((s) => s.topologySpread)
        .map((s) => s.name)
        .sort(),
    );
    expect(spread(prod.run).length).toBeGreaterThan(0);
  });
});

// --- helpers of the composition, directly -------------------------------------------------------

const PROBE = { type: "tcp", initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 } as const;

function service(name: string, dependsOn: string[] = [], overrides: Partial<ResolvedService> = {}): ResolvedService {
  return {
    name,
    owner: "platform",
    namespace: "core",
    image: `ghcr.io/example/${name}:1.0.0`,
    port: 8000,
    protocol: "http",
    replicas: 1,
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
    probes: { liveness: PROBE, readiness: PROBE },
    dependsOn,
    env: {},
    secrets: [],
    stateful: false,
    personalData: false,
    exposure: "internal",
    userFacing: false,
    automountServiceAccountToken: false,
    topologySpread: false,
    source: `registries/orchestration.yaml:${name.length}`,
    ...overrides,
  };
}

function task(overrides: Partial<ResolvedTask> = {}): ResolvedTask {
  return {
    name: "db-backup",
    kind: "backup",
    owner: "data",
    runner: "k8s-cronjob",
    schedule: "0 2 * * *",
    image: "ghcr.io/example/backup:1.0.0",
    command: ["backup"],
    target: "db",
    dependsOn: [],
    env: {},
    secrets: [{ env: "PGPASSWORD", configKey: "dbPassword" }],
    timeoutSeconds: 600,
    retries: 0,
    successfulJobsHistory: 3,
    failedJobsHistory: 3,
    enabled: true,
    source: "registries/automation.yaml:9",
    ...overrides,
  } as ResolvedTask;
}

describe("startOrder", () => {
  it("puts every service after its dependencies, keeping declaration order otherwise", () => {
    const services = [service("web", ["api"]), service("api", ["db", "cache"]), service("db"), service("cache", ["db"]), service("solo")];
    expect(startOrder(services).map((s) => s.name)).toEqual(["db", "cache", "api", "web", "solo"]);
  });

  it("ignores dependencies that are not services and returns each service once", () => {
    const services = [service("a", ["ghost", "b"]), service("b", ["ghost"]), service("c", ["a", "b"])];
    expect(startOrder(services).map((s) => s.name)).toEqual(["b", "a", "c"]);
    expect(startOrder([])).toEqual([]);
  });

  it("orders the real services", () => {
    expect(startOrder(realModel("prod").services).map((s) => s.name)).toEqual([
      "postgres",
      "redis",
      "coordination-hub",
      "orchestrator",
      "backend-api",
      "frontend",
      "system-monitor",
      "system-dashboard",
    ]);
  });
});

describe("taskNamespace", () => {
  const services = [service("db", [], { namespace: "data" }), service("api")];

  it("is the task's own namespace first, else its target's", () => {
    expect(taskNamespace(task({ namespace: "ops", target: "db" }), services)).toBe("ops");
    expect(taskNamespace(task({ target: "db" }), services)).toBe("data");
    expect(taskNamespace(task({ target: "api" }), services)).toBe("core");
  });

  it("refuses a task with neither", () => {
    expect(() => taskNamespace(task({ target: undefined }), services)).toThrow(
      "task db-backup (registries/automation.yaml:9) has neither namespace nor target",
    );
    expect(() => taskNamespace(task({ target: "ghost" }), services)).toThrow("task db-backup (registries/automation.yaml:9) has neither namespace nor target");
  });
});

describe("backupSecretRefs", () => {
  const db = service("db", [], {
    namespace: "data",
    secrets: [
      { env: "POSTGRES_PASSWORD", configKey: "dbPassword" },
      { env: "REPLICATION_KEY", configKey: "replKey" },
    ],
  });

  it("reads each secret from the target's own Secret under the target's key", () => {
    expect(
      backupSecretRefs(
        task({
          secrets: [
            { env: "PGPASSWORD", configKey: "dbPassword" },
            { env: "REPL", configKey: "replKey" },
          ],
        }),
        db,
      ),
    ).toEqual([
      { env: "PGPASSWORD", secretName: "db-secrets", key: "POSTGRES_PASSWORD" },
      { env: "REPL", secretName: "db-secrets", key: "REPLICATION_KEY" },
    ]);
    expect(backupSecretRefs(task({ secrets: [] }), db)).toEqual([]);
  });

  it("refuses a secret the target does not declare", () => {
    expect(() => backupSecretRefs(task({ secrets: [{ env: "S3_KEY", configKey: "s3Key" }] }), db)).toThrow(
      'backup task db-backup (registries/automation.yaml:9) needs secret "s3Key", which its target db does not declare: ' +
        "add it to the target's secrets in orchestration.yaml",
    );
  });

  it("maps the real postgres backup onto the postgres Secret", () => {
    const m = realModel("prod");
    const t = m.tasks.find((x) => x.name === "postgres-backup")!;
    const target = m.services.find((s) => s.name === t.target)!;
    expect(backupSecretRefs(t, target)).toEqual([{ env: "PGPASSWORD", secretName: "postgres-secrets", key: "POSTGRES_PASSWORD" }]);
  });
});

describe("a stack without the Command provider", () => {
  it("skips the local-command tasks and says so in its outputs", async () => {
    const model = realModel("dev");
    const run = await runMocked(() => buildPlatform(model, { ...DEV_SETTINGS, localCommands: false }, fakeSecrets(model)) as never, { stack: "dev" });
    const local = model.tasks.filter((t) => t.runner === "local-command").map((t) => t.name);
    expect(local.length).toBeGreaterThan(0);
    expect(run.byType("command:local:Command")).toEqual([]);
    const tasks = run.outputs.tasks as Record<string, { kind: string }>;
    for (const name of local) expect(tasks[name]).toEqual({ runner: "local-command", kind: "skipped: localCommands is off for this stack" });
  });
});
