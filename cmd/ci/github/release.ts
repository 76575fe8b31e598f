import { environmentSteps, permissionsFor, policyFlags, pulumiEnv, setupSteps, toolchainSteps } from "./steps";
import { GITHUB_TOKEN_ENV, job, lines, sh, step, type Environment, type JobSpec, type Target } from "./syntax";

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
        ...setupSteps(false),
        step({
          name: `Compare the protection of ${names.join(", ")} with the registry`,
          env: GITHUB_TOKEN_ENV,
          run: `npx nexus ci check-protection --envs ${sh.word(names.join(","))}\n`,
        }),
      ],
    }),
  };
}

export function deployJob(t: Target, needs: string[]): JobSpec {
  const { env } = t;
  const steps = [...setupSteps(t.gate), ...toolchainSteps(), ...environmentSteps(t)];
  steps.push(
    step({
      name: `Deploy stack ${env.stack}`,
      env: pulumiEnv(env),
      run: lines(`. .tools/env`, `pulumi up --yes --stack ${sh.word(env.stack)}${policyFlags(t)}`),
    }),
  );
  const a = env.approval;
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
      permissions: permissionsFor(env),
      steps,
    }),
  };
}
