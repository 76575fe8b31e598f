import { actionsLiteral } from "../../../contract/escape/actions";
import { AUDIT_COMMENT_MARKER } from "../commands/auditComment";
import { environmentSteps, permissionsFor, policyFlags, pulumiEnv, setupSteps, toolchainSteps } from "./steps";
import { ACTIONS, expr, GITHUB_TOKEN_ENV, job, lines, sh, step, type Environment, type JobSpec, type Step, type Target } from "./syntax";

const AUDIT_DIR = `"$RUNNER_TEMP/nexus-audit"`;
const auditFile = (name: string) => `"$RUNNER_TEMP/nexus-audit/${name}"`;

/** pull-request style: preview (and audit) one environment behind the policy gate. */
export function gateJob(preview: Target | undefined, audit: Target | undefined, needs: string[], comment: boolean): JobSpec {
  const { env } = (preview ?? audit)!;
  const gate = { env, gate: Boolean(preview?.gate || audit?.gate) };
  // A pull request's audit compares the registries with its target branch's (nexus audit --base).
  const compare = audit !== undefined && comment;
  const steps = [...setupSteps(gate.gate, compare), ...toolchainSteps(), ...environmentSteps(gate)];
  if (preview) {
    steps.push(
      step({
        name: `Preview stack ${env.stack}`,
        id: "preview",
        "continue-on-error": audit ? true : undefined,
        env: pulumiEnv(env),
        run: lines(`. .tools/env`, `pulumi preview --stack ${sh.word(env.stack)}${policyFlags(preview)}`),
      }),
    );
  }
  if (audit) steps.push(...auditSteps(env, comment, compare));
  const what = [preview && "preview", audit && "audit"].filter(Boolean).join(" and ");
  return {
    id: `preview-${env.name}`,
    env,
    job: job({ name: `${what} ${env.name}`, needs, permissions: permissionsFor(env), steps }),
  };
}

/**
 * The audit, its outcome recorded for the comment job (uploaded when there is one), then the gate.
 * With `compare`, the report opens with what the pull request loosens or tightens against its
 * target branch; the branch name reaches the script as a variable, never as script text.
 */
function auditSteps(env: Environment, upload: boolean, compare: boolean): Step[] {
  const outcomes = { PREVIEW_OUTCOME: expr("steps.preview.outcome"), AUDIT_OUTCOME: expr("steps.audit.outcome") };
  return [
    step({
      name: `Audit ${env.name} against the policies`,
      id: "audit",
      "continue-on-error": true,
      env: compare ? { BASE_REF: expr("github.base_ref") } : undefined,
      // nexus audit evaluates the program and the policy pack under mocks: no credentials.
      run: lines(
        `mkdir -p ${AUDIT_DIR}`,
        `npx nexus audit --stack ${sh.word(env.name)}${compare ? ` --base "origin/$BASE_REF"` : ""} --format md > ${auditFile("audit.md")}`,
      ),
    }),
    step({
      name: `Record the policy gate of ${env.name}`,
      if: expr("!cancelled()"),
      env: outcomes,
      run: lines(
        `mkdir -p ${AUDIT_DIR}`,
        `printf 'preview=%s\\naudit=%s\\n' "$PREVIEW_OUTCOME" "$AUDIT_OUTCOME" > ${auditFile("status")}`,
        `if [ -s ${auditFile("audit.md")} ]; then cat ${auditFile("audit.md")} >> "$GITHUB_STEP_SUMMARY"; fi`,
      ),
    }),
    ...(upload
      ? [
          step({
            name: `Upload the audit of ${env.name}`,
            if: expr("!cancelled()"),
            uses: ACTIONS.uploadArtifact,
            with: { name: actionsLiteral(`nexus-audit-${env.name}`), path: `${expr("runner.temp")}/nexus-audit/`, "retention-days": 7 },
          }),
        ]
      : []),
    step({
      name: `Fail on a policy violation in ${env.name}`,
      if: expr("steps.preview.outcome == 'failure' || steps.audit.outcome == 'failure'"),
      env: outcomes,
      run: lines(
        `echo "::error title=Policy gate of ${sh.inDoubleQuotes(env.name)}::preview $PREVIEW_OUTCOME, audit $AUDIT_OUTCOME (a mandatory policy violation or a failed preview; see the audit report)"`,
        `exit 1`,
      ),
    }),
  ];
}

export function auditCommentJob(envs: Environment[], gateIds: string[], checks: boolean): JobSpec {
  const body = `"$RUNNER_TEMP/nexus-audit-comment.md"`;
  return {
    id: "audit-comment",
    comment: [
      `One pull-request comment for all environments, found again by its hidden marker and updated on`,
      `every push; it fails when the policy gate of any environment failed.`,
    ],
    job: job({
      name: "audit comment",
      needs: checks ? ["checks", ...gateIds] : gateIds,
      if: expr(checks ? "!cancelled() && needs.checks.result == 'success'" : "!cancelled()"),
      permissions: { contents: "read", "pull-requests": "write" },
      steps: [
        ...setupSteps(false),
        step({
          name: "Download the audit reports",
          uses: ACTIONS.downloadArtifact,
          "continue-on-error": true,
          with: { pattern: "nexus-audit-*", path: `${expr("runner.temp")}/nexus-audit` },
        }),
        step({
          name: "Write the audit comment",
          id: "comment",
          env: { HEAD_SHA: expr("github.event.pull_request.head.sha") },
          // Exits 1 when a gate failed, after writing the comment: the job fails, the comment is still posted.
          run: `npx nexus ci comment --audit-dir ${AUDIT_DIR} --envs ${sh.word(envs.map((e) => e.name).join(","))} --sha "$HEAD_SHA" --out ${body}\n`,
        }),
        step({
          name: "Post or update the audit comment",
          if: expr("!cancelled() && steps.comment.outcome != 'skipped'"),
          env: { ...GITHUB_TOKEN_ENV, PR_NUMBER: expr("github.event.pull_request.number") },
          run: `npx nexus ci post-comment --pr "$PR_NUMBER" --marker ${AUDIT_COMMENT_MARKER} --body-file ${body}\n`,
        }),
      ],
    }),
  };
}
