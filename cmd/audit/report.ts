/**
 * The compliance report of `nexus audit`: the evaluated program's resources run through the
 * policy pack in this process (the policy server's own handlers, internal/pulumi/analyzer.ts) with the
 * config `nexus policy-config` compiles for the environment, then every resource with its registry
 * FILE:LINE and its verdicts, every violation, the exceptions in force and each policy's level.
 *
 * Verdicts per resource come from what the analyzer reports: a violation (a diagnostic about the
 * resource), "not applicable" (the policy said so), "pass" (a resource policy ran and reported
 * nothing) and "excepted": a violation an exception in force silences, found by evaluating the
 * pack a second time without the exceptions in force. Stack policies judge the stack as a whole,
 * so they give a resource a verdict only when they report a violation about it (or one is
 * excepted); their other results are in the per-policy summary.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { subjectNames } from "../../policy/lib/exceptions";
import { PACK_ENFORCEMENT, PACK_NAME, policies } from "../../policy/policies";
import type { Problem } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { PackAnalyzer, violationText, type AnalyzerOptions, type Diagnostic, type EnforcementLevel, type Evaluation } from "../../internal/pulumi/analyzer";
import { WIRE } from "../../internal/pulumi/sdk";
import { policyPackConfig, type PolicyPackConfigFile } from "../../stacks/policyConfig";
import { evaluateProgram, runProgram, type EvaluatedProgram, type EvaluateOptions, type PreparedStack, type ProgramResource } from "./evaluate";

export const REPORT_SCHEMA = "nexus-audit/v1";
export const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
const PACK_VERSION = (JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")) as { version: string }).version;

/** The pack as the analyzer serves it: the same modules policy/index.ts gives `new PolicyPack`. */
export const PACK: AnalyzerOptions = { packName: PACK_NAME, packVersion: PACK_VERSION, enforcementLevel: PACK_ENFORCEMENT, policies };

/** Annotation (Kubernetes) or tag (AWS) with the registry FILE:LINE a resource came from. */
export const SOURCE_KEY = "nexus.platform/source";

export type VerdictKind = "violation" | "excepted" | "pass" | "not-applicable";

export interface Verdict {
  policy: string;
  verdict: VerdictKind;
  enforcement: EnforcementLevel;
  /** violation / excepted: what the policy reported (without its description). */
  message?: string;
  /** not-applicable: why. */
  reason?: string;
  /** excepted: the exception that silences it. */
  exception?: { resource: string; owner: string; expires: string; source: string };
}

export interface ReportResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent ("" for the stack itself). */
  parent: string;
  custom: boolean;
  /** Registry FILE:LINE of the entry it came from (see sourceFrom). */
  source: string | null;
  /**
   * Where the source was read: its own "annotation" (Kubernetes) or "tag" (AWS); for components,
   * "children" (what their resources agree on) or "model" (the registry entry of the same name);
   * "parent" for resources that carry none (e.g. S3 bucket settings); null for the stack, the
   * providers and the security baseline, which span several entries.
   */
  sourceFrom: "annotation" | "tag" | "children" | "model" | "parent" | null;
  verdicts: Verdict[];
}

export interface ReportViolation {
  policy: string;
  enforcement: EnforcementLevel;
  /** resource: from Analyze of one resource; stack: from AnalyzeStack. */
  phase: "resource" | "stack";
  urn: string | null;
  type: string | null;
  name: string | null;
  source: string | null;
  message: string;
  /** True when the message says an exception for it expired. */
  expiredException: boolean;
}

export interface ReportPolicy {
  name: string;
  description: string;
  kind: "resource" | "stack";
  enforcement: EnforcementLevel;
  /** Resources the policy judged (pass, violation or excepted); null for stack policies. */
  checked: number | null;
  passed: number | null;
  notApplicable: number;
  violations: number;
  excepted: number;
  /** Stack policies that declared themselves not applicable to this stack, with why. */
  notApplicableReason?: string;
}

