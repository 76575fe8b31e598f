import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { runtimeSteps } from "./runtime";
import { explain, getJson, hostSnapshot, jobOutcome, kubectl, type Pod, probeFrom, ROOT, run, runAsync, sleepMs } from "./support";

/**
 * The dev stack on the checkout's own cluster, whose node runs the pods: everything the registries
 * declare starts and becomes Ready, the cluster enforces Pod Security and the network policies,
 * and destroy and stop leave nothing behind. Steps build on each other and run in order; the last
 * destroys the stack and stops the cluster.
 */
describe("the dev stack on a real node", () => {
  let model: Model;
  const PART_OF = "app.kubernetes.io/part-of=nexus-platform";
  const demoImage = () => model.services.find((s) => s.image.startsWith("nexus.local/demo:"))!.image;
  const podOf = (namespace: string, name: string): Pod => {
    const pods = getJson<{ items: Pod[] }>("pods", "-n", namespace).items.filter((p) => p.status.phase === "Running");
    const pod = pods.find((p) => p.metadata.name === `${name}-0` || p.metadata.name.startsWith(`${name}-`));
    if (!pod) throw new Error(`no running pod of ${namespace}/${name}`);
    return pod;
  };

  beforeAll(() => {
    model = loadModel({ registriesDir: path.join(ROOT, "registries"), env: "dev" });
  });

  it("1. npm run up returns with every workload Available and no restart", () => {
    const up = run("bash", ["scripts/stack", "up"]);
    expect(up.code, explain(up)).toBe(0);
    const workloads = [
      ...getJson<{ items: { kind: string; metadata: { name: string; namespace: string }; spec: { replicas: number }; status: { readyReplicas?: number } }[] }>(
        "deployments,statefulsets",
        "-A",
        "-l",
        PART_OF,
      ).items,
    ];
    for (const s of model.services) {
      const w = workloads.find((o) => o.metadata.name === s.name && o.metadata.namespace === s.namespace);
      expect(w, `workload of ${s.name} (${s.source})`).toBeDefined();
      expect(w!.status.readyReplicas ?? 0, `${s.name} ready replicas`).toBe(w!.spec.replicas);
    }
    // Every workload of the stack, the monitoring stack's included.
    for (const w of workloads) expect(w.status.readyReplicas ?? 0, `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`).toBe(w.spec.replicas);
    const pods = getJson<{ items: Pod[] }>("pods", "-A", "-l", PART_OF).items.filter((p) => !p.metadata.ownerReferences?.some((o) => o.kind === "Job"));
    expect(pods.length).toBeGreaterThan(0);
    for (const p of pods) {
      for (const c of p.status.containerStatuses ?? []) {
        expect(c.restartCount, `restarts of ${p.metadata.namespace}/${p.metadata.name} ${c.name}`).toBe(0);
      }
    }
  });

  it("1b. each CronJob, triggered once, completes", async () => {
    const cronJobs = getJson<{ items: { metadata: { name: string; namespace: string } }[] }>("cronjobs", "-A", "-l", PART_OF).items;
    expect(cronJobs.length).toBeGreaterThan(0);
    const suffix = `t${Date.now().toString(36)}`;
    const outcomes = await Promise.all(
      cronJobs.map(async (c) => {
        const job = `${c.metadata.name.slice(0, 40)}-${suffix}`;
        const created = await runAsync("kubectl", ["create", "job", "-n", c.metadata.namespace, `--from=cronjob/${c.metadata.name}`, job]);
        if (created.code !== 0) return { cronJob: c.metadata.name, outcome: `not created: ${created.stderr}` };
        const finished = await jobOutcome(c.metadata.namespace, job, 240);
        const logs = await runAsync("kubectl", ["logs", "-n", c.metadata.namespace, `job/${job}`, "--tail=20"]);
        await runAsync("kubectl", ["delete", "-n", c.metadata.namespace, `job/${job}`, "--wait=false"]);
        return { cronJob: c.metadata.name, outcome: finished || "unfinished after 240 s", logs: logs.stdout + logs.stderr };
      }),
    );
    for (const o of outcomes) expect(o.outcome, `${o.cronJob}:\n${o.logs ?? ""}`).toBe("Complete");
  });

  it("2. the cluster rejects a pod that violates the restricted profile in a platform namespace", () => {
    const ns = model.namespaces[0]!.name;
    // A pod of the demo image, checked by the API server's admission only (nothing is created).
    const dryRun = (name: string, ...flags: string[]) =>
      kubectl("run", name, "-n", ns, "--image", demoImage(), "--image-pull-policy", "Never", "--restart", "Never", "--dry-run=server", ...flags);
    const r = dryRun("psa-violation", "--privileged");
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.stderr).toMatch(/violates PodSecurity "restricted/);
    // The same pod within the profile is admitted (the rejection is the profile's, not a typo's).
    const ok = dryRun(
      "psa-compliant",
      "--overrides",
      JSON.stringify({
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "psa-compliant",
              image: demoImage(),
              imagePullPolicy: "Never",
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
          ],
        },
      }),
    );
    expect(ok.code, explain(ok)).toBe(0);
  });

  it("3. each service reaches exactly its declared dependencies, and DNS resolves", async () => {
    const byName = new Map(model.services.map((s) => [s.name, s]));
    const address = (name: string) => {
      const s = byName.get(name)!;
      return `${s.name}.${s.namespace}.svc.cluster.local:${s.port}`;
    };
    const checks = model.services
      .filter((s) => s.replicas > 0)
      .map(async (s) => {
        const pod = podOf(s.namespace, s.name);
        // A service neither calling s nor called by s: no policy lets s reach it.
        const stranger = model.services.find((t) => t.name !== s.name && !s.dependsOn.includes(t.name) && t.replicas > 0);
        const targets = [
          ...s.dependsOn.map((d) => ({ target: address(d), allowed: true })),
          ...(stranger ? [{ target: address(stranger.name), allowed: false }] : []),
        ];
        const results: string[] = [];
        for (const t of targets) {
          const r = await probeFrom(pod, demoImage(), ["nexus-demo", "connect", t.target, "--timeout", "3s"]);
          results.push(`${s.name} -> ${t.target}: ${r.exitCode === 0 ? "open" : "closed"} (declared ${t.allowed ? "yes" : "no"})`);
          expect(r.exitCode === 0, `${s.name} -> ${t.target}\n${r.log}`).toBe(t.allowed);
        }
        const dns = await probeFrom(pod, demoImage(), ["nexus-demo", "resolve", "kubernetes.default.svc.cluster.local"]);
        expect(dns.exitCode, `DNS from ${s.name}\n${dns.log}`).toBe(0);
        return results;
      });
    const all = (await Promise.all(checks)).flat();
    expect(all.some((l) => l.includes("declared no"))).toBe(true);
  });

  // Monitoring, alerting, backups and task records at runtime (they need the stack running).
  runtimeSteps(() => model);

  it("4. destroy leaves no pod or container of the stack, and stop leaves nothing on the host", async () => {
    const destroy = run("bash", ["scripts/stack", "destroy"]);
    expect(destroy.code, explain(destroy)).toBe(0);
    for (let i = 0; i < 60; i++) {
      if (getJson<{ items: Pod[] }>("pods", "-A", "-l", PART_OF).items.length === 0) break;
      await sleepMs(2000);
    }
    expect(getJson<{ items: Pod[] }>("pods", "-A", "-l", PART_OF).items.map((p) => p.metadata.name)).toEqual([]);
    // The kubelet stops and removes the containers of deleted pods shortly after the API forgets them.
    const stackContainers = () => {
      const r = run("crictl", ["--runtime-endpoint", "unix:///run/nexus-cluster/containerd/containerd.sock", "ps", "-a", "-o", "json"]);
      expect(r.code, explain(r)).toBe(0);
      return (JSON.parse(r.stdout) as { containers: { labels: Record<string, string> }[] }).containers
        .map((c) => `${c.labels["io.kubernetes.pod.namespace"]}/${c.labels["io.kubernetes.pod.name"]}`)
        .filter((n) => !n.startsWith("kube-system/"));
    };
    for (let i = 0; i < 60 && stackContainers().length > 0; i++) await sleepMs(2000);
    expect(stackContainers()).toEqual([]);

    const cluster = (action: string) => run("bash", ["scripts/local-cluster", action]);
    let r = cluster("stop");
    expect(r.code, explain(r)).toBe(0);
    const before = hostSnapshot();
    // Nothing of the node is left after the stop of the cluster `npm run up` started...
    expect(before.processes).toEqual([]);
    expect(before.links.filter((l) => l === "nexus0" || l.startsWith("veth"))).toEqual([]);
    expect(before.iptables.filter((l) => /KUBE-|CNI-/.test(l))).toEqual([]);
    expect(before.ipsets.filter((l) => /KUBE-/.test(l))).toEqual([]);
    expect(before.mounts.filter((m) => /nexus-cluster|kubelet|containerd|netns/.test(m))).toEqual([]);
    expect(before.cgroups).toEqual([]);
    r = cluster("start");
    expect(r.code, explain(r)).toBe(0);
    const running = hostSnapshot();
    // ...and the sysctls are those the node found when it started.
    const recorded = Object.fromEntries(
      fs
        .readFileSync(path.join(ROOT, ".tools", "cluster", "run", "host.before"), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("sysctl "))
        .map((l) => l.split(" ").slice(1) as [string, string]),
    );
    for (const [k, v] of Object.entries(before.sysctls)) if (k in recorded) expect(v, k).toBe(recorded[k]);
    // The snapshot sees a node: otherwise equal snapshots would prove nothing.
    expect(running.links).toContain("nexus0");
    expect(running.processes).toContain("kubelet");
    expect(running.mounts.length).toBeGreaterThan(before.mounts.length);
    r = cluster("stop");
    expect(r.code, explain(r)).toBe(0);
    expect(hostSnapshot()).toEqual(before);
  });
});
