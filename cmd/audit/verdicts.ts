/**
 * What the pack said about each resource. Verdicts come from what the analyzer reports: a
 * violation (a diagnostic about the resource), "not applicable" (the policy said so), "pass" (a
 * resource policy ran and reported nothing) and "excepted": a violation an exception in force
 * silences, found by evaluating the pack a second time without the exceptions in force. Stack
 * policies judge the stack as a whole, so they give a resource a verdict only when they report a
 * violation about it (or one is excepted); their other results are in the per-policy summary.
 */
import { subjectNames } from "../../policy/lib/exceptions";
import { PACK_ENFORCEMENT, policies } from "../../policy/policies";
import type { ResolvedException } from "../../domain/model";
import { violationText, type Diagnostic, type EnforcementLevel, type Evaluation } from "../../internal/pulumi/analyzer";
import type { PolicyPackConfigFile } from "../../stacks/policyConfig";
import type { ProgramResource } from "./evaluate";
import { plain } from "./sources";
import type { Verdict, VerdictKind } from "./schema";

/** The fields of a registry exception the report shows. */
export type ReportedException = Pick<ResolvedException, "policy" | "resource" | "owner" | "reason" | "expires" | "source">;

/** One evaluation of the pack over a program's resources: what every section is built from. */
export interface Judgement {
  /** The day exceptions are judged against (YYYY-MM-DD). */
  today: string;
  resources: readonly ProgramResource[];
  /** Each policy's level in the environment, as the pack ran it. */
  levelOf: (policy: string) => EnforcementLevel;
  evaluation: Evaluation;
  /** Violations the exceptions in force silence (silencedViolations). */
  silenced: readonly Diagnostic[];
  /** The exception in force that silences a violation, if the registry names one. */
  exceptionFor: (d: Diagnostic) => ReportedException | undefined;
}

const POLICY_RANK = new Map<string, number>(policies.map((p, i) => [p.name, i]));

/** A policy's place in the pack, which orders verdicts and violations. */
export function policyRank(policy: string): number {
  return POLICY_RANK.get(policy) ?? 0;
}

/** Each policy's level in a compiled config; the pack's default for a policy it does not name. */
export function levelsOf(config: PolicyPackConfigFile): (policy: string) => EnforcementLevel {
  return (policy) => config[policy as keyof PolicyPackConfigFile]?.enforcementLevel ?? PACK_ENFORCEMENT;
}

/**
 * The config to find what the exceptions in force silence: only the policies that have one stay
 * enabled, each with its expired exceptions alone.
 */
export function withoutActiveExceptions(config: PolicyPackConfigFile, today: string): { config: PolicyPackConfigFile; policies: Set<string> } {
  const out = {} as PolicyPackConfigFile;
  const excepted = new Set<string>();
  for (const [id, entry] of Object.entries(config) as [keyof PolicyPackConfigFile, PolicyPackConfigFile[keyof PolicyPackConfigFile]][]) {
    const active = entry.enforcementLevel !== "disabled" && entry.exceptions.some((e) => e.expires >= today);
    if (active) excepted.add(id);
    out[id] = { ...entry, ...(active ? {} : { enforcementLevel: "disabled" as const }), exceptions: entry.exceptions.filter((e) => e.expires < today) };
  }
  return { config: out, policies: excepted };
}

const key = (d: Diagnostic) => `${d.policyName}\n${d.urn ?? ""}\n${d.message}`;

/** The violations of the run without the exceptions in force (`unexcepted`) that the real run does not report. */
export function silencedViolations(reported: readonly Diagnostic[], unexcepted: readonly Diagnostic[]): Diagnostic[] {
  const remaining = new Map<string, number>();
  for (const d of reported) remaining.set(key(d), (remaining.get(key(d)) ?? 0) + 1);
  const silenced: Diagnostic[] = [];
  for (const d of unexcepted) {
    const n = remaining.get(key(d)) ?? 0;
    if (n > 0) remaining.set(key(d), n - 1);
    else silenced.push(d);
  }
  return silenced;
}

/** Finds the exception in force for a violation: same policy, and a name of its resource as the pack matches it. */
export function exceptionFinder<E extends ReportedException>(
  exceptions: readonly E[],
  resources: readonly ProgramResource[],
  today: string,
): (d: Diagnostic) => E | undefined {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  return (d) => {
    const r = d.urn ? byUrn.get(d.urn) : undefined;
    const names = r ? subjectNames(r.name, plain(r.props) as Record<string, unknown>) : [];
    return exceptions.find((e) => e.policy === d.policyName && e.expires >= today && names.includes(e.resource));
  };
}

function exceptedVerdict(d: Diagnostic, e: ReportedException | undefined): Verdict {
  return {
    policy: d.policyName,
    verdict: "excepted",
    enforcement: d.enforcementLevel,
    message: violationText(d),
    ...(e ? { exception: { resource: e.resource, owner: e.owner, expires: e.expires, source: e.source } } : {}),
  };
}

const VERDICT_RANK: Record<VerdictKind, number> = { violation: 0, excepted: 1, pass: 2, "not-applicable": 3 };

/** Violations first, then by the pack's policy order, then by message. */
export function compareVerdicts(a: Verdict, b: Verdict): number {
  return VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict] || policyRank(a.policy) - policyRank(b.policy) || (a.message ?? "").localeCompare(b.message ?? "");
}

/** Every resource's verdicts by URN, sorted (compareVerdicts): a pass for every enabled resource policy that gave no other. */
export function resourceVerdicts(j: Judgement): Map<string, Verdict[]> {
  const verdicts = new Map<string, Verdict[]>(j.resources.map((r) => [r.urn, []]));
  const judged = new Set<string>();
  const add = (urn: string | undefined, verdict: Verdict) => {
    if (!urn || !verdicts.has(urn)) return;
    judged.add(`${verdict.policy}\n${urn}`);
    verdicts.get(urn)!.push(verdict);
  };
  for (const d of j.evaluation.diagnostics)
    add(d.urn, { policy: d.policyName, verdict: "violation", enforcement: d.enforcementLevel, message: violationText(d) });
  for (const d of j.silenced) add(d.urn, exceptedVerdict(d, j.exceptionFor(d)));
  for (const n of j.evaluation.notApplicable)
    add(n.urn, { policy: n.policyName, verdict: "not-applicable", enforcement: j.levelOf(n.policyName), reason: n.reason });
  const resourcePolicies = policies.filter((p) => "validateResource" in p && j.levelOf(p.name) !== "disabled");
  for (const r of j.resources) {
    for (const p of resourcePolicies) {
      if (!judged.has(`${p.name}\n${r.urn}`)) verdicts.get(r.urn)!.push({ policy: p.name, verdict: "pass", enforcement: j.levelOf(p.name) });
    }
  }
  for (const list of verdicts.values()) list.sort(compareVerdicts);
  return verdicts;
}
