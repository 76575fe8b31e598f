import { execFile } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatProblem, loadModel, loadRegistries, RegistryError } from "../../domain/loader";
import type { Model } from "../../domain/model";
import * as fixture from "../support/fixtures";
import { copyRegistries, removeRegistries, replaceIn, ROOT } from "../support/registries";

/**
 * The happy path on the minimal registries: the exact model per environment, where each entry is
 * written, enforcement and exceptions, and the `nexus validate` command line.
 */

const TODAY = "2026-11-27";
let dir: string;
let dev: Model;
let prod: Model;

beforeAll(() => {
  dir = copyRegistries();
  dev = loadModel({ registriesDir: dir, env: "dev", today: TODAY });
  prod = loadModel({ registriesDir: dir, env: "prod", today: TODAY });
});
afterAll(() => removeRegistries(dir));

const service = (m: Model, name: string) => m.services.find((s) => s.name === name)!;
const task = (m: Model, name: string) => m.tasks.find((t) => t.name === name)!;

describe("loadRegistries on the minimal registries", () => {
  it("finds no problem in any environment and builds no model without --env", () => {
    const result = loadRegistries({ registriesDir: dir, today: TODAY });
    expect(result.problems).toEqual([]);
    expect(result.model).toBeUndefined();
    expect(result.environments).toEqual(["dev", "prod"]);
    expect(result.counts).toEqual({ services: 2, tasks: 2, pipelines: 1, alerts: 1, policies: 2 });
  });

  it("resolves the chosen environment", () => {
    expect(dev.environment).toEqual({
      name: "dev",
      stack: "dev",
      production: false,
      approval: { required: false, reviewers: [], waitMinutes: 0 },
      secrets: {},
      source: "registries/pipelines.yaml:4",
    });
    expect(prod.environment).toEqual({
      name: "prod",
      stack: "prod",
      production: false,
      approval: { required: true, reviewers: ["sre-leads"], waitMinutes: 0 },
      secrets: {},
      source: "registries/pipelines.yaml:6",
    });
    expect(prod.environments.map((e) => e.name)).toEqual(["dev", "prod"]);
    expect(prod.promotion).toEqual(["dev", "prod"]);
  });

  it("applies the prod override of the api replicas and fills in every default", () => {
    // The fields not set here are the fixture's defaults, which the entry or the loader's defaults give too.
    const api = fixture.service({
      image: "ghcr.io/nexus-platform/api:1.4.2",
      port: 8080,
      resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
      probes: {
        liveness: { type: "http", path: "/healthz", initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
        readiness: { type: "http", path: "/readyz", initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
      },
      dependsOn: ["db"],
      secrets: [{ env: "DATABASE_PASSWORD", configKey: "dbPassword" }],
      userFacing: true,
      source: "registries/orchestration.yaml:14",
    });
    expect(service(dev, "api")).toEqual(api);
    expect(service(prod, "api")).toEqual({ ...api, replicas: 3 });
    expect("environments" in service(prod, "api")).toBe(false);
  });

  it("fills in the defaults of a stateful service", () => {
    expect(service(prod, "db")).toEqual(
      fixture.database({
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        secrets: [],
        storage: { size: "10Gi", mountPath: "/var/lib/postgresql/data" },
        source: "registries/orchestration.yaml:34",
      }),
    );
  });

  it("applies the dev override of the audit schedule only in dev", () => {
    expect(task(dev, "audit").schedule).toBe("30 4 * * 1");
    expect(task(prod, "audit").schedule).toBe("30 3 * * 1");
    expect(task(dev, "audit")).toEqual({ ...task(prod, "audit"), schedule: "30 4 * * 1" });
    expect(task(prod, "audit")).toEqual(
      fixture.task({
        namespace: "core",
        image: "ghcr.io/nexus-platform/auditor:2.0.1",
        timeoutSeconds: 3600,
        retries: 2,
        successfulJobsHistory: 3,
        failedJobsHistory: 3,
        source: "registries/automation.yaml:17",
      }),
    );
  });

  it("fills in the backup defaults", () => {
    expect(task(prod, "db-backup").backup).toEqual(fixture.backupTask().backup);
  });

  it("fills in the monitoring and security defaults", () => {
    expect(prod.monitoring.routing).toEqual({
      critical: ["ops-slack"],
      warning: ["ops-slack"],
      info: [],
      groupWait: "30s",
      groupInterval: "5m",
      repeatInterval: "4h",
    });
    expect(prod.monitoring.stack.mode).toBe("standalone");
    expect(prod.monitoring.stack.scrapeInterval).toBe("30s");
    expect(prod.monitoring.stack.retention).toBe("15d");
    expect(prod.monitoring.stack.grafana.replicas).toBe(1);
    expect(prod.monitoring.alerts[0]).toEqual(fixture.alert({ source: "registries/monitoring.yaml:35" }));
    expect(prod.monitoring.slos[0]!.window).toBe("30d");
    expect(prod.monitoring.dashboards).toEqual([]);
    expect(prod.namespaces.map((n) => n.quota)).toEqual([
      { cpu: "8", memory: "16Gi", pods: 50 },
      { cpu: "8", memory: "16Gi", pods: 50 },
    ]);
    expect(prod.security.network.defaultDeny).toBe(true);
    expect(prod.security.network.allowDns).toBe(true);
    expect(prod.security.audit).toEqual({ task: "audit" });
    expect(prod.pipelines[0]!.stages.map((s) => s.policyGate)).toEqual([true, true]);
  });

  it("records the exact line each entry is written on", () => {
    const sources = (m: Model) => ({
      environments: m.environments.map((e) => e.source),
      pipelines: m.pipelines.map((p) => p.source),
      teams: m.teams.map((t) => t.source),
      namespaces: m.namespaces.map((n) => n.source),
      services: m.services.map((s) => s.source),
      tasks: m.tasks.map((t) => t.source),
      stack: m.monitoring.stack.source,
      channels: m.monitoring.channels.map((c) => c.source),
      alerts: m.monitoring.alerts.map((a) => a.source),
      slos: m.monitoring.slos.map((s) => s.source),
      podSecurity: m.security.podSecurity.source,
      network: m.security.network.source,
      rbac: m.security.rbac.map((r) => r.source),
      exceptions: m.security.exceptions.map((e) => e.source),
    });
    const expected = {
      environments: ["registries/pipelines.yaml:4", "registries/pipelines.yaml:6"],
      pipelines: ["registries/pipelines.yaml:11"],
      teams: ["registries/orchestration.yaml:4", "registries/orchestration.yaml:6"],
      namespaces: ["registries/orchestration.yaml:9", "registries/orchestration.yaml:11"],
      services: ["registries/orchestration.yaml:14", "registries/orchestration.yaml:34"],
      tasks: ["registries/automation.yaml:4", "registries/automation.yaml:17"],
      stack: "registries/monitoring.yaml:3",
      channels: ["registries/monitoring.yaml:25", "registries/monitoring.yaml:29"],
      alerts: ["registries/monitoring.yaml:35"],
      slos: ["registries/monitoring.yaml:42"],
      podSecurity: "registries/security.yaml:3",
      network: "registries/security.yaml:5",
      rbac: ["registries/security.yaml:13"],
      exceptions: ["registries/security.yaml:30"],
    };
    expect(sources(dev)).toEqual(expected);
    expect(sources(prod)).toEqual(expected);
  });

  it("returns a deeply frozen model", () => {
    // Test modules are strict, so writing to a frozen object throws instead of being ignored.
    expect(Object.isFrozen(prod)).toBe(true);
    expect(() => {
      (service(prod, "api") as { replicas: number }).replicas = 5;
    }).toThrow(TypeError);
    expect(() => {
      (service(prod, "api").resources.limits as { cpu: string }).cpu = "2";
    }).toThrow(TypeError);
    expect(() => {
      (service(prod, "api").dependsOn as string[]).push("x");
    }).toThrow(TypeError);
    expect(() => {
      (prod.security.enforcement as Record<string, string>)["no-host-ports"] = "disabled";
    }).toThrow(TypeError);
    expect(() => {
      (prod.monitoring.routing.critical as string[])[0] = "ops-mail";
    }).toThrow(TypeError);
    expect(service(prod, "api").replicas).toBe(3);
  });

  it("sets enforcement per environment; unlisted policies are mandatory", () => {
    expect(dev.security.enforcement["read-only-root-filesystem"]).toBe("advisory");
    expect(prod.security.enforcement["read-only-root-filesystem"]).toBe("mandatory");
    expect(dev.security.enforcement["no-privileged-containers"]).toBe("mandatory");
    expect(dev.security.enforcement["no-host-ports"]).toBe("mandatory");
    expect(prod.security.enforcement["s3-tls-only"]).toBe("mandatory");
    const others = Object.entries(dev.security.enforcement).filter(([id]) => id !== "read-only-root-filesystem");
    expect(others.length).toBe(41);
    expect(others.every(([, e]) => e === "mandatory")).toBe(true);
  });

  it("judges exceptions against today", () => {
    const exception = {
      policy: "read-only-root-filesystem",
      resource: "db",
      owner: "data",
      reason: "PostgreSQL writes its socket and pid files under /var/run",
      appliesTo: ["dev", "prod"],
      granted: "2026-01-01",
      expires: "2026-03-31",
      source: "registries/security.yaml:30",
    };
    expect(prod.security.exceptions).toEqual([{ ...exception, expired: true, pending: false }]);
    const onTheDay = loadModel({ registriesDir: dir, env: "prod", today: "2026-03-31" });
    expect(onTheDay.security.exceptions[0]!.expired).toBe(false);
    const dayAfter = loadModel({ registriesDir: dir, env: "prod", today: "2026-04-01" });
    expect(dayAfter.security.exceptions).toEqual([{ ...exception, expired: true, pending: false }]);
    const dayBefore = loadModel({ registriesDir: dir, env: "prod", today: "2025-12-31" });
    expect(dayBefore.security.exceptions).toEqual([{ ...exception, expired: false, pending: true }]);
  });

  it("replaces arrays from an override instead of merging them", () => {
    const copy = copyRegistries();
    try {
      replaceIn(
        copy,
        "orchestration.yaml",
        "      prod:\n        replicas: 3\n",
        "      prod:\n        replicas: 3\n        dependsOn: []\n      dev:\n        secrets:\n          - env: DB_PASS\n            configKey: devDbPassword\n",
      );
      const p = loadModel({ registriesDir: copy, env: "prod", today: TODAY });
      const d = loadModel({ registriesDir: copy, env: "dev", today: TODAY });
      expect(service(p, "api").dependsOn).toEqual([]);
      expect(service(p, "api").secrets).toEqual([{ env: "DATABASE_PASSWORD", configKey: "dbPassword" }]);
      expect(service(d, "api").dependsOn).toEqual(["db"]);
      expect(service(d, "api").secrets).toEqual([{ env: "DB_PASS", configKey: "devDbPassword" }]);
    } finally {
      removeRegistries(copy);
    }
  });

  it("throws a RegistryError listing every problem from loadModel", () => {
    const copy = copyRegistries();
    try {
      replaceIn(copy, "orchestration.yaml", "port: 8080", "port: 0");
      let error: unknown;
      try {
        loadModel({ registriesDir: copy, env: "prod", today: TODAY });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).problems.map(formatProblem)).toEqual([
        "registries/orchestration.yaml:18:11 services[0].port: must be at least 1, got number 0",
      ]);
    } finally {
      removeRegistries(copy);
    }
  });
});

describe("what a running cluster needs of the registries", () => {
  let dir: string;
  let devModel: Model;
  let prodModel: Model;
  beforeAll(() => {
    dir = copyRegistries();
    replaceIn(
      dir,
      "security.yaml",
      "imageRegistries: [ghcr.io/nexus-platform, docker.io/library, docker.io/prom, docker.io/grafana]\n",
      [
        "imageRegistries:",
        "  - ghcr.io/nexus-platform",
        "  - registry: nexus.local",
        "    environments: [dev]",
        "    reason: Images built on the developer's machine and never pushed anywhere.",
        "  - docker.io/library",
        "  - docker.io/prom",
        "  - docker.io/grafana",
        "",
      ].join("\n"),
    );
    replaceIn(
      dir,
      "orchestration.yaml",
      "    image: ghcr.io/nexus-platform/api:1.4.2\n",
      "    image: ghcr.io/nexus-platform/api:1.4.2\n    writablePaths: [/var/run/api]\n",
    );
    replaceIn(
      dir,
      "orchestration.yaml",
      "      prod:\n        replicas: 3\n",
      "      prod:\n        replicas: 3\n      dev:\n        image: nexus.local/api:1.4.2\n",
    );
    replaceIn(dir, "monitoring.yaml", "routing:\n", "  environments:\n    dev:\n      grafana: { enabled: false }\nrouting:\n");
    devModel = loadModel({ registriesDir: dir, env: "dev", today: TODAY });
    prodModel = loadModel({ registriesDir: dir, env: "prod", today: TODAY });
  });
  afterAll(() => removeRegistries(dir));

  it("allows a registry scoped to environments only there, and a plain one everywhere, in their order", () => {
    expect(devModel.security.imageRegistries).toEqual(["ghcr.io/nexus-platform", "nexus.local", "docker.io/library", "docker.io/prom", "docker.io/grafana"]);
    expect(prodModel.security.imageRegistries).toEqual(["ghcr.io/nexus-platform", "docker.io/library", "docker.io/prom", "docker.io/grafana"]);
    // The dev override's local image passes in dev; prod keeps the entry's own image.
    expect(service(devModel, "api").image).toBe("nexus.local/api:1.4.2");
    expect(service(prodModel, "api").image).toBe("ghcr.io/nexus-platform/api:1.4.2");
  });

  it("gives every service its writable paths, none by default", () => {
    expect(service(prodModel, "api").writablePaths).toEqual(["/var/run/api"]);
    expect(service(prodModel, "db").writablePaths).toEqual([]);
    expect(service(dev, "api").writablePaths).toEqual([]);
  });

  it("runs Grafana unless an environment turns it off", () => {
    expect(devModel.monitoring.stack.grafana.enabled).toBe(false);
    expect(prodModel.monitoring.stack.grafana.enabled).toBe(true);
    expect(dev.monitoring.stack.grafana.enabled).toBe(true);
    // Without Grafana, dashboards are still validated: a dashboard naming an unknown service is a problem in dev too.
    const copy = copyRegistries(dir);
    try {
      replaceIn(
        copy,
        "monitoring.yaml",
        "routing:\n",
        "dashboards:\n  - { name: overview, title: Overview, services: [ghost], panels: [{ title: Up, expr: up }] }\nrouting:\n",
      );
      expect(loadRegistries({ registriesDir: copy, env: "dev", today: TODAY }).problems.map(formatProblem)).toEqual([
        'registries/monitoring.yaml:25:51 dashboards[0].services[0]: service "ghost" does not exist: use one declared in orchestration.yaml services (api, db)',
      ]);
    } finally {
      removeRegistries(copy);
    }
  });
});

describe.concurrent("nexus validate", () => {
  const BIN = path.join(ROOT, "bin", "nexus.js");
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  let valid: string;
  let broken: string;
  beforeAll(() => {
    valid = copyRegistries();
    broken = copyRegistries();
    replaceIn(broken, "orchestration.yaml", "replicas: 1", "replicas: many");
    replaceIn(broken, "monitoring.yaml", "severity: critical", "severity: critcal");
  });
  afterAll(() => {
    removeRegistries(valid);
    removeRegistries(broken);
  });

  it("exits 0 with a summary line for valid registries", async () => {
    const r = await run(["validate", "--registries", valid]);
    expect(r).toEqual({ code: 0, stdout: `ok: ${valid} valid for dev, prod: 2 services, 2 tasks, 1 pipelines, 1 alerts, 2 policies\n`, stderr: "" });
  });

  it("exits 1 and prints one line per problem on stdout", async () => {
    const r = await run(["validate", "--registries", broken]);
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n")).toEqual([
      'registries/monitoring.yaml:38:15 alerts[0].severity: the text "critcal" is not allowed: use one of "critical", "warning", "info" (did you mean "critical"?)',
      'registries/orchestration.yaml:19:15 services[0].replicas: expected a number, got the text "many"',
      "",
    ]);
    expect(r.stderr).toBe(`nexus: 2 problem(s) in ${broken}; fix them and run again\n`);
  });

  it("prints the problems as JSON with --format json", async () => {
    const r = await run(["validate", "--registries", broken, "--format", "json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        file: "registries/monitoring.yaml",
        line: 38,
        column: 15,
        path: "alerts[0].severity",
        message: 'the text "critcal" is not allowed: use one of "critical", "warning", "info" (did you mean "critical"?)',
        code: "invalid-value",
      },
      {
        file: "registries/orchestration.yaml",
        line: 19,
        column: 15,
        path: "services[0].replicas",
        message: 'expected a number, got the text "many"',
        code: "wrong-type",
      },
    ]);
  });

  it("exits 2 on an unknown flag", async () => {
    const r = await run(["validate", "--registries", valid, "--strict"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^nexus: Unknown option '--strict'/);
    expect(r.stderr).toContain("Usage: nexus validate");
  });

  it("exits 2 on an unknown command", async () => {
    const r = await run(["valdiate"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^nexus: unknown command "valdiate"\n/);
    expect(r.stderr).toContain("\nExample: npx nexus validate --env prod");
  });

  it("exits 2 on a bad --format", async () => {
    const r = await run(["validate", "--registries", valid, "--format", "yaml"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^nexus: --format must be text or json, got "yaml"\n/);
  });

  it("prints help with an example and exits 0", async () => {
    const sub = await run(["validate", "--help"]);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/^Usage: nexus validate /);
    expect(sub.stdout).toContain("\nExample: npx nexus validate --env prod --format json\n");
  });
});