export interface ReportException {
  policy: string;
  resource: string;
  owner: string;
  reason: string;
  expires: string;
  source: string;
  status: "in-force" | "expired";
  /** Days from `today` to the expiry day (negative once expired). */
  daysLeft: number;
  /** Enforcement of its policy in this environment. */
  enforcement: EnforcementLevel;
  /** URNs of the resources whose violations it silences (in force). */
  silences: string[];
  /** URNs of the resources whose violations name it as expired (expired). */
  expiredFor: string[];
}

export interface ComplianceReport {
  schema: typeof REPORT_SCHEMA;
  project: string;
  stack: string;
  environment: string;
  today: string;
  registries: string;
  pack: { name: string; version: string };
  /** False when any mandatory policy is violated. */
  passed: boolean;
  summary: {
    mandatory: number;
    advisory: number;
    excepted: number;
    resources: number;
    /** Enabled policies (mandatory or advisory). */
    policies: number;
    disabledPolicies: number;
    exceptions: number;
    expiredExceptions: number;
  };
  policies: ReportPolicy[];
  exceptions: ReportException[];
  violations: ReportViolation[];
  resources: ReportResource[];
}

/** The outcome of `nexus audit`: a report, or the registry problems that stopped it. */
export type AuditResult = { ok: true; report: ComplianceReport; evaluation: Evaluation } | { ok: false; registries: string; problems: Problem[] };

// ---------------------------------------------------------------------------------------------

const SIG_KEY = WIRE.sigKey;

/** Props without the secret wrapping of the wire format, as a policy reads them. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (SIG_KEY in obj) return plain(obj.value);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function stringAt(value: unknown, ...keys: string[]): string | undefined {
  let at: unknown = value;
  for (const k of keys) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[k];
  }
  return typeof at === "string" && at.length > 0 ? at : undefined;
}

function ownSource(r: ProgramResource): { source: string; from: "annotation" | "tag" } | undefined {
  const props = plain(r.props);
  const annotation = stringAt(props, "metadata", "annotations", SOURCE_KEY);
  if (annotation) return { source: annotation, from: "annotation" };
  const tag = stringAt(props, "tags", SOURCE_KEY);
  if (tag) return { source: tag, from: "tag" };
  return undefined;
}

/**
 * Every resource's registry source: its own annotation or tag; for a component, the one its
 * descendants agree on, else the registry entry of the same name (service or task); for a
 * resource without its own (S3 bucket settings, local commands), its nearest ancestor's.
 */
function sources(resources: readonly ProgramResource[], model: Model): Map<string, { source: string; from: Exclude<ReportResource["sourceFrom"], null> }> {
  type From = Exclude<ReportResource["sourceFrom"], null>;
  const out = new Map<string, { source: string; from: From }>();
  const children = new Map<string, ProgramResource[]>();
  for (const r of resources) {
    const own = ownSource(r);
    if (own) out.set(r.urn, own);
    if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  }
  const descendantSources = (urn: string, seen = new Set<string>()): Set<string> => {
    const found = new Set<string>();
    if (seen.has(urn)) return found;
    seen.add(urn);
    for (const c of children.get(urn) ?? []) {
      const own = out.get(c.urn);
      if (own) found.add(own.source);
      else for (const s of descendantSources(c.urn, seen)) found.add(s);
    }
    return found;
  };
  const entries = new Map<string, string>([...model.tasks, ...model.services].map((e) => [e.name, e.source]));
  for (const r of resources) {
    if (r.custom || out.has(r.urn) || r.type === "pulumi:pulumi:Stack") continue;
    const found = descendantSources(r.urn);
    if (found.size === 1) out.set(r.urn, { source: [...found][0]!, from: "children" });
    else if (entries.has(r.name)) out.set(r.urn, { source: entries.get(r.name)!, from: "model" });
  }
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const r of resources) {
    if (out.has(r.urn) || !r.custom) continue;
    for (let at = r.parent ? byUrn.get(r.parent) : undefined; at; at = at.parent ? byUrn.get(at.parent) : undefined) {
      const found = out.get(at.urn);
      if (found) {
        out.set(r.urn, { source: found.source, from: "parent" });
        break;
      }
    }
  }
  return out;
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

