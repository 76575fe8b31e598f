/**
 * Every namespace's quota must hold all that can run there at once, per environment: what the
 * quota-headroom check counts, and that the committed registries pass it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { formatProblem, loadRegistries } from "../../domain/loader";
import { copyRegistries, REAL_REGISTRIES, removeRegistries, replaceIn } from "../support/registries";

const TODAY = "2026-11-27";
let dir: string | undefined;
afterEach(() => {
  if (dir) removeRegistries(dir);
  dir = undefined;
});

/** The quota-headroom problems of a copy of `from` after the edits, in `env` or every environment. */
function headroom(from: string | undefined, edits: [file: string, from: string, to: string][], env?: string): string[] {
  dir = copyRegistries(from);
  for (const [file, a, b] of edits) replaceIn(dir, file, a, b);
  return loadRegistries({ registriesDir: dir, env, today: TODAY })
    .problems.filter((p) => p.code === "quota-headroom")
    .map(formatProblem);
}

describe("the committed registries", () => {
  it("fit every namespace's quota in every environment", () => {
    const result = loadRegistries({ registriesDir: REAL_REGISTRIES, today: TODAY });
    expect(result.environments).toEqual(["dev", "staging", "prod"]);
    expect(result.problems.filter((p) => p.code === "quota-headroom")).toEqual([]);
  });

  it("are refused with the dev quotas under which the dev node refused the CronJobs' pods", () => {
    const problems = headroom(REAL_REGISTRIES, [
      ["orchestration.yaml", 'dev: { quota: { cpu: "10", memory: 8Gi, pods: 30 } }', 'dev: { quota: { cpu: "4", memory: 8Gi, pods: 30 } }'],
      ["orchestration.yaml", 'dev: { quota: { cpu: "5", memory: 6Gi, pods: 20 } }', 'dev: { quota: { cpu: "2", memory: 4Gi, pods: 20 } }'],
    ]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      /^registries\/orchestration\.yaml:\d+:\d+ namespaces\[0\]\.environments\.dev\.quota\.cpu: namespace core: .* need limits\.cpu 9700m, the quota allows 4: .*tasks: performance-test 2, /,
    );
    expect(problems[1]).toMatch(/namespaces\[3\]\.environments\.dev\.quota\.cpu: namespace observability: .* need limits\.cpu 5, the quota allows 2: /);
    expect(problems[2]).toMatch(
      /namespaces\[3\]\.environments\.dev\.quota\.memory: namespace observability: .* need limits\.memory 5248Mi, the quota allows 4Gi: /,
    );
    expect(problems[1]).toContain("tasks: anomaly-detection 1, predictive-analytics 1, health-check 200m;");
  });
});

describe("what can run in a namespace at once", () => {
  // Core in dev on the minimal registries: api, Prometheus, Alertmanager, Grafana and kube-state-metrics with a rollout pod each, and the audit task.
  const corePods = (pods: number): [string, string, string] => [
    "orchestration.yaml",
    "  - name: core\n    owner: platform\n",
    `  - name: core\n    owner: platform\n    quota: { pods: ${pods} }\n`,
  ];

  it("counts a rollout pod for each Deployment", () => {
    expect(headroom(undefined, [corePods(11)], "dev")).toEqual([]);
    expect(headroom(undefined, [corePods(10)], "dev")).toEqual([
      "registries/orchestration.yaml:11:20 namespaces[0].quota.pods: namespace core: the workloads and tasks that can run at once need 11 pods, the quota allows 10: " +
        "raise namespaces[0].quota.pods or run fewer pods there (services: api 2; monitoring: prometheus 2, alertmanager 2, grafana 2 and 1 more; tasks: audit 1; " +
        "counted: autoscaled services at maxReplicas, each Deployment with the extra pod of its rolling update, each enabled in-cluster task once, as schedules may coincide)",
    ]);
  });

  it("leaves out Grafana where it is off, and the rollout pod of Prometheus run by the operator as a StatefulSet", () => {
    expect(
      headroom(undefined, [corePods(9), ["monitoring.yaml", "routing:\n", "  environments:\n    dev:\n      grafana: { enabled: false }\nrouting:\n"]], "dev"),
    ).toEqual([]);
    expect(headroom(undefined, [corePods(10), ["monitoring.yaml", "stack:\n", "stack:\n  mode: operator\n"]], "dev")).toEqual([]);
    // With storage, standalone Prometheus is a StatefulSet too: no rollout pod.
    const storage: [string, string, string] = ["monitoring.yaml", "  prometheus:\n", "  prometheus:\n    storage: { size: 10Gi }\n"];
    expect(headroom(undefined, [corePods(10), storage], "dev")).toEqual([]);
    expect(headroom(undefined, [corePods(9), storage], "dev")).toHaveLength(1);
  });

  it("counts a stateful service's replicas without a rollout pod, and a task without resources at the default limits", () => {
    const data = (quota: string): [string, string, string] => [
      "orchestration.yaml",
      "  - name: data\n    owner: data\n",
      `  - name: data\n    owner: data\n    quota: ${quota}\n`,
    ];
    // db (a StatefulSet, limits 1 CPU and 1Gi) and db-backup (no resources: 500m and 256Mi).
    expect(headroom(undefined, [data("{ cpu: 1500m, memory: 1280Mi, pods: 2 }")], "dev")).toEqual([]);
    expect(headroom(undefined, [data("{ cpu: 1400m, memory: 1280Mi, pods: 2 }")], "dev")).toEqual([
      "registries/orchestration.yaml:13:19 namespaces[1].quota.cpu: namespace data: the workloads and tasks that can run at once need limits.cpu 1500m, the quota allows 1400m: " +
        "raise namespaces[1].quota.cpu or lower the limits (services: db 1; tasks: db-backup 500m; " +
        "counted: autoscaled services at maxReplicas, each Deployment with the extra pod of its rolling update, each enabled in-cluster task once, as schedules may coincide)",
    ]);
  });

  it("does not count a task that runs beside Pulumi", () => {
    const local = "  - name: smoke\n    kind: test\n    owner: platform\n    runner: local-command\n    target: api\n    command: [echo, ok]\n";
    expect(headroom(undefined, [corePods(11), ["automation.yaml", "tasks:\n", `tasks:\n${local}`]], "dev")).toEqual([]);
  });
});
