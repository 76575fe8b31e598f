import { driftIssueTitle } from "../commands/driftIssue";
import { environmentSteps, permissionsFor, pulumiEnv, setupSteps, toolchainSteps } from "./steps";
import { expr, GITHUB_TOKEN_ENV, job, lines, PULUMI_EXIT_NO_CHANGES, sh, step, type JobSpec, type Step, type Target } from "./syntax";

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

const reportFile = (t: Target, ext: string) => `"$RUNNER_TEMP/nexus-drift-${sh.inDoubleQuotes(t.env.name)}.${ext}"`;

/** Sets the step output `result` to clean, drift or failed; fails the job on failed only. */
function detectStep(t: Target): Step {
  const { stack } = t.env;
  const word = sh.word(stack);
  const quoted = sh.inDoubleQuotes(stack);
  return step({
    name: `Detect drift of stack ${stack}`,
    id: "drift",
    env: pulumiEnv(t.env),
    run: lines(
      `. .tools/env`,
      `rc=0`,
      `pulumi refresh --preview-only --expect-no-changes --json --stack ${word} > ${reportFile(t, "json")} || rc=$?`,
      `case "$rc" in`,
      `  0) result=clean ;;`,
      `  ${PULUMI_EXIT_NO_CHANGES}) result=drift ;;`,
      `  *) result=failed ;;`,
      `esac`,
      `echo "result=$result" >> "$GITHUB_OUTPUT"`,
      `case "$result" in`,
      `  clean) echo "stack ${quoted}: no drift" ;;`,
      `  drift)`,
      `    echo "::warning title=Drift in stack ${quoted}::the live resources differ from the Pulumi state; see the issue '${sh.inDoubleQuotes(driftIssueTitle(stack))}'"`,
      `    pulumi refresh --preview-only --diff --stack ${word} || true`,
      `    ;;`,
      `  *)`,
      `    npx nexus ci report-errors --report ${reportFile(t, "json")}`,
      `    echo "::error title=Drift check failed for stack ${quoted}::pulumi refresh exited with $rc: the check failed, this is not drift (drift exits ${PULUMI_EXIT_NO_CHANGES})"`,
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
      run: `npx nexus ci drift-issue --stack ${sh.word(env.stack)} --env ${sh.word(env.name)} --report ${reportFile(t, "json")} --out ${reportFile(t, "md")}\n`,
    }),
    step({
      name: `Open or update the drift issue of stack ${env.stack}`,
      if: onDrift,
      env: GITHUB_TOKEN_ENV,
      run: `npx nexus ci post-issue --title "${sh.inDoubleQuotes(driftIssueTitle(env.stack))}" --body-file ${reportFile(t, "md")} --update-comment "Drift still present"\n`,
    }),
  ];
}