const key = (d: Diagnostic) => `${d.policyName}\n${d.urn ?? ""}\n${d.message}`;

/**
 * The config to find what the exceptions in force silence: only the policies that have one stay
 * enabled, each with its expired exceptions alone.
 */
function withoutActiveExceptions(config: PolicyPackConfigFile, today: string): { config: PolicyPackConfigFile; policies: Set<string> } {
  const out = {} as PolicyPackConfigFile;
  const excepted = new Set<string>();
  for (const [id, entry] of Object.entries(config) as [keyof PolicyPackConfigFile, PolicyPackConfigFile[keyof PolicyPackConfigFile]][]) {
    const active = entry.enforcementLevel !== "disabled" && entry.exceptions.some((e) => e.expires >= today);
    if (active) excepted.add(id);
    out[id] = { ...entry, ...(active ? {} : { enforcementLevel: "disabled" as const }), exceptions: entry.exceptions.filter((e) => e.expires < today) };
  }
  return { config: out, policies: excepted };
}

let analyzer: PackAnalyzer | undefined;

/** The pack served in this process (the policy server serves one pack per process). */
export function packAnalyzer(): PackAnalyzer {
  analyzer ??= PackAnalyzer.inProcess(PACK);
  return analyzer;
}

const LEVEL_ORDER: Record<EnforcementLevel, number> = { mandatory: 0, remediate: 1, advisory: 2, disabled: 3 };

/**
 * Evaluates the pack over a program's resources and builds the report. `resources` defaults to
 * the program's; pass changed ones to judge a variant of the same program.
 */
