import { parseCommand, stringOptions, usageError } from "../../args";
import { gitHubApiFromEnv, repoOf, repoRoute, type GitHubApi, type Repo } from "../githubApi";
import { annotate, outputNameProblem, writeGitHubOutput } from "./output";
import { TOKEN_NOTE } from "./post";

export const APPROVALS_USAGE = `Usage: nexus ci approvals [--env NAME] [--github-output NAME] [--repo OWNER/NAME] [--run-id ID]

Prints, comma-separated, the logins of the reviewers who approved the deployment of this workflow
run to GitHub environment NAME: the entries of the run's review history
(GET /repos/OWNER/NAME/actions/runs/ID/approvals) in state "approved" that name the environment.
The release workflow hands them to \`nexus deploy --approved-by\`, which records them with the
update. GitHub lets a job that names a protected environment start only once a required reviewer
approved it; this reads who did, it does not approve anything.
${TOKEN_NOTE}
The job's token needs the permission actions: read.
Exit status: 0 printed, 1 nobody approved the environment in this run, or the API refused, or the
step output cannot be written; 2 usage error (no environment, no run id).

Options:
  --env NAME            the GitHub environment (default: NEXUS_ENVIRONMENT)
  --github-output NAME  also write NAME=LOGINS to the step outputs ($GITHUB_OUTPUT), read as steps.ID.outputs.NAME
  --repo OWNER/NAME     repository (default: GITHUB_REPOSITORY)
  --run-id ID           workflow run (default: GITHUB_RUN_ID)
  -h, --help            show this help

Examples:
  npx nexus ci approvals --env prod
  npx nexus ci approvals --env prod --github-output logins`;

/** One entry of a run's review history, as the REST API returns it. */
export interface ReviewEntry {
  state?: string;
  environments?: ({ name?: string } | null)[] | null;
  user?: { login?: string } | null;
}

/**
 * The logins that approved `environment`, each once, in the order of the history. GitHub matches
 * environment names without regard to case, so this does too.
 */
export function approversOf(history: readonly ReviewEntry[], environment: string): string[] {
  const wanted = environment.toLowerCase();
  const logins = history
    .filter((e) => e.state === "approved" && (e.environments ?? []).some((env) => env?.name?.toLowerCase() === wanted))
    .map((e) => e.user?.login)
    .filter((login): login is string => typeof login === "string" && login !== "");
  return [...new Set(logins)];
}

/** Who approved the run's deployment to `environment`, from the run's review history. */
export async function runApprovers(api: GitHubApi, repo: Repo, runId: string, environment: string): Promise<string[]> {
  const history = await api.request<ReviewEntry[]>("GET", `${repoRoute(repo)}/actions/runs/${encodeURIComponent(runId)}/approvals`);
  return approversOf(Array.isArray(history) ? history : [], environment);
}

function failed(problem: string): number {
  annotate("error", problem, { title: "Approvals" });
  return 1;
}

export async function approvalsCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("env", "github-output", "repo", "run-id"), APPROVALS_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const v = parsed.values;
  const environment = ((v.env as string | undefined) ?? process.env.NEXUS_ENVIRONMENT ?? "").trim();
  if (!environment) return usageError("no environment: pass --env NAME or set NEXUS_ENVIRONMENT", APPROVALS_USAGE);
  const runId = (v["run-id"] as string | undefined) ?? process.env.GITHUB_RUN_ID ?? "";
  if (!/^\d+$/.test(runId)) return usageError(`the run id must be a number: pass --run-id ID or set GITHUB_RUN_ID, got "${runId}"`, APPROVALS_USAGE);
  const output = v["github-output"] as string | undefined;
  const badName = output === undefined ? undefined : outputNameProblem(output);
  if (badName) return usageError(badName, APPROVALS_USAGE);

  const api = gitHubApiFromEnv();
  if ("problem" in api) return failed(api.problem);
  const repo = repoOf(v.repo as string | undefined);
  if ("problem" in repo) return failed(repo.problem);
  let logins: string[];
  try {
    logins = await runApprovers(api, repo, runId, environment);
  } catch (error) {
    return failed(`cannot read the review history of run ${runId}: ${(error as Error).message}`);
  }
  if (logins.length === 0) {
    return failed(
      `nobody approved the deployment to environment ${environment} in run ${runId}: the job started without a review (the environment ` +
        `requires none, or an administrator bypassed its protection); require reviewers under Settings > Environments > ${environment}`,
    );
  }
  const list = logins.join(",");
  const problem = output === undefined ? undefined : writeGitHubOutput(output, list);
  if (problem) return failed(problem);
  console.log(list);
  return 0;
}
