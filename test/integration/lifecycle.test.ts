import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { explain, plannedChanges, Project, ROOT, type KubeObject } from "./support";

/**
 * The real engine against the real API server, in the order an operator meets it: preview,
 * up, an idempotent second preview, a registry edit, drift, a policy violation, a broken
 * registry, the state export and destroy.
 */
describe("the dev stack on the real engine", () => {
  let project: Project;
  let model: Model;
  let stackConfig: string;
  const PART_OF = "app.kubernetes.io/part-of=nexus-platform";
  const dashboardNs = () => model.services.find((s) => s.name === "system-dashboard")!.namespace;

  beforeAll(() => {
    project = new Project();
    stackConfig = project.read("Pulumi.dev.yaml");
    model = loadModel({ registriesDir: path.join(project.dir, "registries"), env: "dev" });
  });

  afterAll(() => {
    // A failed run must not leave objects behind for the next one.
    if (project) {
      project.stack("destroy");
      project.remove();
    }
  });

  it("1. previews with the policy pack and no mandatory violation", () => {
    const r = project.stack("preview");
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toContain("nexus-platform");
    expect(r.stdout).not.toMatch(/mandatory/i);
  });

  it("2. creates every object with the registry's values", () => {
    const r = project.stack("up");
    expect(r.code, explain(r)).toBe(0);

    const namespaces = project
      .getJson("namespaces", "-l", PART_OF)
      .items.map((n) => n.metadata.name)
      .sort();
    expect(namespaces).toEqual(model.namespaces.map((n) => n.name).sort());
    for (const ns of project.getJson("namespaces", "-l", PART_OF).items) {
      expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe(model.security.podSecurity.level);
    }

    const workloads = [...project.getJson("deployments", "-A", "-l", PART_OF).items, ...project.getJson("statefulsets", "-A", "-l", PART_OF).items];
    for (const s of model.services) {
      const w = workloads.find((o) => o.metadata.name === s.name && o.metadata.namespace === s.namespace);
      expect(w, `workload of ${s.name}`).toBeDefined();
      expect(w!.kind).toBe(s.stateful ? "StatefulSet" : "Deployment");
      if (!s.autoscaling) expect(w!.spec?.replicas).toBe(s.replicas);
      expect(w!.metadata.labels).toMatchObject({
        "app.kubernetes.io/name": s.name,
        "app.kubernetes.io/managed-by": "pulumi",
        "nexus.platform/owner": s.owner,
        "nexus.platform/environment": "dev",
      });
      expect(w!.metadata.annotations?.["nexus.platform/source"]).toBe(s.source);
    }

    const cronJobs = project.getJson("cronjobs", "-A", "-l", PART_OF).items;
    const scheduled = model.tasks.filter((t) => t.runner === "k8s-cronjob");
    expect(cronJobs.map((c) => c.metadata.name).sort()).toEqual(scheduled.map((t) => t.name).sort());
    for (const t of scheduled) {
      const c = cronJobs.find((o) => o.metadata.name === t.name)!;
      expect(c.spec).toMatchObject({ schedule: t.schedule, concurrencyPolicy: "Forbid", suspend: !t.enabled });
      expect(c.metadata.annotations?.["nexus.platform/source"]).toBe(t.source);
    }

    const policies = project.getJson("networkpolicies", "-A", "-l", PART_OF).items;
    for (const n of model.namespaces) {
      const deny = policies.find((p) => p.metadata.namespace === n.name && p.metadata.name === `${n.name}-default-deny`);
      expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    }
    for (const s of model.services) {
      const allow = policies.find((p) => p.metadata.namespace === s.namespace && p.metadata.name === `${s.name}-allow`);
      const egress = (allow?.spec?.egress ?? []) as { to: { podSelector?: { matchLabels: Record<string, string> } }[] }[];
      const reached = egress.flatMap((e) => e.to.map((t) => t.podSelector?.matchLabels["app.kubernetes.io/name"]));
      // The only open paths out of a service are its declared dependencies.
      expect(reached.sort(), `egress of ${s.name}`).toEqual([...s.dependsOn].sort());
    }
  });

  it("3. a second preview finds nothing to change", () => {
    const r = project.stack("preview", "--expect-no-changes");
    expect(r.code, explain(r)).toBe(0);
  });

  it("4. changing one registry value updates exactly what derives from it", () => {
    project.edit("registries/orchestration.yaml", 'REFRESH_SECONDS: "5"', 'REFRESH_SECONDS: "15"');
    const preview = project.stack("preview", "--json");
    expect(preview.code, explain(preview)).toBe(0);
    const changed = plannedChanges(preview.stdout);
    const names = Object.entries(changed)
      .map(([urn, op]) => `${op} ${urn.split("::").pop()}`)
      .sort();
    // The ConfigMap holds the value; the Deployment's pod template carries its checksum; the
    // deployment check, whose pod carries a hash of the services' entries, runs again.
    expect(names).toEqual(["replace deployment-check-job", "update system-dashboard-deployment", "update system-dashboard-env"]);

    const up = project.stack("up");
    expect(up.code, explain(up)).toBe(0);
    const cm = project.getJson<KubeObject>("configmap", "-n", dashboardNs(), "system-dashboard-env");
    expect(cm.data?.REFRESH_SECONDS).toBe("15");
  });

  it("5. a change made through the API is reported by refresh as drift", () => {
    const patch = project.kubectl(
      "patch",
      "configmap",
      "-n",
      dashboardNs(),
      "system-dashboard-env",
      "--type",
      "merge",
      "-p",
      '{"data":{"REFRESH_SECONDS":"99"}}',
    );
    expect(patch.code, explain(patch)).toBe(0);
    const drift = project.pulumi("refresh", "--preview-only", "--expect-no-changes");
    expect(drift.code, explain(drift)).not.toBe(0);
    expect(drift.stdout).toContain("system-dashboard-env");

    // Converge again: accept the live state, then put the registry's value back.
    expect(project.pulumi("refresh", "--yes").code).toBe(0);
    const up = project.stack("up");
    expect(up.code, explain(up)).toBe(0);
    const cm = project.getJson<KubeObject>("configmap", "-n", dashboardNs(), "system-dashboard-env");
    expect(cm.data?.REFRESH_SECONDS).toBe("15");
  });

  it("6. a registry that violates a mandatory policy is stopped by the gate and changes nothing", () => {
    const registry = project.read("registries/security.yaml");
    const before = project.getJson<KubeObject & { rules: { verbs: string[] }[] }>("role", "-n", "core", "platform-admins-edit");
    project.edit("registries/security.yaml", "verbs: [get, list, watch, create, update, patch, delete]", 'verbs: ["*"]');
    // The registry is put back even when a check fails, so that the later steps still run.
    try {
      const preview = project.stack("preview");
      expect(preview.code, explain(preview)).not.toBe(0);
      expect(preview.stdout + preview.stderr).toContain("no-wildcard-rbac");

      const up = project.stack("up");
      expect(up.code, explain(up)).not.toBe(0);
      const after = project.getJson<KubeObject & { rules: { verbs: string[] }[] }>("role", "-n", "core", "platform-admins-edit");
      expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      expect(after.rules[0]!.verbs).not.toContain("*");
    } finally {
      project.write("registries/security.yaml", registry);
    }
  });

  it("7. an invalid registry stops the program with the located error before anything is touched", () => {
    const registry = project.read("registries/orchestration.yaml");
    // What a deploy would change: labels, annotations and the spec's generation where the object
    // has one, else the resourceVersion (ConfigMaps). Not the resourceVersion of workloads and
    // CronJobs: their controllers write the status, e.g. when a CronJob's schedule comes due.
    const versions = () =>
      project
        .getJson("configmaps,deployments,statefulsets,cronjobs", "-A", "-l", PART_OF)
        .items.map(
          (o) =>
            `${o.kind}/${o.metadata.name}@${o.metadata.generation ?? o.metadata.resourceVersion} ` +
            JSON.stringify([o.metadata.labels, o.metadata.annotations]),
        )
        .sort();
    const before = versions();
    project.edit("registries/orchestration.yaml", "dependsOn: [postgres, redis]", "dependsOn: [postgress, redis]");
    // The registry is put back even when a check fails, so that the later steps still run.
    try {
      const preview = project.pulumi("preview");
      expect(preview.code, explain(preview)).not.toBe(0);
      expect(preview.stdout + preview.stderr).toMatch(
        /registries\/orchestration\.yaml:\d+:\d+ services\[\d+\]\.dependsOn\[0\]: service "postgress" does not exist: did you mean "postgres"\?/,
      );

      const up = project.pulumi("up", "--yes");
      expect(up.code, explain(up)).not.toBe(0);
      expect(versions()).toEqual(before);
    } finally {
      project.write("registries/orchestration.yaml", registry);
    }
  });

  it("8. the state holds no plaintext secret value", () => {
    const exported = project.run("pulumi", ["stack", "export", "--stack", "dev"]);
    expect(exported.code, explain(exported)).toBe(0);
    const keys = project
      .run("node", ["bin/nexus.js", "secrets", "--env", "dev"])
      .stdout.trim()
      .split("\n")
      .map((l) => l.split("\t")[0]!);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const value = project.pulumi("config", "get", key);
      expect(value.code, explain(value)).toBe(0);
      expect(value.stdout.trim().length).toBeGreaterThanOrEqual(16);
      expect(exported.stdout.includes(value.stdout.trim()), `secret ${key} in the state`).toBe(false);
    }
    expect(exported.stdout).toContain("4dabf18193072939515e22adb298388d");
  });

  it("9. destroy leaves no object of ours in the cluster", () => {
    const r = project.stack("destroy");
    expect(r.code, explain(r)).toBe(0);
    const left = project.getJson(
      "namespaces,deployments,statefulsets,cronjobs,jobs,configmaps,secrets,services,networkpolicies,roles,rolebindings",
      "-A",
      "-l",
      PART_OF,
    ).items;
    const terminating = project.getJson("namespaces", "-l", PART_OF).items;
    expect(left.filter((o) => o.kind !== "Namespace").map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([]);
    // Namespace deletion finishes asynchronously in the namespace controller.
    for (const ns of terminating) expect((ns as unknown as { status: { phase: string } }).status.phase).toBe("Terminating");
  });

  it("10. the stack command repeats its setup only when something it reads changed", () => {
    const policyConfig = path.join(project.dir, ".pulumi-state", "policy-config.dev.json");
    const written = () => fs.statSync(policyConfig).mtimeMs;
    const preview = () => {
      const r = project.stack("preview");
      expect(r.code, explain(r)).toBe(0);
      return r;
    };
    preview();
    const first = written();
    preview();
    expect(written(), "nothing changed: the policy config is not compiled again").toBe(first);

    // A registry saved again (even unchanged) and a secret removed from the stack's config copy.
    project.write("registries/security.yaml", project.read("registries/security.yaml"));
    expect(project.pulumi("config", "rm", "postgresPassword").code).toBe(0);
    const again = preview();
    expect(written()).toBeGreaterThan(first);
    expect(again.stderr).toContain("generated a value for secret postgresPassword");
  });

  it("11. the stack commands leave the committed stack config and the checkout's environment alone", () => {
    // The stack's salt, secrets and settings live in the git-ignored copy in the state folder.
    expect(project.read("Pulumi.dev.yaml")).toBe(stackConfig);
    expect(project.read(".pulumi-state/Pulumi.dev.yaml")).toMatch(/^encryptionsalt: /m);
    const env = fs.readFileSync(path.join(ROOT, ".tools", "env"), "utf8");
    expect(env).toContain(`export PATH="${path.join(ROOT, ".tools", "bin")}:`);
    expect(env).not.toContain(path.dirname(project.dir));
  });
});
