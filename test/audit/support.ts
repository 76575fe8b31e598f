import { spawn } from "node:child_process";
import * as path from "node:path";
import type { ComplianceReport } from "../../cmd/audit/report";
import type { ExpectedViolation } from "../policy/bad-registries/cases";
import { ROOT } from "../support/registries";

export { TODAY } from "../policy/bad-registries/cases";

/** A report's violations as the cases state them, in a stable order. */
export function violationsOf(report: ComplianceReport): ExpectedViolation[] {
  return sortViolations(
    report.violations.map((v) => ({
      policy: v.policy,
      enforcement: v.enforcement as ExpectedViolation["enforcement"],
      resource: v.name ?? "(stack)",
      message: v.message,
    })),
  );
}

export function sortViolations(list: readonly ExpectedViolation[]): ExpectedViolation[] {
  const k = (v: ExpectedViolation) => `${v.policy}\n${v.resource}\n${v.enforcement}\n${v.message}`;
  return [...list].sort((a, b) => k(a).localeCompare(k(b)));
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a pull request from a fork: no cloud credentials, no Pulumi token, no
 * kubeconfig, and only node on PATH (so no pulumi CLI).
 */
export function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|PULUMI_|KUBE|GOOGLE_|AZURE_|ARM_)/.test(k)) continue;
    env[k] = v;
  }
  env.PATH = path.dirname(process.execPath);
  env.KUBECONFIG = path.join(ROOT, "does-not-exist", "kubeconfig");
  return env;
}

/** `node bin/nexus.js ARGS` from the project folder, as CI runs it, in bareEnv(). */
export function nexus(args: readonly string[], timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "nexus.js"), ...args], { cwd: ROOT, env: bareEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`nexus ${args.join(" ")} did not finish within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
