import { spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AutomationTask, JOB_TTL_SECONDS, shellJoin, shellQuote, taskFingerprint, type AutomationTaskArgs } from "../../components/automationTask";
import type { ResolvedTask } from "../../domain/model";
import { SECRET_SIG, runMocked, type MockRun } from "../../internal/pulumi/mocks";

/** The key runMocked shows on a secret value; its `value` is the only place a secret may be. */
const SECRET = "s3cr3t-do-not-log-4711";

const AUDIT: ResolvedTask = {
  name: "audit",
  kind: "security-audit",
  owner: "platform",
  runner: "k8s-cronjob",
  schedule: "30 3 * * 1",
  image: "ghcr.io/nexus-platform/auditor:2.0.1",
  command: ["audit", "--all"],
  dependsOn: [],
  env: { LEVEL: "strict" },
  secrets: [{ env: "AUDIT_TOKEN", configKey: "auditToken" }],
  timeoutSeconds: 900,
  retries: 0,
  successfulJobsHistory: 1,
  failedJobsHistory: 5,
  enabled: true,
  source: "registries/automation.yaml:20",
};

const LOCAL: ResolvedTask = {
  name: "seed-report",
  kind: "report",
  owner: "platform",
  runner: "local-command",
  command: ["scripts/report.sh", "--title", "weekly report", "it's $HOME"],
  dependsOn: [],
  env: { FORMAT: "json" },
  secrets: [{ env: "REPORT_TOKEN", configKey: "reportToken" }],
  timeoutSeconds: 300,
  retries: 0,
  successfulJobsHistory: 3,
  failedJobsHistory: 3,
  enabled: true,
  source: "registries/automation.yaml:40",
};

interface Captured {
  name: string;
  opts: pulumi.ResourceOptions;
}

function args(task: ResolvedTask): AutomationTaskArgs {
  return {
    context: { environment: "dev", skipAwait: false },
    task,
    namespace: "ops",
    secretEnv: [],
    localSecrets: { REPORT_TOKEN: pulumi.secret(SECRET), AUDIT_TOKEN: pulumi.secret(SECRET) },
  };
}

/** Deploys one task; a transformation on the component records the options of its children. */
async function deploy(task: ResolvedTask): Promise<MockRun & { options: Captured[] }> {
  const options: Captured[] = [];
  const run = await runMocked(() => {
    const t = new AutomationTask(task.name, args(task), {
      transformations: [
        (a) => {
          options.push({ name: a.name, opts: a.opts });
          return undefined;
        },
      ],
    });
    return { kind: t.kind, objectName: t.objectName };
  });
  return Object.assign(run, { options });
}

/** Every string of a value, skipping the insides of secret values. */
function plaintextStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(plaintextStrings);
  if (value !== null && typeof value === "object") {
    if (SECRET_SIG in value) return [];
    return Object.entries(value).flatMap(([k, v]) => [k, ...plaintextStrings(v)]);
  }
  return [];
}

function expectNoPlaintextSecret(run: MockRun): void {
  for (const r of run.resources) {
    for (const s of plaintextStrings(r.inputs)) expect(s).not.toContain("s3cr3t");
  }
  expect(JSON.stringify(run.outputs)).not.toContain("s3cr3t");
}

const PARENT = "nexus:automation:AutomationTask";

/* eslint-disable @typescript-eslint/no-explicit-any */
describe("AutomationTask k8s-cronjob", () => {
  it("creates a token-less service account and a hardened, non-overlapping CronJob", async () => {
    const run = await deploy(AUDIT);
    expect(run.resources.map((r) => [r.type, r.name, r.parentType])).toEqual([
      [PARENT, "audit", ""],
      ["kubernetes:core/v1:ServiceAccount", "audit-sa", PARENT],
      ["kubernetes:core/v1:Secret", "audit-secrets", PARENT],
      ["kubernetes:batch/v1:CronJob", "audit-cronjob", PARENT],
    ]);
    expect(run.outputs).toEqual({ kind: "CronJob", objectName: "audit" });
    const sa = run.one("kubernetes:core/v1:ServiceAccount", "audit-sa").inputs as any;
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(sa.metadata).toMatchObject({ name: "audit", namespace: "ops" });

    const cj = run.one("kubernetes:batch/v1:CronJob", "audit-cronjob").inputs as any;
    expect(cj.metadata).toMatchObject({
      name: "audit",
      namespace: "ops",
      labels: {
        "app.kubernetes.io/name": "audit",
        "app.kubernetes.io/component": "automation",
        "nexus.platform/owner": "platform",
        "nexus.platform/environment": "dev",
      },
      annotations: { "nexus.platform/source": "registries/automation.yaml:20" },
    });
    expect(cj.spec).toMatchObject({
      schedule: "30 3 * * 1",
      concurrencyPolicy: "Forbid",
      suspend: false,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 5,
      jobTemplate: { spec: { activeDeadlineSeconds: 900, backoffLimit: 0 } },
    });
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.serviceAccountName).toBe("audit");
    expect(pod.automountServiceAccountToken).toBe(false);
    const c = pod.containers[0];
    expect(c.image).toBe(AUDIT.image);
    expect(c.command).toEqual(["audit", "--all"]);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.env).toEqual([
      { name: "LEVEL", value: "strict" },
      { name: "AUDIT_TOKEN", valueFrom: { secretKeyRef: { name: "audit-secrets", key: "AUDIT_TOKEN" } } },
    ]);
    expectNoPlaintextSecret(run);
  });

  it("suspends a disabled task", async () => {
    const run = await deploy({ ...AUDIT, enabled: false });
    const cj = run.one("kubernetes:batch/v1:CronJob", "audit-cronjob").inputs as any;
    expect(cj.spec.suspend).toBe(true);
  });
});

