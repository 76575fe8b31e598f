import { spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AutomationTask, JOB_TTL_SECONDS, shellJoin, shellQuote, taskFingerprint, type AutomationTaskArgs } from "../../components/automationTask";
import { networkEdges, type Edge } from "../../components/builders/network";
import { K8S } from "../../contract/types";
import type { ResolvedTask } from "../../domain/model";
import { SECRET_SIG, runMocked, type MockRun } from "../../internal/pulumi/mocks";
import { RESTRICTED_CONTAINER, taskCronJobSpec } from "../support/expectations";
import { context, database, service, task } from "../support/fixtures";
import { kubeInputs } from "../support/inputs";
import { expectNoPlaintextSecret } from "../support/secrets";

const PARENT = "nexus:automation:AutomationTask";
/** The Command provider's type; contract/types.ts lists only what the policy pack inspects. */
const COMMAND = "command:local:Command";

/** The key runMocked shows on a secret value; its `value` is the only place a secret may be. */
const SECRET = "s3cr3t-do-not-log-4711";
const SECRETS = { REPORT_TOKEN: pulumi.secret(SECRET), AUDIT_TOKEN: pulumi.secret(SECRET) };

const AUDIT = task({ env: { LEVEL: "strict" }, secrets: [{ env: "AUDIT_TOKEN", configKey: "auditToken" }] });
const LOCAL = task({
  name: "seed-report",
  kind: "report",
  runner: "local-command",
  schedule: undefined,
  image: undefined,
  command: ["scripts/report.sh", "--title", "weekly report", "it's $HOME"],
  env: { FORMAT: "json" },
  secrets: [{ env: "REPORT_TOKEN", configKey: "reportToken" }],
  source: "registries/automation.yaml:40",
});

/** The args the platform gives: a namespace for the k8s runners only; no edge unless a test gives them. */
function args(t: ResolvedTask, edges: readonly Edge[] = []): AutomationTaskArgs {
  return { context: context("dev"), task: t, ...(t.runner === "local-command" ? {} : { namespace: "ops" }), edges, localSecrets: SECRETS };
}

interface Captured {
  name: string;
  opts: pulumi.ResourceOptions;
}

/** Deploys one task; a transformation on the component records the options of its children. */
async function deploy(t: ResolvedTask, a: AutomationTaskArgs = args(t)): Promise<MockRun & { options: Captured[] }> {
  const options: Captured[] = [];
  const run = await runMocked(() => {
    const component = new AutomationTask(t.name, a, {
      transformations: [
        (r) => {
          options.push({ name: r.name, opts: r.opts });
          return undefined;
        },
      ],
    });
    return { kind: component.kind, objectName: component.objectName };
  });
  return Object.assign(run, { options });
}

/** The inputs of a command:local:Command, as the component sets them. */
interface CommandInputs {
  create: string;
  logging: string;
  addPreviousOutputInEnv: boolean;
  triggers: unknown[];
  environment: Record<string, unknown>;
}
const commandInputs = (run: MockRun) => run.one(COMMAND, "seed-report-command").inputs as unknown as CommandInputs;
const children = (run: MockRun) => run.resources.map((r) => [r.type, r.name, r.parentType]);

const JOB = task({ ...AUDIT, name: "migrate", runner: "k8s-job", schedule: undefined });

describe("AutomationTask k8s runners", () => {
  it.each([
    { t: AUDIT, kind: "CronJob", type: K8S.CronJob, object: "audit-cronjob" },
    { t: JOB, kind: "Job", type: K8S.Job, object: "migrate-job" },
  ])("$t.runner: creates a token-less service account, the secrets and one $kind", async ({ t, kind, type, object }) => {
    const run = await deploy(t);
    expect(children(run)).toEqual([
      [PARENT, t.name, ""],
      [K8S.ServiceAccount, `${t.name}-sa`, PARENT],
      [K8S.Secret, `${t.name}-secrets`, PARENT],
      [type, object, PARENT],
    ]);
    expect(run.outputs).toEqual({ kind, objectName: t.name });
    const sa = kubeInputs(run, K8S.ServiceAccount, `${t.name}-sa`);
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(sa.metadata).toMatchObject({ name: t.name, namespace: "ops" });
    expectNoPlaintextSecret(run);
  });
});

