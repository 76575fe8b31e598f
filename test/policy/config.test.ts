import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { policies } from "../../policy/policies";
import { main } from "../../cmd/nexus";
import { loadModel } from "../../domain/loader";
import { reconcileConfig, violationText } from "../../internal/pulumi/analyzer";
import { policyPackConfig } from "../../stacks/policyConfig";
import { POLICY_IDS } from "../../domain/schema";
import { MINIMAL_REGISTRIES, copyRegistries, removeRegistries, replaceIn } from "../support/registries";
import { T, cronJob, statefulSet, variant } from "./fixtures/kube";
import { evaluatePack } from "./support";

const TODAY = "2026-01-15";
const model = (env: string, registriesDir = MINIMAL_REGISTRIES, today = TODAY) => loadModel({ registriesDir, env, today });

const DB_EXCEPTION = {
  resource: "db",
  expires: "2026-03-31",
  owner: "data",
  reason: "PostgreSQL writes its socket and pid files under /var/run",
};

describe("policyPackConfig", () => {
  it("gives every catalog policy its dev enforcement, today and its exceptions", () => {
    const config = policyPackConfig(model("dev"), TODAY);
    expect(Object.keys(config)).toEqual(POLICY_IDS);
    const levels = Object.fromEntries(Object.entries(config).map(([id, c]) => [id, c.enforcementLevel]));
    expect(levels).toEqual({ ...Object.fromEntries(POLICY_IDS.map((id) => [id, "mandatory"])), "read-only-root-filesystem": "advisory" });
    expect(config["read-only-root-filesystem"]).toEqual({ enforcementLevel: "advisory", today: TODAY, exceptions: [DB_EXCEPTION] });
    expect(config["no-privileged-containers"]).toEqual({ enforcementLevel: "mandatory", today: TODAY, exceptions: [] });
  });

  it("compiles the facts each policy checks against from the registries", () => {
    const config = policyPackConfig(model("dev"), TODAY);
    const base = { enforcementLevel: "mandatory", today: TODAY, exceptions: [] };
    expect(config["allowed-image-registries"]).toEqual({
      ...base,
      allowedRegistries: ["ghcr.io/nexus-platform", "docker.io/library", "docker.io/prom", "docker.io/grafana"],
    });
    expect(config["no-public-service-types"]).toEqual({ ...base, publicServices: [] });
    // No service or task declares it; the monitoring stack's readers of the API always do.
    expect(config["token-automount-declared"]).toEqual({ ...base, tokenAutomountServices: ["prometheus", "kube-state-metrics"] });
    expect(config["namespace-pod-security-labels"]).toEqual({ ...base, level: "restricted" });
    expect(config["prod-ha-user-facing"]).toEqual({ ...base, environment: "dev", userFacingServices: ["api"] });
    expect(config["slo-alerts-present"]).toEqual({ ...base, slos: [{ name: "api-availability", service: "api" }], ruleResources: [] });
    expect(config["backup-alerts-present"]).toEqual({ ...base, backupTasks: [{ name: "db-backup", target: "db" }], ruleResources: [] });
    expect(config["s3-lifecycle-within-gdpr"]).toEqual({ ...base, gdprMaxDays: { "db/": 30 } });
  });

  it("uses the prod enforcement in prod", () => {
    const config = policyPackConfig(model("prod"), TODAY);
    expect(config["read-only-root-filesystem"]).toEqual({ enforcementLevel: "mandatory", today: TODAY, exceptions: [DB_EXCEPTION] });
    expect(config["prod-ha-user-facing"]?.environment).toBe("prod");
  });

  it("follows the security registry: changing it changes the gate", () => {
    const dir = copyRegistries();
    try {
      replaceIn(
        dir,
        "security.yaml",
        "  - id: no-privileged-containers\n    enforcement: mandatory\n",
        "  - id: no-privileged-containers\n    enforcement: mandatory\n    environments:\n      dev: { enforcement: disabled }\n",
      );
      expect(policyPackConfig(model("dev", dir), TODAY)["no-privileged-containers"]?.enforcementLevel).toBe("disabled");
      expect(policyPackConfig(model("prod", dir), TODAY)["no-privileged-containers"]?.enforcementLevel).toBe("mandatory");
    } finally {
      removeRegistries(dir);
    }
  });

  it("allows a registry scoped to environments only there: the pack takes a dev-only image in dev and refuses it in prod", async () => {
    const dir = copyRegistries();
    try {
      replaceIn(
        dir,
        "security.yaml",
        "imageRegistries: [ghcr.io/nexus-platform, docker.io/library, docker.io/prom, docker.io/grafana]\n",
        "imageRegistries: [ghcr.io/nexus-platform, docker.io/library, docker.io/prom, docker.io/grafana, { registry: nexus.local, environments: [dev], reason: Images built locally and never pushed anywhere. }]\n",
      );
      const allowed = (env: string) => policyPackConfig(model(env, dir), TODAY)["allowed-image-registries"];
      const everywhere = ["ghcr.io/nexus-platform", "docker.io/library", "docker.io/prom", "docker.io/grafana"];
      expect(allowed("dev")).toMatchObject({ allowedRegistries: [...everywhere, "nexus.local"] });
      expect(allowed("prod")).toMatchObject({ allowedRegistries: everywhere });
      const local = variant(statefulSet("db"), (p) => {
        p.spec.template.spec.containers[0].image = "nexus.local/postgresql:15.14-deb12";
      });
      const verdicts = async (env: string) =>
        (await evaluatePack(local, policyPackConfig(model(env, dir), TODAY))).diagnostics
          .filter((d) => d.policyName === "allowed-image-registries")
          .map((d) => violationText(d));
      expect(await verdicts("dev")).toEqual([]);
      expect(await verdicts("prod")).toEqual([
        'StatefulSet "db": container "db" image "nexus.local/postgresql:15.14-deb12" is not from an allowed registry: use an image from one of ghcr.io/nexus-platform, docker.io/library, docker.io/prom and docker.io/grafana, or add its registry to imageRegistries in registries/security.yaml',
      ]);
    } finally {
      removeRegistries(dir);
    }
  });

  it("declares the API token of a task with clusterAccess, and the pack then lets its pods mount it", async () => {
    const dir = copyRegistries();
    try {
      replaceIn(dir, "automation.yaml", "    command: [audit, --all]\n", "    command: [audit, --all]\n    clusterAccess: { read: [pods] }\n");
      const config = policyPackConfig(model("dev", dir), TODAY);
      const declared = (c: typeof config) => (c["token-automount-declared"] as unknown as { tokenAutomountServices: string[] }).tokenAutomountServices;
      expect(declared(config)).toContain("audit");
      expect(declared(policyPackConfig(model("dev"), TODAY))).not.toContain("audit");
      const reading = (name: string) =>
        variant(cronJob(name), (p) => {
          p.spec.jobTemplate.spec.template.spec.automountServiceAccountToken = true;
        });
      const verdicts = async (name: string, c = config) =>
        (await evaluatePack(reading(name), c)).diagnostics.filter((d) => d.policyName === "token-automount-declared").map((d) => violationText(d));
      expect(await verdicts("audit")).toEqual([]);
      // Another task's pods, and the same task without clusterAccess, may not.
      expect(await verdicts("report")).toHaveLength(1);
      expect(await verdicts("audit", policyPackConfig(model("dev"), TODAY))).toHaveLength(1);
    } finally {
      removeRegistries(dir);
    }
  });

  it("is valid config for the pack: every property is in the policy's schema and of its type", () => {
    for (const env of ["dev", "prod"]) {
      const config = policyPackConfig(model(env), TODAY);
      expect(() => reconcileConfig(policies, "mandatory", config)).not.toThrow();
      for (const p of policies) {
        const { enforcementLevel: _level, ...properties } = config[p.name as keyof typeof config]!;
        expect(Object.keys(p.configSchema?.properties ?? {})).toEqual(expect.arrayContaining(Object.keys(properties)));
      }
    }
  });

  it("lets an exception stop applying once its day has passed, and the pack says so", async () => {
    const db = variant(statefulSet("db"), (p) => {
      p.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
    });
    const run = async (today: string) => {
      const result = await evaluatePack(db, policyPackConfig(model("prod", MINIMAL_REGISTRIES, today), today));
      return result.diagnostics.filter((d) => d.policyName === "read-only-root-filesystem").map((d) => [d.enforcementLevel, violationText(d)]);
    };
    expect(await run("2026-03-31")).toEqual([]);
    expect(await run("2026-04-01")).toEqual([
      [
        "mandatory",
        'StatefulSet "db": container "db" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (e.g. /tmp) (exception for db by data expired on 2026-03-31: fix the resource, or renew the exception with a new expiry in registries/security.yaml)',
      ],
    ]);
    expect(model("prod", MINIMAL_REGISTRIES, "2026-04-01").security.exceptions[0]?.expired).toBe(true);
    expect(T.StatefulSet).toBe(db.type);
  });
});

