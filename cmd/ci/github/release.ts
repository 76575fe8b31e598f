import { credentialSteps, nexusEnv, permissionsFor, setupSteps, toolchainCacheStep } from "./steps";
import { expr, GITHUB_TOKEN_ENV, job, sh, step, type Environment, type JobSpec, type Step, type Target } from "./syntax";

export function approvalText(env: Environment): string {
  const a = env.approval;
  if (!a.required) return "no approval";
  const who = a.reviewers.length > 0 ? `reviewers ${a.reviewers.join(", ")}` : "a required reviewer";
  return `approval by ${who}${a.waitMinutes > 0 ? `, wait timer ${a.waitMinutes} min` : ""}`;
}

export function protectionJob(envs: Environment[]): JobSpec {
  const names = envs.map((e) => e.name);
  return {
    id: "environment-protection",
    comment: [
      `GitHub keeps required reviewers and wait timers on the repository's environments, not in workflow`,
      `files: this job fails the release before anything is deployed when they are weaker than the registry's.`,
    ],
    job: job({
      name: "check environment protection",
      permissions: { actions: "read", contents: "read" },
      steps: [
        ...setupSteps(),
        step({
          name: `Compare the protection of ${names.join(", ")} with the registry`,
          env: GITHUB_TOKEN_ENV,
          run: `npx nexus ci check-protection --envs ${sh.word(names.join(","))}\n`,
        }),
      ],
    }),
  };
}

/**
 * Who approved this run's deployment to the environment, as the step output `logins`. A step of
 * its own, not a `$(...)` inside the deploy's arguments: bash -e does not stop on a failed command
 * substitution there, so the deploy would run with an empty list instead of this step failing.
 */
function approvalsStep(env: Environment): Step {
  return step({
    name: `Read who approved the deployment to ${env.name}`,
    id: "approvals",
    env: GITHUB_TOKEN_ENV,
    run: `npx nexus ci approvals --env ${sh.word(env.name)} --github-output logins\n`,
  });
}

/**
 * `nexus deploy` on one stack, whose report goes to the job summary whether it deployed or
 * refused (it refuses a commit the stack before it in the promotion order does not run yet, and
 * without approvals where the registry requires them).
 */
export function deployJob(t: Target, needs: string[]): JobSpec {
  const { env } = t;
  const a = env.approval;
  const report = `"$RUNNER_TEMP/deploy-${sh.inDoubleQuotes(env.stack)}.md"`;
  const steps = [
    ...setupSteps(),
    toolchainCacheStep(),
    ...credentialSteps(env),
    ...(a.required ? [approvalsStep(env)] : []),
    step({
      name: `Deploy stack ${env.stack}`,
      id: "deploy",
      env: { ...nexusEnv(env), ...(a.required ? { APPROVED_BY: expr("steps.approvals.outputs.logins") } : {}) },
      run: `npx nexus deploy --stack ${sh.word(env.stack)}${a.required ? ` --approved-by "$APPROVED_BY"` : ""} --out ${report}\n`,
    }),
    step({
      name: `Show the deploy report of stack ${env.stack} in the job summary`,
      if: expr("!cancelled() && steps.deploy.outcome != 'skipped'"),
      run: `cat ${report} >> "$GITHUB_STEP_SUMMARY"\n`,
    }),
  ];
  return {
    id: `deploy-${env.name}`,
    env,
    comment: [
      `Environment ${env.name}: ${approvalText(env)}${a.required ? " (set on the repository's environment, checked by environment-protection)" : ""}.`,
      `One deploy of stack ${env.stack} at a time: a running deploy is never cancelled; GitHub keeps one queued run`,
      `per group, so a newer push replaces an older one still waiting.`,
    ],
    job: job({
      name: `deploy ${env.name}${a.required ? ` (${approvalText(env)})` : ""}`,
      needs,
      environment: env.name,
      concurrency: { group: `deploy-${env.stack}`, "cancel-in-progress": false },
      // The review history of the run (nexus ci approvals) is an Actions resource.
      permissions: permissionsFor(env, a.required ? { actions: "read" } : {}),
      steps,
    }),
  };
}