describe("AutomationTask k8s-cronjob", () => {
  it("runs a hardened, non-overlapping CronJob with the task's config and secrets", async () => {
    const run = await deploy(AUDIT);
    const cj = kubeInputs(run, K8S.CronJob, "audit-cronjob");
    expect(cj.metadata).toMatchObject({
      name: "audit",
      namespace: "ops",
      labels: {
        "app.kubernetes.io/name": "audit",
        "app.kubernetes.io/component": "automation",
        "nexus.platform/owner": AUDIT.owner,
        "nexus.platform/environment": "dev",
      },
      annotations: { "nexus.platform/source": AUDIT.source },
    });
    expect(cj.spec).toMatchObject(taskCronJobSpec(AUDIT));
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.serviceAccountName).toBe("audit");
    expect(pod.automountServiceAccountToken).toBe(false);
    const c = pod.containers[0]!;
    expect(c.image).toBe(AUDIT.image);
    expect(c.command).toEqual(AUDIT.command);
    expect(c.securityContext).toEqual(RESTRICTED_CONTAINER);
    expect(c.env).toEqual([
      { name: "LEVEL", value: "strict" },
      { name: "AUDIT_TOKEN", valueFrom: { secretKeyRef: { name: "audit-secrets", key: "AUDIT_TOKEN" } } },
    ]);
  });

  it("suspends a disabled task", async () => {
    const run = await deploy({ ...AUDIT, enabled: false });
    expect(kubeInputs(run, K8S.CronJob, "audit-cronjob").spec.suspend).toBe(true);
  });
});

describe("AutomationTask k8s-job", () => {
  it("creates a Job replaced (and so re-run) whenever its spec changes", async () => {
    const run = await deploy(JOB);
    const job = kubeInputs(run, K8S.Job, "migrate-job");
    expect(job.spec).toMatchObject({
      activeDeadlineSeconds: JOB.timeoutSeconds,
      backoffLimit: JOB.retries,
      ttlSecondsAfterFinished: JOB_TTL_SECONDS,
    });
    expect(job.spec.template.spec.restartPolicy).toBe("Never");
    const opts = run.options.find((o) => o.name === "migrate-job")!.opts as pulumi.CustomResourceOptions;
    expect(opts.replaceOnChanges).toEqual(["spec"]);
    expect(opts.deleteBeforeReplace).toBe(true);
    // The task's own deadline plus the margin for scheduling.
    expect(opts.customTimeouts).toEqual({ create: "1200s", update: "1200s" });
  });
});

