/**
 * Bodies of the actions/github-script steps of the generated workflows. github-script runs each
 * as an async function of (github, context, core, require, ...); inputs come through `env:`, never
 * through `${{ }}` interpolation into the code. test/ci runs them against a fake API.
 * No `${{` may appear in these texts: Actions would expand it before the script runs.
 */

/** The hidden marker that identifies the one audit comment of a pull request. */
/** A backtick, for Markdown code spans inside the template literals below. */
const BT = "`";

export const AUDIT_MARKER = "<!-- nexus-audit -->";

/**
 * Posts (or updates) the one audit comment of a pull request from the per-environment artifacts
 * (DIR/nexus-audit-ENV/{audit.md,status}) and fails when a policy gate failed.
 * env: AUDIT_DIR, NEXUS_ENVIRONMENTS (JSON array of environment names).
 */
export const AUDIT_COMMENT_SCRIPT = String.raw`const fs = require("fs");
const path = require("path");
const marker = "${AUDIT_MARKER}";
const envs = JSON.parse(process.env.NEXUS_ENVIRONMENTS);
const dir = process.env.AUDIT_DIR;
const pr = context.payload.pull_request;
if (!pr) {
  core.setFailed("the audit comment needs a pull_request event");
  return;
}
const read = (file) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined);
const failed = [];
const sections = envs.map((env) => {
  const status = Object.fromEntries(
    (read(path.join(dir, "nexus-audit-" + env, "status")) || "")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).trim()]),
  );
  const report = read(path.join(dir, "nexus-audit-" + env, "audit.md"));
  const ok = status.preview !== "failure" && status.audit === "success";
  if (!ok) failed.push(env);
  const head = "### " + (ok ? "✅" : "❌") + " " + env + ": preview " + (status.preview || "not run") + ", audit " + (status.audit || "not run");
  const body = report && report.trim() !== "" ? report.trim() : "_No audit report: the job stopped before the audit ran; see the workflow run._";
  return head + "\n\n" + body;
});
const run = context.serverUrl + "/" + context.repo.owner + "/" + context.repo.repo + "/actions/runs/" + context.runId;
const limit = 60000;
let text = [
  marker,
  "## NEXUS policy audit",
  "",
  "Commit " + pr.head.sha.slice(0, 7) + " · [workflow run](" + run + ") · updated on every push",
  "",
  sections.join("\n\n"),
].join("\n");
if (text.length > limit) text = text.slice(0, limit) + "\n\n_Truncated: the full reports are in the workflow run's artifacts._";
const comments = await github.paginate(github.rest.issues.listComments, {
  owner: context.repo.owner,
  repo: context.repo.repo,
  issue_number: pr.number,
  per_page: 100,
});
const existing = comments.find((c) => c.user && c.user.type === "Bot" && typeof c.body === "string" && c.body.includes(marker));
if (existing) {
  await github.rest.issues.updateComment({ owner: context.repo.owner, repo: context.repo.repo, comment_id: existing.id, body: text });
  core.info("updated the audit comment " + existing.html_url);
} else {
  const created = await github.rest.issues.createComment({ owner: context.repo.owner, repo: context.repo.repo, issue_number: pr.number, body: text });
  core.info("created the audit comment " + created.data.html_url);
}
if (failed.length > 0) core.setFailed("policy gate failed for " + failed.join(", ") + ": see the audit comment on the pull request");
`;

/**
 * Opens, or updates, the one open issue titled "Drift detected in stack STACK".
 * env: STACK, ENVIRONMENT, REPORT (path of the `pulumi refresh --preview-only --json` output).
 */
