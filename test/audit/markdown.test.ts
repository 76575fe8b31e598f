/**
 * The Markdown report on small hand-made reports: how cells are escaped, what each exception's
 * status says, the verdicts of a resource in one cell and the order of the sections. The real
 * programs' reports are in program.test.ts.
 */
import { describe, expect, it } from "vitest";
import { cell, exceptionStatus, renderMarkdown, verdictSummary } from "../../cmd/audit/markdown";
import { K8S } from "../../contract/types";
import { apiResource, complianceReport, exceptionReported, PRIVILEGED } from "./support";

const api = apiResource([
  PRIVILEGED,
  { policy: "no-privileged-containers", verdict: "violation", enforcement: "mandatory", message: "another container privileged" },
  { policy: "run-as-non-root", verdict: "excepted", enforcement: "mandatory", message: "runs as root" },
  { policy: "no-host-ports", verdict: "pass", enforcement: "mandatory" },
  { policy: "kms-key-rotation", verdict: "not-applicable", enforcement: "mandatory", reason: "not a key" },
]);

describe("Markdown cells", () => {
  it("escape pipes and backslashes, break lines with <br>, and show an empty value as a dash", () => {
    expect(cell("a|b\\c\r\nd\ne")).toBe("a\\|b\\\\c<br>d<br>e");
    expect([cell(""), cell(null), cell(undefined)]).toEqual(["—", "—", "—"]);
  });

  it("sum up a resource's verdicts: the policies it violates once each, then the excepted, then counts", () => {
    expect(verdictSummary(api)).toBe("❌ no-privileged-containers · 🛡️ excepted: run-as-non-root · 1 pass · 1 n/a");
    expect(verdictSummary({ ...api, verdicts: [] })).toBe("0 pass · 0 n/a");
  });
});

describe("exception status", () => {
  it("says when an exception in force or an expired one can go", () => {
    expect(exceptionStatus(exceptionReported({ daysLeft: 1, silences: [api.urn] }))).toBe("in force, 1 day left");
    expect(exceptionStatus(exceptionReported({ daysLeft: 30 }))).toBe("in force, 30 days left; silences nothing (the resource complies: the exception can go)");
    expect(exceptionStatus(exceptionReported({ status: "expired", daysLeft: -2, expiredFor: [api.urn] }))).toBe(
      "⚠️ **expired** 2 days ago; its resource is in violation again",
    );
    expect(exceptionStatus(exceptionReported({ status: "expired", daysLeft: -1 }))).toBe(
      "⚠️ **expired** 1 day ago; covers nothing any more (the resource complies: the exception can go)",
    );
  });
});

describe("the Markdown report", () => {
  it("lists disabled and advisory policies in the open, not only in the folded policy table", () => {
    const policy = (name: string, enforcement: "mandatory" | "advisory" | "disabled", violations = 0) => ({
      name,
      description: name,
      kind: "resource" as const,
      enforcement,
      checked: 0,
      passed: 0,
      notApplicable: 0,
      violations,
      excepted: 0,
    });
    const md = renderMarkdown(
      complianceReport({
        policies: [policy("no-host-ports", "mandatory"), policy("probes-required", "advisory", 2), policy("no-literal-secret-env", "disabled")],
      }),
    );
    const section = md.slice(md.indexOf("### Policies not enforced in dev"), md.indexOf("### Exceptions"));
    expect(section.trim().split("\n").slice(2)).toEqual([
      "| Policy | Level | Violations |",
      "| --- | --- | --- |",
      "| `probes-required` | advisory: reported, never blocks | 2 |",
      "| `no-literal-secret-env` | **disabled**: judges nothing | 0 |",
    ]);
    expect(md.indexOf("### Policies not enforced")).toBeLessThan(md.indexOf("<details>"));
  });

  it("opens with the summary, then violations, exceptions, policies and resources, a blank line apart", () => {
    const md = renderMarkdown(complianceReport({ resources: [api], summary: { ...complianceReport().summary, resources: 1, policies: 1 } }));
    expect(md.split("\n").slice(0, 4)).toEqual([
      "<!-- nexus-audit stack=dev -->",
      "**0 mandatory violations, 0 advisory, 1 resource, 1 policy**",
      "",
      "✅ `nexus audit` of stack `dev` (environment `dev`), registries `registries`, policy pack `nexus-platform@0.0.0`, exceptions judged on 2026-11-27: no mandatory policy is violated.",
    ]);
    expect(md).toContain(
      "\n\n### Violations\n\nNone.\n\n### Policies not enforced in dev\n\nNone.\n\n### Exceptions\n\nNone.\n\n### Backups\n\nNone.\n\n<details><summary>Policies: 1 enabled, 0 disabled in dev</summary>\n\n",
    );
    expect(
      md.endsWith(`| \`api\` | ${K8S.Deployment} | \`registries/orchestration.yaml:10\` | ${cell(verdictSummary(api))} | \`${api.urn}\` |\n\n</details>\n`),
    ).toBe(true);
  });

  it("blocks the deploy on a mandatory violation and names excepted violations and expired exceptions", () => {
    const summary = { ...complianceReport().summary, mandatory: 1, excepted: 2, expiredExceptions: 1 };
    const violation = {
      policy: "no-privileged-containers",
      enforcement: "mandatory",
      phase: "resource",
      urn: api.urn,
      type: api.type,
      name: "api",
      source: api.source,
      message: "a|b",
      expiredException: false,
    } as const;
    const md = renderMarkdown(complianceReport({ passed: false, summary, violations: [violation], exceptions: [exceptionReported({ owner: "data|ops" })] }));
    expect(md.split("\n")[3]).toMatch(
      /^❌ .*: the deploy is blocked until the mandatory violations are fixed or excepted in registries\/security\.yaml\. 2 violations excepted\. ⚠️ 1 exception expired\.$/,
    );
    expect(md).toContain(
      `| Level | Policy | Resource | Source | Message |\n| --- | --- | --- | --- | --- |\n| **mandatory** | \`no-privileged-containers\` | \`api\`<br><sub>${K8S.Deployment}</sub> | \`registries/orchestration.yaml:10\` | a\\|b |\n`,
    );
    expect(md).toContain("| `read-only-root-filesystem` (mandatory) | `db` | data\\|ops | 2027-01-31 | in force, 30 days left;");
  });
});
