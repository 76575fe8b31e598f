/**
 * `nexus diagnose` without a cluster: the diagnosis from fixtures of the API objects for every
 * reason a pod gets stuck for, and the command with a stand-in for kubectl (exit status, the log
 * reads it asks for, one line when the cluster cannot be read).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { PROJECT_DIR, stackSettings } from "../../cmd/audit/stack";
import { diagnoseCommand } from "../../cmd/diagnose/cli";
import { kubectlError, missingKubeconfig, type Kubectl, type KubectlResult } from "../../cmd/kubectl";
import {
  diagnose,
  formatDiagnosis,
  logKey,
  logRequests,
  type ClusterState,
  type Condition,
  type ContainerStatus,
  type KubeEvent,
  type Pod,
  type Workload,
} from "../../cmd/diagnose/findings";
import { ANNOTATION, LABEL, PART_OF } from "../../contract/labels";
import { ROOT } from "../support/registries";

const NS = "core";
const SOURCE = "registries/orchestration.yaml:42";
const CONTEXT = { stack: "dev", environment: "dev" };

/** The labels and source annotation the components put on a service's objects and pods. */
function provenance(name: string, source = SOURCE) {
  return {
    labels: { [LABEL.name]: name, [LABEL.component]: "service", [LABEL.partOf]: PART_OF, [LABEL.environment]: "dev" },
    annotations: { [ANNOTATION.source]: source },
  };
}

function deployment(name: string, opts: { replicas?: number; ready?: number; source?: string; conditions?: Condition[] } = {}): Workload {
  const replicas = opts.replicas ?? 1;
  const ready = opts.ready ?? 0;
  const p = provenance(name, opts.source);
  return {
    kind: "Deployment",
    metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1, ...p },
    spec: { replicas, selector: { matchLabels: { [LABEL.name]: name, [LABEL.partOf]: PART_OF } }, template: { metadata: p } },
    status: { observedGeneration: 1, replicas, readyReplicas: ready, updatedReplicas: replicas, ...(opts.conditions ? { conditions: opts.conditions } : {}) },
  };
}

/** A pod of the workload `owner`; nodeName null: not scheduled. */
function pod(owner: string, suffix: string, status: Pod["status"], nodeName: string | null = "node-1"): Pod {
  return {
    metadata: { name: `${owner}-${suffix}`, namespace: NS, ...provenance(owner) },
    spec: nodeName ? { nodeName } : {},
    status: { conditions: [{ type: "Ready", status: "False" }], ...status },
  };
}

function container(name: string, s: Omit<ContainerStatus, "name">): ContainerStatus {
  return { name, ready: false, restartCount: 0, ...s };
}

function event(podName: string, reason: string, message: string, at: string, count = 1, kind = "Pod"): KubeEvent {
  return { type: "Warning", reason, message, count, lastTimestamp: at, involvedObject: { kind, name: podName, namespace: NS } };
}

const one = (state: ClusterState) => {
  const d = diagnose(state);
  expect(d.findings).toHaveLength(1);
  return d.findings[0]!;
};