export const DRIFT_ISSUE_SCRIPT = String.raw`const fs = require("fs");
const stack = process.env.STACK;
const title = "Drift detected in stack " + stack;
let summary = {};
try {
  summary = JSON.parse(fs.readFileSync(process.env.REPORT, "utf8")).changeSummary || {};
} catch (error) {
  core.warning("cannot read the refresh report: " + error.message);
}
const changes = Object.keys(summary)
  .filter((op) => op !== "same" && summary[op] > 0)
  .sort()
  .map((op) => "| " + op + " | " + summary[op] + " |");
const run = context.serverUrl + "/" + context.repo.owner + "/" + context.repo.repo + "/actions/runs/" + context.runId;
const when = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
const report = [
  "The resources of stack **" + stack + "** (environment " + process.env.ENVIRONMENT + ") no longer match the Pulumi state.",
  "",
  "Detected " + when + " by ${BT}pulumi refresh --preview-only --expect-no-changes${BT} in [this workflow run](" + run + ").",
  "",
  changes.length > 0 ? "| change | resources |\n|---|---|\n" + changes.join("\n") : "_No change summary available; see the run log._",
  "",
  "To resolve: either accept the live state with ${BT}pulumi refresh --stack " + stack + "${BT}, or restore the declared state with ${BT}pulumi up --stack " + stack + "${BT} (through the release pipeline).",
  "This issue is updated by every drift run while it is open; close it once the stack is reconciled.",
].join("\n");
const issues = await github.paginate(github.rest.issues.listForRepo, {
  owner: context.repo.owner,
  repo: context.repo.repo,
  state: "open",
  per_page: 100,
});
const existing = issues.find((i) => !i.pull_request && i.title === title);
if (existing) {
  await github.rest.issues.update({ owner: context.repo.owner, repo: context.repo.repo, issue_number: existing.number, body: report });
  await github.rest.issues.createComment({ owner: context.repo.owner, repo: context.repo.repo, issue_number: existing.number, body: "Drift still present " + when + ": [workflow run](" + run + ")." });
  core.warning("drift in stack " + stack + ": updated " + existing.html_url);
} else {
  const created = await github.rest.issues.create({ owner: context.repo.owner, repo: context.repo.repo, title, body: report });
  core.warning("drift in stack " + stack + ": opened " + created.data.html_url);
}
`;

/**
 * Checks that the repository's GitHub environments carry the approval the registry asks for:
 * every reviewer it names (a user login, or "org/team-slug") and at least its wait time.
 * GitHub has no workflow syntax for reviewers: they live on the repository's environment, so a
 * missing or weaker protection fails the release before anything is deployed.
 * env: NEXUS_APPROVALS (JSON array of {environment, reviewers, waitMinutes}).
 */
export const ENVIRONMENT_PROTECTION_SCRIPT = String.raw`const wanted = JSON.parse(process.env.NEXUS_APPROVALS);
const problems = [];
for (const want of wanted) {
  let env;
  try {
    env = (await github.rest.repos.getEnvironment({ owner: context.repo.owner, repo: context.repo.repo, environment_name: want.environment })).data;
  } catch (error) {
    problems.push("environment " + want.environment + " is not configured (" + error.message + "): create it under Settings > Environments with required reviewers" + (want.reviewers.length > 0 ? " " + want.reviewers.join(", ") : ""));
    continue;
  }
  const rules = env.protection_rules || [];
  const reviewers = rules
    .filter((r) => r.type === "required_reviewers")
    .flatMap((r) => r.reviewers || [])
    .map((r) => (r.type === "Team" ? "team:" + (r.reviewer && r.reviewer.slug) : "user:" + (r.reviewer && r.reviewer.login)).toLowerCase());
  const missing = want.reviewers.filter((name) => {
    const slug = name.includes("/") ? name.slice(name.indexOf("/") + 1) : name;
    return !reviewers.includes(("team:" + slug).toLowerCase()) && !reviewers.includes(("user:" + name).toLowerCase());
  });
  if (reviewers.length === 0) problems.push("environment " + want.environment + " has no required reviewers: add " + (want.reviewers.length > 0 ? want.reviewers.join(", ") : "at least one reviewer") + " under Settings > Environments > " + want.environment);
  else if (missing.length > 0) problems.push("environment " + want.environment + " does not require the reviewers " + missing.join(", ") + " named in the pipelines registry");
  const timer = rules.filter((r) => r.type === "wait_timer").reduce((max, r) => Math.max(max, r.wait_timer || 0), 0);
  if (timer < want.waitMinutes) problems.push("environment " + want.environment + " waits " + timer + " minute(s) before deploying; the pipelines registry asks for " + want.waitMinutes);
}
if (problems.length > 0) core.setFailed(problems.join("\n"));
else core.info("environment protection matches the pipelines registry for " + wanted.map((w) => w.environment).join(", "));
`;
