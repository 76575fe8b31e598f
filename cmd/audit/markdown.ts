/**
 * The Markdown report, for a pull-request comment: a summary line and a status paragraph, the
 * violations and exceptions as tables, then each policy's results and every resource in
 * collapsible details.
 */
import { htmlText, mdCell, mdCode, mdCommentText, mdText } from "../../contract/escape/markdown";
import type { ComplianceReport, ReportBackup, ReportException, ReportResource, Verdict, VerdictKind } from "./schema";
import { securityChangesSection } from "./securityMarkdown";

/**
 * A table cell: "—" when empty; pipes, backslashes and inline markup escaped, `<`, `>`, `&` as
 * entities (so a reason cannot open an HTML comment that hides the rest), line breaks as <br>.
 */
export const cell = (value: string | null | undefined): string => mdCell(value);

/** Inline code in a table cell: fenced by more backticks than it holds, pipes escaped, on one line. */
export const code = (value: string | null | undefined) => mdCode(value, { table: true });
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The one-line summary that opens the Markdown report. */
export function summaryLine(report: ComplianceReport): string {
  const s = report.summary;
  return `${plural(s.mandatory, "mandatory violation")}, ${s.advisory} advisory, ${plural(s.resources, "resource")}, ${plural(s.policies, "policy", "policies")}`;
}

function header(report: ComplianceReport): string[] {
  const s = report.summary;
  const status =
    `${report.passed ? "✅" : "❌"} \`nexus audit\` of stack ${mdCode(report.stack)} (environment ${mdCode(report.environment)}), registries ${mdCode(report.registries)}, ` +
    `policy pack ${mdCode(`${report.pack.name}@${report.pack.version}`)}, exceptions judged on ${mdText(report.today)}: ` +
    (report.passed
      ? "no mandatory policy is violated."
      : "the deploy is blocked until the mandatory violations are fixed or excepted in registries/security.yaml.") +
    (s.excepted > 0 ? ` ${plural(s.excepted, "violation")} excepted.` : "") +
    (s.expiredExceptions > 0 ? ` ⚠️ ${plural(s.expiredExceptions, "exception")} expired.` : "");
  // With --base, what the change does to security comes first, above the verdicts.
  return [`<!-- nexus-audit stack=${mdCommentText(report.stack)} -->`, ...securityChangesSection(report), `**${summaryLine(report)}**`, "", status];
}

/** A titled table, or "None." when it has no rows. */
function table(title: string, columns: string[], rows: string[]): string[] {
  if (rows.length === 0) return [title, "", "None."];
  return [title, "", `| ${columns.join(" | ")} |`, `| ${columns.map(() => "---").join(" | ")} |`, ...rows];
}

/** A table folded under a summary line. */
function details(summary: string, columns: string[], rows: string[]): string[] {
  return [`<details><summary>${summary}</summary>`, "", `| ${columns.join(" | ")} |`, `| ${columns.map(() => "---").join(" | ")} |`, ...rows, "", "</details>"];
}

function violationsSection(report: ComplianceReport): string[] {
  const rows = report.violations.map((v) => {
    const level = v.enforcement === "advisory" ? "advisory" : `**${v.enforcement}**`;
    const resource = v.name ? `${code(v.name)}<br><sub>${cell(v.type)}</sub>` : "(stack)";
    return `| ${level} | ${code(v.policy)} | ${resource} | ${code(v.source)} | ${cell(v.message)} |`;
  });
  return table("### Violations", ["Level", "Policy", "Resource", "Source", "Message"], rows);
}

/** An exception's status, with what to do about one that covers nothing. */
export function exceptionStatus(e: ReportException): string {
  if (e.status === "expired") {
    return (
      `⚠️ **expired** ${plural(-e.daysLeft, "day")} ago` +
      (e.expiredFor.length > 0 ? `; its resource is in violation again` : "; covers nothing any more (the resource complies: the exception can go)")
    );
  }
  return `in force, ${plural(e.daysLeft, "day")} left` + (e.silences.length === 0 ? "; silences nothing (the resource complies: the exception can go)" : "");
}

