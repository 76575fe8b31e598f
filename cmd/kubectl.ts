import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "./audit/stack";

// How the commands that read the cluster (diagnose, restore) call kubectl: through the stack's
// kubeconfig and kubeContext settings, else KUBECONFIG or ~/.kube/config.

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
  /** kubectl could not be started at all (not on PATH). */
  notFound?: boolean;
}

/** Runs `kubectl ARGS`; never rejects. */
export type Kubectl = (args: readonly string[]) => Promise<KubectlResult>;

/** How long one kubectl call may take before it is stopped. */
const CALL_TIMEOUT_MS = 60_000;

/** kubectl from PATH, with the given environment. */
export function kubectlFromPath(env: NodeJS.ProcessEnv = process.env): Kubectl {
  return (args) =>
    new Promise((resolve) => {
      const child = spawn("kubectl", args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: CALL_TIMEOUT_MS });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", (error: NodeJS.ErrnoException) => {
        resolve({ code: 127, stdout: "", stderr: error.message, notFound: error.code === "ENOENT" });
      });
      child.on("close", (code, signal) => {
        const stderr = Buffer.concat(err).toString("utf8");
        resolve({
          code: code ?? 1,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: signal ? `${stderr}\nkubectl stopped after ${CALL_TIMEOUT_MS / 1000} s (${signal})` : stderr,
        });
      });
    });
}

/** The line of kubectl's error output that says what went wrong (not its klog lines). */
export function kubectlError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const plain = lines.filter((l) => !/^[IWEF]\d{4} /.test(l));
  const line = plain[plain.length - 1] ?? lines[lines.length - 1]?.replace(/^[IWEF]\d{4} [^\]]*\]\s*/, "") ?? "kubectl failed without a message";
  return line.replace(/^error: /, "");
}

/**
 * Why kubectl would have no kubeconfig, when it would not (no kubeconfig setting, no in-cluster
 * service account): KUBECONFIG names no existing file, or there is no ~/.kube/config.
 */
export function missingKubeconfig(env: NodeJS.ProcessEnv, home: string = os.homedir()): string | undefined {
  if (env.KUBERNETES_SERVICE_HOST) return undefined;
  const listed = (env.KUBECONFIG ?? "").split(path.delimiter).filter(Boolean);
  if (listed.length > 0) {
    return listed.some((f) => fs.existsSync(f)) ? undefined : `no kubeconfig: KUBECONFIG names ${listed.join(", ")}, which does not exist`;
  }
  return fs.existsSync(path.join(home, ".kube", "config"))
    ? undefined
    : "no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist (the project's local cluster: KUBECONFIG=.tools/cluster/kubeconfig)";
}

/** The stack's kubeconfig setting as a file kubectl reads: a path (relative to the project) or the kubeconfig itself. */
export function kubeconfigFile(setting: string, temp: string[]): { file: string } | { error: string } {
  if (setting.includes("\n") || /^\s*[{]/.test(setting) || /^\s*apiVersion:/.test(setting)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-kubeconfig-"));
    temp.push(dir);
    const file = path.join(dir, "kubeconfig");
    fs.writeFileSync(file, setting, { mode: 0o600 });
    return { file };
  }
  const file = path.resolve(PROJECT_DIR, setting);
  return fs.existsSync(file) ? { file } : { error: `the stack's kubeconfig setting names ${file}, which does not exist` };
}

/**
 * kubectl's connection flags for a stack's kubernetes settings; the kubeconfig itself, when the
 * setting holds one, goes to a private file whose folder is added to TEMP for the caller to remove.
 */
export function kubectlConnection(
  kubernetes: { kubeconfig?: string; context?: string },
  env: NodeJS.ProcessEnv,
  temp: string[],
): { args: string[] } | { error: string } {
  const args: string[] = [];
  if (kubernetes.kubeconfig) {
    const kc = kubeconfigFile(kubernetes.kubeconfig, temp);
    if ("error" in kc) return kc;
    args.push(`--kubeconfig=${kc.file}`);
  } else {
    const missing = missingKubeconfig(env);
    if (missing) return { error: `cannot read the cluster: ${missing}` };
  }
  if (kubernetes.context) args.push(`--context=${kubernetes.context}`);
  return { args };
}