describe("nexus policy-config", () => {
  const out: string[] = [];
  const err: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    out.length = 0;
    err.length = 0;
  });
  const capture = () => {
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  };

  it("writes the config of one environment", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nexus-policy-")), "dev.json");
    capture();
    expect(await main(["policy-config", "--env", "dev", "--registries", MINIMAL_REGISTRIES, "--today", TODAY, "--out", file])).toBe(0);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual(policyPackConfig(model("dev"), TODAY));
    expect(err).toEqual([`wrote ${file}: policy pack config for dev (42 policies, judged on ${TODAY})`]);
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it("prints the config on standard output without --out", async () => {
    capture();
    expect(await main(["policy-config", "--env", "prod", "--registries", MINIMAL_REGISTRIES, "--today", TODAY])).toBe(0);
    expect(JSON.parse(out.join(""))).toEqual(policyPackConfig(model("prod"), TODAY));
  });

  it("exits 1 with located problems when the registries are invalid", async () => {
    const dir = copyRegistries();
    try {
      replaceIn(dir, "security.yaml", "    expires: 2026-03-31", "    expires: someday");
      capture();
      expect(await main(["policy-config", "--env", "dev", "--registries", dir, "--today", TODAY])).toBe(1);
      const line = fs.readFileSync(path.join(dir, "security.yaml"), "utf8").split("\n").indexOf("    expires: someday") + 1;
      expect(out).toEqual([`registries/security.yaml:${line}:14 exceptions[0].expires: must be a date YYYY-MM-DD`]);
      expect(err).toEqual([`nexus: 1 problem(s) in ${dir}; fix them and run again`]);
    } finally {
      removeRegistries(dir);
    }
  });

  it("exits 2 on usage errors and shows help with an example", async () => {
    capture();
    expect(await main(["policy-config"])).toBe(2);
    expect(err[0]).toMatch(/^nexus: --env is required\n\nUsage: nexus policy-config --env NAME/);
    expect(await main(["policy-config", "--env", "dev", "--today", "15.01.2026"])).toBe(2);
    expect(await main(["policy-config", "--env", "dev", "--bogus"])).toBe(2);
    expect(await main(["policy-config", "--help"])).toBe(0);
    expect(out.join("\n")).toContain("Example:\n  npx nexus policy-config --env prod --out");
  });
});
