import { setupSteps, toolchainCacheStep } from "./steps";
import { job, step, type JobSpec, type Pipeline } from "./syntax";

/** The validate and test stages of a pipeline, as one job the others wait for. */
export function checksJob(pipeline: Pipeline): JobSpec | undefined {
  const stages = pipeline.stages.filter((s) => s.type === "validate" || s.type === "test");
  if (stages.length === 0) return undefined;
  const steps = setupSteps();
  let tools = false;
  for (const s of stages) {
    if (s.type === "validate") {
      steps.push(step({ name: `${s.name}: validate the registries`, run: "npx nexus validate --format text" }));
      continue;
    }
    if (!tools) {
      // The unit tier also runs promtool, amtool (from scripts/bootstrap) and actionlint.
      steps.push(
        toolchainCacheStep(),
        step({ name: "Provide the Pulumi CLI and plugins", run: "scripts/bootstrap" }),
        step({ name: "Build actionlint", run: "scripts/actionlint --build-only" }),
      );
      tools = true;
    }
    steps.push(step({ name: `${s.name}: unit tests`, run: "npm run test:unit" }));
  }
  return { id: "checks", job: job({ name: stages.map((s) => s.name).join(", "), steps }) };
}
