import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";

export const ROOT = path.resolve(__dirname, "..", "..");
export const KUBECONFIG = path.join(ROOT, ".tools", "test-cluster", "kubeconfig");

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** What a failed command said, for assertion messages. */
export function explain(r: Result): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout.slice(-6000)}\n--- stderr ---\n${r.stderr.slice(-6000)}`;
}

const COPIED = [
  "Pulumi.yaml",
  "Pulumi.dev.yaml",
  "Pulumi.prod.yaml",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "bin",
  "domain",
  "contract",
  "internal",
  "cmd",
  "stacks",
  "components",
  "registries",
  "scripts",
];

/** What ties a stack config file to one stack's secrets: never carried over into a copy. */
const STACK_BOUND = ["encryptionsalt", "encryptedkey", "secretsprovider"];

/**
 * A stack config file as its author wrote it: without the salt, key or secrets provider a stack
 * writes there when it is created, and without encrypted values, which only that stack's
 * passphrase opens. A checkout whose own stack once wrote into it still gives the tests a
 * config their own passphrase can use. The dev stack does not wait for readiness on the
 * tests' node-less cluster.
 */
/** "IP:PORT" of the tests' API server, from its kubeconfig. */
function testApiServer(): string {
  const server = /server:\s*https:\/\/([0-9.]+):(\d+)/.exec(fs.readFileSync(KUBECONFIG, "utf8"));
  if (!server) throw new Error(`no https://IP:PORT server in ${KUBECONFIG}`);
  return `${server[1]}:${server[2]}`;
}

function authoredStackConfig(text: string, apiServerOnly: boolean): string {
  const doc = parseDocument(text);
  // The tests' cluster is an API server without a node: nothing would ever become Ready, and on
  // its loopback address it publishes no endpoint of its own, so the stack names it.
  if (apiServerOnly) {
    doc.setIn(["config", "nexus-platform:skipAwait"], true);
    doc.setIn(["config", "nexus-platform:apiServerEndpoints"], testApiServer());
  }
  for (const key of STACK_BOUND) doc.delete(key);
  const config = doc.toJS()?.config ?? {};
  for (const [key, value] of Object.entries(config)) {
    if (value && typeof value === "object" && "secure" in value) doc.deleteIn(["config", key]);
  }
  return doc.toString();
}

/**
 * A private copy of the project: its own registries to edit, its own state backend, stack
 * config, toolchain links and environment (.tools), sharing only node_modules, the tool cache
 * and the local cluster with the checkout. Nothing it does writes into the checkout.
 */
export class Project {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  /** With `testCluster: false` the dev stack is not pointed at the tier's API server (a caller brings its own). */
  constructor(options: { testCluster?: boolean } = {}) {
    this.dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nexus-it-")), "project");
    fs.mkdirSync(this.dir);
    for (const entry of COPIED) fs.cpSync(path.join(ROOT, entry), path.join(this.dir, entry), { recursive: true });
    for (const entry of fs.readdirSync(this.dir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))) {
      const file = path.join(this.dir, entry);
      fs.writeFileSync(file, authoredStackConfig(fs.readFileSync(file, "utf8"), entry === "Pulumi.dev.yaml" && options.testCluster !== false));
    }
    fs.mkdirSync(path.join(this.dir, "policy"));
    for (const entry of fs.readdirSync(path.join(ROOT, "policy"))) {
      const from = path.join(ROOT, "policy", entry);
      if (entry === "node_modules") fs.symlinkSync(from, path.join(this.dir, "policy", entry));
      else fs.cpSync(from, path.join(this.dir, "policy", entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(this.dir, "node_modules"));
    // The copy's own bootstrap links the cached tools into its own .tools (seconds: nothing is
    // built), and its stack command writes only there.
    const boot = spawnSync("bash", [path.join(this.dir, "scripts", "bootstrap")], { encoding: "utf8" });
    if (boot.status !== 0) throw new Error(`bootstrap of the test project failed:\n${boot.stderr}`);
    const tools = path.join(this.dir, ".tools");
    // What the user set for their own stacks must not reach the tests' stack.
    const inherited = { ...process.env };
    for (const name of ["NEXUS_STACK", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_ACCESS_TOKEN"]) delete inherited[name];
    this.env = {
      ...inherited,
      // As .tools/env has it: the tool cache's Node.js 24 and the pinned toolchain first.
      PATH: `${path.join(tools, "bin")}:${process.env.PATH}`,
      KUBECONFIG,
      PULUMI_BACKEND_URL: `file://${path.join(path.dirname(this.dir), "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "integration-tests-only",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
      PULUMI_HOME: path.join(tools, "pulumi-home"),
      NO_COLOR: "1",
    };
    fs.mkdirSync(path.join(path.dirname(this.dir), "state"));
  }

  run(command: string, args: readonly string[]): Result {
    const r = spawnSync(command, args, { cwd: this.dir, env: this.env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** The project's own stack command (npm run preview|up|destroy|refresh). */
  stack(action: string, ...flags: string[]): Result {
    return this.run("bash", [path.join(this.dir, "scripts", "stack"), action, ...flags]);
  }

  /** A pulumi command on the dev stack with the stack command's config file. */
  pulumi(...args: string[]): Result {
    return this.run("pulumi", [...args, "--stack", "dev", "--config-file", path.join(this.dir, ".pulumi-state", "Pulumi.dev.yaml"), "--non-interactive"]);
  }

  kubectl(...args: string[]): Result {
    return this.run("kubectl", args);
  }

  /** Parsed JSON of `kubectl get ... -o json`. */
  getJson<T = { items: KubeObject[] }>(...args: string[]): T {
    const r = this.kubectl("get", ...args, "-o", "json");
    if (r.code !== 0) throw new Error(`kubectl get ${args.join(" ")} failed:\n${explain(r)}`);
    return JSON.parse(r.stdout) as T;
  }

  edit(file: string, from: string, to: string): void {
    const target = path.join(this.dir, file);
    const text = fs.readFileSync(target, "utf8");
    if (!text.includes(from)) throw new Error(`"${from}" is not in ${file}`);
    fs.writeFileSync(target, text.replace(from, to));
  }

  read(file: string): string {
    return fs.readFileSync(path.join(this.dir, file), "utf8");
  }

  write(file: string, text: string): void {
    fs.writeFileSync(path.join(this.dir, file), text);
  }

  remove(): void {
    fs.rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }
}

export interface KubeObject {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** URNs a `pulumi preview --json` plans to change, with the operation. */
export function plannedChanges(previewJson: string): Record<string, string> {
  const plan = JSON.parse(previewJson) as { steps?: { op: string; urn: string }[] };
  const out: Record<string, string> = {};
  for (const step of plan.steps ?? []) if (step.op !== "same") out[step.urn] = step.op;
  return out;
}
