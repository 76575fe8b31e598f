import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AUDIT_COMMENT_SCRIPT, AUDIT_MARKER, DRIFT_ISSUE_SCRIPT, ENVIRONMENT_PROTECTION_SCRIPT } from "../../cmd/ci/githubScripts";

/**
 * The actions/github-script bodies of the generated workflows, run as github-script runs them
 * (an async function of github, context, core, require) against a fake GitHub API.
 */

type Call = { method: string; params: Record<string, unknown> };

function fakeGitHub(data: { comments?: unknown[]; issues?: unknown[]; environments?: Record<string, unknown> }) {
  const calls: Call[] = [];
  const record =
    (method: string, result: unknown = {}) =>
    async (params: Record<string, unknown>) => {
      calls.push({ method, params });
      return { data: result };
    };
  const listComments = async () => ({ data: data.comments ?? [] });
  const listForRepo = async () => ({ data: data.issues ?? [] });
  const github = {
    paginate: async (fn: () => Promise<{ data: unknown[] }>) => (await fn()).data,
    rest: {
      issues: {
        listComments,
        listForRepo,
        createComment: record("createComment", { html_url: "https://example/comment" }),
        updateComment: record("updateComment"),
        create: record("create", { html_url: "https://example/issue" }),
        update: record("update"),
      },
      repos: {
        getEnvironment: async ({ environment_name }: { environment_name: string }) => {
          const env = data.environments?.[environment_name];
          if (!env) throw new Error("Not Found");
          return { data: env };
        },
      },
    },
  };
  return { github, calls };
}

function fakeCore() {
  const core = { failed: [] as string[], info: (_: string) => {}, warning: (_: string) => {}, setFailed: (m: string) => void core.failed.push(m) };
  return core;
}

const context = {
  repo: { owner: "nexus-platform", repo: "nexus" },
  serverUrl: "https://github.com",
  runId: 42,
  payload: { pull_request: { number: 7, head: { sha: "0123456789abcdef" } } },
};

// eslint-disable-next-line @typescript-eslint/no-empty-function
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;

async function runScript(script: string, env: Record<string, string>, github: unknown, core: ReturnType<typeof fakeCore>) {
  expect(script).not.toContain("${{");
  const fn = new AsyncFunction("github", "context", "core", "require", "process", script);
  await fn(github, context, core, require, { env });
}

const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

function auditDir(results: Record<string, { preview: string; audit: string; report?: string }>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-audit-"));
  temps.push(dir);
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
    const { github, calls } = fakeGitHub({ comments: [{ id: 1, user: { type: "User" }, body: "LGTM" }] });
    const core = fakeCore();
    await runScript(AUDIT_COMMENT_SCRIPT, { AUDIT_DIR: dir, NEXUS_ENVIRONMENTS: '["dev","prod"]' }, github, core);
    expect(calls.map((c) => c.method)).toEqual(["createComment"]);
    const body = String(calls[0]!.params.body);
    expect(body.startsWith(AUDIT_MARKER)).toBe(true);
    expect(body).toContain("dev: 0 violations");
    expect(body).toContain("prod: 0 violations");
    expect(calls[0]!.params.issue_number).toBe(7);
    expect(core.failed).toEqual([]);
  });

  it("is updated, not duplicated, on the next push, and fails the job on a mandatory violation", async () => {
    const dir = auditDir({
      dev: { preview: "success", audit: "success", report: "ok" },
      prod: { preview: "failure", audit: "failure", report: "1 mandatory violation" },
    });
    const { github, calls } = fakeGitHub({
      comments: [
        { id: 1, user: { type: "User" }, body: `quoting ${AUDIT_MARKER}` },
        { id: 2, user: { type: "Bot" }, body: `${AUDIT_MARKER}\nold` },
      ],
    });
    const core = fakeCore();
    await runScript(AUDIT_COMMENT_SCRIPT, { AUDIT_DIR: dir, NEXUS_ENVIRONMENTS: '["dev","prod"]' }, github, core);
    expect(calls.map((c) => c.method)).toEqual(["updateComment"]);
    expect(calls[0]!.params.comment_id).toBe(2);
    expect(String(calls[0]!.params.body)).toContain("1 mandatory violation");
    expect(core.failed).toEqual([expect.stringContaining("policy gate failed for prod")]);
  });

  it("reports an environment whose job stopped before the audit", async () => {
    const dir = auditDir({ dev: { preview: "success", audit: "success", report: "ok" } });
    const { github, calls } = fakeGitHub({});
    const core = fakeCore();
    await runScript(AUDIT_COMMENT_SCRIPT, { AUDIT_DIR: dir, NEXUS_ENVIRONMENTS: '["dev","prod"]' }, github, core);
    expect(String(calls[0]!.params.body)).toContain("prod: preview not run, audit not run");
    expect(core.failed).toEqual([expect.stringContaining("prod")]);
  });
});

