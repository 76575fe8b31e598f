import { formatProblem } from "../../../domain/loader";
import { parseCommand, stringOptions, usageError } from "../../args";
import { GitHubApiError, gitHubApiFromEnv, repoOf, repoRoute, type GitHubApi, type Repo } from "../githubApi";
import { loadPipelineModel } from "../index";
import { annotate, listOf } from "./output";

export const CHECK_PROTECTION_USAGE = `Usage: nexus ci check-protection --envs NAME[,NAME...] [--registries DIR] [--repo OWNER/NAME]

GitHub keeps required reviewers and wait timers on the repository's environments, not in workflow
files. This checks that each named environment carries the approval the pipelines registry asks
for: every reviewer it names (a user login, or "org/team-slug") and at least its wait time. The
release runs it before deploying anything.
Calls the GitHub API with the token in GITHUB_TOKEN (in a workflow: env GITHUB_TOKEN: \${{ github.token }})
at GITHUB_API_URL (default https://api.github.com).
Exit status: 0 every environment is protected as the registry says, 1 one is not (one line per
problem), the registry has problems, or the API refused; 2 usage error.

Options:
  --envs NAMES        environments to check, comma-separated (required), e.g. prod
  --registries DIR    folder with the registry files (default: registries)
  --repo OWNER/NAME   repository (default: GITHUB_REPOSITORY)
  -h, --help          show this help

Example:
  GITHUB_TOKEN=$(gh auth token) GITHUB_REPOSITORY=OWNER/NAME npx nexus ci check-protection --envs prod`;

/** The approval the registry asks of one environment. */
export interface WantedApproval {
  environment: string;
  reviewers: readonly string[];
  waitMinutes: number;
}

interface EnvironmentRule {
  type?: string;
  wait_timer?: number;
  reviewers?: { type?: string; reviewer?: { login?: string; slug?: string } | null }[];
}

/** The environment's required reviewers as "user:login" and "team:slug", lower case. */
function requiredReviewers(rules: EnvironmentRule[]): string[] {
  return rules
    .filter((r) => r.type === "required_reviewers")
    .flatMap((r) => r.reviewers ?? [])
    .map((r) => (r.type === "Team" ? `team:${r.reviewer?.slug}` : `user:${r.reviewer?.login}`).toLowerCase());
}

/** Why one environment's protection is weaker than the registry's; empty when it is not. */
export function protectionGaps(want: WantedApproval, rules: EnvironmentRule[]): string[] {
  const problems: string[] = [];
  const reviewers = requiredReviewers(rules);
  const missing = want.reviewers.filter((name) => {
    const slug = name.includes("/") ? name.slice(name.indexOf("/") + 1) : name;
    return !reviewers.includes(`team:${slug}`.toLowerCase()) && !reviewers.includes(`user:${name}`.toLowerCase());
  });
  if (reviewers.length === 0) {
    const add = want.reviewers.length > 0 ? want.reviewers.join(", ") : "at least one reviewer";
    problems.push(`environment ${want.environment} has no required reviewers: add ${add} under Settings > Environments > ${want.environment}`);
  } else if (missing.length > 0) {
    problems.push(`environment ${want.environment} does not require the reviewers ${missing.join(", ")} named in the pipelines registry`);
  }
  const timer = rules.filter((r) => r.type === "wait_timer").reduce((max, r) => Math.max(max, r.wait_timer ?? 0), 0);
  if (timer < want.waitMinutes) {
    problems.push(`environment ${want.environment} waits ${timer} minute(s) before deploying; the pipelines registry asks for ${want.waitMinutes}`);
  }
  return problems;
}

/** Every gap between the repository's environments and the wanted approvals. */
export async function protectionProblems(api: GitHubApi, repo: Repo, wanted: WantedApproval[]): Promise<string[]> {
  const problems: string[] = [];
  for (const want of wanted) {
    let rules: EnvironmentRule[];
    try {
      const env = await api.request<{ protection_rules?: EnvironmentRule[] }>("GET", `${repoRoute(repo)}/environments/${encodeURIComponent(want.environment)}`);
      rules = env.protection_rules ?? [];
    } catch (error) {
      if (!(error instanceof GitHubApiError && error.status === 404)) {
        problems.push(`cannot read the protection of environment ${want.environment}: ${(error as Error).message}`);
        continue;
      }
      const who = want.reviewers.length > 0 ? ` ${want.reviewers.join(", ")}` : "";
      problems.push(`environment ${want.environment} is not configured: create it under Settings > Environments with required reviewers${who}`);
      continue;
    }
    problems.push(...protectionGaps(want, rules));
  }
  return problems;
}

/** The approvals the registry asks of the named environments, or the problems that stop reading it. */
function wantedApprovals(registriesDir: string, names: string[]): { wanted: WantedApproval[] } | { problems: string[] } {
  const { problems, model } = loadPipelineModel(registriesDir);
  if (!model) return { problems: problems.map(formatProblem) };
  const unknown = names.filter((n) => !model.environments.some((e) => e.name === n));
  if (unknown.length > 0) return { problems: [`${unknown.join(", ")}: no such environment in ${model.sourceFile}`] };
  const wanted = model.environments
    .filter((e) => names.includes(e.name) && e.approval.required)
    .map((e) => ({ environment: e.name, reviewers: e.approval.reviewers, waitMinutes: e.approval.waitMinutes }));
  return { wanted };
}

function failed(problems: string[]): number {
  for (const p of problems) annotate("error", p);
  return 1;
}

export async function checkProtectionCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("envs", "registries", "repo"), CHECK_PROTECTION_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const names = listOf((parsed.values.envs as string | undefined) ?? "");
  if (names.length === 0) return usageError("--envs is required", CHECK_PROTECTION_USAGE);
  const approvals = wantedApprovals((parsed.values.registries as string | undefined) ?? "registries", names);
  if ("problems" in approvals) return failed(approvals.problems);
  const api = gitHubApiFromEnv();
  if ("problem" in api) return failed([api.problem]);
  const repo = repoOf(parsed.values.repo as string | undefined);
  if ("problem" in repo) return failed([repo.problem]);
  const problems = await protectionProblems(api, repo, approvals.wanted);
  for (const p of problems) annotate("error", p, { title: "Environment protection" });
  if (problems.length > 0) return 1;
  const checked = approvals.wanted.map((w) => w.environment);
  console.log(
    `ok: environment protection matches the pipelines registry for ${checked.length > 0 ? checked.join(", ") : "no environment (none requires approval)"}`,
  );
  return 0;
}
