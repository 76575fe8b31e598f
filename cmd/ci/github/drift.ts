import { driftIssueTitle } from "../commands/driftIssue";
import { credentialSteps, nexusEnv, permissionsFor, setupSteps, toolchainCacheStep } from "./steps";
import { expr, GITHUB_TOKEN_ENV, job, lines, sh, step, type JobSpec, type Target } from "./syntax";

/** `nexus drift` exits with this when it found drift (0: none; anything else: the check failed). */
export const DRIFT_EXIT = 2;

/**
 * `nexus drift` on one stack. Its exit status is the answer: 0 no drift, 2 drift, anything else a
 * failed check. The step records it as the output `status` and ends with it, except that drift
 * ends the step successfully: the job passes and the next step opens or updates the stack's
 * issue; a failed check fails the step, with the command's own status, and opens no issue.
 */
export function driftJob(t: Target, needs: string[]): JobSpec {
  const { env } = t;
  const report = `"$RUNNER_TEMP/drift-${sh.inDoubleQuotes(env.stack)}.md"`;
  const steps = [
    ...setupSteps(),
    toolchainCacheStep(),
    ...credentialSteps(env),
    step({
      name: `Detect drift of stack ${env.stack}`,
      id: "drift",
      env: nexusEnv(env),
      run: lines(
        `status=0`,
        `npx nexus drift --stack ${sh.word(env.stack)} --out ${report} || status=$?`,
        `echo "status=$status" >> "$GITHUB_OUTPUT"`,
        `[ "$status" = ${DRIFT_EXIT} ] || exit "$status"`,
      ),
    }),
    step({
      name: `Open or update the drift issue of stack ${env.stack}`,
      if: expr(`steps.drift.outputs.status == '${DRIFT_EXIT}'`),
      env: GITHUB_TOKEN_ENV,
      run: `npx nexus ci post-issue --title "${sh.inDoubleQuotes(driftIssueTitle(env.stack))}" --body-file ${report} --update-comment "Drift still present"\n`,
    }),
  ];
  return {
    id: `drift-${env.name}`,
    env,
    job: job({
      name: `drift ${env.name}`,
      needs,
      concurrency: { group: `drift-${env.stack}`, "cancel-in-progress": false },
      permissions: permissionsFor(env, { issues: "write" }),
      steps,
    }),
  };
}