describe("diagnose: a pod's reason", () => {
  it("CrashLoopBackOff: restarts, the last exit, the last failed probe and the previous instance's log", () => {
    const p = pod("api", "7d9f-x2x9z", {
      phase: "Running",
      containerStatuses: [
        container("api", {
          restartCount: 5,
          state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 2m40s restarting failed container=api pod=api-7d9f-x2x9z" } },
          lastState: { terminated: { reason: "Error", exitCode: 1 } },
        }),
      ],
    });
    const events = [
      event(p.metadata.name, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500", "2026-01-01T10:00:00Z", 3),
      event(p.metadata.name, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 503", "2026-01-01T10:05:00Z", 7),
      event(p.metadata.name, "BackOff", "Back-off restarting failed container", "2026-01-01T10:06:00Z"),
    ];
    const log = Array.from({ length: 14 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
    const state: ClusterState = { workloads: [deployment("api")], pods: [p], events };
    expect(logRequests(state)).toEqual([
      { namespace: NS, pod: p.metadata.name, container: "api", previous: true, key: logKey(NS, p.metadata.name, "api", true) },
    ]);

    const f = one({ ...state, logs: { [logKey(NS, p.metadata.name, "api", true)]: log } });
    expect(f.entry).toEqual({ name: "api", component: "service", source: SOURCE });
    expect(f.pods[0]).toMatchObject({
      reason: "CrashLoopBackOff",
      container: "api",
      restarts: 5,
      detail: "back-off 2m40s restarting failed container=api pod=api-7d9f-x2x9z; last run: Error, exit code 1",
      probe: "Liveness probe failed: HTTP probe failed with statuscode: 503 (7 times)",
      logLines: ["line 5", "line 6", "line 7", "line 8", "line 9", "line 10", "line 11", "line 12", "line 13", "line 14"],
    });
    const text = formatDiagnosis(diagnose({ ...state, logs: { [logKey(NS, p.metadata.name, "api", true)]: log } }), CONTEXT);
    expect(text).toBe(
      [
        `${SOURCE} service api: Deployment core/api 0/1 ready: CrashLoopBackOff`,
        "  pod api-7d9f-x2x9z (Running on node-1, container api, 5 restarts): CrashLoopBackOff: back-off 2m40s restarting failed container=api pod=api-7d9f-x2x9z; last run: Error, exit code 1",
        "    failed probe: Liveness probe failed: HTTP probe failed with statuscode: 503 (7 times)",
        "    last 10 log lines of api (previous instance):",
        ...Array.from({ length: 10 }, (_, i) => `      | line ${i + 5}`),
        "nexus diagnose: 1 of 1 workloads not Ready (stack dev, environment dev)",
        "",
      ].join("\n"),
    );
  });

  it("OOMKilled: named whether the container is in back-off or has just been killed", () => {
    const backOff = pod("cache", "a", {
      phase: "Running",
      containerStatuses: [
        container("cache", {
          restartCount: 2,
          state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 20s" } },
          lastState: { terminated: { reason: "OOMKilled", exitCode: 137 } },
        }),
      ],
    });
    const killed = pod("cache", "b", {
      phase: "Running",
      containerStatuses: [container("cache", { state: { terminated: { reason: "OOMKilled", exitCode: 137 } } })],
    });
    const f = one({ workloads: [deployment("cache", { replicas: 2 })], pods: [backOff, killed], events: [] });
    expect(f.pods.map((p) => [p.reason, p.detail, p.log])).toEqual([
      ["CrashLoopBackOff (OOMKilled)", "back-off 20s; last run: OOMKilled, exit code 137", { previous: true }],
      ["OOMKilled", "exit code 137", { previous: false }],
    ]);
    expect(formatDiagnosis(diagnose({ workloads: [deployment("cache", { replicas: 2 })], pods: [backOff, killed], events: [] }), CONTEXT).split("\n")[0]).toBe(
      `${SOURCE} service cache: Deployment core/cache 0/2 ready: CrashLoopBackOff (OOMKilled), OOMKilled`,
    );
  });

  it.each([
    ["ImagePullBackOff", 'Back-off pulling image "registry.example/api:1.2.3"'],
    ["ErrImageNeverPull", 'Container image "api:dev" is not present with pull policy of Never'],
    ["CreateContainerConfigError", 'secret "api-secrets" not found'],
  ])("%s: the waiting reason and message, and no log to read (the container never ran)", (reason, message) => {
    const p = pod("api", "z", { phase: "Pending", containerStatuses: [container("api", { state: { waiting: { reason, message } } })] });
    const state: ClusterState = { workloads: [deployment("api")], pods: [p], events: [] };
    const f = one(state);
    expect(f.pods[0]).toMatchObject({ reason, detail: message, container: "api", restarts: 0 });
    expect(f.pods[0]!.log).toBeUndefined();
    expect(logRequests(state)).toEqual([]);
    expect(formatDiagnosis(diagnose(state), CONTEXT)).toContain(`  pod api-z (Pending on node-1, container api): ${reason}: ${message}\n`);
  });

  it("Unschedulable: the scheduler's message, from the pod's condition or else its FailedScheduling event", () => {
    const message = "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";
    const byCondition = pod("api", "a", { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }] }, null);
    const byEvent = pod("api", "b", { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] }, null);
    const f = one({
      workloads: [deployment("api", { replicas: 2 })],
      pods: [byCondition, byEvent],
      events: [
        event(
          "api-b",
          "FailedScheduling",
          "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.",
          "2026-01-01T10:00:00Z",
        ),
      ],
    });
    expect(f.pods.map((p) => [p.reason, p.detail])).toEqual([
      ["Unschedulable", message],
      ["Unschedulable", "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."],
    ]);
  });

  it("Pending with no node: not scheduled at all (no node, or no scheduler)", () => {
    const state: ClusterState = { workloads: [deployment("api")], pods: [pod("api", "p", { phase: "Pending" }, null)], events: [] };
    const f = one(state);
    expect(f.pods[0]).toMatchObject({ reason: "Pending", phase: "Pending", restarts: 0 });
    expect(f.pods[0]!.node).toBeUndefined();
    const text = formatDiagnosis(diagnose(state), CONTEXT);
    expect(text.split("\n")[0]).toBe(`${SOURCE} service api: Deployment core/api 0/1 ready: Pending, no node`);
    expect(text).toContain("  pod api-p (Pending): Pending: no node: not scheduled yet (the cluster has no node, or no scheduler runs)\n");
  });

  it("Running but not Ready: the failed readiness probe and the current instance's log", () => {
    const p = pod("api", "r", { phase: "Running", containerStatuses: [container("api", { state: { running: { startedAt: "2026-01-01T09:00:00Z" } } })] });
    const state: ClusterState = {
      workloads: [deployment("api")],
      pods: [p],
      events: [
        event("api-r", "Unhealthy", 'Readiness probe failed: Get "http://10.0.0.7:8080/ready": connect: connection refused', "2026-01-01T10:00:00Z", 30),
      ],
    };
    expect(logRequests(state)).toEqual([{ namespace: NS, pod: "api-r", container: "api", previous: false, key: logKey(NS, "api-r", "api", false) }]);
    const f = one({ ...state, logs: { [logKey(NS, "api-r", "api", false)]: "listening on :8081\n" } });
    expect(f.pods[0]).toMatchObject({
      reason: "Running, not Ready",
      probe: 'Readiness probe failed: Get "http://10.0.0.7:8080/ready": connect: connection refused (30 times)',
      logLines: ["listening on :8081"],
    });
  });

  it("a log that cannot be read says why", () => {
    const p = pod("api", "q", { phase: "Running", containerStatuses: [container("api", { restartCount: 1, state: { running: {} } })] });
    const state: ClusterState = {
      workloads: [deployment("api")],
      pods: [p],
      events: [],
      logs: { [logKey(NS, "api-q", "api", true)]: { error: "previous terminated container not found" } },
    };
    expect(formatDiagnosis(diagnose(state), CONTEXT)).toContain("    log of api: not readable: previous terminated container not found\n");
  });
});

describe("diagnose: workloads", () => {
  it("reports nothing when every workload is Ready, and ignores Ready pods and the Jobs of CronJobs", () => {
    const ready = deployment("api", { replicas: 2, ready: 2 });
    const cronRun: Workload = {
      kind: "Job",
      metadata: { name: "backup-29000000", namespace: NS, ownerReferences: [{ kind: "CronJob", name: "backup" }] },
      status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] },
    };
    const readyPod = pod("api", "ok", { phase: "Running", conditions: [{ type: "Ready", status: "True" }] });
    const d = diagnose({ workloads: [ready, cronRun], pods: [readyPod], events: [] });
    expect(d).toEqual({ checked: 1, findings: [] });
    expect(formatDiagnosis(d, CONTEXT)).toBe("ok: all 1 workloads Ready (stack dev, environment dev)\n");
    expect(formatDiagnosis(diagnose({ workloads: [], pods: [], events: [] }), CONTEXT)).toBe("ok: no workloads of stack dev, environment dev in the cluster\n");
  });

  it("a rollout whose new pods fail is not Ready though the old ones are", () => {
    const w = deployment("api", { replicas: 2, ready: 2 });
    w.status!.updatedReplicas = 1;
    expect(diagnose({ workloads: [w], pods: [], events: [] }).findings.map((f) => f.name)).toEqual(["api"]);
    const stale = deployment("web", { ready: 1 });
    stale.metadata.generation = 2;
    expect(diagnose({ workloads: [stale], pods: [], events: [] }).findings.map((f) => f.name)).toEqual(["web"]);
  });

  it("no pods at all: what the ReplicaSet's events say (a quota, an admission)", () => {
    const w = deployment("api");
    const rs: Workload = { kind: "ReplicaSet", metadata: { name: "api-7d9f", namespace: NS, ownerReferences: [{ kind: "Deployment", name: "api" }] } };
    const quota =
      'pods "api-7d9f-abcde" is forbidden: exceeded quota: core-quota, requested: limits.memory=512Mi, used: limits.memory=2Gi, limited: limits.memory=2Gi';
    const state: ClusterState = { workloads: [w, rs], pods: [], events: [event("api-7d9f", "FailedCreate", quota, "2026-01-01T10:00:00Z", 12, "ReplicaSet")] };
    const f = one(state);
    expect(f.problem).toBe(`FailedCreate: ${quota} (12 times)`);
    expect(formatDiagnosis(diagnose(state), CONTEXT).split("\n")[0]).toBe(
      `${SOURCE} service api: Deployment core/api 0/1 ready: FailedCreate: ${quota} (12 times)`,
    );
    expect(formatDiagnosis(diagnose({ workloads: [w], pods: [], events: [] }), CONTEXT).split("\n")[0]).toBe(
      `${SOURCE} service api: Deployment core/api 0/1 ready: no pods`,
    );
  });

  it("a failed Job: its condition and its failed pods", () => {
    const source = "registries/automation.yaml:124";
    const p = provenance("migrate", source);
    const job: Workload = {
      kind: "Job",
      metadata: { name: "migrate", namespace: NS, labels: { ...p.labels, [LABEL.component]: "automation" }, annotations: p.annotations },
      spec: { selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } } },
      status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }] },
    };
    const failed: Pod = {
      metadata: { name: "migrate-x1", namespace: NS, labels: { "batch.kubernetes.io/controller-uid": "u1" } },
      spec: { nodeName: "node-1" },
      status: {
        phase: "Failed",
        containerStatuses: [container("task", { state: { terminated: { reason: "Error", exitCode: 2, message: 'relation "users" does not exist' } } })],
      },
    };
    const f = one({ workloads: [job], pods: [failed], events: [] });
    expect(f.problem).toBe("Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit");
    expect(f.pods[0]).toMatchObject({ reason: "Error", detail: 'exit code 2: relation "users" does not exist', log: { previous: false } });
    const text = formatDiagnosis(diagnose({ workloads: [job], pods: [failed], events: [] }), CONTEXT);
    expect(text.split("\n").slice(0, 3)).toEqual([
      `${source} automation migrate: Job core/migrate 0/1 completed: Error`,
      "  job: Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit",
      '  pod migrate-x1 (Failed on node-1, container task): Error: exit code 2: relation "users" does not exist',
    ]);
  });

  it("lists a few pods per workload, orders entries by source, and says what it left out", () => {
    const many = Array.from({ length: 7 }, (_, i) => pod("api", `p${i}`, { phase: "Pending" }, null));
    const d = diagnose({
      workloads: [
        deployment("web", { source: "registries/orchestration.yaml:112" }),
        deployment("api", { replicas: 7 }),
        deployment("db", { source: "registries/monitoring.yaml:90" }),
      ],
      pods: many,
      events: [],
    });
    // By file, then by line number.
    expect(d.findings.map((f) => [f.entry.source, f.pods.length, f.morePods])).toEqual([
      ["registries/monitoring.yaml:90", 0, 0],
      [SOURCE, 5, 2],
      ["registries/orchestration.yaml:112", 0, 0],
    ]);
    expect(formatDiagnosis(d, CONTEXT)).toContain("  ... and 2 more pods not Ready\n");
  });
});

