/**
 * Bad registries (test/policy/bad-registries/cases.ts) through the whole audit in this process:
 * the report's exact violations, the exceptions' status and the exit status. The cases that must
 * fail the command itself (exit 1 from `node bin/nexus.js audit`) are in cli.test.ts.
 */
import { POLICY_IDS } from "../../domain/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf } from "../../cmd/audit/cli";
import { audit, type ComplianceReport } from "../../cmd/audit/report";
import { K8S } from "../../contract/types";
import { CASES, materialize, type CaseName } from "../policy/bad-registries/cases";
import { removeRegistries } from "../support/registries";
import { TODAY, registryLine, sortViolations, violationsOf } from "./support";

/** Cases judged here; each is one mocked program run, shared by its tests. */
const HERE = [
  "literal-secret-env-excepted",
  "policy-advisory",
  "policy-disabled",
  "stale-exception-expired",
  "prod-single-replica",
] as const satisfies readonly CaseName[];

const reports = {} as Record<(typeof HERE)[number], ComplianceReport>;
const dirs: string[] = [];

beforeAll(async () => {
  for (const name of HERE) {
    const dir = materialize(name);
    dirs.push(dir);
    const result = await audit({ stack: CASES[name].stack, today: TODAY, registriesDir: dir });
    if (!result.ok) throw new Error(`${name}: the registries have problems: ${JSON.stringify(result.problems)}`);
    reports[name] = result.report;
  }
}, 180_000);

afterAll(() => dirs.forEach(removeRegistries));

describe("bad registries judged by the audit", () => {
  it.each(HERE)("%s: exactly the expected violations and exit status", (name) => {
    const c = CASES[name];
    expect(violationsOf(reports[name])).toEqual(sortViolations(c.violations));
    expect(exitCodeOf(reports[name])).toBe(c.exitCode);
  });

  it("an exception in force silences the violation, names what it silences, and the resource shows it excepted", () => {
    const report = reports["literal-secret-env-excepted"];
    const cronJob = report.resources.find((r) => r.name === "health-check-cronjob")!;
    expect(report.summary).toMatchObject({ mandatory: 0, excepted: 1, exceptions: 1, expiredExceptions: 0 });
    expect(report.exceptions.find((e) => e.policy === "no-literal-secret-env")).toMatchObject({
      resource: "health-check",
      owner: "sre",
      expires: "2027-01-31",
      status: "in-force",
      daysLeft: 65,
      enforcement: "mandatory",
      silences: [cronJob.urn],
    });
    expect(cronJob.verdicts.filter((v) => v.policy === "no-literal-secret-env")).toEqual([
      {
        policy: "no-literal-secret-env",
        verdict: "excepted",
        enforcement: "mandatory",
        message: CASES["literal-secret-env"].violations[0]!.message,
        exception: { resource: "health-check", owner: "sre", expires: "2027-01-31", source: expect.stringMatching(registryLine("security")) },
      },
    ]);
    expect(report.policies.find((p) => p.name === "no-literal-secret-env")).toMatchObject({ violations: 0, excepted: 1 });
  });

  it("the same registries without the exception: the violation appears (exit 1)", () => {
    // literal-secret-env is literal-secret-env-excepted with the exception removed.
    expect(CASES["literal-secret-env"].edits).toEqual(CASES["literal-secret-env-excepted"].edits.slice(0, 1));
    expect(CASES["literal-secret-env"].violations.map((v) => v.policy)).toEqual(["no-literal-secret-env"]);
    expect(CASES["literal-secret-env"].exitCode).toBe(1);
  });

  it("a policy set to advisory reports its violation as advisory and passes", () => {
    const report = reports["policy-advisory"];
    expect(report.summary).toMatchObject({ mandatory: 0, advisory: 1 });
    expect(report.passed).toBe(true);
    expect(report.policies.find((p) => p.name === "no-literal-secret-env")?.enforcement).toBe("advisory");
  });

  it("a disabled policy gives no verdict at all", () => {
    const report = reports["policy-disabled"];
    expect(report.policies.find((p) => p.name === "no-literal-secret-env")).toMatchObject({
      enforcement: "disabled",
      checked: 0,
      passed: 0,
      notApplicable: 0,
      violations: 0,
    });
    expect(report.resources.flatMap((r) => r.verdicts).filter((v) => v.policy === "no-literal-secret-env")).toEqual([]);
    // Dev disables prod-ha-user-facing already; the case disables one more.
    expect(report.summary).toMatchObject({ policies: POLICY_IDS.length - 2, disabledPolicies: 2 });
  });

  it("an expired exception is flagged even when it silences nothing", () => {
    const report = reports["stale-exception-expired"];
    expect(report.exceptions).toEqual([
      expect.objectContaining({
        policy: "read-only-root-filesystem",
        resource: "postgres",
        expires: "2026-06-30",
        status: "expired",
        daysLeft: -150,
        silences: [],
        expiredFor: [],
      }),
    ]);
    expect(report.summary).toMatchObject({ expiredExceptions: 1, mandatory: 0 });
  });

  it("a prod HA violation is attributed to the Deployment and its registry entry", () => {
    const report = reports["prod-single-replica"];
    const atDeployment = ["stack", K8S.Deployment, expect.stringMatching(registryLine("orchestration"))];
    expect(report.violations.map((v) => [v.phase, v.type, v.source])).toEqual([atDeployment, atDeployment]);
    expect(report.policies.find((p) => p.name === "prod-ha-user-facing")).toMatchObject({ kind: "stack", violations: 2 });
  });
});
