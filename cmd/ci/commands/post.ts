import { mdLink, mdText } from "../../../contract/escape/markdown";
import { parseCommand, stringOptions, usageError } from "../../args";
import { gitHubApiFromEnv, repoOf, repoRoute, runUrlOf, type GitHubApi, type Repo } from "../githubApi";
import { annotate, minuteOf, readIfExists } from "./output";

export const TOKEN_NOTE = `Calls the GitHub API with the token in GITHUB_TOKEN (in a workflow: env GITHUB_TOKEN: \${{ github.token }})
at GITHUB_API_URL (default https://api.github.com).`;

export const POST_COMMENT_USAGE = `Usage: nexus ci post-comment --pr NUMBER --marker KEY --body-file FILE [--repo OWNER/NAME]

Posts FILE as a comment on pull request NUMBER, headed by the hidden marker <!-- KEY -->, or, when
a bot account (the workflow's) already posted a comment carrying that marker, updates that one:
one comment per pull request and marker, kept current on every push.
${TOKEN_NOTE}
Exit status: 0 posted or updated, 1 the file is missing or the API refused, 2 usage error.

Options:
  --pr NUMBER        pull request number (required)
  --marker KEY       marker key, letters, digits and '-' (required), e.g. nexus-check-prod
  --body-file FILE   Markdown of the comment (required), e.g. written by \`nexus check --out\`
  --repo OWNER/NAME  repository (default: GITHUB_REPOSITORY)
  -h, --help         show this help

Example:
  npx nexus ci post-comment --pr "$PR_NUMBER" --marker nexus-check-prod --body-file check-prod.md`;

export const POST_ISSUE_USAGE = `Usage: nexus ci post-issue --title TITLE --body-file FILE [--update-comment TEXT] [--repo OWNER/NAME] [--run-url URL]

Opens an issue titled TITLE with the body FILE or, when an open issue (not a pull request) has
exactly that title, replaces its body; with --update-comment it then also comments
"TEXT <time>: [workflow run](URL)." on it, so that its subscribers hear of it again.
${TOKEN_NOTE}
Exit status: 0 opened or updated, 1 the file is missing or the API refused, 2 usage error.

Options:
  --title TITLE          issue title (required); the one open issue is found by it
  --body-file FILE       Markdown of the issue (required), e.g. written by \`nexus drift --out\`
  --update-comment TEXT  comment this on an issue that was already open
  --repo OWNER/NAME      repository (default: GITHUB_REPOSITORY)
  --run-url URL          link to the workflow run (default: from GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID)
  -h, --help             show this help

Example:
  npx nexus ci post-issue --title "Drift detected in stack prod" --body-file drift.md --update-comment "Drift still present"`;

interface Comment {
  id: number;
  body?: string | null;
  html_url?: string;
  user?: { type?: string } | null;
}

interface Issue {
  number: number;
  title: string;
  html_url?: string;
  pull_request?: unknown;
}

export const markerOf = (key: string) => `<!-- ${key} -->`;

export interface Posted {
  action: "created" | "updated";
  url?: string;
}

/** Creates the marked comment, or updates the one a bot posted earlier (a person quoting the marker is left alone). */
export async function upsertComment(api: GitHubApi, repo: Repo, c: { pr: number; marker: string; body: string }): Promise<Posted> {
  const marker = markerOf(c.marker);
  const body = c.body.startsWith(marker) ? c.body : `${marker}\n${c.body}`;
  const comments = await api.paginate<Comment>(`${repoRoute(repo)}/issues/${c.pr}/comments`);
  const existing = comments.find((x) => x.user?.type === "Bot" && typeof x.body === "string" && x.body.includes(marker));
  if (existing) {
    const updated = await api.request<Comment>("PATCH", `${repoRoute(repo)}/issues/comments/${existing.id}`, { body });
    return { action: "updated", url: updated?.html_url ?? existing.html_url };
  }
  const created = await api.request<Comment>("POST", `${repoRoute(repo)}/issues/${c.pr}/comments`, { body });
  return { action: "created", url: created?.html_url };
}

export interface IssuePost {
  title: string;
  body: string;
  updateComment?: string;
  runUrl?: string;
  now: Date;
}

