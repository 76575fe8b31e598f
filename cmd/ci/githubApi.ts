/**
 * The few GitHub REST calls the `nexus ci` commands make (comments, issues, environments), over
 * Node's fetch: no SDK to install in the workflow. The token comes from the environment only,
 * never from a flag, so it does not show in process listings or logs.
 */

export type Method = "GET" | "POST" | "PATCH";

export interface GitHubApi {
  /** One call; `route` is the path after the API root, e.g. "/repos/o/r/issues/1/comments". */
  request<T = unknown>(method: Method, route: string, body?: unknown): Promise<T>;
  /** Every item of a list endpoint, following its Link: rel="next" pages. */
  paginate<T = unknown>(route: string): Promise<T[]>;
}

/** A repository, "owner/name". */
export interface Repo {
  owner: string;
  repo: string;
}

export class GitHubApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "GitHubApiError";
  }
}

/** More pages than any list these commands read can have: a guard against a Link loop. */
const MAX_PAGES = 100;
const TIMEOUT_MS = 30_000;

export function gitHubApi(options: { token: string; baseUrl?: string; fetch?: typeof fetch }): GitHubApi {
  const base = (options.baseUrl ?? "https://api.github.com").replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const call = async (method: Method, url: string, body?: unknown): Promise<Response> => {
    const response = await doFetch(url, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${options.token}`,
        "user-agent": "nexus-ci",
        "x-github-api-version": "2022-11-28",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) {
      const detail = (await errorMessage(response)) ?? response.statusText;
      throw new GitHubApiError(response.status, `${method} ${new URL(url).pathname}: ${response.status} ${detail}`);
    }
    return response;
  };
  return {
    async request<T>(method: Method, route: string, body?: unknown): Promise<T> {
      const response = await call(method, `${base}${route}`, body);
      return (response.status === 204 ? undefined : await response.json()) as T;
    },
    async paginate<T>(route: string): Promise<T[]> {
      const items: T[] = [];
      let url: string | undefined = `${base}${route}${route.includes("?") ? "&" : "?"}per_page=100`;
      for (let page = 0; url !== undefined; page++) {
        if (page >= MAX_PAGES) throw new Error(`GET ${route}: more than ${MAX_PAGES} pages`);
        const response = await call("GET", url);
        items.push(...((await response.json()) as T[]));
        url = nextPage(response.headers.get("link"));
      }
      return items;
    },
  };
}

/** The "message" of an error response's JSON body, if it has one. */
async function errorMessage(response: Response): Promise<string | undefined> {
  try {
    const message = ((await response.json()) as { message?: unknown } | null)?.message;
    return typeof message === "string" && message !== "" ? message : undefined;
  } catch {
    return undefined;
  }
}

/** The rel="next" URL of a Link header, if any. */
export function nextPage(link: string | null): string | undefined {
  for (const part of (link ?? "").split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

/** The API client the runner's environment describes: GITHUB_TOKEN and GITHUB_API_URL. */
export function gitHubApiFromEnv(env: NodeJS.ProcessEnv = process.env): GitHubApi | { problem: string } {
  const token = env.GITHUB_TOKEN ?? env.GH_TOKEN;
  if (!token) return { problem: "GITHUB_TOKEN is not set: the workflow step passes the job's token as env GITHUB_TOKEN: ${{ github.token }}" };
  return gitHubApi({ token, baseUrl: env.GITHUB_API_URL });
}

/** The repository from --repo, else from GITHUB_REPOSITORY (set on every runner). */
export function repoOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Repo | { problem: string } {
  const value = flag ?? env.GITHUB_REPOSITORY;
  if (!value) return { problem: "no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY" };
  const m = /^([\w.-]+)\/([\w.-]+)$/.exec(value);
  if (!m) return { problem: `the repository must be OWNER/NAME, got "${value}"` };
  return { owner: m[1]!, repo: m[2]! };
}

/** The link to the running workflow run, from the runner's GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID. */
export function runUrlOf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}

export const repoRoute = (r: Repo) => `/repos/${encodeURIComponent(r.owner)}/${encodeURIComponent(r.repo)}`;
