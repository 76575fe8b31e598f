import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { OBJECT_KIND } from "../../components/automationTask";
import { AWS, K8S } from "../../contract/types";
import type { Model, ResolvedService } from "../../domain/model";
import { runMocked, type MockRun, type Recorded } from "../../internal/pulumi/mocks";
import {
  BACKUP_STORAGE,
  BASELINE,
  LOCAL_COMMANDS_OFF,
  MONITORING,
  backupSecretRefs,
  buildPlatform,
  startOrder,
  taskNamespace,
  type TaskStatus,
} from "../../stacks/platform";
import type { StackSettings } from "../../stacks/settings";
import { backupTask, database, service } from "../support/fixtures";
import { kubeAs, kubeInputs, kubeObject } from "../support/inputs";
import { ROOT } from "../support/registries";
import { plainStrings, secretValues } from "../support/secrets";
import { DEV_SETTINGS, PROD_SETTINGS, fakeSecrets, realModel } from "./support";

const SOURCE = /^registries\/[a-z]+\.yaml:\d+$/;
/** The platform's own component types. */
const COMPONENT = {
  serviceDeployment: "nexus:workloads:ServiceDeployment",
  backupJob: "nexus:backup:BackupJob",
  backupStorage: "nexus:backup:BackupStorage",
  automationTask: "nexus:automation:AutomationTask",
  baseline: "nexus:security:SecurityBaseline",
  monitoring: "nexus:monitoring:MonitoringStack",
} as const;

/** The stack outputs the tests read. */
interface PlatformOutputs {
  services: Record<string, unknown>;
  tasks: Record<string, TaskStatus>;
  environment: string;
  networkPaths: string[];
  backups: Record<string, string>;
}
const outputs = (run: MockRun) => run.outputs as unknown as PlatformOutputs;

interface Platform {
  env: string;
  model: Model;
  settings: StackSettings;
  run: MockRun;
  /** ServiceDeployments in construction order, with the names of what Pulumi makes each wait for. */
  constructed: { name: string; dependencies: string[] }[];
}

async function platform(env: "dev" | "prod", settings: StackSettings): Promise<Platform> {
  const model = realModel(env);
  const waits: { name: string; dependencies: pulumi.Resource[] }[] = [];
  const names = new Map<pulumi.Resource, string>();
  const run = await runMocked(
    () => {
      pulumi.runtime.registerStackTransformation((a) => {
        names.set(a.resource, a.name);
        if (a.type === COMPONENT.serviceDeployment) waits.push({ name: a.name, dependencies: (a.opts.dependsOn ?? []) as pulumi.Resource[] });
        return undefined;
      });
      return buildPlatform(model, settings, fakeSecrets(model)) as unknown as Record<string, unknown>;
    },
    { stack: env },
  );
  const constructed = waits.map((w) => ({ name: w.name, dependencies: w.dependencies.map((d) => names.get(d) ?? "?") }));
  return { env, model, settings, run, constructed };
}

const names = (run: MockRun, type: string) =>
  run
    .byType(type)
    .map((r) => r.name)
    .sort();
const minReplicas = (s: ResolvedService) => s.autoscaling?.minReplicas ?? s.replicas;
const backupTasks = (m: Model) => m.tasks.filter((t) => t.kind === "backup");

