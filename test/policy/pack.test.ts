import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  PACK_NAME,
  awsPolicies,
  backupPolicies,
  networkPolicies,
  policies,
  stackPolicies,
  traceabilityPolicies,
  workloadPolicies,
} from "../../policy/policies";
import { reconcileConfig, violationText } from "../../internal/pulumi/analyzer";
import { POLICY_CATALOG, POLICY_IDS } from "../../domain/schema";
import { FIXTURES, TEST_CONFIG, TODAY } from "./fixtures";
import { A } from "./fixtures/aws";
import * as kube from "./fixtures/kube";
import { POLICY_DIR, evaluatePack, onlyPolicy, runPolicy, secretValue, unknownValue, urnOf, type FixtureResource } from "./support";

const WRITABLE =
  'Deployment "api": container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (e.g. /tmp)';

function exception(resource: string, expires: string, owner = "platform") {
  return { resource, expires, owner, reason: "Needs a writable root until the image is fixed" };
}

describe("the pack", () => {
  it("implements exactly the catalog, one policy per id, in its domain's module", () => {
    expect(policies.map((p) => p.name)).toEqual(POLICY_IDS);
    const modules = {
      workloads: workloadPolicies,
      network: networkPolicies,
      traceability: traceabilityPolicies,
      backups: backupPolicies,
      aws: awsPolicies,
      stack: stackPolicies,
    };
    for (const [domain, list] of Object.entries(modules)) {
      expect(list.map((p) => p.name)).toEqual(POLICY_IDS.filter((id) => POLICY_CATALOG[id] === domain));
    }
  });

  it("describes every policy with 'Checks whether', a config schema with today and exceptions", () => {
    for (const p of policies) {
      expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.description).toMatch(/^Checks whether /);
      expect(Object.keys(p.configSchema?.properties ?? {})).toEqual(expect.arrayContaining(["today", "exceptions"]));
      expect(JSON.parse(JSON.stringify(p.configSchema))).toEqual(p.configSchema);
    }
  });

  it("is served under the name index.ts gives the PolicyPack, with its own locked package", () => {
    expect(fs.readFileSync(path.join(POLICY_DIR, "index.ts"), "utf8")).toContain("new PolicyPack(PACK_NAME,");
    expect(PACK_NAME).toBe("nexus-platform");
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
    expect(pkg.name).toBe("nexus-policy");
    expect(pkg.dependencies["@pulumi/policy"]).toBe("1.21.0");
    expect(pkg.dependencies["@pulumi/pulumi"]).toBe("3.270.0");
    expect(fs.existsSync(path.join(POLICY_DIR, "package-lock.json"))).toBe(true);
    expect(fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
  });

  it("passes a compliant stack with every policy mandatory", async () => {
    const resources = new Map<string, FixtureResource>();
    for (const f of [
      FIXTURES["namespace-default-deny"],
      FIXTURES["deployment-restricted"],
      FIXTURES["serviceaccount-no-automount"],
      FIXTURES["serviceaccount-declared-automount"],
      FIXTURES["service-cluster-ip"],
      FIXTURES["service-load-balancer-public"],
      FIXTURES["statefulset-with-backup"],
      FIXTURES["monitoring-with-alerts"],
      FIXTURES["bucket-hardened"],
      FIXTURES["role-policy-scoped"],
      FIXTURES["role-scoped"],
      FIXTURES["rolebinding-scoped"],
      FIXTURES["prod-frontend-ha"],
    ].flat()) {
      resources.set(`${f.type}::${f.name}`, f);
    }
    const config = Object.fromEntries(policies.map((p) => [p.name, { enforcementLevel: "mandatory" as const, today: TODAY, ...TEST_CONFIG[p.name] }]));
    const result = await evaluatePack([...resources.values()], config);
    expect(result.diagnostics.map((d) => `${d.policyName}: ${violationText(d)}`)).toEqual([]);
  });
});

