import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { approversOf, runApprovers, type ReviewEntry } from "../../cmd/ci/commands/approvals";
import { AUDIT_COMMENT_MARKER, auditComment, COMMENT_LIMIT } from "../../cmd/ci/commands/auditComment";
import { driftIssueBody, driftIssueTitle } from "../../cmd/ci/commands/driftIssue";
import { markerOf, upsertComment, upsertIssue } from "../../cmd/ci/commands/post";
import { protectionProblems, type WantedApproval } from "../../cmd/ci/commands/protection";
import { GitHubApiError } from "../../cmd/ci/githubApi";
import { REAL_REGISTRIES } from "../support/registries";
import { cli, fakeGitHub, REPO, tempDir } from "./support";

/**
 * What the `nexus ci` commands post and read, against a fake GitHub API: the combined audit
 * comment, the drift issue, the environment protection check and the approvers of a deploy.
 */

const MARKER = markerOf(AUDIT_COMMENT_MARKER);
const RUN = "https://github.com/nexus-platform/nexus/actions/runs/42";

function auditDir(results: Record<string, { preview: string; audit: string; report?: string }>): string {
  const dir = tempDir("nexus-audit-");
  for (const [env, r] of Object.entries(results)) {
    fs.mkdirSync(path.join(dir, `nexus-audit-${env}`));
    fs.writeFileSync(path.join(dir, `nexus-audit-${env}`, "status"), `preview=${r.preview}\naudit=${r.audit}\n`);
    if (r.report) fs.writeFileSync(path.join(dir, `nexus-audit-${env}`, "audit.md"), r.report);
  }
  return dir;
}

