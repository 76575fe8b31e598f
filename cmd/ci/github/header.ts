import { yamlComment } from "../../../contract/escape/yaml";
import type { PipelineModel } from "../adapter";
import { driftIssueTitle } from "../commands/driftIssue";
import { DRIFT_EXIT } from "./drift";
import { checkCommentMarker } from "./pullRequest";
import { approvalText } from "./release";
import { expr, GENERATED_MARKER, type JobSpec, type Pipeline } from "./syntax";

/** The comment at the top of a workflow: where it comes from, what the repository must provide, what the commands' exit statuses mean. */
export function header(model: PipelineModel, pipeline: Pipeline, jobs: JobSpec[]): string {
  const out = [
    ` ${GENERATED_MARKER} from ${model.sourceFile} — do not edit.`,
    ` Change the pipelines registry and run it again; \`npx nexus ci generate --check\` (and`,
    ` test/ci/generate.test.ts) fails when this file differs from what the registry gives.`,
    ``,
    ` Pipeline ${pipeline.name} (${pipeline.source}), trigger ${pipeline.trigger}${pipeline.schedule ? ` at "${pipeline.schedule}"` : ""}.`,
    ...(pipeline.description ? [` ${pipeline.description}`] : []),
  ];
  if (jobs.some((j) => j.env)) {
    out.push(
      ``,
      ` Each job that works on a stack checks out, installs, restores the toolchain cache, provides the`,
      ` credentials below and runs one nexus command (through scripts/stack: the pinned Pulumi CLI, the state`,
      ` backend, the policy pack gate). The other steps read the AWS region or the approvers, or post what the`,
      ` command wrote.`,
    );
  }
  const settings = settingLines(model, jobs);
  if (settings.length > 0) {
    out.push(``, ` Repository secrets and variables it reads (names from the registry; no value is written here):`, ...settings);
  }
  const token = tokenUses(jobs);
  if (token.length > 0) out.push(` The job's own token (github.token) ${[token.slice(0, -1).join(", "), token.at(-1)].filter(Boolean).join(" and ")}.`);
  const environments = jobs.map((j) => j.job.environment).filter((e): e is string => typeof e === "string");
  if (environments.length > 0) {
    out.push(
      ``,
      ` GitHub environments: ${environments.join(", ")}. GitHub has no workflow syntax for reviewers: configure`,
      ` them and the wait timer on the repository (Settings > Environments) as the registry names them:`,
    );
    for (const name of environments) out.push(`   ${name}: ${approvalText(model.environments.find((e) => e.name === name)!)}`);
  }
  out.push(...exitStatusLines(pipeline, jobs));
  const without = (what: "backendUrl" | "kubeconfig") => [...new Set(jobs.flatMap((j) => (j.env && !j.env.secrets[what] ? [j.env.name] : [])))];
  const noBackend = without("backendUrl");
  if (noBackend.length > 0) {
    out.push(
      ``,
      ` ${noBackend.join(", ")}: no backendUrl in the registry, so state is a file backend inside the runner's checkout`,
      ` and is discarded after each job; name a backendUrl variable in the registry for persistent state.`,
    );
  }
  const noKubeconfig = without("kubeconfig");
  if (noKubeconfig.length > 0) {
    out.push(
      ``,
      ` ${noKubeconfig.join(", ")}: no kubeconfig in the registry, so the command finds no cluster and runs against the`,
      ` project's throwaway local API server; name a kubeconfig secret in the registry to reach a real cluster.`,
    );
  }
  // Each entry is one comment line: a line break inside one came from registry text and is shown escaped.
  return out.map(yamlComment).join("\n");
}