export async function buildReport(
  program: EvaluatedProgram,
  resources: readonly ProgramResource[] = program.resources,
): Promise<{ report: ComplianceReport; evaluation: Evaluation }> {
  const { model, today } = program;
  const config = policyPackConfig(model, today);
  const pack = packAnalyzer();
  const evaluation = await pack.evaluate(resources, config);
  const probe = withoutActiveExceptions(config, today);
  const unexcepted = probe.policies.size > 0 ? (await pack.evaluate(resources, probe.config)).diagnostics : [];

  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const order = new Map<string, number>(policies.map((p, i) => [p.name, i]));
  const levelOf = (policy: string): EnforcementLevel => config[policy as keyof PolicyPackConfigFile]?.enforcementLevel ?? PACK_ENFORCEMENT;

  // Violations the exceptions in force silence: in the run without them, not in the real one.
  const remaining = new Map<string, number>();
  for (const d of evaluation.diagnostics) remaining.set(key(d), (remaining.get(key(d)) ?? 0) + 1);
  const silenced: Diagnostic[] = [];
  for (const d of unexcepted.filter((x) => probe.policies.has(x.policyName))) {
    const n = remaining.get(key(d)) ?? 0;
    if (n > 0) remaining.set(key(d), n - 1);
    else silenced.push(d);
  }
  const exceptionFor = (d: Diagnostic) => {
    const r = d.urn ? byUrn.get(d.urn) : undefined;
    const names = r ? subjectNames(r.name, plain(r.props) as Record<string, unknown>) : [];
    return model.security.exceptions.find((e) => e.policy === d.policyName && e.expires >= today && names.includes(e.resource));
  };

  const src = sources(resources, model);
  const sourceOf = (urn: string | undefined) => (urn ? (src.get(urn)?.source ?? null) : null);

  // Per resource verdicts.
  const verdicts = new Map<string, Verdict[]>(resources.map((r) => [r.urn, []]));
  const diagnosed = new Set<string>();
  for (const d of evaluation.diagnostics) {
    if (!d.urn || !verdicts.has(d.urn)) continue;
    diagnosed.add(`${d.policyName}\n${d.urn}`);
    verdicts.get(d.urn)!.push({ policy: d.policyName, verdict: "violation", enforcement: d.enforcementLevel, message: violationText(d) });
  }
  for (const d of silenced) {
    if (!d.urn || !verdicts.has(d.urn)) continue;
    diagnosed.add(`${d.policyName}\n${d.urn}`);
    const e = exceptionFor(d);
    verdicts.get(d.urn)!.push({
      policy: d.policyName,
      verdict: "excepted",
      enforcement: d.enforcementLevel,
      message: violationText(d),
      ...(e ? { exception: { resource: e.resource, owner: e.owner, expires: e.expires, source: e.source } } : {}),
    });
  }
  const notApplicableAt = new Set<string>();
  for (const n of evaluation.notApplicable) {
    if (!n.urn || !verdicts.has(n.urn)) continue;
    notApplicableAt.add(`${n.policyName}\n${n.urn}`);
    verdicts.get(n.urn)!.push({ policy: n.policyName, verdict: "not-applicable", enforcement: levelOf(n.policyName), reason: n.reason });
  }
  const resourcePolicies = policies.filter((p) => "validateResource" in p && levelOf(p.name) !== "disabled");
  for (const r of resources) {
    for (const p of resourcePolicies) {
      const at = `${p.name}\n${r.urn}`;
      if (!diagnosed.has(at) && !notApplicableAt.has(at)) verdicts.get(r.urn)!.push({ policy: p.name, verdict: "pass", enforcement: levelOf(p.name) });
    }
  }
  const verdictRank: Record<VerdictKind, number> = { violation: 0, excepted: 1, pass: 2, "not-applicable": 3 };
  for (const list of verdicts.values()) {
    list.sort(
      (a, b) =>
        verdictRank[a.verdict] - verdictRank[b.verdict] ||
        (order.get(a.policy) ?? 0) - (order.get(b.policy) ?? 0) ||
        (a.message ?? "").localeCompare(b.message ?? ""),
    );
  }

  const reportResources: ReportResource[] = [...resources]
    .sort((a, b) => a.urn.localeCompare(b.urn))
    .map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent ?? "",
      custom: r.custom,
      source: src.get(r.urn)?.source ?? null,
      sourceFrom: src.get(r.urn)?.from ?? null,
      verdicts: verdicts.get(r.urn) ?? [],
    }));

  const violations: ReportViolation[] = evaluation.diagnostics
    .map((d) => {
      const r = d.urn ? byUrn.get(d.urn) : undefined;
      const message = violationText(d);
      return {
        policy: d.policyName,
        enforcement: d.enforcementLevel,
        phase: d.phase,
        urn: d.urn ?? null,
        type: r?.type ?? null,
        name: r?.name ?? null,
        source: sourceOf(d.urn),
        message,
        expiredException: / \(exception for .+ expired on \d{4}-\d{2}-\d{2}: /.test(message),
      };
    })
    .sort(
      (a, b) =>
        LEVEL_ORDER[a.enforcement] - LEVEL_ORDER[b.enforcement] ||
        (order.get(a.policy) ?? 0) - (order.get(b.policy) ?? 0) ||
        (a.urn ?? "").localeCompare(b.urn ?? "") ||
        a.message.localeCompare(b.message),
    );

  const reportPolicies: ReportPolicy[] = policies.map((p) => {
    const enforcement = levelOf(p.name);
    const kind = "validateResource" in p ? ("resource" as const) : ("stack" as const);
    const own = (list: readonly ReportResource[]) => list.flatMap((r) => r.verdicts.filter((v) => v.policy === p.name));
    const all = own(reportResources);
    const count = (v: VerdictKind) => all.filter((x) => x.verdict === v).length;
    const violationCount = evaluation.diagnostics.filter((d) => d.policyName === p.name).length;
    const exceptedCount = silenced.filter((d) => d.policyName === p.name).length;
    const stackNa = evaluation.notApplicable.find((n) => n.policyName === p.name && !n.urn);
    if (kind === "stack") {
      return {
        name: p.name,
        description: p.description,
        kind,
        enforcement,
        checked: null,
        passed: null,
        notApplicable: stackNa ? 1 : 0,
        violations: violationCount,
        excepted: exceptedCount,
        ...(stackNa ? { notApplicableReason: stackNa.reason } : {}),
      };
    }
    const checkedUrns = new Set(reportResources.filter((r) => r.verdicts.some((v) => v.policy === p.name && v.verdict !== "not-applicable")).map((r) => r.urn));
    return {
      name: p.name,
      description: p.description,
      kind,
      enforcement,
      checked: enforcement === "disabled" ? 0 : checkedUrns.size,
      passed: count("pass"),
      notApplicable: count("not-applicable"),
      violations: violationCount,
      excepted: exceptedCount,
    };
  });

  const exceptions: ReportException[] = model.security.exceptions
    .map((e) => ({
      policy: e.policy,
      resource: e.resource,
      owner: e.owner,
      reason: e.reason.trim(),
      expires: e.expires,
      source: e.source,
      status: e.expires >= today ? ("in-force" as const) : ("expired" as const),
      daysLeft: daysBetween(today, e.expires),
      enforcement: levelOf(e.policy),
      silences: [...new Set(silenced.filter((d) => d.policyName === e.policy && d.urn && exceptionFor(d) === e).map((d) => d.urn!))].sort(),
      expiredFor: [
        ...new Set(
          violations
            .filter((v) => v.policy === e.policy && v.urn && v.message.includes(`(exception for ${e.resource} by ${e.owner} expired on ${e.expires}: `))
            .map((v) => v.urn!),
        ),
      ].sort(),
    }))
    .sort((a, b) => a.expires.localeCompare(b.expires) || a.policy.localeCompare(b.policy) || a.resource.localeCompare(b.resource));

  const mandatory = violations.filter((v) => v.enforcement === "mandatory" || v.enforcement === "remediate").length;
  const report: ComplianceReport = {
    schema: REPORT_SCHEMA,
    project: program.project,
    stack: program.stack,
    environment: model.environment.name,
    today,
    registries: program.registriesDir,
    pack: { name: PACK.packName, version: PACK.packVersion },
    passed: mandatory === 0,
    summary: {
      mandatory,
      advisory: violations.filter((v) => v.enforcement === "advisory").length,
      excepted: silenced.length,
      resources: reportResources.length,
      policies: reportPolicies.filter((p) => p.enforcement !== "disabled").length,
      disabledPolicies: reportPolicies.filter((p) => p.enforcement === "disabled").length,
      exceptions: exceptions.length,
      expiredExceptions: exceptions.filter((e) => e.status === "expired").length,
    },
    policies: reportPolicies,
    exceptions,
    violations,
    resources: reportResources,
  };
  return { report, evaluation };
}

