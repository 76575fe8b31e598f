/**
 * The bounded wait on the real engine: the dev stack with skipAwait off and a short readyTimeout
 * against the tests' API server, which has no node, so no workload ever becomes Ready. `npm run
 * up` must fail after about that time (not the provider's 10 minutes per object), print why
 * each workload is not Ready with its registry entry, and exit with pulumi's status.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { loadModel } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { explain, Project } from "./support";

const READY_TIMEOUT_SECONDS = 10;

describe("a dev stack that waits for readiness, on a cluster without nodes", () => {
  let project: Project;
  let model: Model;

  beforeAll(() => {
    project = new Project();
    model = loadModel({ registriesDir: path.join(project.dir, "registries"), env: "dev" });
    const doc = parseDocument(project.read("Pulumi.dev.yaml"));
    doc.setIn(["config", "nexus-platform:skipAwait"], false);
    doc.setIn(["config", "nexus-platform:readyTimeout"], `${READY_TIMEOUT_SECONDS}s`);
    project.write("Pulumi.dev.yaml", doc.toString());
    // The stack's setup (plugins, secrets, policy config) is not what is timed.
    const preview = project.stack("preview");
    if (preview.code !== 0) throw new Error(`preview failed:\n${explain(preview)}`);
  });

  afterAll(() => {
    if (project) {
      project.stack("destroy");
      project.remove();
    }
  });

  it("fails up within the bound and prints the diagnosis naming each registry entry", () => {
    const started = Date.now();
    const up = project.stack("up");
    const seconds = (Date.now() - started) / 1000;
    expect(up.code, explain(up)).not.toBe(0);
    // Services wait for the workloads they call, so a few rounds of the timeout at most, far
    // below the provider's default of 10 minutes for a single object.
    expect(seconds, explain(up)).toBeLessThan(240);
    expect(up.stdout).toMatch(/timed out waiting to be Ready/);

    expect(up.stderr).toContain(`stack: pulumi up failed (exit ${up.code}); the workloads of stack dev that are not Ready:`);
    // The first services to start (no dependencies) were created and waited for: each is named by its entry.
    const first = model.services.filter((s) => s.dependsOn.length === 0);
    expect(first.length).toBeGreaterThan(0);
    for (const s of first) {
      const kind = s.stateful ? "StatefulSet" : "Deployment";
      expect(up.stderr, explain(up)).toContain(`${s.source} service ${s.name}: ${kind} ${s.namespace}/${s.name} 0/`);
    }
    expect(up.stderr).toMatch(/ready: Pending, no node/);
    expect(up.stderr).toMatch(/^nexus diagnose: \d+ of \d+ workloads not Ready \(stack dev, environment dev\)$/m);
  });
});