describe("AutomationTask network", () => {
  // The registry's graph around a task in "ops": it targets api and depends on db; web's own edge to db is not the task's.
  const API = service();
  const DB = database();
  const CALLER: ResolvedTask = { ...AUDIT, target: "api", dependsOn: ["db"] };
  const graph = (t: ResolvedTask): Edge[] =>
    networkEdges({
      services: [API, DB, service({ name: "web", namespace: "web", dependsOn: ["db"] })],
      tasks: [{ name: t.name, namespace: "ops", target: t.target, dependsOn: t.dependsOn }],
    });
  const peer = (namespace: string, name: string) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    podSelector: { matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "nexus-platform" } },
  });

  it.each([
    { t: CALLER, type: K8S.CronJob, object: "audit-cronjob" },
    { t: { ...CALLER, name: "migrate", runner: "k8s-job" as const, schedule: undefined }, type: K8S.Job, object: "migrate-job" },
  ])("$t.runner: lets the task's pods reach exactly what it targets and depends on", async ({ t, type, object }) => {
    const run = await deploy(t, args(t, graph(t)));
    expect(children(run)).toEqual([
      [PARENT, t.name, ""],
      [K8S.ServiceAccount, `${t.name}-sa`, PARENT],
      [K8S.Secret, `${t.name}-secrets`, PARENT],
      [K8S.NetworkPolicy, `${t.name}-netpol`, PARENT],
      [type, object, PARENT],
    ]);
    const np = kubeInputs(run, K8S.NetworkPolicy, `${t.name}-netpol`);
    expect(np.metadata).toMatchObject({ name: `${t.name}-allow`, namespace: "ops", labels: { "app.kubernetes.io/component": "automation" } });
    expect(np.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": t.name, "app.kubernetes.io/part-of": "nexus-platform" } },
      policyTypes: ["Egress"],
      egress: [
        { to: [peer("core", "api")], ports: [{ protocol: "TCP", port: 8000 }] },
        { to: [peer("data", "db")], ports: [{ protocol: "TCP", port: 5432 }] },
      ],
    });
    // The policy selects the pods the task runs.
    const template = type === K8S.Job ? kubeInputs(run, K8S.Job, object).spec.template : kubeInputs(run, K8S.CronJob, object).spec.jobTemplate.spec.template;
    expect(template.metadata.labels).toMatchObject(np.spec.podSelector.matchLabels!);
    // ...and its container is told where those are, without a PORT: a task listens on nothing.
    expect(template.spec.containers[0]!.env).toEqual([
      { name: "LEVEL", value: "strict" },
      { name: "AUDIT_TOKEN", valueFrom: { secretKeyRef: { name: `${t.name}-secrets`, key: "AUDIT_TOKEN" } } },
      { name: "NEXUS_DEPENDENCIES", value: "api.core.svc.cluster.local:8000,db.data.svc.cluster.local:5432" },
    ]);
  });

  it("gives a task no edge leaves no policy and no NEXUS_DEPENDENCIES", async () => {
    // Other workloads' edges in the graph open nothing for it.
    const run = await deploy(AUDIT, args(AUDIT, graph(task({ name: "other", target: "api" }))));
    expect(run.byType(K8S.NetworkPolicy)).toEqual([]);
    const env = kubeInputs(run, K8S.CronJob, "audit-cronjob").spec.jobTemplate.spec.template.spec.containers[0]!.env;
    expect(env.map((e) => e.name)).toEqual(["LEVEL", "AUDIT_TOKEN"]);
  });

  it("refuses a k8s task that sets NEXUS_DEPENDENCIES itself", () => {
    const refusal = /sets NEXUS_DEPENDENCIES, which the platform sets to the addresses of its targets/;
    expect(() => new AutomationTask("x", args({ ...AUDIT, env: { NEXUS_DEPENDENCIES: "db:5432" } }))).toThrow(refusal);
    expect(() => new AutomationTask("x", args({ ...AUDIT, secrets: [{ env: "NEXUS_DEPENDENCIES", configKey: "auditToken" }] }))).toThrow(refusal);
  });
});

describe("AutomationTask local-command", () => {
  it("runs the quoted command with secret environment and no logs", async () => {
    const run = await deploy(LOCAL);
    expect(children(run)).toEqual([
      [PARENT, "seed-report", ""],
      [COMMAND, "seed-report-command", PARENT],
    ]);
    expect(run.outputs).toEqual({ kind: "Command", objectName: "seed-report-command" });
    const cmd = commandInputs(run);
    expect(cmd.create).toBe(`scripts/report.sh --title 'weekly report' 'it'"'"'s $HOME'`);
    expect(cmd.logging).toBe("none");
    expect(cmd.addPreviousOutputInEnv).toBe(false);
    expect(cmd.triggers).toEqual([taskFingerprint(LOCAL)]);
    // The environment holds the secret, so the engine keeps all of it secret.
    expect(cmd.environment[SECRET_SIG]).toBeDefined();
    expect(cmd.environment.value).toEqual({ FORMAT: "json", REPORT_TOKEN: SECRET, AUDIT_TOKEN: SECRET });
    const opts = run.options.find((o) => o.name === "seed-report-command")!.opts as pulumi.CustomResourceOptions;
    expect(opts.additionalSecretOutputs).toEqual(["stdout", "stderr"]);
    expectNoPlaintextSecret(run);
  });

  it("logs normally when the task has no secrets", async () => {
    const noSecrets = { ...LOCAL, secrets: [] };
    const cmd = commandInputs(await deploy(noSecrets, { ...args(noSecrets), localSecrets: {} }));
    expect(cmd.logging).toBe("stdoutAndStderr");
    expect(cmd.environment).toEqual({ FORMAT: "json" });
  });

  it("re-runs when the entry changes, not when only its line in the file moves", async () => {
    const trigger = async (t: ResolvedTask) => commandInputs(await deploy(t)).triggers;
    const base = await trigger(LOCAL);
    expect(await trigger({ ...LOCAL, command: [...LOCAL.command!, "--verbose"] })).not.toEqual(base);
    expect(await trigger({ ...LOCAL, env: { FORMAT: "csv" } })).not.toEqual(base);
    expect(await trigger({ ...LOCAL, source: "registries/automation.yaml:99" })).toEqual(base);
  });

  it("refuses to run without every declared secret, and refuses backups", () => {
    expect(() => new AutomationTask("x", { ...args(LOCAL), localSecrets: {} })).toThrow(/lacks secret values for REPORT_TOKEN/);
    expect(() => new AutomationTask("x", args({ ...AUDIT, kind: "backup" }))).toThrow(/use BackupJob/);
  });
});

