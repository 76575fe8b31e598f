/**
 * The shape of the compliance report `nexus audit` writes (JSON schema "nexus-audit/v1"). Types
 * and the schema name only, so the CLI can name the schema without loading the pack or the SDKs.
 */
import type { Problem } from "../../domain/loader";
import type { EnforcementLevel, Evaluation } from "../../internal/pulumi/analyzer";
import type { SecurityChange } from "./securityDiff";

export const REPORT_SCHEMA = "nexus-audit/v1";

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

/**
 * One backup task as a GDPR record of processing needs it: what is copied, whether it holds
 * personal data, on which legal basis and for how long.
 */
export interface ReportBackup {
  task: string;
  /** The service backed up. */
  target: string;
  method: string;
  /** Object-key prefix of its destination. */
  prefix: string;
  personalData: boolean;
  /** GDPR Art. 6 basis the registry declares; null when it declares none. */
  legalBasis: string | null;
  /** Days a backup is kept: the retention, never beyond the GDPR maximum. */
  retentionDays: number;
  /** The GDPR maximum; null without a gdpr section. */
  maxRetentionDays: number | null;
  source: string;
}

export interface ReportSummary {
  mandatory: number;
  advisory: number;
  excepted: number;
  resources: number;
  /** Enabled policies (mandatory or advisory). */
  policies: number;
  disabledPolicies: number;
  exceptions: number;
  expiredExceptions: number;
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
  summary: ReportSummary;
  /** With --base: the git revision the registries were compared with. */
  base?: ReportBase;
  /** With --base: every loosening and tightening of a security setting in this environment (cmd/audit/securityDiff.ts). */
  securityChanges?: SecurityChange[];
  policies: ReportPolicy[];
  exceptions: ReportException[];
  /** Every backup task of the environment, by task name. */
  backups: ReportBackup[];
  violations: ReportViolation[];
  resources: ReportResource[];
}

export interface ReportBase {
  /** The revision as given, e.g. "origin/main". */
  ref: string;
  commit: string;
  /** False when the registries at that revision do not load for the environment: then no changes are listed. */
  loaded: boolean;
  /** When not loaded: why, in one line. */
  problem?: string;
}

/** The outcome of `nexus audit`: a report, or the registry problems that stopped it. */
export type AuditResult = { ok: true; report: ComplianceReport; evaluation: Evaluation } | { ok: false; registries: string; problems: Problem[] };
