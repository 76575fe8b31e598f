import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { gitHubApi, GitHubApiError, nextPage, repoOf, runUrlOf } from "../../cmd/ci/githubApi";
import { REAL_REGISTRIES } from "../support/registries";
import { cli, tempDir } from "./support";

/**
 * The GitHub REST client of the `nexus ci` commands, and the posting commands end to end, against
 * a local HTTP server that answers like the API: headers, pagination, errors.
 */

type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string };

let server: http.Server;
let base: string;
const seen: Seen[] = [];
/** Answers by "METHOD /path?query"; a function gets the request body. */
let routes: Record<string, (body: string) => { status?: number; json?: unknown; headers?: Record<string, string> }> = {};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const route = routes[`${req.method} ${req.url}`];
      const answer = route ? route(body) : { status: 404, json: { message: "Not Found" } };
      res.writeHead(answer.status ?? 200, { "content-type": "application/json", ...answer.headers });
      res.end(answer.json === undefined ? "" : JSON.stringify(answer.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
  routes = {};
});

describe("the GitHub API client", () => {
  it("sends the token and API version, and follows Link pages", async () => {
    routes = {
      "GET /repos/o/r/issues?state=open&per_page=100": () => ({
        json: [{ number: 1 }],
        headers: { link: `<${base}/repos/o/r/issues?state=open&per_page=100&page=2>; rel="next", <${base}/x>; rel="last"` },
      }),
      "GET /repos/o/r/issues?state=open&per_page=100&page=2": () => ({ json: [{ number: 2 }] }),
    };
    const api = gitHubApi({ token: "s3cret", baseUrl: `${base}/` });
    expect(await api.paginate<{ number: number }>("/repos/o/r/issues?state=open")).toEqual([{ number: 1 }, { number: 2 }]);
    expect(seen[0]!.headers.authorization).toBe("Bearer s3cret");
    expect(seen[0]!.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(seen[0]!.headers.accept).toBe("application/vnd.github+json");
  });

  it("sends JSON bodies and turns an error status into a GitHubApiError with the API's message", async () => {
    routes = { "POST /repos/o/r/issues": () => ({ status: 403, json: { message: "Resource not accessible by integration" } }) };
    const api = gitHubApi({ token: "t", baseUrl: base });
    const error = await api.request("POST", "/repos/o/r/issues", { title: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(403);
    expect((error as Error).message).toBe("POST /repos/o/r/issues: 403 Resource not accessible by integration");
    expect(JSON.parse(seen[0]!.body)).toEqual({ title: "x" });
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
  });

  it("reads the Link header, the repository and the run link as the runner sets them", () => {
    expect(nextPage(null)).toBeUndefined();
    expect(nextPage('<https://a/x?page=3>; rel="next"')).toBe("https://a/x?page=3");
    expect(repoOf(undefined, { GITHUB_REPOSITORY: "o/r" })).toEqual({ owner: "o", repo: "r" });
    expect(repoOf("o/r/x", {})).toHaveProperty("problem");
    expect(repoOf(undefined, {})).toHaveProperty("problem");
    expect(runUrlOf({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "o/r", GITHUB_RUN_ID: "5" })).toBe("https://github.com/o/r/actions/runs/5");
    expect(runUrlOf({})).toBeUndefined();
  });
});

describe("the posting commands", () => {
  const asRunner = () => {
    vi.stubEnv("GITHUB_TOKEN", "tok");
    vi.stubEnv("GITHUB_API_URL", base);
    vi.stubEnv("GITHUB_REPOSITORY", "o/r");
    vi.stubEnv("GITHUB_SERVER_URL", "https://github.com");
    vi.stubEnv("GITHUB_RUN_ID", "42");
  };
  const bodyFile = (text: string) => {
    const file = path.join(tempDir(), "body.md");
    fs.writeFileSync(file, text);
    return file;
  };

  it("post-comment creates the marked comment and prints its link", async () => {
    asRunner();
    routes = {
      "GET /repos/o/r/issues/7/comments?per_page=100": () => ({ json: [] }),
      "POST /repos/o/r/issues/7/comments": () => ({ status: 201, json: { id: 5, html_url: "https://github.com/o/r/pull/7#c5" } }),
    };
    const run = await cli(["post-comment", "--pr", "7", "--marker", "nexus-audit", "--body-file", bodyFile("## NEXUS policy audit\n")]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("created the nexus-audit comment on pull request 7: https://github.com/o/r/pull/7#c5");
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ body: "<!-- nexus-audit -->\n## NEXUS policy audit\n" });
  });

  it("post-issue updates the open issue and comments on it; a refusal is exit 1 with the API's message", async () => {
    asRunner();
    routes = {
      "GET /repos/o/r/issues?state=open&per_page=100": () => ({
        json: [{ number: 9, title: "Drift detected in stack prod", html_url: "https://github.com/o/r/issues/9" }],
      }),
      "PATCH /repos/o/r/issues/9": () => ({ json: {} }),
      "POST /repos/o/r/issues/9/comments": () => ({ status: 201, json: {} }),
    };
    const args = ["post-issue", "--title", "Drift detected in stack prod", "--body-file", bodyFile("drift"), "--update-comment", "Drift still present"];
    const run = await cli(args);
    expect(run.code).toBe(0);
    expect(run.out).toContain('updated issue #9 "Drift detected in stack prod": https://github.com/o/r/issues/9');
    expect(JSON.parse(seen.at(-1)!.body).body).toMatch(
      /^Drift still present \d{4}-\d\d-\d\d \d\d:\d\d UTC: \[workflow run\]\(https:\/\/github.com\/o\/r\/actions\/runs\/42\)\.$/,
    );

    routes["PATCH /repos/o/r/issues/9"] = () => ({ status: 403, json: { message: "Resource not accessible by integration" } });
    const refused = await cli(args);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      'cannot post the issue "Drift detected in stack prod": PATCH /repos/o/r/issues/9: 403 Resource not accessible by integration',
    );
  });

  it("need a token, a repository and the body file: exit 1 naming what is missing", async () => {
    const file = bodyFile("x");
    expect((await cli(["post-issue", "--title", "t", "--body-file", file])).err).toContain("GITHUB_TOKEN is not set");
    vi.stubEnv("GITHUB_TOKEN", "tok");
    expect((await cli(["post-issue", "--title", "t", "--body-file", file])).err).toContain("no repository");
    const missing = await cli(["post-comment", "--pr", "1", "--marker", "m", "--body-file", path.join(tempDir(), "none.md"), "--repo", "o/r"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("none.md: the step that writes it did not run or failed");
    expect(seen).toEqual([]);
  });

  it("check-protection reads the registry's approvals and the repository's environments", async () => {
    asRunner();
    const prod = {
      protection_rules: [
        {
          type: "required_reviewers",
          reviewers: [
            { type: "Team", reviewer: { slug: "sre-leads" } },
            { type: "Team", reviewer: { slug: "platform-leads" } },
          ],
        },
        { type: "wait_timer", wait_timer: 10 },
      ],
    };
    routes = { "GET /repos/o/r/environments/prod": () => ({ json: prod }) };
    const ok = await cli(["check-protection", "--envs", "prod", "--registries", REAL_REGISTRIES]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("ok: environment protection matches the pipelines registry for prod");

    routes = {};
    const missing = await cli(["check-protection", "--envs", "dev,prod", "--registries", REAL_REGISTRIES]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("environment prod is not configured");
    // dev asks for no approval: nothing to check there.
    expect(seen.map((s) => s.url)).toEqual(["/repos/o/r/environments/prod", "/repos/o/r/environments/prod"]);
  });
});

describe("nexus ci approvals", () => {
  const asRunner = () => {
    vi.stubEnv("GITHUB_TOKEN", "tok");
    vi.stubEnv("GITHUB_API_URL", base);
    vi.stubEnv("GITHUB_REPOSITORY", "o/r");
    vi.stubEnv("GITHUB_RUN_ID", "42");
  };
  const history = [
    { state: "approved", user: { login: "alice" }, environments: [{ id: 1, name: "prod" }], comment: "ship it" },
    { state: "rejected", user: { login: "mallory" }, environments: [{ id: 1, name: "prod" }], comment: "" },
    { state: "approved", user: { login: "dave" }, environments: [{ id: 2, name: "staging" }], comment: "" },
    { state: "approved", user: { login: "bob" }, environments: [{ id: 1, name: "prod" }], comment: "" },
  ];

  it("prints who approved the run's deployment to the environment, and writes it as a step output", async () => {
    asRunner();
    routes = { "GET /repos/o/r/actions/runs/42/approvals": () => ({ json: history }) };
    const run = await cli(["approvals", "--env", "prod"]);
    expect(run).toMatchObject({ code: 0, out: "alice,bob" });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(["GET /repos/o/r/actions/runs/42/approvals"]);
    expect(seen[0]!.headers.authorization).toBe("Bearer tok");

    // The environment from NEXUS_ENVIRONMENT, the output to $GITHUB_OUTPUT, after what is there.
    const output = path.join(tempDir(), "github-output");
    fs.writeFileSync(output, "region=eu-central-1\n");
    vi.stubEnv("GITHUB_OUTPUT", output);
    vi.stubEnv("NEXUS_ENVIRONMENT", "staging");
    const staging = await cli(["approvals", "--github-output", "logins"]);
    expect(staging).toMatchObject({ code: 0, out: "dave" });
    expect(fs.readFileSync(output, "utf8")).toBe("region=eu-central-1\nlogins=dave\n");
  });

  it("exits 1, saying why, when nobody approved the environment in this run, and writes no output", async () => {
    asRunner();
    const output = path.join(tempDir(), "github-output");
    fs.writeFileSync(output, "");
    vi.stubEnv("GITHUB_OUTPUT", output);
    routes = { "GET /repos/o/r/actions/runs/42/approvals": () => ({ json: history.filter((h) => h.user.login !== "alice" && h.user.login !== "bob") }) };
    const none = await cli(["approvals", "--env", "prod", "--github-output", "logins"]);
    expect(none.code).toBe(1);
    expect(none.out).toBe("");
    expect(none.err).toContain("nobody approved the deployment to environment prod in run 42");
    expect(none.err).toContain("Settings > Environments > prod");
    expect(fs.readFileSync(output, "utf8")).toBe("");
  });

  it("exits 1 with the API's message when it refuses, and 2 on usage errors", async () => {
    asRunner();
    routes = { "GET /repos/o/r/actions/runs/42/approvals": () => ({ status: 403, json: { message: "Resource not accessible by integration" } }) };
    const refused = await cli(["approvals", "--env", "prod"]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      "cannot read the review history of run 42: GET /repos/o/r/actions/runs/42/approvals: 403 Resource not accessible by integration",
    );

    expect((await cli(["approvals"])).err).toContain("no environment: pass --env NAME or set NEXUS_ENVIRONMENT");
    expect((await cli(["approvals"])).code).toBe(2);
    expect((await cli(["approvals", "--env", "prod", "--run-id", "latest"])).code).toBe(2);
    expect((await cli(["approvals", "--env", "prod", "--github-output", "a=b"])).code).toBe(2);
    vi.stubEnv("GITHUB_TOKEN", undefined);
    const noToken = await cli(["approvals", "--env", "prod"]);
    expect(noToken.code).toBe(1);
    expect(noToken.err).toContain("GITHUB_TOKEN is not set");
  });
});