/** What the exit status of each kind of job's nexus command means, and what the workflow does with it. */
function exitStatusLines(pipeline: Pipeline, jobs: JobSpec[]): string[] {
  const out: string[] = [];
  const has = (prefix: string) => jobs.some((j) => j.id.startsWith(prefix));
  if (has("check-")) {
    const pr = pipeline.trigger === "pull-request";
    out.push(
      ``,
      ` nexus check: the preview behind the policy gate, the credential-free audit${pr ? " and the security changes" : ""}`,
      ...(pr
        ? [` against the target branch, as one Markdown body: the stack's pull-request comment (hidden marker`]
        : [` of the stack, as one Markdown body shown in the job summary.`]),
      ...(pr ? [` ${checkCommentMarker("STACK")}), updated on every push.`] : []),
      ` Exit status 0 pass, 1 fail (a mandatory policy violation or a preview error): the body is ${pr ? "posted" : "shown"}`,
      ` either way, and the job fails on 1.`,
    );
  }
  if (has("deploy-")) {
    out.push(
      ``,
      ` nexus deploy: pulumi up behind the policy gate. It refuses a commit the stack before it in the promotion`,
      ` order does not run yet and, where the registry requires approval, a deploy nobody approved (the approvers`,
      ` come from this run's review history through \`nexus ci approvals\`, whose step fails when there are none).`,
      ` Exit status 0 deployed, 1 refused or failed: its report goes to the job summary either way; the job fails on 1.`,
    );
  }
  if (has("drift-")) {
    out.push(
      ``,
      ` nexus drift: exit status 0 no drift, the job passes; ${DRIFT_EXIT} drift, the job passes and the issue`,
      ` "${driftIssueTitle("STACK")}" (one per stack) is opened, or updated with a comment, with its report;`,
      ` any other status (1: the check itself failed: credentials, backend, cluster, ...) fails the job and opens`,
      ` no issue. A usage error exits ${DRIFT_EXIT} too but writes no report: posting the issue fails, and so does the job.`,
    );
  }
  return out;
}

/** What the jobs use their token for, from the `nexus ci` commands that call the GitHub API. */
function tokenUses(jobs: JobSpec[]): string[] {
  const text = JSON.stringify(jobs.map((j) => j.job));
  const uses: [string, string][] = [
    ["nexus ci post-comment", "posts the pull-request comments"],
    ["nexus ci post-issue", "opens and updates the issues"],
    ["nexus ci check-protection", "reads the environments' protection"],
    ["nexus ci approvals", "reads the run's approvals"],
  ];
  return uses.filter(([command]) => text.includes(command)).map(([, what]) => what);
}

/** One line per secret or variable the jobs reference: what it is, for which environments (registry order). */
function settingLines(model: PipelineModel, jobs: JobSpec[]): string[] {
  const used = new Set(jobs.flatMap((j) => JSON.stringify(j.job).match(/\$\{\{ (?:secrets|vars)\.[A-Z0-9_]+ \}\}/g) ?? []));
  // reference -> what it is -> environments
  const settings = new Map<string, Map<string, string[]>>();
  const add = (ref: string, what: string, env: string) => {
    if (!used.has(expr(ref))) return;
    const uses = settings.get(ref) ?? new Map<string, string[]>();
    uses.set(what, [...(uses.get(what) ?? []), env]);
    settings.set(ref, uses);
  };
  for (const env of model.environments) {
    if (!jobs.some((j) => j.env?.name === env.name)) continue;
    const s = env.secrets;
    if (s.passphrase) add(`secrets.${s.passphrase}`, "passphrase of the stack secrets of", env.name);
    if (s.backendUrl) add(`vars.${s.backendUrl}`, "state backend URL (e.g. s3://BUCKET) of", env.name);
    if (s.kubeconfig) add(`secrets.${s.kubeconfig}`, "kubeconfig of", env.name);
    if (s.awsRoleArn) add(`secrets.${s.awsRoleArn}`, "IAM role assumed through GitHub OIDC for", env.name);
  }
  return [...settings].map(([ref, uses]) => `   ${ref.padEnd(34)} ${[...uses].map(([what, envs]) => `${what} ${envs.join(", ")}`).join("; ")}`);
}
