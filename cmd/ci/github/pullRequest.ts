import { credentialSteps, nexusEnv, permissionsFor, setupSteps, toolchainCacheStep } from "./steps";
import { expr, GITHUB_TOKEN_ENV, job, sh, step, type JobSpec, type Target } from "./syntax";

/** The hidden marker of a stack's pull-request comment: one comment per stack, found again and updated on every push. */
export const checkCommentMarker = (stack: string) => `nexus-check-${stack}`;

/**
 * `nexus check` on one stack: the preview behind the policy gate, the credential-free audit and,
 * on a pull request, the security changes against its target branch, as one Markdown body.
 *
 * On a pull request the body becomes that stack's comment, posted by this job as soon as the
 * check ends: no artifact hand-off to a job that waits for every stack, each stack's comment
 * stays within GitHub's size limit on its own, and a stack whose job failed early does not hide
 * the others' results. It is posted when the check failed too (exit 1 after writing the body); the
 * job fails all the same. Elsewhere the body goes to the job summary.
 */
export function checkJob(t: Target, needs: string[], pullRequest: boolean): JobSpec {
  const { env } = t;
  const stack = sh.word(env.stack);
  const body = `"$RUNNER_TEMP/check-${sh.inDoubleQuotes(env.stack)}.md"`;
  const afterCheck = expr("!cancelled() && steps.check.outcome != 'skipped'");
  // The target branch reaches the script as a variable, never as script text: a branch name may hold `$(...)`.
  const base = pullRequest ? ` --base "origin/$BASE_REF"` : "";
  const steps = [
    ...setupSteps(pullRequest),
    toolchainCacheStep(),
    ...credentialSteps(env),
    step({
      name: `Check stack ${env.stack}`,
      id: "check",
      env: { ...nexusEnv(env), ...(pullRequest ? { BASE_REF: expr("github.base_ref") } : {}) },
      run: `npx nexus check --stack ${stack}${base} --out ${body}\n`,
    }),
    pullRequest
      ? step({
          name: `Post or update the comment of stack ${env.stack}`,
          if: afterCheck,
          env: { ...GITHUB_TOKEN_ENV, PR_NUMBER: expr("github.event.pull_request.number") },
          run: `npx nexus ci post-comment --pr "$PR_NUMBER" --marker ${sh.word(checkCommentMarker(env.stack))} --body-file ${body}\n`,
        })
      : step({ name: `Show the check of stack ${env.stack} in the job summary`, if: afterCheck, run: `cat ${body} >> "$GITHUB_STEP_SUMMARY"\n` }),
  ];
  return {
    id: `check-${env.name}`,
    env,
    job: job({
      name: `check ${env.name}`,
      needs,
      permissions: permissionsFor(env, pullRequest ? { "pull-requests": "write" } : {}),
      steps,
    }),
  };
}
