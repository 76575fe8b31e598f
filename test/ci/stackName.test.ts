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
    expect(text).toContain("pulumi preview --stack production-eu");
    expect(text).toContain("pulumi up --yes --stack production-eu");
    expect(text).not.toMatch(/pulumi (preview|up --yes) --stack prod\b/);
  });
});
