import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { s3Client } from "../support/s3";
import { Project, ROOT, explain, type Result } from "./support";

// What the delivery tests share: a persistent S3-compatible state store on 127.0.0.1, a second
// API-only cluster for the staging stack (the two stacks own the same namespaces, so they cannot
// share one cluster), and a git repository made from a copy of the project, whose team stacks
// live in the store and whose encrypted secrets are committed.

const CREDENTIALS = { accessKeyId: "nexus-state-test", secretAccessKey: "nexus-state-test-secret", region: "us-east-1" };
export const BUCKET = "nexus-state";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function must(r: ReturnType<typeof spawnSync>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${String(r.stderr ?? "")}${String(r.stdout ?? "")}`);
  return String(r.stdout ?? "").trim();
}

/** One of the project's scripts run with an action (start, stop, ...) in an environment; its output. */
function runScript(script: string, action: string, env: NodeJS.ProcessEnv): string {
  return must(spawnSync("bash", [path.join(ROOT, "scripts", script), action], { env, encoding: "utf8" }), `${script} ${action}`);
}

/** A store that one of the project's scripts starts and stops; `start` prints its endpoint last. */
class ScriptedStore {
  endpoint = "";

  constructor(
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  start(): void {
    this.endpoint = runScript(this.script, "start", this.env).split("\n").pop()!;
  }

  stop(): void {
    runScript(this.script, "stop", this.env);
  }
}

/** scripts/state-store in its own folder and port: start, stop, restart keep what it stored. */
export class StateStore extends ScriptedStore {
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    super("state-store", {
      ...process.env,
      NEXUS_STATE_STORE_HOST: "127.0.0.1",
      NEXUS_STATE_STORE_PORT: String(port),
      NEXUS_STATE_STORE_DIR: dir,
      NEXUS_STATE_STORE_TTL: "3600",
    });
  }

  async createBucket(): Promise<void> {
    const r = await s3Client(this.endpoint, BUCKET, CREDENTIALS).request("PUT", "");
    if (!r.ok && r.status !== 409) throw new Error(`creating bucket ${BUCKET}: HTTP ${r.status} ${await r.text()}`);
  }

  /** The Pulumi backend URL of the bucket, with the endpoint options an S3-compatible store needs. */
  backendUrl(): string {
    return `s3://${BUCKET}?endpoint=${this.endpoint}&s3ForcePathStyle=true&region=${CREDENTIALS.region}`;
  }

  async keys(prefix: string): Promise<string[]> {
    return s3Client(this.endpoint, BUCKET, CREDENTIALS).listKeys(prefix);
  }
}

/** moto's server mode (scripts/s3-store) on 127.0.0.1, here for its KMS API. */
export class MotoServer extends ScriptedStore {
  constructor(dir: string, port: number) {
    super("s3-store", { ...process.env, NEXUS_S3_STORE_HOST: "127.0.0.1", NEXUS_S3_STORE_PORT: String(port), NEXUS_S3_STORE_DIR: dir });
  }

  /** A KMS key with an alias in REGION (moto takes the region from the credential scope and checks no signature). */
  async createKeyWithAlias(alias: string, region: string): Promise<void> {
    const call = async (action: string, body: object) => {
      const r = await fetch(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `TrentService.${action}`,
          Authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`KMS ${action}: HTTP ${r.status} ${await r.text()}`);
      return (await r.json()) as { KeyMetadata?: { KeyId: string } };
    };
    const key = await call("CreateKey", { Description: "stack secrets of prod (test)" });
    await call("CreateAlias", { AliasName: alias, TargetKeyId: key.KeyMetadata!.KeyId });
  }
}

/** A second API-only cluster (scripts/local-cluster in api mode, its own folder and port). */
export class ApiCluster {
  /** Its ports are named: another tier's cluster may be picking free ports at the same moment. */
  constructor(
    readonly dir: string,
    private readonly ports: { api: number; kine: number },
  ) {}

  private cluster(action: string): string {
    return runScript("local-cluster", action, {
      ...process.env,
      NEXUS_CLUSTER_DIR: this.dir,
      NEXUS_CLUSTER_TTL: "3600",
      NEXUS_CLUSTER_MODE: "api",
      NEXUS_CLUSTER_PORT: String(this.ports.api),
      NEXUS_CLUSTER_KINE_PORT: String(this.ports.kine),
    });
  }

