import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, vi } from "vitest";
import { ci } from "../../cmd/ci/cli";
import { GitHubApiError, type GitHubApi, type Method } from "../../cmd/ci/githubApi";

/** Helpers of the `nexus ci` command tests: a fake GitHub API, temporary folders, the CLI in-process. */

export type Call = { method: Method; route: string; body?: unknown };

export const REPO = { owner: "nexus-platform", repo: "nexus" };

/** An in-memory GitHub API that records every call, answering as the REST API does. */
export function fakeGitHub(data: { comments?: unknown[]; issues?: unknown[]; environments?: Record<string, unknown>; approvals?: Record<string, unknown[]> }) {
  const calls: Call[] = [];
  const api: GitHubApi = {
    async request<T>(method: Method, route: string, body?: unknown): Promise<T> {
      calls.push({ method, route, body });
      const env = /\/environments\/([^/]+)$/.exec(route);
      if (method === "GET" && env) {
        const found = data.environments?.[decodeURIComponent(env[1]!)];
        if (!found) throw new GitHubApiError(404, `GET ${route}: 404 Not Found`);
        return found as T;
      }
      const run = /\/actions\/runs\/([^/]+)\/approvals$/.exec(route);
      if (method === "GET" && run) {
        const history = data.approvals?.[decodeURIComponent(run[1]!)];
        if (!history) throw new GitHubApiError(404, `GET ${route}: 404 Not Found`);
        return history as T;
      }
      if (method === "POST" && route.endsWith("/issues")) return { number: 10, html_url: "https://example/issue/10" } as T;
      if (method === "POST") return { id: 100, html_url: "https://example/comment/100" } as T;
      return { html_url: "https://example/updated" } as T;
    },
    async paginate<T>(route: string): Promise<T[]> {
      calls.push({ method: "GET", route });
      if (route.endsWith("/comments")) return (data.comments ?? []) as T[];
      if (route.includes("/issues?")) return (data.issues ?? []) as T[];
      throw new Error(`fake GitHub: no list at ${route}`);
    },
  };
  /** The calls that change something (the reads are setup). */
  const writes = () => calls.filter((c) => c.method !== "GET");
  return { api, calls, writes };
}

/** The runner's variables the commands read: unset, so a test run inside GitHub Actions sees what a terminal sees. */
export const RUNNER_VARIABLES = [
  "GITHUB_ACTIONS",
  "GITHUB_TOKEN",
  "GH_TOKEN",
  "GITHUB_API_URL",
  "GITHUB_REPOSITORY",
  "GITHUB_SERVER_URL",
  "GITHUB_RUN_ID",
  "GITHUB_OUTPUT",
  "NEXUS_ENVIRONMENT",
];
beforeEach(() => {
  for (const name of RUNNER_VARIABLES) vi.stubEnv(name, undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

export function tempDir(prefix = "nexus-ci-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Runs `nexus ci ARGS` (or another command, e.g. `main` of cmd/nexus.ts) in-process, capturing what it prints. */
export async function cli(args: string[], command: (args: string[]) => Promise<number> = ci): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    const code = await command(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

/**
 * Runs a generated `run:` script as the runner does with `shell: bash` (bash --noprofile --norc
 * -eo pipefail), in a fresh RUNNER_TEMP with an empty GITHUB_OUTPUT, and with `npx` replaced by a
 * stub that records its arguments and exits with `npxExit`. Returns the script's exit status,
 * what it wrote, the step outputs and the recorded `npx` calls.
 */
export function runStep(script: string, options: { env?: Record<string, string>; npxExit?: number } = {}) {
  const temp = tempDir("nexus-step-");
  const bin = path.join(temp, "bin");
  fs.mkdirSync(bin);
  const calls = path.join(temp, "npx-calls");
  fs.writeFileSync(path.join(bin, "npx"), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${calls}"\nexit ${options.npxExit ?? 0}\n`, { mode: 0o755 });
  const output = path.join(temp, "github-output");
  fs.writeFileSync(output, "");
  const runnerTemp = path.join(temp, "runner-temp");
  fs.mkdirSync(runnerTemp);
  const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
    encoding: "utf8",
    env: { PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: output, ...options.env },
  });
  const outputs = Object.fromEntries(
    fs
      .readFileSync(output, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return {
    code: result.status,
    stderr: result.stderr,
    outputs,
    runnerTemp,
    npx: fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trimEnd().split("\n") : [],
  };
}