describe("the audit comment", () => {
  it("is created once with the marker and every environment's report", async () => {
    const dir = auditDir({
      dev: { preview: "success", audit: "success", report: "dev: 0 violations" },
      prod: { preview: "success", audit: "success", report: "prod: 0 violations" },
    });
    const comment = auditComment({ dir, environments: ["dev", "prod"], sha: "0123456789abcdef", runUrl: RUN });
    expect(comment.failed).toEqual([]);
    expect(comment.body).toContain(`Commit 0123456 · [workflow run](${RUN}) · updated on every push`);
    expect(comment.body.indexOf("dev: 0 violations")).toBeLessThan(comment.body.indexOf("prod: 0 violations"));

    const { api, writes } = fakeGitHub({ comments: [{ id: 1, user: { type: "User" }, body: "LGTM" }] });
    expect(await upsertComment(api, REPO, { pr: 7, marker: AUDIT_COMMENT_MARKER, body: comment.body })).toMatchObject({ action: "created" });
    expect(writes().map((c) => [c.method, c.route])).toEqual([["POST", "/repos/nexus-platform/nexus/issues/7/comments"]]);
    const body = (writes()[0]!.body as { body: string }).body;
    expect(body.startsWith(`${MARKER}\n`)).toBe(true);
    expect(body).toContain("dev: 0 violations");
    expect(body).toContain("prod: 0 violations");
  });

  it("is updated, not duplicated, on the next push, and fails the job on a mandatory violation", async () => {
    const dir = auditDir({
      dev: { preview: "success", audit: "success", report: "ok" },
      prod: { preview: "failure", audit: "failure", report: "1 mandatory violation" },
    });
    const comment = auditComment({ dir, environments: ["dev", "prod"] });
    expect(comment.failed).toEqual(["prod"]);
    expect(comment.body).toContain("### ❌ prod: preview failure, audit failure");
    expect(comment.body).toContain("### ✅ dev: preview success, audit success");

    const { api, writes } = fakeGitHub({
      comments: [
        { id: 1, user: { type: "User" }, body: `quoting ${MARKER}` },
        { id: 2, user: { type: "Bot" }, body: `${MARKER}\nold` },
      ],
    });
    expect(await upsertComment(api, REPO, { pr: 7, marker: AUDIT_COMMENT_MARKER, body: comment.body })).toMatchObject({ action: "updated" });
    expect(writes().map((c) => [c.method, c.route])).toEqual([["PATCH", "/repos/nexus-platform/nexus/issues/comments/2"]]);
    expect((writes()[0]!.body as { body: string }).body).toContain("1 mandatory violation");
  });

  it("reports an environment whose job stopped before the audit", () => {
    const dir = auditDir({ dev: { preview: "success", audit: "success", report: "ok" } });
    const comment = auditComment({ dir, environments: ["dev", "prod"] });
    expect(comment.body).toContain("prod: preview not run, audit not run");
    expect(comment.body).toContain("_No audit report: the job stopped before the audit ran");
    expect(comment.failed).toEqual(["prod"]);
  });

  it("fails the gate on a failed preview even when the audit passed, and on a skipped audit", () => {
    const dir = auditDir({ dev: { preview: "failure", audit: "success" }, prod: { preview: "success", audit: "skipped" } });
    expect(auditComment({ dir, environments: ["dev", "prod"] }).failed).toEqual(["dev", "prod"]);
  });

  it("is truncated below GitHub's comment size limit, pointing at the artifacts", () => {
    const dir = auditDir({ prod: { preview: "success", audit: "success", report: "x".repeat(COMMENT_LIMIT * 2) } });
    const { body } = auditComment({ dir, environments: ["prod"] });
    expect(body.length).toBeLessThan(65_536 - MARKER.length - 1);
    expect(body).toContain("_Truncated: the full reports are in the workflow run's artifacts._");
  });

  it("is written by `nexus ci comment`, which exits 1 after writing when a gate failed", async () => {
    const dir = auditDir({ dev: { preview: "success", audit: "success", report: "ok" }, prod: { preview: "failure", audit: "success", report: "r" } });
    const out = path.join(tempDir(), "sub", "comment.md");
    vi.stubEnv("GITHUB_SERVER_URL", "https://github.com");
    vi.stubEnv("GITHUB_REPOSITORY", "nexus-platform/nexus");
    vi.stubEnv("GITHUB_RUN_ID", "42");
    const run = await cli(["comment", "--audit-dir", dir, "--envs", "dev, prod", "--sha", "abcdef0123", "--out", out]);
    expect(run.code).toBe(1);
    expect(run.err).toContain("policy gate failed for prod: see the audit comment on the pull request");
    const text = fs.readFileSync(out, "utf8");
    expect(text).toContain(`Commit abcdef0 · [workflow run](${RUN})`);
    expect(text).toContain("### ❌ prod");

    const ok = await cli(["comment", "--audit-dir", dir, "--envs", "dev"]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("## NEXUS policy audit");
  });

  it("checks its arguments: exit 2 with the usage", async () => {
    expect((await cli(["comment", "--envs", "dev"])).code).toBe(2);
    expect((await cli(["comment", "--audit-dir", "x", "--envs", ","])).code).toBe(2);
    expect((await cli(["post-comment", "--pr", "seven", "--marker", "nexus-audit", "--body-file", "f"])).code).toBe(2);
    expect((await cli(["post-comment", "--pr", "7", "--marker", "<!-- x -->", "--body-file", "f"])).code).toBe(2);
    const help = await cli(["comment", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: nexus ci comment");
  });
});

describe("the drift issue", () => {
  const report = JSON.stringify({ steps: [], changeSummary: { same: 3, update: 2, delete: 1, create: 0 } });
  const now = new Date("2026-05-01T05:03:59Z");

  it("is opened with the title and the change summary when none is open", async () => {
    const { body, warning } = driftIssueBody({ stack: "prod", environment: "prod", report, runUrl: RUN, now });
    expect(warning).toBeUndefined();
    expect(body).toContain("| change | resources |\n|---|---|\n| delete | 1 |\n| update | 2 |");
    expect(body).not.toMatch(/\| (same|create) \|/);
    expect(body).toContain(`Detected 2026-05-01 05:03 UTC by \`pulumi refresh --preview-only --expect-no-changes\` in [this workflow run](${RUN}).`);
    expect(body).toContain("`pulumi up --stack prod`");

    const { api, writes } = fakeGitHub({
      issues: [
        { number: 3, title: "Drift detected in stack dev" },
        { number: 4, title: "Drift detected in stack prod", pull_request: {} },
      ],
    });
    const posted = await upsertIssue(api, REPO, { title: driftIssueTitle("prod"), body, updateComment: "Drift still present", now });
    expect(posted).toMatchObject({ action: "created", number: 10 });
    expect(writes().map((c) => [c.method, c.route])).toEqual([["POST", "/repos/nexus-platform/nexus/issues"]]);
    expect(writes()[0]!.body).toEqual({ title: "Drift detected in stack prod", body });
  });

  it("is updated when it is already open, with a comment that notifies its subscribers", async () => {
    const { api, writes } = fakeGitHub({ issues: [{ number: 9, title: "Drift detected in stack prod", html_url: "u" }] });
    const { body } = driftIssueBody({ stack: "prod", environment: "prod", report, now });
    await upsertIssue(api, REPO, { title: driftIssueTitle("prod"), body, updateComment: "Drift still present", runUrl: RUN, now });
    expect(writes().map((c) => [c.method, c.route])).toEqual([
      ["PATCH", "/repos/nexus-platform/nexus/issues/9"],
      ["POST", "/repos/nexus-platform/nexus/issues/9/comments"],
    ]);
    expect(writes()[0]!.body).toEqual({ body });
    expect(writes()[1]!.body).toEqual({ body: `Drift still present 2026-05-01 05:03 UTC: [workflow run](${RUN}).` });
  });

  it("still says what drifted when the report cannot be read", () => {
    const missing = driftIssueBody({ stack: "dev", environment: "dev", report: undefined, now });
    expect(missing.body).toContain("_No change summary available; see the run log._");
    expect(missing.warning).toContain("no refresh report");
    expect(driftIssueBody({ stack: "dev", environment: "dev", report: "{not json", now }).warning).toContain("not JSON");
  });

  it("is written by `nexus ci drift-issue`", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "drift.json"), report);
    const out = path.join(dir, "drift.md");
    const run = await cli(["drift-issue", "--stack", "prod", "--env", "prod", "--report", path.join(dir, "drift.json"), "--out", out, "--run-url", RUN]);
    expect(run.code).toBe(0);
    expect(fs.readFileSync(out, "utf8")).toContain("| update | 2 |");
    expect((await cli(["drift-issue", "--stack", "prod", "--report", "x"])).code).toBe(2);
  });
});