/** `nexus audit` without the CLI: evaluate the stack's program, then the pack. */
export async function audit(options: EvaluateOptions): Promise<AuditResult> {
  const result = await evaluateProgram(options);
  if (!result.ok) return { ok: false, registries: result.registriesDir, problems: result.problems };
  return { ok: true, ...(await buildReport(result.program)) };
}

/** The audit of a stack whose registries already loaded (stack.ts prepareStack). */
export async function auditPrepared(prepared: PreparedStack): Promise<{ report: ComplianceReport; evaluation: Evaluation }> {
  return buildReport(await runProgram(prepared));
}

// ---------------------------------------------------------------------------------------------
// Rendering.

/** The JSON report: a stable structure (fixed key order, sorted lists), newline-terminated. */
export function renderJson(report: ComplianceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function cell(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  return value.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
}

const code = (value: string | null | undefined) => (value ? `\`${value.replace(/`/g, "'")}\`` : "—");
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The one-line summary that opens the Markdown report. */
export function summaryLine(report: ComplianceReport): string {
  const s = report.summary;
  return `${plural(s.mandatory, "mandatory violation")}, ${s.advisory} advisory, ${plural(s.resources, "resource")}, ${plural(s.policies, "policy", "policies")}`;
}

function verdictSummary(r: ReportResource): string {
  const by = (v: VerdictKind) => r.verdicts.filter((x) => x.verdict === v);
  const parts: string[] = [];
  const named = (list: Verdict[]) => [...new Set(list.map((v) => v.policy))].join(", ");
  const violations = by("violation");
  if (violations.length > 0) parts.push(`❌ ${named(violations)}`);
  const excepted = by("excepted");
  if (excepted.length > 0) parts.push(`🛡️ excepted: ${named(excepted)}`);
  parts.push(`${by("pass").length} pass`);
  parts.push(`${by("not-applicable").length} n/a`);
  return parts.join(" · ");
}