describe("the drift issue", () => {
  const report = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-drift-"));
    temps.push(dir);
    const file = path.join(dir, "drift.json");
    fs.writeFileSync(file, JSON.stringify({ steps: [], changeSummary: { same: 3, update: 2, delete: 1 } }));
    return file;
  };

  it("is opened with the title and the change summary when none is open", async () => {
    const { github, calls } = fakeGitHub({
      issues: [
        { number: 3, title: "Drift detected in stack dev" },
        { number: 4, title: "Drift detected in stack prod", pull_request: {} },
      ],
    });
    await runScript(DRIFT_ISSUE_SCRIPT, { STACK: "prod", ENVIRONMENT: "prod", REPORT: report() }, github, fakeCore());
    expect(calls.map((c) => c.method)).toEqual(["create"]);
    expect(calls[0]!.params.title).toBe("Drift detected in stack prod");
    expect(String(calls[0]!.params.body)).toContain("| update | 2 |");
    expect(String(calls[0]!.params.body)).toContain("| delete | 1 |");
  });

  it("is updated when it is already open", async () => {
    const { github, calls } = fakeGitHub({ issues: [{ number: 9, title: "Drift detected in stack prod", html_url: "u" }] });
    await runScript(DRIFT_ISSUE_SCRIPT, { STACK: "prod", ENVIRONMENT: "prod", REPORT: report() }, github, fakeCore());
    expect(calls.map((c) => [c.method, c.params.issue_number])).toEqual([
      ["update", 9],
      ["createComment", 9],
    ]);
  });
});

describe("the environment protection check", () => {
  const wanted = JSON.stringify([{ environment: "prod", reviewers: ["nexus-platform/sre-leads", "alice"], waitMinutes: 10 }]);
  const protection = (reviewers: unknown[], wait: number) => ({
    name: "prod",
    protection_rules: [
      { type: "required_reviewers", reviewers },
      { type: "wait_timer", wait_timer: wait },
    ],
  });

  it("passes when the environment requires the registry's reviewers and wait time", async () => {
    const { github } = fakeGitHub({
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
    const core = fakeCore();
    await runScript(ENVIRONMENT_PROTECTION_SCRIPT, { NEXUS_APPROVALS: wanted }, github, core);
    expect(core.failed).toEqual([]);
  });

  it("fails on a missing reviewer, a shorter wait or a missing environment", async () => {
    const core = fakeCore();
    await runScript(
      ENVIRONMENT_PROTECTION_SCRIPT,
      { NEXUS_APPROVALS: wanted },
      fakeGitHub({ environments: { prod: protection([{ type: "User", reviewer: { login: "alice" } }], 5) } }).github,
      core,
    );
    expect(core.failed[0]).toContain("does not require the reviewers nexus-platform/sre-leads");
    expect(core.failed[0]).toContain("waits 5 minute(s)");

    const none = fakeCore();
    await runScript(ENVIRONMENT_PROTECTION_SCRIPT, { NEXUS_APPROVALS: wanted }, fakeGitHub({}).github, none);
    expect(none.failed[0]).toContain("environment prod is not configured");
  });
});