function exceptionsSection(report: ComplianceReport): string[] {
  const rows = report.exceptions.map(
    (e) =>
      `| ${code(e.policy)} (${e.enforcement}) | ${code(e.resource)} | ${cell(e.owner)} | ${cell(e.expires)} | ${exceptionStatus(e)} | ${e.silences.length} | ${code(e.source)} | ${cell(e.reason)} |`,
  );
  return table("### Exceptions", ["Policy", "Resource", "Owner", "Expires", "Status", "Silences", "Source", "Reason"], rows);
}

/** A backup's personal data in one cell: "no", or "yes" with its legal basis (or that none is declared). */
export function personalDataCell(b: ReportBackup): string {
  if (!b.personalData) return "no";
  return b.legalBasis ? `yes, ${cell(b.legalBasis)}` : "yes, ⚠️ no legal basis declared";
}

/** The backups as a record of processing: what is copied, personal data and its legal basis, and for how long. */
export function backupsSection(report: ComplianceReport): string[] {
  const rows = report.backups.map(
    (b) =>
      `| ${code(b.task)} | ${code(b.target)} | ${cell(b.method)} | ${code(b.prefix)} | ${personalDataCell(b)} | ${b.retentionDays} | ${b.maxRetentionDays ?? "—"} | ${code(b.source)} |`,
  );
  return table("### Backups", ["Task", "Target", "Method", "Prefix", "Personal data, legal basis", "Kept (days)", "GDPR maximum (days)", "Source"], rows);
}

/**
 * Policies that do not block in this environment, in the open: a disabled policy judges nothing
 * and an advisory one never fails the gate, which a reader of "0 mandatory violations" must see.
 */
export function notEnforcedSection(report: ComplianceReport): string[] {
  const rows = report.policies
    .filter((p) => p.enforcement !== "mandatory")
    .map(
      (p) => `| ${code(p.name)} | ${p.enforcement === "disabled" ? "**disabled**: judges nothing" : "advisory: reported, never blocks"} | ${p.violations} |`,
    );
  return table(`### Policies not enforced in ${htmlText(report.environment)}`, ["Policy", "Level", "Violations"], rows);
}

function policiesSection(report: ComplianceReport): string[] {
  const rows = report.policies.map((p) => {
    const na = p.kind === "stack" ? (p.notApplicableReason ? cell(p.notApplicableReason) : "—") : String(p.notApplicable);
    return `| ${code(p.name)} | ${p.enforcement} | ${p.kind} | ${p.checked ?? "stack"} | ${p.passed ?? "—"} | ${p.violations} | ${p.excepted} | ${na} |`;
  });
  const s = report.summary;
  const summary = `Policies: ${s.policies} enabled, ${s.disabledPolicies} disabled in ${htmlText(report.environment)}`;
  return details(summary, ["Policy", "Enforcement", "Kind", "Checked", "Pass", "Violations", "Excepted", "Not applicable"], rows);
}

/** A resource's verdicts in one cell: the policies it violates or is excepted from, then counts. */
export function verdictSummary(r: ReportResource): string {
  const by = (v: VerdictKind) => r.verdicts.filter((x) => x.verdict === v);
  const named = (list: Verdict[]) => [...new Set(list.map((v) => v.policy))].join(", ");
  const parts: string[] = [];
  if (by("violation").length > 0) parts.push(`❌ ${named(by("violation"))}`);
  if (by("excepted").length > 0) parts.push(`🛡️ excepted: ${named(by("excepted"))}`);
  parts.push(`${by("pass").length} pass`, `${by("not-applicable").length} n/a`);
  return parts.join(" · ");
}

function resourcesSection(report: ComplianceReport): string[] {
  const rows = report.resources.map((r) => `| ${code(r.name)} | ${cell(r.type)} | ${code(r.source)} | ${cell(verdictSummary(r))} | ${code(r.urn)} |`);
  const summary = `All ${plural(report.summary.resources, "resource")}, with the registry entry each came from`;
  return details(summary, ["Resource", "Type", "Source", "Verdicts", "URN"], rows);
}

/** The Markdown report, for a pull-request comment: its sections, a blank line apart. */
export function renderMarkdown(report: ComplianceReport): string {
  const sections = [header, violationsSection, notEnforcedSection, exceptionsSection, backupsSection, policiesSection, resourcesSection].map((section) =>
    section(report),
  );
  return `${sections.map((lines) => lines.join("\n")).join("\n\n")}\n`;
}