/** The Markdown report, for a pull-request comment. */
export function renderMarkdown(report: ComplianceReport): string {
  const s = report.summary;
  const out: string[] = [];
  out.push(`<!-- nexus-audit stack=${report.stack} -->`);
  out.push(`**${summaryLine(report)}**`);
  out.push("");
  out.push(
    `${report.passed ? "✅" : "❌"} \`nexus audit\` of stack \`${report.stack}\` (environment \`${report.environment}\`), registries \`${report.registries}\`, ` +
      `policy pack \`${report.pack.name}@${report.pack.version}\`, exceptions judged on ${report.today}: ` +
      (report.passed
        ? "no mandatory policy is violated."
        : "the deploy is blocked until the mandatory violations are fixed or excepted in registries/security.yaml.") +
      (s.excepted > 0 ? ` ${plural(s.excepted, "violation")} excepted.` : "") +
      (s.expiredExceptions > 0 ? ` ⚠️ ${plural(s.expiredExceptions, "exception")} expired.` : ""),
  );
  out.push("");
  out.push("### Violations");
  out.push("");
  if (report.violations.length === 0) {
    out.push("None.");
  } else {
    out.push("| Level | Policy | Resource | Source | Message |");
    out.push("| --- | --- | --- | --- | --- |");
    for (const v of report.violations) {
      const resource = v.name ? `${code(v.name)}<br><sub>${cell(v.type)}</sub>` : "(stack)";
      out.push(
        `| ${v.enforcement === "advisory" ? "advisory" : `**${v.enforcement}**`} | ${code(v.policy)} | ${resource} | ${code(v.source)} | ${cell(v.message)} |`,
      );
    }
  }
  out.push("");
  out.push("### Exceptions");
  out.push("");
  if (report.exceptions.length === 0) {
    out.push("None.");
  } else {
    out.push("| Policy | Resource | Owner | Expires | Status | Silences | Source | Reason |");
    out.push("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const e of report.exceptions) {
      const status =
        e.status === "expired"
          ? `⚠️ **expired** ${plural(-e.daysLeft, "day")} ago` +
            (e.expiredFor.length > 0 ? `; its resource is in violation again` : "; covers nothing any more (the resource complies: the exception can go)")
          : `in force, ${plural(e.daysLeft, "day")} left` + (e.silences.length === 0 ? "; silences nothing (the resource complies: the exception can go)" : "");
      out.push(
        `| ${code(e.policy)} (${e.enforcement}) | ${code(e.resource)} | ${cell(e.owner)} | ${e.expires} | ${status} | ${e.silences.length} | ${code(e.source)} | ${cell(e.reason)} |`,
      );
    }
  }
  out.push("");
  out.push(`<details><summary>Policies: ${s.policies} enabled, ${s.disabledPolicies} disabled in ${report.environment}</summary>`);
  out.push("");
  out.push("| Policy | Enforcement | Kind | Checked | Pass | Violations | Excepted | Not applicable |");
  out.push("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const p of report.policies) {
    const na = p.kind === "stack" ? (p.notApplicableReason ? cell(p.notApplicableReason) : "—") : String(p.notApplicable);
    out.push(`| ${code(p.name)} | ${p.enforcement} | ${p.kind} | ${p.checked ?? "stack"} | ${p.passed ?? "—"} | ${p.violations} | ${p.excepted} | ${na} |`);
  }
  out.push("");
  out.push("</details>");
  out.push("");
  out.push(`<details><summary>All ${plural(s.resources, "resource")}, with the registry entry each came from</summary>`);
  out.push("");
  out.push("| Resource | Type | Source | Verdicts | URN |");
  out.push("| --- | --- | --- | --- | --- |");
  for (const r of report.resources) {
    out.push(`| ${code(r.name)} | ${cell(r.type)} | ${code(r.source)} | ${cell(verdictSummary(r))} | ${code(r.urn)} |`);
  }
  out.push("");
  out.push("</details>");
  return `${out.join("\n")}\n`;
}