// ---------------------------------------------------------------------------------------------
// The command, with a stand-in for kubectl.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-diagnose-test-"));
const KUBECONFIG = path.join(tmp, "kubeconfig");
fs.writeFileSync(KUBECONFIG, "apiVersion: v1\nkind: Config\n");
const ENV = { KUBECONFIG };

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  calls: string[][];
}

async function run(args: string[], answer: (args: readonly string[]) => KubectlResult, env: NodeJS.ProcessEnv = ENV): Promise<Captured> {
  const calls: string[][] = [];
  const kubectl: Kubectl = async (a) => {
    calls.push([...a]);
    return answer(a);
  };
  let stdout = "";
  let stderr = "";
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const error = vi.spyOn(console, "error").mockImplementation((...m: unknown[]) => {
    stderr += `${m.join(" ")}\n`;
  });
  const log = vi.spyOn(console, "log").mockImplementation((...m: unknown[]) => {
    stdout += `${m.join(" ")}\n`;
  });
  try {
    const code = await diagnoseCommand(args, kubectl, env);
    return { code, stdout, stderr, calls };
  } finally {
    write.mockRestore();
    error.mockRestore();
    log.mockRestore();
  }
}

const list = (items: unknown[]): KubectlResult => ({ code: 0, stdout: JSON.stringify({ apiVersion: "v1", kind: "List", items }), stderr: "" });

