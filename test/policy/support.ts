/**
 * Runs the policy pack the way `pulumi preview --policy-pack policy` does, in this process: the
 * policy server's own handlers (served by internal/pulumi/analyzer.ts) receive the protobuf requests
 * the engine sends, build `ResourceValidationArgs` / `StackValidationArgs` themselves and collect
 * `reportViolation` calls into diagnostics. Nothing here constructs validation args by hand.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PACK_ENFORCEMENT, PACK_NAME, policies } from "../../policy/policies";
import { PackAnalyzer, violationText, type AnalyzedResource, type Diagnostic, type Evaluation, type PolicyPackConfig } from "../../internal/pulumi/analyzer";

export { secretValue, unknownValue } from "../../internal/pulumi/analyzer";

export const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
const PACK_VERSION = (JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")) as { version: string }).version;

/** A resource of a fixture: plain objects, linked to others by resource name. */
export interface FixtureResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  /** Names of resources of the same fixture this one depends on. */
  dependsOn?: string[];
  /** Property name → names of resources of the same fixture its value comes from. */
  propertyDependencies?: Record<string, string[]>;
  parent?: string;
}

/** One resource, or a small stack of resources (for stack policies). */
export type Fixture = FixtureResource | FixtureResource[];

export const STACK = "test";
export const PROJECT = "nexus-platform";

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:${STACK}::${PROJECT}::${type}::${name}`;
}

/** The fixture's resources as the engine describes them to an analyzer. */
export function toAnalyzed(fixture: Fixture): AnalyzedResource[] {
  const resources = Array.isArray(fixture) ? fixture : [fixture];
  const byName = new Map(resources.map((r) => [r.name, urnOf(r.type, r.name)]));
  const urn = (name: string) => {
    const u = byName.get(name);
    if (!u) throw new Error(`fixture: no resource named "${name}"`);
    return u;
  };
  return resources.map((r) => ({
    urn: urnOf(r.type, r.name),
    type: r.type,
    name: r.name,
    props: r.props,
    ...(r.parent ? { parent: urn(r.parent) } : {}),
    dependencies: [...new Set([...(r.dependsOn ?? []), ...Object.values(r.propertyDependencies ?? {}).flat()])].map(urn),
    propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, names]) => [k, names.map(urn)])),
  }));
}

export const PACK = { packName: PACK_NAME, packVersion: PACK_VERSION, enforcementLevel: PACK_ENFORCEMENT, policies } as const;

let analyzer: PackAnalyzer | undefined;

/** The pack, served once per test process. */
export function packAnalyzer(): PackAnalyzer {
  analyzer ??= PackAnalyzer.inProcess(PACK);
  return analyzer;
}

/** Runs the whole pack over a fixture with a `--policy-pack-config` object. */
export async function evaluatePack(fixture: Fixture, config: PolicyPackConfig): Promise<Evaluation> {
  return packAnalyzer().evaluate(toAnalyzed(fixture), config);
}

/** A config that runs only `policyName` (mandatory unless told), with its properties. */
export function onlyPolicy(policyName: string, properties: Record<string, unknown> = {}): PolicyPackConfig {
  if (!policies.some((p) => p.name === policyName)) throw new Error(`the pack has no policy "${policyName}"`);
  const config: PolicyPackConfig = {};
  for (const p of policies) config[p.name] = "disabled";
  config[policyName] = { enforcementLevel: "mandatory", ...properties };
  return config;
}

export interface PolicyRun {
  /** What the policy reported, without the description the server puts first. */
  messages: string[];
  diagnostics: Diagnostic[];
  notApplicable: Evaluation["notApplicable"];
}

/** Runs one policy over a fixture, as a preview with only that policy enabled would. */
export async function runPolicy(policyName: string, fixture: Fixture, properties: Record<string, unknown> = {}): Promise<PolicyRun> {
  const result = await evaluatePack(fixture, onlyPolicy(policyName, properties));
  const diagnostics = result.diagnostics.filter((d) => d.policyName === policyName);
  return { messages: diagnostics.map(violationText), diagnostics, notApplicable: result.notApplicable };
}