/** The pod template of a workload that has one. */
function podTemplate(r: Recorded) {
  if (r.type === K8S.Deployment) return kubeAs(r, K8S.Deployment).spec.template;
  if (r.type === K8S.StatefulSet) return kubeAs(r, K8S.StatefulSet).spec.template;
  if (r.type === K8S.Job) return kubeAs(r, K8S.Job).spec.template;
  if (r.type === K8S.CronJob) return kubeAs(r, K8S.CronJob).spec.jobTemplate.spec.template;
  return undefined;
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
      const objects = [kubeObject(r).metadata, podTemplate(r)?.metadata].filter((x) => x !== undefined);
      if (objects.length === 2) templates++;
      for (const meta of objects) {
        const where = `${r.type} ${r.name}`;
        expect(typeof meta.labels["app.kubernetes.io/name"], where).toBe("string");
        expect(meta.labels["app.kubernetes.io/name"], where).not.toBe("");
        expect(meta.labels["app.kubernetes.io/managed-by"], where).toBe("pulumi");
        expect(teams.has(meta.labels["nexus.platform/owner"] ?? ""), `${where}: owner ${meta.labels["nexus.platform/owner"]}`).toBe(true);
        expect(meta.labels["nexus.platform/environment"], where).toBe(env);
        expect(meta.annotations?.["nexus.platform/source"], where).toMatch(SOURCE);
      }
    }
    expect(templates).toBe(
      run.byType(K8S.Deployment).length + run.byType(K8S.StatefulSet).length + run.byType(K8S.CronJob).length + run.byType(K8S.Job).length,
    );
  });

  it("tags every AWS resource that takes tags like its Kubernetes resources", () => {
    const { run, model } = get();
    const teams = new Set(model.teams.map((t) => t.name));
    for (const r of run.resources.filter((x) => x.type.startsWith("aws:"))) {
      if (!awsSupportsTags(r.type)) {
        expect(r.inputs.tags, r.name).toBeUndefined();
        continue;
      }
      const tags = r.inputs.tags as Record<string, string>;
      expect(typeof tags["app.kubernetes.io/name"], r.name).toBe("string");
      expect(tags["app.kubernetes.io/managed-by"], r.name).toBe("pulumi");
      expect(teams.has(tags["nexus.platform/owner"] ?? ""), r.name).toBe(true);
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
      const a = kubeObject(r).metadata.annotations;
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
    expect(names(run, COMPONENT.serviceDeployment)).toEqual(model.services.map((s) => s.name).sort());
    expect(names(run, COMPONENT.backupJob)).toEqual(
      backupTasks(model)
        .map((t) => t.name)
        .sort(),
    );
    // A disabled Job or local command would run on the deploy, so it is not created; a disabled CronJob stays, suspended.
    const created = model.tasks.filter((t) => t.enabled || t.runner === "k8s-cronjob");
    expect(names(run, COMPONENT.automationTask)).toEqual(
      created
        .filter((t) => t.kind !== "backup")
        .map((t) => t.name)
        .sort(),
    );
    const skipped = model.tasks.filter((t) => !t.enabled && t.runner !== "k8s-cronjob");
    expect(skipped.length).toBeGreaterThan(0);
    for (const t of skipped)
      expect(outputs(run).tasks, t.name).toMatchObject({ [t.name]: { status: "skipped", reason: `disabled in ${model.environment.name}` } });
    expect(names(run, COMPONENT.baseline)).toEqual([BASELINE]);
    expect(names(run, COMPONENT.monitoring)).toEqual([MONITORING]);
    for (const type of [
      COMPONENT.serviceDeployment,
      COMPONENT.backupJob,
      COMPONENT.automationTask,
      COMPONENT.baseline,
      COMPONENT.monitoring,
      COMPONENT.backupStorage,
    ]) {
      for (const r of run.byType(type)) expect(r.parentType, r.name).toBe("");
    }
    expect(Object.keys(outputs(run).services).sort()).toEqual(model.services.map((s) => s.name).sort());
    expect(Object.keys(outputs(run).tasks).sort()).toEqual(model.tasks.map((t) => t.name).sort());
    for (const t of created) {
      const kind = t.kind === "backup" ? "CronJob" : OBJECT_KIND[t.runner];
      expect(outputs(run).tasks[t.name], t.name).toEqual({ runner: t.runner, kind, status: "scheduled" });
    }
    expect(outputs(run).environment).toBe(env);
  });

  it("deploys services after their namespace's admission objects and the workloads they call, in startOrder", () => {
    const { run, model, constructed } = get();
    const order = startOrder(model.services).map((s) => s.name);
    expect(constructed.map((c) => c.name)).toEqual(order);
    const { defaultDeny, allowDns } = model.security.network;
    for (const c of constructed) {
      const s = model.services.find((x) => x.name === c.name)!;
      const ns = `${BASELINE}-${s.namespace}`;
      const admission = [ns, ...(defaultDeny ? [`${ns}-default-deny`] : []), ...(allowDns ? [`${ns}-allow-dns`] : []), `${ns}-quota`, `${ns}-limits`];
      const workloads = s.dependsOn.map((d) => `${d}-${model.services.find((x) => x.name === d)!.stateful ? "statefulset" : "deployment"}`);
      expect(c.dependencies, c.name).toEqual([...admission, ...workloads]);
    }
    // The engine sees the same order: a component registers only once its dependencies have.
    const registered = run.byType(COMPONENT.serviceDeployment).map((r) => r.name);
    for (const s of model.services) {
      for (const d of s.dependsOn) expect(registered.indexOf(d), `${d} before ${s.name}`).toBeLessThan(registered.indexOf(s.name));
    }
  });

  it("exports exactly the paths of the dependency graph", () => {
    const { run, model } = get();
    const paths = outputs(run).networkPaths;
    expect([...paths].sort()).toEqual(expectedPaths(model).sort());
    expect(new Set(paths).size).toBe(paths.length);
    const declared = model.services.reduce((n, s) => n + s.dependsOn.length, 0);
    expect(paths.filter((p) => / \((?!task |prometheus )\S+ dependsOn \S+\)$/.test(p))).toHaveLength(declared);
    expect(paths.filter((p) => p.includes("(prometheus scrapes "))).toHaveLength(model.services.filter((s) => s.metrics).length);
  });

  it("gives disruption budgets exactly to services with more than one replica at minimum", () => {
    const { run, model } = get();
    expect(names(run, K8S.PodDisruptionBudget)).toEqual(
      model.services
        .filter((s) => minReplicas(s) > 1)
        .map((s) => `${s.name}-pdb`)
        .sort(),
    );
    expect(names(run, K8S.HorizontalPodAutoscaler)).toEqual(
      model.services
        .filter((s) => s.autoscaling)
        .map((s) => `${s.name}-hpa`)
        .sort(),
    );
  });

  it("sets each workload's replicas and topology spread from the model", () => {
    const { run, model } = get();
    for (const s of model.services) {
      const kind = s.stateful && s.storage ? K8S.StatefulSet : K8S.Deployment;
      const w = kubeInputs(run, kind, `${s.name}-${kind === K8S.StatefulSet ? "statefulset" : "deployment"}`);
      if (s.autoscaling) {
        expect("replicas" in w.spec, s.name).toBe(false);
        expect(kubeInputs(run, K8S.HorizontalPodAutoscaler, `${s.name}-hpa`).spec.minReplicas, s.name).toBe(s.autoscaling.minReplicas);
        expect(kubeInputs(run, K8S.HorizontalPodAutoscaler, `${s.name}-hpa`).spec.maxReplicas, s.name).toBe(s.autoscaling.maxReplicas);
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
    expect(dev.run.byType(COMPONENT.backupStorage)).toEqual([]);
    expect(names(dev.run, K8S.PersistentVolumeClaim)).toEqual(
      backupTasks(dev.model)
        .map((t) => `${t.name}-pvc`)
        .sort(),
    );
    expect(outputs(dev.run).backups).toEqual(
      Object.fromEntries(backupTasks(dev.model).map((t) => [t.name, `pvc://${taskNamespace(t, dev.model.services)}/${t.name}-backups`])),
    );

    const aws = PROD_SETTINGS.aws as Extract<StackSettings["aws"], { enabled: true }>;
    expect(names(prod.run, COMPONENT.backupStorage)).toEqual([BACKUP_STORAGE]);
    expect(prod.run.byType(K8S.PersistentVolumeClaim)).toEqual([]);
    expect(prod.run.byType(AWS.buckets[0]).map((r) => [r.name, r.parentType, r.inputs.bucket])).toEqual([
      [`${BACKUP_STORAGE}-bucket`, COMPONENT.backupStorage, aws.backupBucket],
    ]);
    expect(prod.run.byType(AWS.kmsKey).map((r) => [r.name, r.parentType, r.inputs.enableKeyRotation])).toEqual([
      [`${BACKUP_STORAGE}-key`, COMPONENT.backupStorage, true],
    ]);
    expect(
      prod.run
        .byType(AWS.iamRole)
        .map((r) => [r.name, r.parentType])
        .sort(),
    ).toEqual(
      backupTasks(prod.model)
        .map((t) => [`${t.name}-role`, COMPONENT.backupJob])
        .sort(),
    );
    expect(outputs(prod.run).backups).toEqual(
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
    for (const pdb of userFacing) expect(names(prod.run, K8S.PodDisruptionBudget)).toContain(pdb);
    expect(dev.run.byType(K8S.PodDisruptionBudget)).toEqual([]);

    const spread = (run: MockRun) =>
      [...run.byType(K8S.Deployment), ...run.byType(K8S.StatefulSet)]
        .filter((r) => podTemplate(r)?.spec.topologySpreadConstraints !== undefined)
        .map((r) => kubeObject(r).metadata.name)
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

/** A service calling the `upstream` services (the registry's dependsOn). */
const calling = (name: string, ...upstream: string[]) => service({ name, dependsOn: upstream });

describe("startOrder", () => {
  it("puts every service after its dependencies, keeping declaration order otherwise", () => {
    const services = [calling("web", "api"), calling("api", "db", "cache"), calling("db"), calling("cache", "db"), calling("solo")];
    expect(startOrder(services).map((s) => s.name)).toEqual(["db", "cache", "api", "web", "solo"]);
  });

  it("ignores dependencies that are not services and returns each service once", () => {
    const services = [calling("a", "ghost", "b"), calling("b", "ghost"), calling("c", "a", "b")];
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
  const services = [database(), service()];

  it("is the task's own namespace first, else its target's", () => {
    expect(taskNamespace(backupTask({ namespace: "ops" }), services)).toBe("ops");
    expect(taskNamespace(backupTask(), services)).toBe("data");
    expect(taskNamespace(backupTask({ target: "api" }), services)).toBe("core");
  });

  it("refuses a task with neither", () => {
    const refusal = "task db-backup (registries/automation.yaml:4) has neither namespace nor target";
    expect(() => taskNamespace(backupTask({ target: undefined }), services)).toThrow(refusal);
    expect(() => taskNamespace(backupTask({ target: "ghost" }), services)).toThrow(refusal);
  });
});

describe("backupSecretRefs", () => {
  const db = database({
    secrets: [
      { env: "POSTGRES_PASSWORD", configKey: "dbPassword" },
      { env: "REPLICATION_KEY", configKey: "replKey" },
    ],
  });

  it("reads each secret from the target's own Secret under the target's key", () => {
    expect(
      backupSecretRefs(
        backupTask({
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
    expect(backupSecretRefs(backupTask(), db)).toEqual([]);
  });

  it("refuses a secret the target does not declare", () => {
    expect(() => backupSecretRefs(backupTask({ secrets: [{ env: "S3_KEY", configKey: "s3Key" }] }), db)).toThrow(
      'backup task db-backup (registries/automation.yaml:4) needs secret "s3Key", which its target db does not declare: ' +
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
    for (const name of local) {
      expect(outputs(run).tasks[name]).toEqual({ runner: "local-command", kind: "Command", status: "skipped", reason: LOCAL_COMMANDS_OFF });
    }
  });
});
