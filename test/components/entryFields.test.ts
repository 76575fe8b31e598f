/**
 * Registry fields whose effect no broader component test pins down: each test changes one field
 * (or gives it a value other than its default) and shows what it changes on the objects.
 * test/registries/fieldEffects.test.ts maps every registry field to a test like these.
 */
import { describe, expect, it } from "vitest";
import { AutomationTask } from "../../components/automationTask";
import { BackupJob } from "../../components/backupJob";
import { networkEdges } from "../../components/builders/network";
import { SecurityBaseline, type SecurityBaselineArgs } from "../../components/securityBaseline";
import { ServiceDeployment } from "../../components/serviceDeployment";
import { ANNOTATION, LABEL } from "../../contract/labels";
import { K8S } from "../../contract/types";
import type { ResolvedService, ResolvedTask } from "../../domain/model";
import { runMocked, type MockRun } from "../../internal/pulumi/mocks";
import { backupTask, context, database, service, task } from "../support/fixtures";
import { kubeInputs, kubeObject } from "../support/inputs";

const DESCRIPTION = "Says what the entry is for, in words an operator reads in kubectl describe.";

function deployService(s: ResolvedService): Promise<MockRun> {
  return runMocked(() => {
    new ServiceDeployment(s.name, { context: context(), service: s, namespace: s.namespace, edges: [], secrets: {} });
    return {};
  });
}

const deploymentOf = (run: MockRun, s: ResolvedService) => kubeInputs(run, K8S.Deployment, `${s.name}-deployment`);
const containerOf = (run: MockRun, s: ResolvedService) => deploymentOf(run, s).spec.template.spec.containers[0]!;

/** Every Kubernetes object of a run but the component itself. */
const objects = (run: MockRun) => run.resources.filter((r) => r.type.startsWith("kubernetes:"));

