import { driftIssueTitle } from "../commands/driftIssue";
import { environmentSteps, permissionsFor, pulumiEnv, setupSteps, toolchainSteps } from "./steps";
import { expr, GITHUB_TOKEN_ENV, job, lines, PULUMI_EXIT_NO_CHANGES, step, type JobSpec, type Step, type Target } from "./syntax";

export function driftJob(t: Target, needs: string[]): JobSpec {
  const { env } = t;
  const steps = [...setupSteps(false), ...toolchainSteps(), ...environmentSteps({ env, gate: false }), detectStep(t), ...issueSteps(t)];
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

const reportFile = (t: Target, ext: string) => `"$RUNNER_TEMP/nexus-drift-${t.env.name}.${ext}"`;

/** Sets the step output `result` to clean, drift or failed; fails the job on failed only. */
function detectStep(t: Target): Step {
  const { stack } = t.env;
  return step({
    name: `Detect drift of stack ${stack}`,
    id: "drift",
    env: pulumiEnv(t.env),
    run: lines(
      `. .tools/env`,
      `rc=0`,
      `pulumi refresh --preview-only --expect-no-changes --json --stack ${stack} > ${reportFile(t, "json")} || rc=$?`,
      `case "$rc" in`,
      `  0) result=clean ;;`,
      `  ${PULUMI_EXIT_NO_CHANGES}) result=drift ;;`,
      `  *) result=failed ;;`,
      `esac`,
      `echo "result=$result" >> "$GITHUB_OUTPUT"`,
      `case "$result" in`,
      `  clean) echo "stack ${stack}: no drift" ;;`,
      `  drift)`,
      `    echo "::warning title=Drift in stack ${stack}::the live resources differ from the Pulumi state; see the issue '${driftIssueTitle(stack)}'"`,
      `    pulumi refresh --preview-only --diff --stack ${stack} || true`,
      `    ;;`,
      `  *)`,
      `    npx nexus ci report-errors --report ${reportFile(t, "json")}`,
      `    echo "::error title=Drift check failed for stack ${stack}::pulumi refresh exited with $rc: the check failed, this is not drift (drift exits ${PULUMI_EXIT_NO_CHANGES})"`,
      `    exit "$rc"`,
      `    ;;`,
      `esac`,
    ),
  });
}

function issueSteps(t: Target): Step[] {
  const { env } = t;
  const onDrift = expr("steps.drift.outputs.result == 'drift'");
  return [
    step({
      name: `Write the drift issue of stack ${env.stack}`,
      if: onDrift,
      run: `npx nexus ci drift-issue --stack ${env.stack} --env ${env.name} --report ${reportFile(t, "json")} --out ${reportFile(t, "md")}\n`,
    }),
    step({
      name: `Open or update the drift issue of stack ${env.stack}`,
      if: onDrift,
      env: GITHUB_TOKEN_ENV,
      run: `npx nexus ci post-issue --title "${driftIssueTitle(env.stack)}" --body-file ${reportFile(t, "md")} --update-comment "Drift still present"\n`,
    }),
  ];
}