/** A cluster holding the given objects (kind set on each) and events, and these logs. */
function cluster(objects: unknown[], events: KubeEvent[] = [], logs: Record<string, string> = {}) {
  return (a: readonly string[]): KubectlResult => {
    if (a.includes("get") && a.includes("events")) return list(events);
    if (a.includes("get")) return list(objects);
    if (a.includes("logs")) {
      const pod = a[a.indexOf("logs") + 3]!;
      return logs[pod] !== undefined
        ? { code: 0, stdout: logs[pod], stderr: "" }
        : { code: 1, stdout: "", stderr: `Error from server (BadRequest): pod ${pod} has no log` };
    }
    return { code: 1, stdout: "", stderr: "unexpected call" };
  };
}

afterEach(() => vi.restoreAllMocks());

describe("nexus diagnose", () => {
  it("exits 0 with one line when every workload is Ready", async () => {
    const r = await run([], cluster([deployment("api", { ready: 1 })]));
    expect(r).toMatchObject({ code: 0, stdout: "ok: all 1 workloads Ready (stack dev, environment dev)\n", stderr: "" });
    // The stack's environment selects the objects; events are read at Warning level only.
    expect(r.calls[0]).toEqual([
      "--request-timeout=20s",
      "get",
      "deployments.apps,statefulsets.apps,jobs.batch,replicasets.apps,pods",
      "--all-namespaces",
      "-l",
      `${LABEL.partOf}=${PART_OF},${LABEL.environment}=dev`,
      "-o",
      "json",
    ]);
    expect(r.calls[1]).toEqual(["--request-timeout=20s", "get", "events", "--all-namespaces", "--field-selector", "type=Warning", "-o", "json"]);
  });

  it("exits 1 with the findings, reading the failing container's previous log", async () => {
    const p = {
      kind: "Pod",
      ...pod("api", "c", {
        phase: "Running",
        containerStatuses: [
          container("api", { restartCount: 3, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1 } } }),
        ],
      }),
    };
    const r = await run(
      ["--namespace", NS, "--tail", "2"],
      cluster([deployment("api"), p], [event("api-c", "Unhealthy", "Liveness probe failed: timeout", "2026-01-01T10:00:00Z")], {
        "api-c": "a\nb\npanic: no DATABASE_URL\n",
      }),
    );
    expect(r.code).toBe(1);
    expect(r.calls[2]).toEqual(["--request-timeout=20s", "logs", "--namespace", NS, "api-c", "--container", "api", "--tail=2", "--previous"]);
    expect(r.stdout).toBe(
      [
        `${SOURCE} service api: Deployment core/api 0/1 ready: CrashLoopBackOff`,
        "  pod api-c (Running on node-1, container api, 3 restarts): CrashLoopBackOff: last run: exited, exit code 1",
        "    failed probe: Liveness probe failed: timeout",
        "    last 2 log lines of api (previous instance):",
        "      | b",
        "      | panic: no DATABASE_URL",
        "nexus diagnose: 1 of 1 workloads not Ready (stack dev, environment dev)",
        "",
      ].join("\n"),
    );
  });

  it("runs as `nexus diagnose`: help, and one line without a stack trace when there is no kubeconfig", () => {
    const nexus = (args: string[]) =>
      spawnSync(process.execPath, [path.join(ROOT, "bin", "nexus.js"), ...args], {
        encoding: "utf8",
        env: { ...process.env, KUBECONFIG: path.join(tmp, "missing") },
        timeout: 60_000,
      });
    const help = nexus(["diagnose", "--help"]);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: nexus diagnose /);
    expect(nexus(["--help"]).stdout).toMatch(/^ {2}diagnose {3}/m);
    const none = nexus(["diagnose", "--stack", "dev"]);
    expect(none.status).toBe(1);
    expect(none.stdout).toBe("");
    expect(none.stderr).toBe(`nexus: cannot read the cluster: no kubeconfig: KUBECONFIG names ${path.join(tmp, "missing")}, which does not exist\n`);
  });

  it.each([
    ["unreachable", { code: 1, stdout: "", stderr: "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n" }],
    [
      "klog lines first",
      {
        code: 1,
        stdout: "",
        stderr:
          'E0101 10:00:00.000000   123 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group list: dial tcp 127.0.0.1:6443: connect: connection refused"\n' +
          "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n",
      },
    ],
  ])("says in one line that the cluster cannot be read (%s), exit 1", async (_name, answer) => {
    const r = await run([], () => answer);
    expect(r).toMatchObject({
      code: 1,
      stdout: "",
      stderr: "nexus: cannot read the cluster: The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n",
    });
  });

  it("says in one line that there is no kubeconfig or no kubectl", async () => {
    const none = await run([], () => list([]), { KUBECONFIG: path.join(tmp, "missing") });
    expect(none).toMatchObject({
      code: 1,
      stderr: `nexus: cannot read the cluster: no kubeconfig: KUBECONFIG names ${path.join(tmp, "missing")}, which does not exist\n`,
    });
    expect(none.calls).toEqual([]);
    const noKubectl = await run([], () => ({ code: 127, stdout: "", stderr: "spawn kubectl ENOENT", notFound: true }));
    expect(noKubectl).toMatchObject({ code: 1, stderr: "nexus: kubectl is not on PATH: run `. .tools/env` first (scripts/bootstrap installs it)\n" });
  });

  it("reads the stack's kubeContext and environment, and notes when the stack does not wait for readiness", async () => {
    const prod = await run(["--stack", "prod"], cluster([]));
    expect(prod).toMatchObject({ code: 0, stdout: "ok: no workloads of stack prod, environment prod in the cluster\n", stderr: "" });
    expect(prod.calls[0]!.slice(0, 2)).toEqual(["--context=nexus-prod", "--request-timeout=20s"]);
    expect(prod.calls[0]).toContain(`${LABEL.partOf}=${PART_OF},${LABEL.environment}=prod`);
    const dev = await run(["--stack", "dev"], cluster([deployment("api")]));
    expect(dev.code).toBe(1);
    // As Pulumi.dev.yaml has it: the note only while the stack skips the wait.
    const note = "nexus: note: stack dev sets skipAwait, so pulumi up does not wait for these workloads to become Ready\n";
    expect(dev.stderr).toBe(stackSettings(PROJECT_DIR, "dev").settings.skipAwait ? note : "");
  });

  it("still diagnoses when the events cannot be read, and says so", async () => {
    const r = await run([], (a) =>
      a.includes("events")
        ? { code: 1, stdout: "", stderr: 'Error from server (Forbidden): events is forbidden: User "dev" cannot list resource "events"' }
        : list([deployment("api")]),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nexus: note: the events could not be read (Error from server (Forbidden)");
    expect(r.stdout).toContain(`${SOURCE} service api: Deployment core/api 0/1 ready: no pods`);
  });

  it("refuses bad options and unknown stacks as usage errors", async () => {
    expect((await run(["--tail", "0"], () => list([]))).code).toBe(2);
    expect((await run(["--namespace", "Not_A_Namespace"], () => list([]))).code).toBe(2);
    const unknown = await run(["--stack", "qa"], () => list([]));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown stack "qa"');
  });
});