  start(): void {
    this.cluster("start");
  }

  reset(): void {
    this.cluster("reset");
  }

  get kubeconfig(): string {
    return path.join(this.dir, "kubeconfig");
  }

  /** IP:PORT of its API server (it publishes no endpoint of its own on the loopback address). */
  apiServer(): string {
    const m = /server:\s*https:\/\/([0-9.]+):(\d+)/.exec(fs.readFileSync(this.kubeconfig, "utf8"));
    if (!m) throw new Error(`no server in ${this.kubeconfig}`);
    return `${m[1]}:${m[2]}`;
  }
}

/**
 * The project copy as a team's repository: a git history on `main`, the dev and staging stacks
 * as team stacks in the state store (secrets provider and encrypted secrets committed), and the
 * environment a CI job has: the backend URL, the passphrase and the store's credentials.
 */
export class TeamRepo {
  readonly project = new Project({ testCluster: false });
  readonly passphrase = randomBytes(24).toString("hex");
  readonly env: NodeJS.ProcessEnv;

  constructor(store: StateStore, kubeconfig: string) {
    this.env = {
      ...this.project.env,
      KUBECONFIG: kubeconfig,
      PULUMI_BACKEND_URL: store.backendUrl(),
      PULUMI_CONFIG_PASSPHRASE: this.passphrase,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: CREDENTIALS.region,
      NEXUS_ACTOR: "delivery-rehearsal",
    };
  }

  get dir(): string {
    return this.project.dir;
  }

  run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = this.env, cwd = this.dir): Result {
    const r = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  git(...args: string[]): string {
    const r = this.run("git", args);
    if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${explain(r)}`);
    return r.stdout.trim();
  }

  commit(message: string): string {
    this.git("add", "-A");
    this.git("commit", "-q", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  /** scripts/stack ACTION on STACK, as a workflow or a laptop runs it. */
  stack(stack: string, action: string, ...flags: string[]): Result {
    return this.run("bash", ["scripts/stack", action, ...flags], { ...this.env, NEXUS_STACK: stack });
  }

  /** A started scripts/stack ACTION in its own process group, so a test can kill all of it. */
  spawnStack(stack: string, action: string, ...flags: string[]): ChildProcess & { output: () => string } {
    const child = spawn("bash", ["scripts/stack", action, ...flags], {
      cwd: this.dir,
      env: { ...this.env, NEXUS_STACK: stack },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (b: Buffer) => (output += b.toString("utf8")));
    child.stderr!.on("data", (b: Buffer) => (output += b.toString("utf8")));
    return Object.assign(child, { output: () => output });
  }

  /**
   * SIGKILL of a started command and everything below it, as when its CI runner dies: pulumi starts
   * its language host and providers in process groups of their own, so the tree is walked first.
   */
  killTree(pid: number): void {
    const children = new Map<number, number[]>();
    for (const line of spawnSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" }).stdout.trim().split("\n")) {
      const [child, parent] = line.trim().split(/\s+/).map(Number);
      children.set(parent!, [...(children.get(parent!) ?? []), child!]);
    }
    const tree: number[] = [];
    const walk = (p: number) => {
      tree.push(p);
      for (const c of children.get(p) ?? []) walk(c);
    };
    walk(pid);
    for (const p of tree) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  nexus(...args: string[]): Result {
    return this.run("node", ["bin/nexus.js", ...args]);
  }

  /** pulumi in the repository, with the team's environment (what a user types in the project folder). */
  pulumi(...args: string[]): Result {
    return this.run("pulumi", [...args, "--non-interactive"]);
  }

  kubectl(kubeconfig: string, ...args: string[]): Result {
    return this.run("kubectl", args, { ...this.env, KUBECONFIG: kubeconfig });
  }
}

/** Stack config of an API-only cluster: no waiting for readiness, the API server named. */
export function apiOnlyStackConfig(comment: string, kubeconfig: string | undefined, apiServer: string): string {
  return [
    `# ${comment}`,
    "config:",
    "  nexus-platform:readyTimeout: 300",
    "  nexus-platform:awsEnabled: false",
    "  nexus-platform:skipAwait: true",
    `  nexus-platform:apiServerEndpoints: ${apiServer}`,
    ...(kubeconfig ? [`  nexus-platform:kubeconfig: ${kubeconfig}`] : []),
    "",
  ].join("\n");
}