/** Opens the issue, or replaces the body of the open one with the same title (and comments on it). */
export async function upsertIssue(api: GitHubApi, repo: Repo, i: IssuePost): Promise<Posted & { number: number }> {
  const open = await api.paginate<Issue>(`${repoRoute(repo)}/issues?state=open`);
  const existing = open.find((x) => !x.pull_request && x.title === i.title);
  if (!existing) {
    const created = await api.request<Issue>("POST", `${repoRoute(repo)}/issues`, { title: i.title, body: i.body });
    return { action: "created", number: created.number, url: created.html_url };
  }
  await api.request("PATCH", `${repoRoute(repo)}/issues/${existing.number}`, { body: i.body });
  if (i.updateComment) {
    const text = `${mdText(i.updateComment)} ${minuteOf(i.now)}${i.runUrl ? `: ${mdLink("workflow run", i.runUrl)}` : ""}.`;
    await api.request("POST", `${repoRoute(repo)}/issues/${existing.number}/comments`, { body: text });
  }
  return { action: "updated", number: existing.number, url: existing.html_url };
}

function failed(problem: string): { exit: number } {
  annotate("error", problem);
  return { exit: 1 };
}

/** The API client, repository and body file a posting command needs, or the exit status when one is missing. */
function prepare(repoFlag: string | undefined, bodyFile: string): { api: GitHubApi; repo: Repo; body: string } | { exit: number } {
  const body = readIfExists(bodyFile);
  if (body === undefined) return failed(`cannot read ${bodyFile}: the step that writes it did not run or failed`);
  const api = gitHubApiFromEnv();
  if ("problem" in api) return failed(api.problem);
  const repo = repoOf(repoFlag);
  if ("problem" in repo) return failed(repo.problem);
  return { api, repo, body };
}

async function reportFailure(what: string, post: () => Promise<void>): Promise<number> {
  try {
    await post();
    return 0;
  } catch (error) {
    annotate("error", `${what}: ${(error as Error).message}`);
    return 1;
  }
}

export async function postCommentCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("pr", "marker", "body-file", "repo"), POST_COMMENT_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values;
  const pr = Number(v.pr);
  if (!v.pr || !Number.isInteger(pr) || pr <= 0) return usageError(`--pr must be a pull request number, got "${v.pr ?? ""}"`, POST_COMMENT_USAGE);
  const marker = v.marker as string | undefined;
  if (!marker || !/^[A-Za-z0-9-]+$/.test(marker)) return usageError(`--marker must be letters, digits and '-', got "${marker ?? ""}"`, POST_COMMENT_USAGE);
  if (!v["body-file"]) return usageError("--body-file is required", POST_COMMENT_USAGE);
  const ready = prepare(v.repo as string | undefined, v["body-file"] as string);
  if ("exit" in ready) return ready.exit;
  return reportFailure(`cannot post the comment on pull request ${pr}`, async () => {
    const posted = await upsertComment(ready.api, ready.repo, { pr, marker, body: ready.body });
    console.log(`${posted.action} the ${marker} comment on pull request ${pr}${posted.url ? `: ${posted.url}` : ""}`);
  });
}

export async function postIssueCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("title", "body-file", "update-comment", "repo", "run-url"), POST_ISSUE_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values;
  const title = (v.title as string | undefined)?.trim();
  if (!title) return usageError("--title is required", POST_ISSUE_USAGE);
  if (!v["body-file"]) return usageError("--body-file is required", POST_ISSUE_USAGE);
  const ready = prepare(v.repo as string | undefined, v["body-file"] as string);
  if ("exit" in ready) return ready.exit;
  return reportFailure(`cannot post the issue "${title}"`, async () => {
    const posted = await upsertIssue(ready.api, ready.repo, {
      title,
      body: ready.body,
      updateComment: v["update-comment"] as string | undefined,
      runUrl: (v["run-url"] as string | undefined) ?? runUrlOf(),
      now: new Date(),
    });
    console.log(`${posted.action === "created" ? "opened" : "updated"} issue #${posted.number} "${title}"${posted.url ? `: ${posted.url}` : ""}`);
  });
}
