/**
 * One set of policies, two ways to run them: the pack started by the Pulumi runner
 * (`run-policy-pack`, what `pulumi preview --policy-pack policy` starts) and queried over gRPC
 * gives the same diagnostics as the in-process analyzer the table and `nexus audit` use.
 * Needs the pack's own dependencies (`npm ci` in policy/).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PackAnalyzer, spawnPolicyPack, type Evaluation, type PolicyPackConfig } from "../../internal/pulumi/analyzer";
import { policies } from "../../policy/policies";
import { FIXTURES, TEST_CONFIG, TODAY } from "./fixtures";
import { PACK, POLICY_DIR, packAnalyzer, toAnalyzed } from "./support";

const installed = fs.existsSync(path.join(POLICY_DIR, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack"));

const CONFIG: PolicyPackConfig = Object.fromEntries(
  policies.map((p, i) => [p.name, { enforcementLevel: i % 3 === 0 ? ("advisory" as const) : ("mandatory" as const), today: TODAY, ...TEST_CONFIG[p.name] }]),
);

const summary = (e: Evaluation) => e.diagnostics.map((d) => `${d.phase} ${d.policyName} ${d.enforcementLevel} ${d.urn ?? "-"} ${d.message}`).sort();

describe("the pack under the Pulumi runner", () => {
  let remote: PackAnalyzer;
  let stop = () => undefined as void;

  beforeAll(async () => {
    if (!installed) {
      throw new Error("the policy pack's dependencies are missing: run `npm ci --prefix policy` first");
    }
    const started = await spawnPolicyPack(POLICY_DIR);
    stop = started.stop;
    remote = PackAnalyzer.connect(started.address, PACK);
  }, 120_000);

  afterAll(() => {
    remote?.close();
    stop();
  });

  let compared = 0;

  it.each(Object.keys(FIXTURES))("gives the in-process verdicts for %s", async (name) => {
    const resources = toAnalyzed(FIXTURES[name as keyof typeof FIXTURES]);
    const here = await packAnalyzer().evaluate(resources, CONFIG);
    const there = await remote.evaluate(resources, CONFIG);
    expect(summary(there)).toEqual(summary(here));
    compared += here.diagnostics.length;
  });

  it("compared real violations, at both levels", () => {
    expect(compared).toBeGreaterThan(50);
  });
});