describe("the environment protection check", () => {
  const wanted: WantedApproval[] = [{ environment: "prod", reviewers: ["nexus-platform/sre-leads", "alice"], waitMinutes: 10 }];
  const protection = (reviewers: unknown[], wait: number) => ({
    name: "prod",
    protection_rules: [
      { type: "required_reviewers", reviewers },
      { type: "wait_timer", wait_timer: wait },
    ],
  });

  it("passes when the environment requires the registry's reviewers and wait time", async () => {
    const { api, calls } = fakeGitHub({
      environments: {
        prod: protection(
          [
            { type: "Team", reviewer: { slug: "sre-leads" } },
            { type: "User", reviewer: { login: "Alice" } },
          ],
          15,
        ),
      },
    });
    expect(await protectionProblems(api, REPO, wanted)).toEqual([]);
    expect(calls.map((c) => c.route)).toEqual(["/repos/nexus-platform/nexus/environments/prod"]);
  });

  it("fails on a missing reviewer, a shorter wait or a missing environment", async () => {
    const weaker = await protectionProblems(
      fakeGitHub({ environments: { prod: protection([{ type: "User", reviewer: { login: "alice" } }], 5) } }).api,
      REPO,
      wanted,
    );
    expect(weaker).toEqual([expect.stringContaining("does not require the reviewers nexus-platform/sre-leads"), expect.stringContaining("waits 5 minute(s)")]);
    const none = await protectionProblems(fakeGitHub({}).api, REPO, wanted);
    expect(none).toEqual([expect.stringContaining("environment prod is not configured")]);
    const noReviewers = await protectionProblems(fakeGitHub({ environments: { prod: { protection_rules: [] } } }).api, REPO, wanted);
    expect(noReviewers[0]).toContain("has no required reviewers: add nexus-platform/sre-leads, alice");
  });

  it("tells an unreadable environment (no permission, API down) from a missing one", async () => {
    const { api } = fakeGitHub({});
    api.request = async () => {
      throw new GitHubApiError(403, "GET /repos/nexus-platform/nexus/environments/prod: 403 Resource not accessible by integration");
    };
    expect(await protectionProblems(api, REPO, wanted)).toEqual([expect.stringMatching(/^cannot read the protection of environment prod: .*403/)]);
  });

  it("takes the approvals from the registry and names the environments it does not know", async () => {
    vi.stubEnv("GITHUB_TOKEN", "t");
    vi.stubEnv("GITHUB_REPOSITORY", "nexus-platform/nexus");
    const unknown = await cli(["check-protection", "--envs", "prod,qa", "--registries", REAL_REGISTRIES]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("qa: no such environment in registries/pipelines.yaml");
    expect((await cli(["check-protection"])).code).toBe(2);
  });
});

describe("the approvers of a deploy", () => {
  const review = (state: string, login: string, ...environments: string[]): ReviewEntry =>
    ({
      state,
      user: { login },
      environments: environments.map((name, i) => ({ id: i, name })),
      comment: "",
    }) as ReviewEntry;

  it("are the logins that approved this environment, each once, in the history's order", () => {
    const history = [
      review("approved", "alice", "staging", "prod"),
      review("rejected", "mallory", "prod"),
      review("pending", "carol", "prod"),
      review("approved", "dave", "staging"),
      review("approved", "bob", "Prod"),
      review("approved", "alice", "prod"),
    ];
    expect(approversOf(history, "prod")).toEqual(["alice", "bob"]);
    expect(approversOf(history, "staging")).toEqual(["alice", "dave"]);
    expect(approversOf(history, "dev")).toEqual([]);
    // Entries the API might give without a user or environments count for nobody.
    expect(
      approversOf(
        [
          { state: "approved", environments: [{ name: "prod" }] },
          { state: "approved", user: { login: "x" }, environments: null },
        ],
        "prod",
      ),
    ).toEqual([]);
  });

  it("are read from the run's review history", async () => {
    const { api, calls } = fakeGitHub({ approvals: { "42": [review("approved", "alice", "prod")] } });
    expect(await runApprovers(api, REPO, "42", "prod")).toEqual(["alice"]);
    expect(calls).toEqual([{ method: "GET", route: "/repos/nexus-platform/nexus/actions/runs/42/approvals", body: undefined }]);
    await expect(runApprovers(api, REPO, "43", "prod")).rejects.toThrow("404");
  });
});