describe("AutomationTask namespace", () => {
  it("is given exactly to the k8s runners", () => {
    expect(() => new AutomationTask("x", { ...args(LOCAL), namespace: "ops" })).toThrow(/runs beside Pulumi: it takes no namespace/);
    expect(() => new AutomationTask("x", { context: context("dev"), task: AUDIT, edges: [], localSecrets: SECRETS })).toThrow(
      /runs in the cluster: it needs a namespace/,
    );
  });
});

describe("shell quoting", () => {
  it("leaves plain words readable and single-quotes the rest", () => {
    expect(shellQuote("--all")).toBe("--all");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("$(rm -rf /)")).toBe("'$(rm -rf /)'");
  });

  it("gives sh back exactly the registry's argv", () => {
    const argv = ["printf", "%s\\n", "a b", "it's", "$HOME", "`id`", "*", "", "new\nline", ";|&"];
    const r = spawnSync("/bin/sh", ["-c", shellJoin(argv)], { encoding: "utf8" });
    expect(r.stdout).toBe(
      argv
        .slice(2)
        .map((a) => `${a}\n`)
        .join(""),
    );
  });
});

describe("AutomationTask clusterAccess", () => {
  const API_SERVER = [
    { ip: "10.244.0.1", port: 6443 },
    { ip: "10.244.0.2", port: 6443 },
  ];
  const READER = task({ clusterAccess: { read: ["pods", "deployments.apps", "networkpolicies.networking.k8s.io"] } });
  const access = { namespaces: ["core", "data"], apiServer: API_SERVER };
  const readArgs = (t: ResolvedTask): AutomationTaskArgs => ({ ...args(t), clusterAccess: access });
  const podOf = (run: MockRun) => kubeInputs(run, K8S.CronJob, "audit-cronjob").spec.jobTemplate.spec.template.spec;

  it("gives the task a token, a read-only Role and binding in each namespace, and egress to the API server only", async () => {
    const run = await deploy(READER, readArgs(READER));
    // Registration order follows the resolution of names: compared as a set.
    expect(children(run).sort()).toEqual(
      [
        [PARENT, "audit", ""],
        [K8S.ServiceAccount, "audit-sa", PARENT],
        [K8S.Role, "audit-read-core", PARENT],
        [K8S.RoleBinding, "audit-read-core-binding", PARENT],
        [K8S.Role, "audit-read-data", PARENT],
        [K8S.RoleBinding, "audit-read-data-binding", PARENT],
        [K8S.NetworkPolicy, "audit-api-server", PARENT],
        [K8S.CronJob, "audit-cronjob", PARENT],
      ].sort(),
    );
    const sa = kubeInputs(run, K8S.ServiceAccount, "audit-sa");
    expect(sa.automountServiceAccountToken).toBe(true);
    expect(sa.metadata.annotations).toMatchObject({ "nexus.platform/token-automount": "declared" });
    expect(podOf(run).automountServiceAccountToken).toBe(true);
    for (const ns of ["core", "data"]) {
      const role = kubeInputs(run, K8S.Role, `audit-read-${ns}`);
      expect(role.metadata).toMatchObject({ name: "audit-read", namespace: ns, annotations: { "nexus.platform/source": READER.source } });
      expect(role.rules).toEqual([
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "watch"] },
      ]);
      const binding = kubeInputs(run, K8S.RoleBinding, `audit-read-${ns}-binding`);
      expect(binding.metadata).toMatchObject({ name: "audit-read", namespace: ns });
      expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "audit-read" });
      // The task's own service account, in the task's namespace, and nobody else.
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "audit", namespace: "ops" }]);
    }
    const np = kubeInputs(run, K8S.NetworkPolicy, "audit-api-server");
    expect(np.metadata).toMatchObject({ name: "audit-api-server", namespace: "ops" });
    expect(np.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "audit", "app.kubernetes.io/part-of": "nexus-platform" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "10.244.0.1/32" } }, { ipBlock: { cidr: "10.244.0.2/32" } }], ports: [{ protocol: "TCP", port: 6443 }] }],
    });
  });

  it("starts the pods only once the Roles, bindings and API egress exist", async () => {
    const run = await deploy(READER, readArgs(READER));
    const opts = run.options.find((o) => o.name === "audit-cronjob")!.opts;
    const urns = await Promise.all((opts.dependsOn as pulumi.Resource[]).map((r) => new Promise<string>((resolve) => r.urn.apply(resolve))));
    expect(urns.map((u) => u.split("::").pop())).toEqual([
      "audit-read-core",
      "audit-read-core-binding",
      "audit-read-data",
      "audit-read-data-binding",
      "audit-api-server",
    ]);
  });

  it("keeps a task without clusterAccess token-less, with no Role", async () => {
    const run = await deploy(AUDIT);
    expect(kubeInputs(run, K8S.ServiceAccount, "audit-sa").automountServiceAccountToken).toBe(false);
    expect(podOf(run).automountServiceAccountToken).toBe(false);
    expect(run.byType(K8S.Role)).toEqual([]);
    expect(run.byType(K8S.RoleBinding)).toEqual([]);
  });

  it("refuses clusterAccess on a local command, and args that do not match the entry", () => {
    expect(() => new AutomationTask("x", { ...args(LOCAL), task: { ...LOCAL, clusterAccess: { read: ["pods"] } } })).toThrow(
      /runs beside Pulumi: clusterAccess is for in-cluster tasks/,
    );
    expect(() => new AutomationTask("x", args(READER))).toThrow(/exactly when the entry declares it/);
    expect(() => new AutomationTask("x", readArgs(AUDIT))).toThrow(/exactly when the entry declares it/);
  });
});

