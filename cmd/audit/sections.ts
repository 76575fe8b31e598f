/**
 * The sections of the compliance report, each built from one judgement of the pack (verdicts.ts):
 * the resources with their verdicts, the violations, each policy's results, the exceptions and
 * the summary. Every list is sorted, so the same program and day give the same report.
 */
import { effectiveRetentionDays } from "../../components/builders/backup";
import type { ResolvedTask } from "../../domain/model";
import { policies } from "../../policy/policies";
import { violationText, type Diagnostic, type EnforcementLevel } from "../../internal/pulumi/analyzer";
import type { ProgramResource } from "./evaluate";
import type { Source } from "./sources";
import type { ReportBackup, ReportException, ReportPolicy, ReportResource, ReportSummary, ReportViolation, Verdict, VerdictKind } from "./schema";
import { policyRank, type Judgement, type ReportedException } from "./verdicts";

/** Every backup task with its GDPR facts, by task name: what an auditor's record of processing asks. */
export function reportBackups(tasks: readonly ResolvedTask[]): ReportBackup[] {
  return tasks
    .filter((t) => t.kind === "backup" && t.backup)
    .map((t) => {
      const backup = t.backup!;
      return {
        task: t.name,
        target: t.target ?? "",
        method: backup.method,
        prefix: backup.destination.prefix,
        personalData: backup.gdpr?.personalData ?? false,
        legalBasis: backup.gdpr?.legalBasis ?? null,
        retentionDays: effectiveRetentionDays(backup),
        maxRetentionDays: backup.gdpr?.maxRetentionDays ?? null,
        source: t.source,
      };
    })
    .sort((a, b) => a.task.localeCompare(b.task));
}

/** Every resource, by URN, with its registry source and verdicts. */
export function reportResources(
  resources: readonly ProgramResource[],
  verdicts: ReadonlyMap<string, Verdict[]>,
  sources: ReadonlyMap<string, Source>,
): ReportResource[] {
  return [...resources]
    .sort((a, b) => a.urn.localeCompare(b.urn))
    .map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent ?? "",
      custom: r.custom,
      source: sources.get(r.urn)?.source ?? null,
      sourceFrom: sources.get(r.urn)?.from ?? null,
      verdicts: verdicts.get(r.urn) ?? [],
    }));
}

const LEVEL_RANK: Record<EnforcementLevel, number> = { mandatory: 0, remediate: 1, advisory: 2, disabled: 3 };

/** Says an exception for the violation expired (the pack's exceptions.ts words it so). */
const EXPIRED_EXCEPTION = / \(exception for .+ expired on \d{4}-\d{2}-\d{2}: /;

/** Every violation the pack reported, located at its resource's registry entry; the most severe first. */
export function reportViolations(j: Judgement, sources: ReadonlyMap<string, Source>): ReportViolation[] {
  const byUrn = new Map(j.resources.map((r) => [r.urn, r]));
  return j.evaluation.diagnostics
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
        source: d.urn ? (sources.get(d.urn)?.source ?? null) : null,
        message,
        expiredException: EXPIRED_EXCEPTION.test(message),
      };
    })
    .sort(
      (a, b) =>
        LEVEL_RANK[a.enforcement] - LEVEL_RANK[b.enforcement] ||
        policyRank(a.policy) - policyRank(b.policy) ||
        (a.urn ?? "").localeCompare(b.urn ?? "") ||
        a.message.localeCompare(b.message),
    );
}

type PackPolicy = (typeof policies)[number];

/** A policy's row: counts of what it reported; verdicts per resource only for resource policies. */
export function policyRow(p: PackPolicy, j: Judgement, resources: readonly ReportResource[]): ReportPolicy {
  const enforcement = j.levelOf(p.name);
  const counts = {
    violations: j.evaluation.diagnostics.filter((d) => d.policyName === p.name).length,
    excepted: j.silenced.filter((d) => d.policyName === p.name).length,
  };
  if (!("validateResource" in p)) {
    const na = j.evaluation.notApplicable.find((n) => n.policyName === p.name && !n.urn);
    const notApplicable = na ? 1 : 0;
    return {
      name: p.name,
      description: p.description,
      kind: "stack",
      enforcement,
      checked: null,
      passed: null,
      notApplicable,
      ...counts,
      ...(na ? { notApplicableReason: na.reason } : {}),
    };
  }
  const own = resources.map((r) => r.verdicts.filter((v) => v.policy === p.name));
  const count = (kind: VerdictKind) => own.flat().filter((v) => v.verdict === kind).length;
  const checked = own.filter((list) => list.some((v) => v.verdict !== "not-applicable")).length;
  return {
    name: p.name,
    description: p.description,
    kind: "resource",
    enforcement,
    checked: enforcement === "disabled" ? 0 : checked,
    passed: count("pass"),
    notApplicable: count("not-applicable"),
    ...counts,
  };
}

/** Every policy of the pack in its order, disabled ones included. */
export function reportPolicies(j: Judgement, resources: readonly ReportResource[]): ReportPolicy[] {
  return policies.map((p) => policyRow(p, j, resources));
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

const sortedUrns = (urns: (string | null | undefined)[]) => [...new Set(urns.filter((u): u is string => !!u))].sort();

/** An exception's row: in force or expired, what it silences, and which violations name it as expired. */
export function exceptionRow(e: ReportedException, j: Judgement, violations: readonly ReportViolation[]): ReportException {
  const expiredNote = `(exception for ${e.resource} by ${e.owner} expired on ${e.expires}: `;
  return {
    policy: e.policy,
    resource: e.resource,
    owner: e.owner,
    reason: e.reason.trim(),
    expires: e.expires,
    source: e.source,
    status: e.expires >= j.today ? "in-force" : "expired",
    daysLeft: daysBetween(j.today, e.expires),
    enforcement: j.levelOf(e.policy),
    silences: sortedUrns(j.silenced.filter((d: Diagnostic) => d.policyName === e.policy && d.urn && j.exceptionFor(d) === e).map((d) => d.urn)),
    expiredFor: sortedUrns(violations.filter((v) => v.policy === e.policy && v.urn && v.message.includes(expiredNote)).map((v) => v.urn)),
  };
}

/** Every exception of the registry, the first to expire first. */
export function reportExceptions(exceptions: readonly ReportedException[], j: Judgement, violations: readonly ReportViolation[]): ReportException[] {
  return exceptions
    .map((e) => exceptionRow(e, j, violations))
    .sort((a, b) => a.expires.localeCompare(b.expires) || a.policy.localeCompare(b.policy) || a.resource.localeCompare(b.resource));
}

/** The counts the report opens with; a remediate violation blocks the deploy as a mandatory one does. */
export function reportSummary(sections: {
  violations: readonly ReportViolation[];
  excepted: number;
  resources: readonly ReportResource[];
  policies: readonly ReportPolicy[];
  exceptions: readonly ReportException[];
}): ReportSummary {
  const { violations, policies: rows, exceptions } = sections;
  return {
    mandatory: violations.filter((v) => v.enforcement === "mandatory" || v.enforcement === "remediate").length,
    advisory: violations.filter((v) => v.enforcement === "advisory").length,
    excepted: sections.excepted,
    resources: sections.resources.length,
    policies: rows.filter((p) => p.enforcement !== "disabled").length,
    disabledPolicies: rows.filter((p) => p.enforcement === "disabled").length,
    exceptions: exceptions.length,
    expiredExceptions: exceptions.filter((e) => e.status === "expired").length,
  };
}
