/**
 * The policy pack as the audit serves it: the same modules policy/index.ts gives `new PolicyPack`,
 * under the version of policy/package.json, judged by the policy server's own handlers in this
 * process (internal/pulumi/analyzer.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PACK_ENFORCEMENT, PACK_NAME, policies } from "../../policy/policies";
import { PackAnalyzer, type AnalyzerOptions } from "../../internal/pulumi/analyzer";
import { PROJECT_DIR } from "./stack";

export const POLICY_DIR = path.join(PROJECT_DIR, "policy");

let pack: AnalyzerOptions | undefined;

/** The pack's name, version, default level and policies; policy/package.json is read on first use. */
export function auditPack(): AnalyzerOptions {
  pack ??= {
    packName: PACK_NAME,
    packVersion: (JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")) as { version: string }).version,
    enforcementLevel: PACK_ENFORCEMENT,
    policies,
  };
  return pack;
}

let analyzer: PackAnalyzer | undefined;

/** The pack served in this process (the policy server serves one pack per process). */
export function packAnalyzer(): PackAnalyzer {
  analyzer ??= PackAnalyzer.inProcess(auditPack());
  return analyzer;
}
