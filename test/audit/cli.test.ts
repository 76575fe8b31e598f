/**
 * `node bin/nexus.js audit` as CI runs it for a fork's pull request: no cloud credentials, no
 * pulumi CLI on PATH, no kubeconfig (support.ts bareEnv).
 * Exit 0 for the real dev program, 1 for bad registries (located loader problems, or mandatory
 * violations with the report still written), 2 for usage errors.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AUDIT_USAGE, auditCommand } from "../../cmd/audit/cli";
import { REPORT_SCHEMA, type ComplianceReport } from "../../cmd/audit/schema";
import { main } from "../../cmd/nexus";
import { CASES, materialize, type CaseName } from "../policy/bad-registries/cases";
import { removeRegistries } from "../support/registries";
import { TODAY, nexus, sortViolations, violationsOf, type CliRun } from "./support";

const LOADER_CASES = ["latest-image", "disallowed-registry", "local-image-in-prod", "stateful-no-backup"] as const satisfies readonly CaseName[];
const MD_CASE: CaseName = "latest-image";
const REPORT_CASES = ["literal-secret-env", "expired-exception"] as const satisfies readonly CaseName[];

const out = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-audit-cli-"));
const dirs: string[] = [];
const runs = {} as Record<CaseName | "real-dev", CliRun>;
const reportFile = (name: string) => path.join(out, `${name}.json`);

beforeAll(async () => {
  const jobs: Promise<void>[] = [];
  for (const name of [...LOADER_CASES, ...REPORT_CASES]) {
    const dir = materialize(name);
    dirs.push(dir);
    // The first loader case prints its problems in Markdown mode, the others write JSON.
    const format = name === MD_CASE ? [] : ["--format", "json", "--out", reportFile(name)];
    jobs.push(
      nexus(["audit", "--stack", CASES[name].stack, "--registries", dir, "--today", TODAY, ...format]).then((r) => {
        runs[name] = r;
      }),
    );
  }
  jobs.push(
    nexus(["audit", "--stack", "dev", "--today", TODAY, "--out", path.join(out, "dev.md")]).then((r) => {
      runs["real-dev"] = r;
    }),
  );
  await Promise.all(jobs);
}, 240_000);

afterAll(() => {
  dirs.forEach(removeRegistries);
  fs.rmSync(out, { recursive: true, force: true });
});

describe("nexus audit", () => {
  it("exits 0 for the real dev program and writes the Markdown report", () => {
    const run = runs["real-dev"];
    expect(run.code, run.stderr).toBe(0);
    const md = fs.readFileSync(path.join(out, "dev.md"), "utf8");
    expect(md.split("\n")[1]).toMatch(/^\*\*0 mandatory violations, 0 advisory, \d+ resources, \d+ policies\*\*$/);
    expect(run.stderr).toContain("nexus audit dev: 0 mandatory violations");
  });

  it.each(LOADER_CASES)("%s: exits 1 with the loader's located problems, before any policy runs", (name) => {
    const run = runs[name];
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`${CASES[name].problems.length} problem(s)`);
    if (name === MD_CASE) {
      expect(run.stdout).toBe(`${CASES[name].problems.join("\n")}\n`);
      return;
    }
    const json = JSON.parse(fs.readFileSync(reportFile(name), "utf8"));
    expect(json).toMatchObject({ schema: REPORT_SCHEMA, stack: CASES[name].stack, passed: false });
    expect(
      json.problems.map(
        (p: { file: string; line: number; column: number; path: string; message: string }) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`,
      ),
    ).toEqual(CASES[name].problems);
  });

  it.each(REPORT_CASES)("%s: exits 1 with exactly the expected violations in the report", (name) => {
    const run = runs[name];
    expect(run.code, run.stderr).toBe(CASES[name].exitCode);
    const report = JSON.parse(fs.readFileSync(reportFile(name), "utf8")) as ComplianceReport;
    expect(violationsOf(report)).toEqual(sortViolations(CASES[name].violations));
    expect(report.passed).toBe(false);
    expect(run.stderr).toContain("mandatory policies are violated");
  });

  it("expired-exception: the report flags the exception as expired and the violation says when", () => {
    const report = JSON.parse(fs.readFileSync(reportFile("expired-exception"), "utf8")) as ComplianceReport;
    expect(report.exceptions.find((e) => e.policy === "no-literal-secret-env")).toMatchObject({
      resource: "health-check",
      status: "expired",
      expires: "2026-10-31",
      daysLeft: -27,
      silences: [],
      expiredFor: [report.violations[0]!.urn],
    });
    expect(report.violations).toEqual([
      expect.objectContaining({ policy: "no-literal-secret-env", expiredException: true, message: expect.stringContaining("expired on 2026-10-31") }),
    ]);
    expect(report.summary.expiredExceptions).toBe(1);
  });

  it("exits 2 on usage errors, 0 on --help with an example", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      const missing = path.join(out, "missing");
      const codes = [];
      for (const args of [
        [],
        ["--stack", "dev", "--format", "xml"],
        ["--stack", "dev", "--today", "2026-13-01"],
        ["--stack", "dev", "extra"],
        ["--stack", "dev", "--registries", missing],
        ["--stack", "dev", "--bogus"],
      ]) {
        codes.push(await auditCommand(args));
      }
      expect(codes).toEqual([2, 2, 2, 2, 2, 2]);
      expect(error.mock.calls.map((c) => String(c[0]).split("\n")[0])).toEqual([
        "nexus: --stack is required",
        'nexus: --format must be md or json, got "xml"',
        'nexus: --today must be a date YYYY-MM-DD, got "2026-13-01"',
        'nexus: unexpected argument "extra"',
        `nexus: --registries ${missing}: no such folder`,
        expect.stringMatching(/^nexus: Unknown option '--bogus'/),
      ]);
      expect(error.mock.calls.every((c) => String(c[0]).includes("Usage: nexus audit --stack NAME"))).toBe(true);
      expect(await auditCommand(["--help"])).toBe(0);
      expect(log.mock.calls[0]?.[0]).toBe(AUDIT_USAGE);
      expect(AUDIT_USAGE).toMatch(/Example:\n {2}npx nexus audit --stack prod --format md --out audit-prod.md\n/);
      expect(await main(["--help"])).toBe(0);
      expect(String(log.mock.calls[1]?.[0])).toMatch(/^ {2}audit {2,}compliance report/m);
    } finally {
      error.mockRestore();
      log.mockRestore();
    }
  });

  it("exits 2 for a stack without Pulumi.<stack>.yaml", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      expect(await auditCommand(["--stack", "qa"])).toBe(2);
      expect(String(error.mock.calls[0]?.[0]).split("\n")[0]).toBe(
        'nexus: unknown stack "qa": there is no Pulumi.qa.yaml; stacks of this project: dev, prod, staging',
      );
    } finally {
      error.mockRestore();
    }
  });
});
