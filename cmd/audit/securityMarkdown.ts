/**
 * The security changes in the Markdown report: the first section, above the verdicts, one line
 * per change. Hidden markers around it let the pull-request comment (cmd/ci/commands/auditComment.ts)
 * lift the sections of every environment to its top, where truncation never reaches.
 */
import { mdCode as inline, mdText as text } from "../../contract/escape/markdown";
import type { ComplianceReport } from "./schema";
import type { SecurityChange } from "./securityDiff";

export const SECURITY_CHANGES_BEGIN = "<!-- nexus-security-changes -->";
export const SECURITY_CHANGES_END = "<!-- /nexus-security-changes -->";

const ICON = { loosens: "🔓", tightens: "🔒" } as const;

/** One change as one Markdown list item: direction, environment, what, from → to, and where. */
export function changeItem(c: SecurityChange): string {
  return `- ${ICON[c.direction]} **${c.direction}** ${text(c.environment)}: ${text(c.what)}: ${inline(c.from)} → ${inline(c.to)} (${inline(c.source)})`;
}

/** The section's lines, blank line last; none without --base. */
export function securityChangesSection(report: Pick<ComplianceReport, "environment" | "base" | "securityChanges">): string[] {
  const { base, environment } = report;
  if (!base) return [];
  const changes = report.securityChanges ?? [];
  const title = `### Security changes in ${inline(environment)} against ${inline(base.ref)} (${inline(base.commit.slice(0, 7))})`;
  let body: string[];
  if (!base.loaded) body = [`⚠️ ${text(base.problem ?? `the registries at ${base.ref} do not load`)}`];
  else if (changes.length === 0) body = [`No security setting of ${inline(environment)} loosens or tightens.`];
  else {
    const loosens = changes.filter((c) => c.direction === "loosens").length;
    body = [
      `**${loosens} loosen${loosens === 1 ? "s" : ""}, ${changes.length - loosens} tighten${changes.length - loosens === 1 ? "s" : ""}.** ` +
        "Loosenings do not fail the audit: the reviewers decide, and CODEOWNERS asks the owners of the security registries for that review.",
      "",
      ...changes.map(changeItem),
    ];
  }
  return [SECURITY_CHANGES_BEGIN, title, "", ...body, SECURITY_CHANGES_END, ""];
}

/** A Markdown report split into its security-changes sections and the rest. */
export function splitSecurityChanges(markdown: string): { changes: string[]; rest: string } {
  const changes: string[] = [];
  let rest = markdown;
  for (;;) {
    const start = rest.indexOf(SECURITY_CHANGES_BEGIN);
    const end = start < 0 ? -1 : rest.indexOf(SECURITY_CHANGES_END, start);
    if (end < 0) return { changes, rest };
    changes.push(rest.slice(start + SECURITY_CHANGES_BEGIN.length, end).trim());
    rest = `${rest.slice(0, start)}${rest.slice(end + SECURITY_CHANGES_END.length).replace(/^\n+/, "")}`;
  }
}
