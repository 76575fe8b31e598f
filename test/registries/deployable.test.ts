/**
 * Values that pass the schemas but that Kubernetes or Prometheus would reject at deploy time are
 * caught at validate, located; and the CLI answers bad paths with one line, not a stack trace.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatProblem, loadRegistries } from "../../domain/loader";
import { isTimeZone, promtoolFindings } from "../../domain/loader/deployable";
import { ROOT, copyRegistries, removeRegistries, replaceIn } from "../support/registries";

const TODAY = "2026-11-27";
let dir: string | undefined;
afterEach(() => {
  if (dir) removeRegistries(dir);
  dir = undefined;
});

/** The located problems of the minimal registries after one edit. */
function problemsAfter(file: string, from: string, to: string, promql = false): string[] {
  dir = copyRegistries();
  replaceIn(dir, file, from, to);
  return loadRegistries({ registriesDir: dir, today: TODAY, promql }).problems.map(formatProblem);
}

describe("names as Kubernetes derives them", () => {
  it("refuses a Service name that does not start with a letter (DNS-1035)", () => {
    expect(problemsAfter("orchestration.yaml", "  - name: api\n", "  - name: 1api\n")).toContain(
      'registries/orchestration.yaml:14:11 services[0].name: "1api" names a Service, which must start with a letter (a DNS-1035 label)',
    );
  });

  it("refuses a name whose instance label would exceed 63 characters", () => {
    const name = `api-${"x".repeat(57)}`; // 61 characters: fine as a name, 66 with "-prod"
    const problems = problemsAfter("orchestration.yaml", "  - name: api\n", `  - name: ${name}\n`);
    expect(problems.filter((p) => p.includes("app.kubernetes.io/instance"))).toEqual([
      `registries/orchestration.yaml:14:11 services[0].name: in dev: label app.kubernetes.io/instance "${name}-dev" would be 65 characters, above the 63 a label value may have: shorten the name to at most 59`,
      `registries/orchestration.yaml:14:11 services[0].name: in prod: label app.kubernetes.io/instance "${name}-prod" would be 66 characters, above the 63 a label value may have: shorten the name to at most 58`,
    ]);
  });

  it("refuses a CronJob name longer than 52 characters", () => {
    const name = `db-backup-${"x".repeat(43)}`; // 53 characters
    const problems = problemsAfter("automation.yaml", "  - name: db-backup\n", `  - name: ${name}\n`);
    expect(problems).toContain(
      `registries/automation.yaml:4:11 tasks[0].name: a CronJob name may have at most 52 characters (its Jobs add a suffix), "${name}" has 53: shorten it`,
    );
  });
});

describe("time zones", () => {
  it("knows IANA zones and refuses the rest", () => {
    expect(["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"].map(isTimeZone)).toEqual([true, true, true]);
    expect(["Mars/Olympus", "Local", " UTC", "", "CET+1"].map(isTimeZone)).toEqual([false, false, false, false, false]);
  });

  it("locates a time zone the database does not know", () => {
    expect(problemsAfter("automation.yaml", '    schedule: "0 2 * * *"\n', '    schedule: "0 2 * * *"\n    timeZone: Europe/Atlantis\n')).toEqual([
      'registries/automation.yaml:9:15 tasks[0].timeZone: "Europe/Atlantis" is not a time zone of the IANA database: use a name such as "Europe/Berlin" or "UTC"',
    ]);
  });
});

describe("PromQL and alert templates, parsed by promtool", () => {
  it("reads promtool's findings per rule", () => {
    const out = [
      'r.yaml: 1:45: group "g", rule 1, "A": could not parse expression: 1:6: parse error: unexpected end of input',
      'r.yaml: group "g", rule 2, "B": annotation "summary": template: __alert_B:1: unclosed action',
    ].join("\n");
    expect(promtoolFindings(out)).toEqual([
      { rule: 1, message: "could not parse expression: 1:6: parse error: unexpected end of input" },
      { rule: 2, message: 'annotation "summary": template: __alert_B:1: unclosed action' },
    ]);
  });

  it("locates an expression Prometheus cannot parse at the alert", () => {
    dir = copyRegistries();
    const text = fs.readFileSync(path.join(dir, "monitoring.yaml"), "utf8");
    const expr = /expr: (.*)\n/.exec(text)![1]!;
    const problems = problemsAfter("monitoring.yaml", `expr: ${expr}\n`, `expr: "sum(rate(http_requests_total[5m]) >"\n`, true);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^registries\/monitoring\.yaml:\d+:\d+ alerts\[0\]\.expr: Prometheus rejects this alert: could not parse expression: .*parse error/,
    );
  });

  it("locates a summary template Prometheus cannot parse", () => {
    dir = copyRegistries();
    const summary = /summary: (.*)\n/.exec(fs.readFileSync(path.join(dir, "monitoring.yaml"), "utf8"))![1]!;
    const problems = problemsAfter("monitoring.yaml", `summary: ${summary}\n`, `summary: "{{ $labels.instance is down"\n`, true);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^registries\/monitoring\.yaml:\d+:\d+ alerts\[0\]\.summary: Prometheus rejects this alert: annotation "summary": template: .*/,
    );
  });
});

describe("the registries folder and the CLI's paths", () => {
  const nexus = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "nexus.js"), ...args], { encoding: "utf8", cwd: ROOT });

  it("refuses a YAML file that is none of the five registries", () => {
    dir = copyRegistries();
    fs.writeFileSync(path.join(dir, "securty.yaml"), "apiVersion: nexus/v1\n");
    const problems = loadRegistries({ registriesDir: dir, today: TODAY }).problems.map(formatProblem);
    expect(problems).toEqual([
      "registries/securty.yaml:1:1 (file): not a registry file: the folder holds only orchestration.yaml, automation.yaml, pipelines.yaml, monitoring.yaml, security.yaml; did you mean security.yaml? Rename or remove it",
    ]);
  });

  it.each([
    [["validate", "--registries", "README.md"], 2, "nexus: --registries README.md is a file; name the folder holding the five registry files"],
    [["validate", "--registries", "no-such-folder"], 2, "nexus: --registries no-such-folder: no such folder; name the folder holding the five registry files"],
    [["audit", "--stack", "dev", "--out", os.tmpdir()], 2, `nexus: --out ${os.tmpdir()} is a folder; name a file to write`],
    [["policy-config", "--env", "dev", "--out", os.tmpdir()], 2, `nexus: --out ${os.tmpdir()} is a folder; name a file to write`],
    [
      ["policy-config", "--env", "dev", "--out", "README.md/config.json"],
      1,
      "nexus: cannot write --out README.md/config.json: ENOTDIR (a part of the path is a file)",
    ],
  ])("nexus %j exits %i with one clear line", (args, code, first) => {
    const run = nexus(...args);
    expect(run.status).toBe(code);
    expect(run.stderr.split("\n")[0]).toBe(first);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
