import { yamlComment } from "../../../contract/escape/yaml";
import type { PipelineModel } from "../adapter";
import { driftIssueTitle } from "../commands/driftIssue";
import { approvalText } from "./release";
import { expr, GENERATED_MARKER, PULUMI_EXIT_NO_CHANGES, type JobSpec, type Pipeline } from "./syntax";

/** The comment at the top of a workflow: where it comes from and what the repository must provide. */
export function header(model: PipelineModel, pipeline: Pipeline, jobs: JobSpec[]): string {
  const out = [
    ` ${GENERATED_MARKER} from ${model.sourceFile} — do not edit.`,
    ` Change the pipelines registry and run it again; \`npx nexus ci generate --check\` (and`,
    ` test/ci/generate.test.ts) fails when this file differs from what the registry gives.`,
    ``,
    ` Pipeline ${pipeline.name} (${pipeline.source}), trigger ${pipeline.trigger}${pipeline.schedule ? ` at "${pipeline.schedule}"` : ""}.`,
    ...(pipeline.description ? [` ${pipeline.description}`] : []),
  ];
  const settings = settingLines(model, jobs);
  if (settings.length > 0) {
    out.push(``, ` Repository secrets and variables it reads (names from the registry; no value is written here):`, ...settings);
  }
  const environments = jobs.map((j) => j.job.environment).filter((e): e is string => typeof e === "string");
  if (environments.length > 0) {
    out.push(
      ``,
      ` GitHub environments: ${environments.join(", ")}. GitHub has no workflow syntax for reviewers: configure`,
      ` them and the wait timer on the repository (Settings > Environments) as the registry names them:`,
    );
    for (const name of environments) out.push(`   ${name}: ${approvalText(model.environments.find((e) => e.name === name)!)}`);
  }
  if (jobs.some((j) => j.id.startsWith("drift-"))) {
    out.push(
      ``,
      ` Drift versus failure: \`pulumi refresh --preview-only --expect-no-changes\` exits 0 when the live`,
      ` resources match the state and ${PULUMI_EXIT_NO_CHANGES} (ExitNoChanges in the exit-code taxonomy of the pinned`,
      ` Pulumi CLI) when the refresh would change the state, i.e. drift; any other status (1 error, 3 credentials,`,
      ` 6 stack not found, ...) is a failed check: the job fails and no issue is opened. On drift one issue`,
      ` per stack, titled "${driftIssueTitle("STACK")}", is opened or updated.`,
    );
  }
  const local = [...new Set(jobs.flatMap((j) => (j.env && !j.env.secrets.backendUrl ? [j.env.name] : [])))];
  if (local.length > 0) {
    out.push(
      ``,
      ` ${local.join(", ")}: no backendUrl in the registry, so state is a file backend inside the runner's checkout`,
      ` and is discarded after each job; name a backendUrl variable in the registry for persistent state.`,
    );
  }
  // Each entry is one comment line: a line break inside one came from registry text and is shown escaped.
  return out.map(yamlComment).join("\n");
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
    const s = env.secrets;
    if (s.passphrase) add(`secrets.${s.passphrase}`, "passphrase of the stack secrets of", env.name);
    if (s.backendUrl) add(`vars.${s.backendUrl}`, "state backend URL (e.g. s3://BUCKET) of", env.name);
    if (s.kubeconfig) add(`secrets.${s.kubeconfig}`, "kubeconfig of", env.name);
    if (s.awsRoleArn) add(`secrets.${s.awsRoleArn}`, "IAM role assumed through GitHub OIDC for", env.name);
  }
  return [...settings].map(([ref, uses]) => `   ${ref.padEnd(34)} ${[...uses].map(([what, envs]) => `${what} ${envs.join(", ")}`).join("; ")}`);
}
