/**
 * `nexus diagnose` against the real API server: the tests' cluster has no node, so the pod of a
 * Deployment labelled like the stack's workloads stays Pending, and the diagnosis must name its
 * registry entry and say so.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION, LABEL, MANAGED_BY, PART_OF } from "../../contract/labels";
import { KUBECONFIG, ROOT, explain, type Result } from "./support";

const NAMESPACE = `diagnose-${process.pid}`;
const ENTRY = "diagnose-probe";
const SOURCE = "registries/orchestration.yaml:7";
const ENV = { ...process.env, KUBECONFIG, PATH: `${path.join(ROOT, ".tools", "bin")}:${process.env.PATH}`, NO_COLOR: "1" };

function run(command: string, args: readonly string[], input?: string): Result {
  const r = spawnSync(command, args, { cwd: ROOT, input, encoding: "utf8", env: ENV, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function mustKubectl(args: readonly string[], input?: string): Result {
  const r = run("kubectl", args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed:\n${explain(r)}`);
  return r;
}

/** A Deployment with the labels and source annotation the components put on a service's objects. */
function deployment(): Record<string, unknown> {
  const labels = {
    [LABEL.name]: ENTRY,
    [LABEL.component]: "service",
    [LABEL.partOf]: PART_OF,
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.owner]: "platform-team",
    [LABEL.environment]: "dev",
  };
  const annotations = { [ANNOTATION.source]: SOURCE };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: ENTRY, namespace: NAMESPACE, labels, annotations },
    spec: {
      replicas: 1,
      selector: { matchLabels: { [LABEL.name]: ENTRY, [LABEL.partOf]: PART_OF } },
      template: {
        metadata: { labels, annotations },
        spec: { containers: [{ name: ENTRY, image: "registry.k8s.io/pause:3.10" }] },
      },
    },
  };
}

describe("nexus diagnose on an API server without nodes", () => {
  beforeAll(async () => {
    mustKubectl(["create", "namespace", NAMESPACE]);
    // The ServiceAccount admission refuses pods whose ServiceAccount does not exist yet.
    const sa = run("kubectl", ["create", "serviceaccount", "default", "--namespace", NAMESPACE]);
    if (sa.code !== 0 && !/already ?exists/i.test(sa.stderr)) throw new Error(`creating the default ServiceAccount failed:\n${explain(sa)}`);
    mustKubectl(["create", "-f", "-"], JSON.stringify(deployment()));
    // The controller manager creates the ReplicaSet and its pod; no scheduler ever places it.
    for (let i = 0; ; i++) {
      const pods = JSON.parse(mustKubectl(["get", "pods", "--namespace", NAMESPACE, "-o", "json"]).stdout) as { items: unknown[] };
      if (pods.items.length > 0) break;
      if (i >= 60) throw new Error("the Deployment got no pod within 30 s: is the controller manager of the test cluster running?");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });

  afterAll(() => {
    run("kubectl", ["delete", "namespace", NAMESPACE, "--wait=false", "--ignore-not-found"]);
  });

  it("exits 1 naming the registry entry and its pod, Pending with no node", () => {
    const r = run("node", [path.join(ROOT, "bin", "nexus.js"), "diagnose", "--stack", "dev", "--namespace", NAMESPACE]);
    expect(r.code, explain(r)).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0], explain(r)).toBe(`${SOURCE} service ${ENTRY}: Deployment ${NAMESPACE}/${ENTRY} 0/1 ready: Pending, no node`);
    expect(lines[1]).toMatch(
      new RegExp(`^  pod ${ENTRY}-[a-z0-9]+-[a-z0-9]+ \\(Pending\\): Pending: no node: not scheduled yet \\(the cluster has no node, or no scheduler runs\\)$`),
    );
    expect(lines[lines.length - 1]).toBe("nexus diagnose: 1 of 1 workloads not Ready (stack dev, environment dev)");
  });

  it("exits 0 once the workload is gone", () => {
    mustKubectl(["delete", "deployment", ENTRY, "--namespace", NAMESPACE]);
    const r = run("node", [path.join(ROOT, "bin", "nexus.js"), "diagnose", "--stack", "dev", "--namespace", NAMESPACE]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe("ok: no workloads of stack dev, environment dev in the cluster\n");
  });
});