describe("AutomationTask k8s-job", () => {
  const JOB: ResolvedTask = { ...AUDIT, name: "migrate", runner: "k8s-job", schedule: undefined };

  it("creates a Job replaced (and so re-run) whenever its spec changes", async () => {
    const run = await deploy(JOB);
    expect(run.resources.map((r) => [r.type, r.name, r.parentType])).toEqual([
      [PARENT, "migrate", ""],
      ["kubernetes:core/v1:ServiceAccount", "migrate-sa", PARENT],
      ["kubernetes:core/v1:Secret", "migrate-secrets", PARENT],
      ["kubernetes:batch/v1:Job", "migrate-job", PARENT],
    ]);
    expect(run.outputs).toEqual({ kind: "Job", objectName: "migrate" });
    const job = run.one("kubernetes:batch/v1:Job", "migrate-job").inputs as any;
    expect(job.spec).toMatchObject({
      activeDeadlineSeconds: 900,
      backoffLimit: 0,
      ttlSecondsAfterFinished: JOB_TTL_SECONDS,
    });
    expect(job.spec.template.spec.restartPolicy).toBe("Never");
    const opts = run.options.find((o) => o.name === "migrate-job")!.opts as pulumi.CustomResourceOptions;
    expect(opts.replaceOnChanges).toEqual(["spec"]);
    expect(opts.deleteBeforeReplace).toBe(true);
    expect(opts.customTimeouts).toEqual({ create: "1200s", update: "1200s" });
    expectNoPlaintextSecret(run);
  });
});

describe("AutomationTask local-command", () => {
  it("runs the quoted command with secret environment and no logs", async () => {
    const run = await deploy(LOCAL);
    expect(run.resources.map((r) => [r.type, r.name, r.parentType])).toEqual([
      [PARENT, "seed-report", ""],
      ["command:local:Command", "seed-report-command", PARENT],
    ]);
    expect(run.outputs).toEqual({ kind: "Command", objectName: "seed-report-command" });
    const cmd = run.one("command:local:Command", "seed-report-command").inputs as any;
    expect(cmd.create).toBe(`scripts/report.sh --title 'weekly report' 'it'"'"'s $HOME'`);
    expect(cmd.logging).toBe("none");
    expect(cmd.addPreviousOutputInEnv).toBe(false);
    expect(cmd.triggers).toEqual([taskFingerprint(LOCAL)]);
    // The environment holds the secret, so the engine keeps all of it secret.
    expect(cmd.environment[SECRET_SIG]).toBeDefined();
    expect(cmd.environment.value).toEqual({
      FORMAT: "json",
      REPORT_TOKEN: SECRET,
      AUDIT_TOKEN: SECRET,
    });
    const opts = run.options.find((o) => o.name === "seed-report-command")!.opts as pulumi.CustomResourceOptions;
    expect(opts.additionalSecretOutputs).toEqual(["stdout", "stderr"]);
    expectNoPlaintextSecret(run);
  });

  it("logs normally when the task has no secrets", async () => {
    const task = { ...LOCAL, secrets: [] };
    const run = await runMocked(() => {
      new AutomationTask(task.name, { ...args(task), localSecrets: {} });
    });
    const cmd = run.one("command:local:Command", "seed-report-command").inputs as any;
    expect(cmd.logging).toBe("stdoutAndStderr");
    expect(cmd.environment).toEqual({ FORMAT: "json" });
  });

  it("re-runs when the entry changes, not when only its line in the file moves", async () => {
    const trigger = async (task: ResolvedTask) => ((await deploy(task)).one("command:local:Command", "seed-report-command").inputs as any).triggers;
    const base = await trigger(LOCAL);
    expect(await trigger({ ...LOCAL, command: [...LOCAL.command, "--verbose"] })).not.toEqual(base);
    expect(await trigger({ ...LOCAL, env: { FORMAT: "csv" } })).not.toEqual(base);
    expect(await trigger({ ...LOCAL, source: "registries/automation.yaml:99" })).toEqual(base);
  });

  it("refuses to run without every declared secret, and refuses backups", () => {
    expect(() => new AutomationTask("x", { ...args(LOCAL), localSecrets: {} })).toThrow(/lacks secret values for REPORT_TOKEN/);
    expect(() => new AutomationTask("x", args({ ...AUDIT, kind: "backup" }))).toThrow(/use BackupJob/);
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
