import * as path from "node:path";
import { mdLink, mdText } from "../../../contract/escape/markdown";
import { parseCommand, stringOptions, usageError, writeOut } from "../../args";
import { splitSecurityChanges } from "../../audit/securityMarkdown";
import { runUrlOf } from "../githubApi";
import { annotate, listOf, readIfExists } from "./output";

/** The key of the hidden marker (`nexus ci post-comment --marker`) that finds the one audit comment again. */
export const AUDIT_COMMENT_MARKER = "nexus-audit";

/** Below GitHub's 65,536-character limit on a comment, with room for the marker and the truncation note. */
export const COMMENT_LIMIT = 60_000;

export const COMMENT_USAGE = `Usage: nexus ci comment --audit-dir DIR --envs NAME[,NAME...] [--out FILE] [--sha SHA] [--run-url URL]

Writes one audit comment (Markdown) for several environments: one section per environment, from
DIR/nexus-audit-<env>/status (preview=OUTCOME and audit=OUTCOME lines) and
DIR/nexus-audit-<env>/audit.md (the \`nexus audit --format md\` report). (The pull-request workflow
posts one \`nexus check\` comment per stack instead; this combines audits run by hand.)
The security changes of the reports (\`nexus audit --base\`) open the comment, every environment's.
An environment without artifacts counts as not run. Post the file with \`nexus ci post-comment\`.
Exit status: 0 every gate passed, 1 a gate failed or did not run (the Markdown is written all
the same) or FILE cannot be written, 2 usage error.

Options:
  --audit-dir DIR   folder the audit artifacts were downloaded to (required)
  --envs NAMES      environments, comma-separated, in the order the comment shows them (required)
  --out FILE        write the Markdown there (default: standard output)
  --sha SHA         commit the audit is of, shown in the comment
  --run-url URL     link to the workflow run (default: from GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID)
  -h, --help        show this help

Example:
  npx nexus ci comment --audit-dir "$RUNNER_TEMP/nexus-audit" --envs dev,prod --sha "$HEAD_SHA" --out comment.md`;

export interface AuditCommentInput {
  dir: string;
  environments: string[];
  sha?: string;
  runUrl?: string;
}

export interface AuditComment {
  body: string;
  /** Environments whose gate failed or never reported. */
  failed: string[];
}

/** The key=value lines of a status file. */
function parseStatus(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? "").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** An environment's section, with the security changes of its report (`nexus audit --base`) taken out. */
function section(dir: string, env: string): { text: string; ok: boolean; changes: string[] } {
  const status = parseStatus(readIfExists(path.join(dir, `nexus-audit-${env}`, "status")));
  const { changes, rest } = splitSecurityChanges(readIfExists(path.join(dir, `nexus-audit-${env}`, "audit.md")) ?? "");
  const report = rest.trim();
  const ok = status.preview !== "failure" && status.audit === "success";
  const head = `### ${ok ? "✅" : "❌"} ${mdText(env)}: preview ${mdText(status.preview || "not run")}, audit ${mdText(status.audit || "not run")}`;
  const body = report ? report : "_No audit report: the job stopped before the audit ran; see the workflow run._";
  return { text: `${head}\n\n${body}`, ok, changes };
}

/**
 * The body cut to at most `limit` characters at a line end, so no HTML comment or tag is cut open
 * (an open `<!--` would hide the truncation note after it), with any `<details>` left open closed.
 */
export function truncated(body: string, limit: number): string {
  const end = body.lastIndexOf("\n", limit);
  const kept = body.slice(0, end < 0 ? 0 : end);
  const open = (kept.match(/<details>/g) ?? []).length - (kept.match(/<\/details>/g) ?? []).length;
  return open > 0 ? `${kept}\n\n${"</details>\n".repeat(open).trimEnd()}` : kept;
}

export function auditComment(input: AuditCommentInput): AuditComment {
  const sections = input.environments.map((env) => ({ env, ...section(input.dir, env) }));
  const about = [
    input.sha ? `Commit ${mdText(input.sha.slice(0, 7))}` : undefined,
    input.runUrl ? mdLink("workflow run", input.runUrl) : undefined,
    "updated on every push",
  ].filter((s): s is string => s !== undefined);
  // What the pull request loosens or tightens comes first, for every environment: the reviewer's
  // question, and out of reach of the truncation below.
  const changes = sections.flatMap((s) => s.changes);
  let body = ["## NEXUS policy audit", "", about.join(" · "), "", ...changes.flatMap((c) => [c, ""]), sections.map((s) => s.text).join("\n\n")].join("\n");
  if (body.length > COMMENT_LIMIT) body = `${truncated(body, COMMENT_LIMIT)}\n\n_Truncated: the full reports are in the workflow run's artifacts._`;
  return { body: `${body}\n`, failed: sections.filter((s) => !s.ok).map((s) => s.env) };
}

export async function commentCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("audit-dir", "envs", "out", "sha", "run-url"), COMMENT_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values;
  const dir = v["audit-dir"] as string | undefined;
  const environments = listOf((v.envs as string | undefined) ?? "");
  const out = v.out as string | undefined;
  if (!dir) return usageError("--audit-dir is required", COMMENT_USAGE);
  if (environments.length === 0) return usageError("--envs is required", COMMENT_USAGE);

  const comment = auditComment({ dir, environments, sha: v.sha as string | undefined, runUrl: (v["run-url"] as string | undefined) ?? runUrlOf() });
  const written = writeOut(out, comment.body);
  if (written !== 0) return written;
  if (out !== undefined) console.error(`wrote ${out}: the audit comment of ${environments.join(", ")}`);
  if (comment.failed.length === 0) return 0;
  annotate("error", `policy gate failed for ${comment.failed.join(", ")}: see the audit comment on the pull request`, { title: "Policy gate" });
  return 1;
}
