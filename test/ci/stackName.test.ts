/**
 * An environment's `stack`: the Pulumi stack the workflows preview and deploy for it, which need
 * not share the environment's name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateWorkflows, type GeneratedFile } from "../../cmd/ci";
import { copyRegistries, REAL_REGISTRIES, removeRegistries, replaceIn } from "../support/registries";

describe("an environment whose stack has another name", () => {
  let dir: string;
  let text: string;
  beforeAll(() => {
    dir = copyRegistries(REAL_REGISTRIES);
    replaceIn(dir, "pipelines.yaml", "  - name: prod\n    stack: prod\n", "  - name: prod\n    stack: production-eu\n");
    const result = generateWorkflows(dir);
    expect(result.problems).toEqual([]);
    text = result.files.map((f: GeneratedFile) => f.content).join("\n");
  });
  afterAll(() => removeRegistries(dir));

  it("previews and deploys the stack the registry names, never the environment's name", () => {
    for (const command of ["check", "deploy", "drift"]) expect(text).toContain(`npx nexus ${command} --stack production-eu `);
    expect(text).toContain("npx nexus ci region --stack production-eu ");
    expect(text).toContain("--marker nexus-check-production-eu ");
    expect(text).toContain('"$RUNNER_TEMP/deploy-production-eu.md"');
    expect(text).not.toMatch(/--stack prod\b/);
    // The environment keeps its name where GitHub knows it by the environment.
    expect(text).toContain("environment: prod\n");
    expect(text).toContain("npx nexus ci approvals --env prod ");
  });
});
