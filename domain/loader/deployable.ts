/**
 * Values the target systems would reject at `pulumi up` or in the cluster, caught at validate:
 * names as Kubernetes checks each name derived from them, time zones as the IANA database knows
 * them, and (where promtool is installed) PromQL and alert templates as Prometheus parses them.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Registries } from "./checks";
import type { Locator } from "./locator";

/** Label values (such as app.kubernetes.io/instance, "<name>-<environment>") are at most 63 characters. */
export const LABEL_VALUE_MAX = 63;
/** The Job controller appends an 11-character suffix to a CronJob's name, and Job names must stay labels. */
export const CRONJOB_NAME_MAX = 52;
/** A Service name is a DNS-1035 label: it must start with a letter. */
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function checkDeployable(r: Registries, env: string, at: Locator): void {
  names(r, env, at);
  timeZones(r, at);
}

function names(r: Registries, env: string, at: Locator): void {
  const instance = (name: string) => `${name}-${env}`;
  const tooLong = (name: string) => instance(name).length > LABEL_VALUE_MAX;
  const shortenTo = LABEL_VALUE_MAX - env.length - 1;
  r.orchestration.services.forEach((s, i) => {
    if (!DNS_1035.test(s.name)) {
      at.report("orchestration", ["services", i, "name"], `"${s.name}" names a Service, which must start with a letter (a DNS-1035 label)`, "name");
    }
    if (tooLong(s.name)) {
      at.report(
        "orchestration",
        ["services", i, "name"],
        `label app.kubernetes.io/instance "${instance(s.name)}" would be ${instance(s.name).length} characters, above the ${LABEL_VALUE_MAX} a label value may have: shorten the name to at most ${shortenTo}`,
        "name",
      );
    }
  });
  r.automation.tasks.forEach((t, i) => {
    if (t.runner === "k8s-cronjob" && t.name.length > CRONJOB_NAME_MAX) {
      at.report(
        "automation",
        ["tasks", i, "name"],
        `a CronJob name may have at most ${CRONJOB_NAME_MAX} characters (its Jobs add a suffix), "${t.name}" has ${t.name.length}: shorten it`,
        "name",
      );
    } else if (tooLong(t.name)) {
      at.report(
        "automation",
        ["tasks", i, "name"],
        `label app.kubernetes.io/instance "${instance(t.name)}" would be ${instance(t.name).length} characters, above the ${LABEL_VALUE_MAX} a label value may have: shorten the name to at most ${shortenTo}`,
        "name",
      );
    }
  });
}

/** Whether the IANA time zone database (as ICU ships it) knows the zone. */
export function isTimeZone(zone: string): boolean {
  if (zone === "Local" || zone.trim() !== zone || zone.length === 0) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function timeZones(r: Registries, at: Locator): void {
  r.automation.tasks.forEach((t, i) => {
    if (t.timeZone !== undefined && !isTimeZone(t.timeZone)) {
      at.report(
        "automation",
        ["tasks", i, "timeZone"],
        `"${t.timeZone}" is not a time zone of the IANA database: use a name such as "Europe/Berlin" or "UTC"`,
        "time-zone",
      );
    }
  });
}

/** promtool's findings per rules file it was given; undefined when promtool is not installed. */
export type PromtoolRuns = Map<string, { rule: number; message: string }[] | undefined>;

/**
 * Parses every alert's PromQL and templates with promtool, one run for all alerts, and reports
 * each rejection at its alert's expression. Environments whose alerts are the same share one run
 * through `runs`. Returns false where promtool is not installed.
 */
export function checkPromql(r: Registries, at: Locator, runs: PromtoolRuns = new Map(), promtool = "promtool"): boolean {
  const alerts = r.monitoring.alerts;
  if (alerts.length === 0) return true;
  const rules = alerts.map((a) => ({
    alert: a.name,
    expr: a.expr,
    annotations: { summary: a.summary, ...(a.description !== undefined ? { description: a.description } : {}) },
  }));
  // JSON is YAML, which promtool reads, and is written ten times faster than YAML.
  const text = JSON.stringify({ groups: [{ name: "registry", rules }] });
  if (!runs.has(text)) runs.set(text, runPromtool(text, promtool));
  const findings = runs.get(text);
  if (findings === undefined) return false;
  for (const finding of findings) {
    const i = finding.rule - 1;
    if (alerts[i] === undefined) continue;
    const field = /^annotation "(\w+)"/.exec(finding.message)?.[1] ?? "expr";
    at.report("monitoring", ["alerts", i, field], `Prometheus rejects this alert: ${finding.message}`, "promql");
  }
  return true;
}

function runPromtool(rulesFile: string, promtool: string): { rule: number; message: string }[] | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-promql-"));
  try {
    const file = path.join(dir, "rules.json");
    fs.writeFileSync(file, rulesFile);
    const run = spawnSync(promtool, ["check", "rules", file], { encoding: "utf8", timeout: 30_000 });
    return run.error ? undefined : promtoolFindings(`${run.stdout}\n${run.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** promtool's `group "g", rule N, "name": message` lines, as rule number and message. */
export function promtoolFindings(output: string): { rule: number; message: string }[] {
  const found: { rule: number; message: string }[] = [];
  for (const line of output.split("\n")) {
    const m = /rule (\d+), "[^"]*": (.*)$/.exec(line.trim());
    if (m) found.push({ rule: Number(m[1]), message: m[2]! });
  }
  return found;
}