describe("AutomationTask deployment check", () => {
  const CHECK = task({
    name: "deployment-check",
    kind: "deployment-check",
    runner: "k8s-job",
    schedule: undefined,
    image: "ghcr.io/nexus-platform/deploy-check:1.0.0",
    command: ["deploy-check", "--wait", "2m"],
    secrets: [],
    clusterAccess: { read: ["deployments.apps", "statefulsets.apps"] },
  });
  const checks = {
    workloads: [
      { namespace: "data", kind: "StatefulSet" as const, name: "postgres" },
      { namespace: "core", kind: "Deployment" as const, name: "api" },
    ],
    revision: "abc123",
  };
  const checkArgs = (t: ResolvedTask = CHECK): AutomationTaskArgs => ({
    ...args(t),
    clusterAccess: { namespaces: ["core", "data"], apiServer: [{ ip: "10.244.0.1", port: 6443 }] },
    checks,
  });

  it("tells the checker its workloads in order and re-runs when their revision changes", async () => {
    const run = await deploy(CHECK, checkArgs());
    const template = kubeInputs(run, K8S.Job, "deployment-check-job").spec.template;
    expect(template.spec.containers[0]!.env).toEqual([{ name: "NEXUS_CHECK_WORKLOADS", value: "data/StatefulSet/postgres,core/Deployment/api" }]);
    expect(template.spec.containers[0]!.command).toEqual(["deploy-check", "--wait", "2m"]);
    expect(template.spec.automountServiceAccountToken).toBe(true);
    // The revision is part of the Job's spec, which is replaced (and so run again) when it changes.
    expect(template.metadata.annotations).toMatchObject({ "nexus.platform/check-revision": "abc123" });
    const opts = run.options.find((o) => o.name === "deployment-check-job")!.opts as pulumi.CustomResourceOptions;
    expect(opts.replaceOnChanges).toEqual(["spec"]);
  });

  it("is given workloads exactly when it is an in-cluster deployment check, and refuses to be told them by the registry", () => {
    expect(() => new AutomationTask("x", { ...checkArgs(), checks: undefined } as AutomationTaskArgs)).toThrow(/gets the workloads it checks/);
    const reader = task({ clusterAccess: { read: ["pods"] } });
    expect(() => new AutomationTask("x", { ...checkArgs(reader) })).toThrow(/gets the workloads it checks/);
    expect(() => new AutomationTask("x", checkArgs({ ...CHECK, env: { NEXUS_CHECK_WORKLOADS: "core/Deployment/x" } }))).toThrow(
      /sets NEXUS_CHECK_WORKLOADS, which the platform sets/,
    );
  });
});