describe("service fields", () => {
  const API = service({ secrets: [], env: {} });

  it("annotates every object of a service with its description, and none without one", async () => {
    const described = await deployService({ ...API, description: DESCRIPTION });
    expect(objects(described).length).toBeGreaterThan(0);
    for (const r of objects(described)) expect(kubeObject(r).metadata.annotations[ANNOTATION.description], r.name).toBe(DESCRIPTION);
    for (const r of objects(await deployService(API))) expect(ANNOTATION.description in kubeObject(r).metadata.annotations, r.name).toBe(false);
  });

  it("passes the registry's args to the container, and none without them", async () => {
    const run = await deployService({ ...API, args: ["--listen", "$(PORT)"] });
    expect(containerOf(run, API).args).toEqual(["--listen", "$(PORT)"]);
    expect("args" in containerOf(await deployService(API), API)).toBe(false);
  });

  it("names the service port after the registry's protocol", async () => {
    const grpc = await deployService({ ...API, protocol: "grpc" });
    expect(containerOf(grpc, API).ports).toEqual([{ name: "grpc", containerPort: API.port, protocol: "TCP" }]);
    expect(kubeInputs(grpc, K8S.Service, `${API.name}-svc`).spec.ports[0]).toMatchObject({ name: "grpc", port: API.port });
  });

  it("mounts the API token only where the registry declares it, and says so on the account", async () => {
    const run = await deployService({ ...API, automountServiceAccountToken: true });
    const sa = kubeInputs(run, K8S.ServiceAccount, `${API.name}-sa`);
    expect(sa.automountServiceAccountToken).toBe(true);
    expect(sa.metadata.annotations[ANNOTATION.tokenAutomount]).toBe("declared");
    expect(deploymentOf(run, API).spec.template.spec.automountServiceAccountToken).toBe(true);
    const off = await deployService(API);
    expect(kubeInputs(off, K8S.ServiceAccount, `${API.name}-sa`).automountServiceAccountToken).toBe(false);
    expect(deploymentOf(off, API).spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it("builds each probe from its own type, path, port, command and timing", async () => {
    const probed: ResolvedService = {
      ...API,
      probes: {
        liveness: { type: "exec", command: ["/bin/check", "--live"], initialDelaySeconds: 11, periodSeconds: 12, timeoutSeconds: 13, failureThreshold: 14 },
        readiness: { type: "http", path: "/ready", port: 8081, initialDelaySeconds: 21, periodSeconds: 22, timeoutSeconds: 23, failureThreshold: 24 },
      },
    };
    const c = containerOf(await deployService(probed), API);
    expect(c.livenessProbe).toEqual({
      exec: { command: ["/bin/check", "--live"] },
      initialDelaySeconds: 11,
      periodSeconds: 12,
      timeoutSeconds: 13,
      failureThreshold: 14,
    });
    expect(c.readinessProbe).toEqual({
      httpGet: { path: "/ready", port: 8081 },
      initialDelaySeconds: 21,
      periodSeconds: 22,
      timeoutSeconds: 23,
      failureThreshold: 24,
    });
    const swapped: ResolvedService = {
      ...API,
      probes: {
        liveness: { type: "tcp", port: 8082, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 4 },
        readiness: { type: "exec", command: ["/bin/check", "--ready"], initialDelaySeconds: 5, periodSeconds: 6, timeoutSeconds: 7, failureThreshold: 8 },
      },
    };
    const s = containerOf(await deployService(swapped), API);
    expect(s.livenessProbe).toEqual({ tcpSocket: { port: 8082 }, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 4 });
    expect(s.readinessProbe).toEqual({
      exec: { command: ["/bin/check", "--ready"] },
      initialDelaySeconds: 5,
      periodSeconds: 6,
      timeoutSeconds: 7,
      failureThreshold: 8,
    });
  });
});

describe("task fields", () => {
  async function deployTask(t: ResolvedTask): Promise<MockRun> {
    return runMocked(() => {
      new AutomationTask(t.name, { context: context("dev"), task: t, namespace: "ops", edges: [], localSecrets: {} });
      return {};
    });
  }
  const AUDIT = task({ secrets: [] });

  it("annotates every object of an automation task with its description, and none without one", async () => {
    const run = await deployTask({ ...AUDIT, description: DESCRIPTION });
    expect(objects(run).length).toBeGreaterThan(0);
    for (const r of objects(run)) expect(kubeObject(r).metadata.annotations[ANNOTATION.description], r.name).toBe(DESCRIPTION);
    for (const r of objects(await deployTask(AUDIT))) expect(ANNOTATION.description in kubeObject(r).metadata.annotations, r.name).toBe(false);
  });

  it("gives the task's container the registry's resources instead of the default", async () => {
    const resources = { requests: { cpu: "123m", memory: "45Mi" }, limits: { cpu: "678m", memory: "90Mi" } };
    const cj = kubeInputs(await deployTask({ ...AUDIT, resources }), K8S.CronJob, `${AUDIT.name}-cronjob`);
    expect(cj.spec.jobTemplate.spec.template.spec.containers[0]!.resources).toEqual(resources);
  });
});

describe("backup fields", () => {
  const DB = database({ secrets: [] });
  const edgesFor = (t: ResolvedTask) => networkEdges({ services: [DB], tasks: [{ name: t.name, namespace: DB.namespace, target: t.target, dependsOn: [] }] });
  async function deployBackup(t: ResolvedTask): Promise<MockRun> {
    return runMocked(() => {
      new BackupJob(t.name, { context: context(), task: t, target: DB, edges: edgesFor(t), secretEnv: [] });
      return {};
    });
  }
  const withGdpr = (gdpr: NonNullable<ResolvedTask["backup"]>["gdpr"]): ResolvedTask => {
    const base = backupTask();
    return { ...base, backup: { ...base.backup!, gdpr } };
  };

  it("labels every object of a backup with its personal data and legal basis", async () => {
    const run = await deployBackup(withGdpr({ personalData: true, maxRetentionDays: 30, legalBasis: "legal-obligation" }));
    expect(objects(run).length).toBeGreaterThan(0);
    for (const r of objects(run)) {
      expect(kubeObject(r).metadata.labels, r.name).toMatchObject({ [LABEL.personalData]: "true", [LABEL.legalBasis]: "legal-obligation" });
    }
    const template = kubeInputs(run, K8S.CronJob, "db-backup-cronjob").spec.jobTemplate.spec.template;
    expect(template.metadata.labels[LABEL.legalBasis]).toBe("legal-obligation");
    // No legal basis declared: no legal-basis label, the personal-data one still says what the copies hold.
    const undeclared = await deployBackup(withGdpr({ personalData: true, maxRetentionDays: 30 }));
    for (const r of objects(undeclared)) {
      expect(kubeObject(r).metadata.labels[LABEL.personalData], r.name).toBe("true");
      expect(LABEL.legalBasis in kubeObject(r).metadata.labels, r.name).toBe(false);
    }
    // No gdpr section: neither label.
    for (const r of objects(await deployBackup(withGdpr(undefined)))) {
      expect(LABEL.personalData in kubeObject(r).metadata.labels, r.name).toBe(false);
    }
  });

  it("annotates every object of a backup with its task's description", async () => {
    const run = await deployBackup({ ...backupTask(), description: DESCRIPTION });
    for (const r of objects(run)) expect(kubeObject(r).metadata.annotations[ANNOTATION.description], r.name).toBe(DESCRIPTION);
  });

  it("keeps the newest keepLast backups in the claim whatever their age", async () => {
    const base = backupTask();
    const scriptKeeping = async (keepLast: number) => {
      const run = await deployBackup({ ...base, backup: { ...base.backup!, retention: { days: 14, keepLast } } });
      return kubeInputs(run, K8S.ConfigMap, "db-backup-script").data["backup.sh"]!;
    };
    // The pruning itself is run in test/components/builders/backup.test.ts; here: the job gives the script its keepLast.
    const seven = await scriptKeeping(7);
    expect(seven).toContain("newest 7 ");
    expect(await scriptKeeping(2)).not.toBe(seven);
  });
});

describe("security entry descriptions", () => {
  const ARGS: SecurityBaselineArgs = {
    context: { environment: "prod", skipAwait: false },
    namespaces: [
      {
        name: "apps",
        description: "Namespace described.",
        owner: "backend",
        source: "registries/orchestration.yaml:40",
        quota: { cpu: "8", memory: "16Gi", pods: 50 },
      },
      { name: "plain", owner: "backend", source: "registries/orchestration.yaml:45", quota: { cpu: "8", memory: "16Gi", pods: 50 } },
    ],
    podSecurity: { level: "restricted", source: "registries/security.yaml:10" },
    network: {
      defaultDeny: true,
      allowDns: false,
      source: "registries/security.yaml:14",
      egress: [{ name: "smtp", description: "Egress described.", cidrs: ["203.0.113.25/32"], ports: [587], namespaces: ["apps"] }],
      edges: [],
      platformSources: [],
      openNamespaces: [],
    },
    rbac: [
      {
        name: "readers",
        description: "Binding described.",
        owner: "platform",
        namespaces: ["apps"],
        subjects: [{ kind: "Group", name: "devs" }],
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
        source: "registries/security.yaml:30",
      },
    ],
  };

  it("annotates a namespace, its egress rule's policy and an RBAC binding's objects with their descriptions, and nothing else", async () => {
    const run = await runMocked(() => {
      new SecurityBaseline("baseline", ARGS);
      return {};
    });
    const described = (type: string, name: string) => kubeObject(run.one(type, name)).metadata.annotations[ANNOTATION.description];
    expect(described(K8S.Namespace, "baseline-apps")).toBe("Namespace described.");
    expect(described(K8S.Namespace, "baseline-plain")).toBeUndefined();
    expect(described(K8S.NetworkPolicy, "baseline-apps-egress-smtp")).toBe("Egress described.");
    expect(described(K8S.NetworkPolicy, "baseline-apps-default-deny")).toBeUndefined();
    expect(described(K8S.Role, "baseline-apps-readers")).toBe("Binding described.");
    expect(described(K8S.RoleBinding, "baseline-apps-readers-binding")).toBe("Binding described.");
  });
});
