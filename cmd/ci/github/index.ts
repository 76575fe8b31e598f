import { Document, isMap, isScalar, visit, type YAMLMap } from "yaml";
import { escapeYamlUnsafe, hasYamlUnsafe, yamlComment } from "../../../contract/escape/yaml";
import type { CiAdapter, GeneratedFile, PipelineModel } from "../adapter";
import { checksJob } from "./checks";
import { codeownersFile } from "./codeowners";
import { driftJob } from "./drift";
import { header } from "./header";
import { checkJob } from "./pullRequest";
import { deployJob, protectionJob } from "./release";
import { expr, GENERATED_MARKER, type JobSpec, type Pipeline, type Target } from "./syntax";

export { ACTIONS, GENERATED_MARKER, NODE_VERSION } from "./syntax";

/** The targets of the stages of some types, once each, in promotion order. */
function targetsOf(model: PipelineModel, pipeline: Pipeline, types: string[]): Target[] {
  const names = new Set(pipeline.stages.filter((s) => types.includes(s.type)).flatMap((s) => s.targets));
  const rank = (name: string) => {
    const i = model.promotion.indexOf(name);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...names]
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((name) => {
      const env = model.environments.find((e) => e.name === name);
      if (!env) throw new Error(`pipeline ${pipeline.name} targets environment "${name}", which is not declared`);
      return { env };
    });
}

function triggers(pipeline: Pipeline): Record<string, unknown> {
  switch (pipeline.trigger) {
    case "pull-request":
      return { pull_request: {} };
    case "push-main":
      return { push: { branches: ["main"] } };
    case "schedule":
      return { schedule: [{ cron: pipeline.schedule }], workflow_dispatch: {} };
    case "manual":
      return { workflow_dispatch: {} };
  }
}

/**
 * One `nexus check` job per target of the preview and audit stages: the check runs the preview
 * and the audit of its stack together and writes both into one body.
 */
function checkJobs(model: PipelineModel, pipeline: Pipeline, afterChecks: string[]): JobSpec[] {
  return targetsOf(model, pipeline, ["preview", "audit"]).map((t) => checkJob(t, afterChecks, pipeline.trigger === "pull-request"));
}

/** Deploys chained in promotion order, behind the protection check when an environment needs approval. */
function deployJobs(model: PipelineModel, pipeline: Pipeline, previous: string[]): JobSpec[] {
  const jobs: JobSpec[] = [];
  const deploys = targetsOf(model, pipeline, ["deploy"]);
  const guarded = deploys.map((d) => d.env).filter((e) => e.approval.required);
  if (guarded.length > 0) {
    const protection = protectionJob(guarded);
    jobs.push(protection);
    previous = [...previous, protection.id];
  }
  for (const t of deploys) {
    const spec = deployJob(t, previous);
    jobs.push(spec);
    previous = [spec.id];
  }
  return jobs;
}

function jobsOf(model: PipelineModel, pipeline: Pipeline): JobSpec[] {
  const checks = checksJob(pipeline);
  const afterChecks = checks ? [checks.id] : [];
  const stackChecks = checkJobs(model, pipeline, afterChecks);
  return [
    ...(checks ? [checks] : []),
    ...stackChecks,
    ...deployJobs(model, pipeline, [...afterChecks, ...stackChecks.map((j) => j.id)]),
    ...targetsOf(model, pipeline, ["drift"]).map((t) => driftJob(t, afterChecks)),
  ];
}

function workflow(model: PipelineModel, pipeline: Pipeline): GeneratedFile {
  const jobs = jobsOf(model, pipeline);
  const root: Record<string, unknown> = {
    name: pipeline.name,
    on: triggers(pipeline),
    permissions: { contents: "read" },
  };
  if (pipeline.trigger === "pull-request") {
    root.concurrency = { group: `${expr("github.workflow")}-${expr("github.event.pull_request.number")}`, "cancel-in-progress": true };
  }
  root.defaults = { run: { shell: "bash" } };
  root.jobs = Object.fromEntries(jobs.map((j) => [j.id, j.job]));

  const doc = new Document(root, { aliasDuplicateObjects: false });
  doc.commentBefore = header(model, pipeline, jobs);
  const jobsNode = doc.get("jobs", true) as YAMLMap;
  for (const pair of jobsNode.items) {
    const spec = jobs.find((j) => isScalar(pair.key) && j.id === pair.key.value);
    if (spec?.comment && isScalar(pair.key)) pair.key.commentBefore = spec.comment.map((l) => ` ${yamlComment(l)}`).join("\n");
    if (!isMap(pair.value)) throw new Error("internal: a job is not a mapping");
  }
  // A string with a line separator or control in it is written double-quoted, where each such
  // character then becomes an escape: plain or block style would leave it raw for parsers that
  // break lines at it. Comments are escaped where their text is written (header, job comments).
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === "string" && hasYamlUnsafe(node.value)) node.type = "QUOTE_DOUBLE";
    },
  });
  return { path: `.github/workflows/${pipeline.name}.yml`, content: escapeYamlUnsafe(doc.toString({ lineWidth: 0 })) };
}

export const githubActions: CiAdapter = {
  name: "github",
  description: "GitHub Actions: one workflow per pipeline in .github/workflows/",
  marker: GENERATED_MARKER,
  outputDir: ".github/workflows",
  generate(model) {
    return [...model.pipelines].sort((a, b) => a.name.localeCompare(b.name)).map((p) => workflow(model, p));
  },
  codeowners: codeownersFile,
};
