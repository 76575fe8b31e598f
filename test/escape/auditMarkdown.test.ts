/**
 * Hostile registry text in the Markdown the audit, the pull-request comment and the drift issue
 * write: an exception whose reason opens an HTML comment, closes the folded details, breaks the
 * table row and opens a code fence must not hide or restructure anything after it. Markdown's
 * block structure is decided line by line from each line's start, so the report is compared
 * line by line with the same report holding harmless text: same lines, each of the same kind,
 * each row with the same cells and no HTML tag the renderer did not write.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../cmd/audit/markdown";
import type { ComplianceReport, ReportViolation } from "../../cmd/audit/schema";
import { auditComment } from "../../cmd/ci/commands/auditComment";
import { driftIssueBody } from "../../cmd/ci/commands/driftIssue";
import { apiResource, complianceReport, exceptionReported } from "../audit/support";
import { tempDir } from "../ci/support";

const HOSTILE = [
  "needed <!-- the rest is hidden",
  "</details></summary><details><summary>fold",
  "row | ends\n\n# New heading\r\n```\nfence\u0085NEL\u2028LS\u2029PS\rCR",
  "`unclosed code and *emphasis [link](javascript:alert(1))",
  "& entities &lt;",
].join(" ");
const HARMLESS = "needed for the migration of the legacy batch jobs";

/** A line with each code span (where Markdown reads no HTML) as CODE; backslash-escaped backticks open none. */
function withoutCode(line: string): string {
  let out = "";
  for (let i = 0; i < line.length;) {
    if (line[i] === "\\") {
      out += line.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (line[i] !== "`") {
      out += line[i++];
      continue;
    }
    const run = /^`+/.exec(line.slice(i))![0];
    const close = [...line.slice(i + run.length).matchAll(/`+/g)].find((m) => m[0] === run);
    if (close === undefined) {
      out += run;
      i += run.length;
    } else {
      out += "CODE";
      i += run.length + close.index + run.length;
    }
  }
  return out;
}

const htmlComments = (markdown: string) => markdown.split("\n").flatMap((l) => withoutCode(l).match(/<!--/g) ?? []).length;

/** What decides a line's block structure and a row's cells: how it starts, its unescaped pipes, the HTML tags in it. */
function skeleton(markdown: string): string[] {
  return markdown.split("\n").map((line) => {
    const start = /^(?:\|| {0,3}(?:#{1,6} |<!--|<\/?details|<\/?summary|```|~~~|>|[-+*] |\d+[.)] )|$)/.exec(line)?.[0] ?? "text";
    const pipes = (line.match(/(?<!\\)\|/g) ?? []).length;
    const tags = (withoutCode(line).match(/<\/?[a-z!][^>]*>?/gi) ?? []).filter((t) => !/^<\/?(?:br|sub)>$/.test(t));
    return `${start} pipes=${pipes} tags=${tags.join("")}`;
  });
}

const api = apiResource();

function reportWith(text: string): ComplianceReport {
  const violation: ReportViolation = {
    policy: "no-privileged-containers",
    enforcement: "mandatory",
    phase: "resource",
    urn: api.urn,
    type: api.type,
    name: `api${text === HARMLESS ? "" : "`<!--"}`,
    source: api.source,
    message: text,
    expiredException: false,
  };
  return complianceReport({
    passed: false,
    summary: { ...complianceReport().summary, mandatory: 1, exceptions: 2, resources: 1, policies: 1 },
    violations: [violation],
    exceptions: [exceptionReported({ reason: text, owner: text }), exceptionReported({ resource: "db2", reason: HARMLESS })],
    resources: [api],
  });
}

describe("the Markdown audit with a hostile exception reason", () => {
  const hostile = renderMarkdown(reportWith(HOSTILE));
  const harmless = renderMarkdown(reportWith(HARMLESS));

  it("keeps every line, section and table row of the report", () => {
    expect(skeleton(hostile)).toEqual(skeleton(harmless));
    const sections = (md: string) => md.split("\n").filter((l) => /^(?:### |<details>)/.test(l));
    expect(sections(hostile)).toEqual(["### Violations", "### Policies not enforced in dev", "### Exceptions", "### Backups", ...sections(harmless).slice(4)]);
    expect(sections(hostile)).toHaveLength(6);
    // Both exceptions keep their rows, the second one after the hostile one.
    expect(hostile.split("\n").filter((l) => l.startsWith("| `read-only-root-filesystem`"))).toHaveLength(2);
  });

  it("opens no HTML comment but its own marker, and leaves no line separator raw", () => {
    expect(htmlComments(hostile)).toBe(1);
    expect(hostile).not.toMatch(/[\r\u0085\u2028\u2029]/);
    expect(hostile).toContain("&lt;!-- the rest is hidden");
  });

  it("keeps every environment's section of the pull-request comment after a hostile report", () => {
    const dir = tempDir();
    for (const [env, report] of [
      ["dev", hostile],
      ["prod", harmless],
    ] as const) {
      fs.mkdirSync(path.join(dir, `nexus-audit-${env}`));
      fs.writeFileSync(path.join(dir, `nexus-audit-${env}`, "status"), "preview=success\naudit=failure\n");
      fs.writeFileSync(path.join(dir, `nexus-audit-${env}`, "audit.md"), report);
    }
    const { body } = auditComment({ dir, environments: ["dev", "prod"], runUrl: "https://github.com/o/r/actions/runs/1)<!--" });
    expect(body.split("\n").filter((l) => l.startsWith("### ❌"))).toEqual([
      "### ❌ dev: preview success, audit failure",
      "### ❌ prod: preview success, audit failure",
    ]);
    expect(htmlComments(body)).toBe(2);
    expect(body).toContain("[workflow run](https://github.com/o/r/actions/runs/1%29%3C!--)");
  });

  it("keeps one table row per change in the drift issue, whatever the report's keys hold", () => {
    const report = JSON.stringify({ changeSummary: { "update|x\n<!--": 2, delete: 1 } });
    const { body } = driftIssueBody({ stack: "prod", environment: "prod", report, now: new Date("2026-05-01T05:03:00Z") });
    const rows = body.split("\n").filter((l) => l.startsWith("| "));
    expect(rows).toEqual(["| change | resources |", "| delete | 1 |", "| update\\|x<br>&lt;!-- | 2 |"]);
  });
});