describe("kubectl's error and the kubeconfig", () => {
  it("keeps the line that says what went wrong", () => {
    expect(kubectlError("error: stat /nowhere/kubeconfig: no such file or directory\n")).toBe("stat /nowhere/kubeconfig: no such file or directory");
    expect(kubectlError('E0101 10:00:00.000000 1 memcache.go:265] "Unhandled Error" err="x"\n')).toBe('"Unhandled Error" err="x"');
    expect(kubectlError("")).toBe("kubectl failed without a message");
  });

  it("finds no kubeconfig only when kubectl would find none", () => {
    const home = fs.mkdtempSync(path.join(tmp, "home-"));
    expect(missingKubeconfig({}, home)).toMatch(/^no kubeconfig: KUBECONFIG is not set and ~\/\.kube\/config does not exist/);
    expect(missingKubeconfig({ KUBERNETES_SERVICE_HOST: "10.0.0.1" }, home)).toBeUndefined();
    expect(missingKubeconfig({ KUBECONFIG: `${path.join(tmp, "missing")}${path.delimiter}${KUBECONFIG}` }, home)).toBeUndefined();
    fs.mkdirSync(path.join(home, ".kube"));
    fs.writeFileSync(path.join(home, ".kube", "config"), "");
    expect(missingKubeconfig({}, home)).toBeUndefined();
  });
});