describe("exceptions", () => {
  const run = (exceptions: unknown[]) => runPolicy("read-only-root-filesystem", FIXTURES["deployment-writable-root"], { today: TODAY, exceptions });

  it("silence a violation while active, up to and including the expiry day", async () => {
    expect((await run([exception("api", "2026-06-30")])).messages).toEqual([]);
    expect((await run([exception("api", TODAY)])).messages).toEqual([]);
  });

  it("stop applying once expired, and the message says whose exception expired when", async () => {
    expect((await run([exception("api", "2025-12-31")])).messages).toEqual([
      `${WRITABLE} (exception for api by platform expired on 2025-12-31: fix the resource, or renew the exception with a new expiry in registries/security.yaml)`,
    ]);
  });

  it("prefer an active exception over an expired one for the same resource", async () => {
    expect((await run([exception("api", "2025-12-31"), exception("api", "2026-12-31")])).messages).toEqual([]);
  });

  it("cover only the resource they name", async () => {
    expect((await run([exception("db", "2026-06-30", "data")])).messages).toEqual([WRITABLE]);
  });

  it("match the registry entry (name label), the object name or the Pulumi name", async () => {
    const renamed = kube.variant(
      kube.deploymentWritableRoot,
      (p) => {
        p.metadata.name = "api-7f9c";
      },
      "api-deployment",
    );
    for (const name of ["api", "api-7f9c", "api-deployment"]) {
      expect((await runPolicy("read-only-root-filesystem", renamed, { today: TODAY, exceptions: [exception(name, "2026-06-30")] })).messages).toEqual([]);
    }
  });

  it("apply to stack policies, for the resource the violation is about", async () => {
    const fixture = FIXTURES["statefulset-without-backup"];
    expect((await runPolicy("stateful-workload-backup", fixture, { today: TODAY, exceptions: [exception("redis", "2026-03-01", "data")] })).messages).toEqual(
      [],
    );
    const expired = await runPolicy("stateful-workload-backup", fixture, { today: TODAY, exceptions: [exception("redis", "2026-01-01", "data")] });
    expect(expired.messages).toEqual([
      'StatefulSet "redis" has no backup CronJob labelled nexus.platform/backup-of=redis: add a backup task with target: redis to registries/automation.yaml (its BackupJob carries that label) (exception for redis by data expired on 2026-01-01: fix the resource, or renew the exception with a new expiry in registries/security.yaml)',
    ]);
    expect(expired.diagnostics[0]?.urn).toBe(urnOf(kube.T.StatefulSet, "redis"));
  });

  it("name a bucket by its bucket name or its Pulumi name", async () => {
    for (const name of ["nexus-backups-prod", "backups"]) {
      expect(
        (await runPolicy("s3-versioning", FIXTURES["bucket-bare"], { today: TODAY, exceptions: [exception(name, "2026-02-01", "data")] })).messages,
      ).toEqual([]);
    }
  });
});

describe("the policy server's behaviour", () => {
  it("reports at the configured enforcement level, and not at all when disabled", async () => {
    const fixture = FIXTURES["deployment-writable-root"];
    const advisory = await evaluatePack(fixture, {
      ...onlyPolicy("read-only-root-filesystem"),
      "read-only-root-filesystem": { enforcementLevel: "advisory", today: TODAY },
    });
    expect(advisory.diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.urn])).toEqual([
      ["read-only-root-filesystem", "advisory", urnOf(kube.T.Deployment, "api")],
    ]);
    const disabled = await evaluatePack(fixture, { ...onlyPolicy("read-only-root-filesystem"), "read-only-root-filesystem": "disabled" });
    expect(disabled.diagnostics).toEqual([]);
  });

  it("prepends the description to the message, as reportViolation does", async () => {
    const [d] = (await runPolicy("read-only-root-filesystem", FIXTURES["deployment-writable-root"], { today: TODAY })).diagnostics;
    expect(d?.message).toBe(`${d?.description}\n${WRITABLE}`);
    expect(d?.policyPackName).toBe("nexus-platform");
  });

  it("turns a value unknown during preview into an advisory 'can't run' diagnostic", async () => {
    const rolePolicy: FixtureResource = { type: A.RolePolicy, name: "postgres-backup", props: { role: "postgres-backup", policy: unknownValue() } };
    const result = await runPolicy("iam-no-wildcards", rolePolicy, { today: TODAY });
    expect(result.diagnostics.map((d) => [d.enforcementLevel, d.message])).toEqual([
      [
        "advisory",
        "can't run policy 'iam-no-wildcards' from policy pack 'nexus-platform@v0.1.0' during preview: string value at .policy can't be known during preview",
      ],
    ]);
  });

  it("sees secret values in plain text, so a literal secret env value is still found", async () => {
    const fixture = kube.variant(kube.deploymentRestricted, (p) => {
      p.spec.template.spec.containers[0].env = [{ name: "API_TOKEN", value: secretValue("abc123") }];
    });
    expect((await runPolicy("no-literal-secret-env", fixture, { today: TODAY })).messages).toEqual([
      'Deployment "api": container "api" sets env API_TOKEN to a literal value that looks like a secret: reference a Secret with valueFrom.secretKeyRef instead (list it under secrets: in the registry; the value lives in Pulumi config secrets)',
    ]);
  });

  it("marks prod-ha-user-facing not applicable outside prod", async () => {
    const result = await runPolicy("prod-ha-user-facing", FIXTURES["prod-frontend-single"], { environment: "dev", userFacingServices: ["frontend"] });
    expect(result.messages).toEqual([]);
    expect(result.notApplicable.filter((n) => n.policyName === "prod-ha-user-facing").map((n) => n.reason)).toEqual([
      "applies to prod only; this stack deploys dev",
    ]);
  });

  it("rejects config the engine would reject: wrong types, unknown policies", () => {
    expect(() => reconcileConfig(policies, "mandatory", { "allowed-image-registries": { allowedRegistries: "ghcr.io" } })).toThrow(
      "allowed-image-registries: allowedRegistries must be of type array",
    );
    expect(() => reconcileConfig(policies, "mandatory", { "no-such-policy": "mandatory" })).toThrow("no-such-policy");
    expect(reconcileConfig(policies, "advisory", { all: "disabled" })["prod-ha-user-facing"]).toEqual({
      enforcementLevel: "disabled",
      properties: { minReplicas: 2 },
    });
  });
});
