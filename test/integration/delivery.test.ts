import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { explain, ROOT } from "./support";
import { ApiCluster, apiOnlyStackConfig, freePort, MotoServer, StateStore, TeamRepo } from "./team";

// Team state and the delivery path, run for real: the dev and staging stacks as a team keeps them
// (state in an S3-compatible store, secrets provider and encrypted secrets committed), driven by the
// commands the workflows call (nexus check, deploy, drift, history), then the crash trials: two
// updates at once, updates killed at different moments, the store restarted mid-deploy, and
// export, remove and import. Each step builds on the one before.

const PART_OF = "app.kubernetes.io/part-of=nexus";
const NAMESPACES = "**$kubernetes:core/v1:Namespace::*";
const KINDS =
  "deployments,statefulsets,services,configmaps,secrets,serviceaccounts,networkpolicies,cronjobs,jobs,roles,rolebindings,poddisruptionbudgets,horizontalpodautoscalers,persistentvolumeclaims,resourcequotas,limitranges";

describe("team stacks and the delivery path on the real engine", () => {
  let tmp: string;
  let store: StateStore;
  let staging: ApiCluster;
  let devCluster: ApiCluster;
  let repo: TeamRepo;
  const deployed: Record<string, string[]> = { dev: [], staging: [] };
  let merged = "";

  const ok = (r: { code: number; stdout: string; stderr: string }) => {
    expect(r.code, explain(r)).toBe(0);
    return r;
  };
  const kubeconfigOf = (stack: string) => (stack === "staging" ? staging : devCluster).kubeconfig;
  const read = (file: string) => fs.readFileSync(file, "utf8");

  /** Every object of ours in the stack's cluster, as KIND/NAMESPACE/NAME. */
  const clusterObjects = (stack: string): string[] => {
    const r = ok(repo.kubectl(kubeconfigOf(stack), "get", KINDS, "-A", "-l", PART_OF, "-o", "json"));
    const items = (JSON.parse(r.stdout) as { items: { kind: string; metadata: { name: string; namespace?: string } }[] }).items;
    return items.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`).sort();
  };
  /** Every Kubernetes object in the stack's state, as KIND/NAMESPACE/NAME, and its pending operations. */
  const stateObjects = (stack: string): { objects: string[]; pending: number } => {
    const r = ok(repo.pulumi("stack", "export", "--stack", stack));
    const d = (JSON.parse(r.stdout) as { deployment: { resources?: StateResource[]; pending_operations?: unknown[] } }).deployment;
    const objects = (d.resources ?? [])
      .filter((s) => s.type.startsWith("kubernetes:") && !s.type.startsWith("kubernetes:core/v1:Namespace") && s.outputs?.metadata)
      .map((s) => `${s.outputs!.kind}/${s.outputs!.metadata!.namespace ?? ""}/${s.outputs!.metadata!.name}`)
      .sort();
    return { objects, pending: (d.pending_operations ?? []).length };
  };
  /**
   * The stack is converged: no planned change, no pending operation, no object of ours outside the
   * state, and (unless the caller just checked it otherwise) no drift.
   */
  const converged = (stack: string, drift = true) => {
    ok(repo.stack(stack, "preview", "--expect-no-changes"));
    if (drift) ok(repo.stack(stack, "drift"));
    const state = stateObjects(stack);
    expect(state.pending).toBe(0);
    const orphans = clusterObjects(stack).filter((o) => !state.objects.includes(o));
    expect(orphans, "objects in the cluster that the state does not hold").toEqual([]);
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-delivery-"));
    store = new StateStore(path.join(tmp, "store"), await freePort());
    store.start();
    await store.createBucket();
    // Each stack on an API-only cluster of its own, apart from the tier's, so that this file runs
    // beside the tier's other files (the two stacks own the same namespaces).
    devCluster = new ApiCluster(path.join(tmp, "dev-cluster"), { api: await freePort(), kine: await freePort() });
    devCluster.start();
    staging = new ApiCluster(path.join(tmp, "staging-cluster"), { api: await freePort(), kine: await freePort() });
    staging.start();

    repo = new TeamRepo(store, devCluster.kubeconfig);
    repo.project.write(".gitignore", `${read(path.join(ROOT, ".gitignore"))}/node_modules\n/policy/node_modules\n`);
    repo.project.write("Pulumi.dev.yaml", apiOnlyStackConfig("Dev, on its own API-only cluster (KUBECONFIG, as in CI).", undefined, devCluster.apiServer()));
    repo.project.write("Pulumi.staging.yaml", apiOnlyStackConfig("Staging, on its own API-only cluster.", staging.kubeconfig, staging.apiServer()));
    repo.git("init", "-q", "-b", "main");
    repo.git("config", "user.name", "Delivery Rehearsal");
    repo.git("config", "user.email", "rehearsal@nexus.invalid");
    repo.commit("The project");

    // Once per team stack: create it in the store under the team's passphrase, commit the salt
    // and the encrypted secrets.
    for (const stack of ["dev", "staging"]) {
      ok(repo.stack(stack, "init"));
      expect(repo.project.read(`Pulumi.${stack}.yaml`)).toMatch(/^encryptionsalt: v1:/m);
      const secrets = ok(repo.nexus("secrets", "--env", stack))
        .stdout.trim()
        .split("\n");
      const pairs = secrets.flatMap((line) => {
        const [key, kind] = line.split("\t");
        return ["--secret", `${key}=${kind === "url" ? `https://hooks.nexus.invalid/${stack}-${key}` : `${stack}-${key}-value`}`];
      });
      ok(repo.pulumi("config", "set-all", "--stack", stack, ...pairs));
      const committed = repo.project.read(`Pulumi.${stack}.yaml`);
      expect(committed.match(/secure: v1:/g)?.length).toBe(secrets.length);
      expect(committed).not.toContain(`${stack}-postgresPassword-value`);
    }
    repo.commit("Team stacks dev and staging: secrets provider and encrypted secrets");
  });

  afterAll(() => {
    // The clusters go as a whole, with every object of both stacks.
    store?.stop();
    staging?.reset();
    devCluster?.reset();
    repo?.project.remove();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("1. the pull-request check lists a change's planned changes and verdicts, and fails on a mandatory violation", () => {
    const out = path.join(tmp, "deploy-dev.md");
    ok(repo.nexus("deploy", "--stack", "dev", "--out", out));
    deployed.dev!.push(repo.git("rev-parse", "HEAD"));
    expect(read(out)).toContain("deployed");
    // The changes it lists are the steps the update completed (its events), here the first creates.
    expect(read(out)).toMatch(/\| create \| kubernetes:core\/v1:Namespace \| /);

    repo.git("checkout", "-q", "-b", "change");
    repo.project.edit("registries/orchestration.yaml", 'REFRESH_SECONDS: "5"', 'REFRESH_SECONDS: "15"');
    merged = repo.commit("Dashboard refreshes every 15 seconds");
    const body = path.join(tmp, "check-change.md");
    const check = ok(repo.nexus("check", "--stack", "dev", "--base", "main", "--out", body));
    const comment = read(body);
    expect(comment, check.stderr).toContain("passed");
    expect(comment).toMatch(/\| update \| kubernetes:core\/v1:ConfigMap \| system-dashboard-env \| data(\.REFRESH_SECONDS)? \|/);
    expect(comment).toContain("0 mandatory");
    expect(comment).toContain("nexus-audit stack=dev");

    repo.git("checkout", "-q", "-b", "bad", "main");
    repo.project.edit("registries/security.yaml", "verbs: [get, list, watch, create, update, patch, delete]", 'verbs: ["*"]');
    repo.commit("Platform admins may do anything");
    const badBody = path.join(tmp, "check-bad.md");
    const bad = repo.nexus("check", "--stack", "dev", "--base", "main", "--out", badBody);
    expect(bad.code, explain(bad)).toBe(1);
    expect(read(badBody)).toContain("failed");
    expect(read(badBody)).toMatch(/\| mandatory \| no-wildcard-rbac \|/);
    repo.git("checkout", "-q", "main");
    repo.git("merge", "-q", "--ff-only", "change");
  });

  it("2. promotion: staging takes only a commit dev runs, prod only with an approval", () => {
    const early = repo.nexus("deploy", "--stack", "staging");
    expect(early.code, explain(early)).toBe(1);
    expect(early.stderr).toContain(`commit ${merged.slice(0, 12)} is not deployed to dev`);
    expect(clusterObjects("staging")).toEqual([]);

    ok(repo.nexus("deploy", "--stack", "dev"));
    deployed.dev!.push(merged);
    ok(repo.nexus("deploy", "--stack", "staging"));
    deployed.staging!.push(merged);
    const cm = JSON.parse(ok(repo.kubectl(staging.kubeconfig, "get", "configmap", "-n", "web", "system-dashboard-env", "-o", "json")).stdout) as {
      data: Record<string, string>;
    };
    expect(cm.data.REFRESH_SECONDS).toBe("15");

    const prod = repo.nexus("deploy", "--stack", "prod");
    expect(prod.code, explain(prod)).toBe(1);
    expect(prod.stderr).toContain("prod requires an approval");
  });

  it("3. the drift check tells clean, drift and failure apart by its exit code", () => {
    ok(repo.nexus("drift", "--stack", "staging"));
    ok(
      repo.kubectl(
        devCluster.kubeconfig,
        "patch",
        "configmap",
        "-n",
        "web",
        "system-dashboard-env",
        "--type",
        "merge",
        "-p",
        '{"data":{"REFRESH_SECONDS":"99"}}',
      ),
    );
    const report = path.join(tmp, "drift-dev.md");
    const drift = repo.nexus("drift", "--stack", "dev", "--out", report);
    expect(drift.code, explain(drift)).toBe(2);
    expect(read(report)).toMatch(/\| update \| kubernetes:core\/v1:ConfigMap \| system-dashboard-env \| data\.REFRESH_SECONDS \|/);

    const failed = repo.run("node", ["bin/nexus.js", "drift", "--stack", "dev"], { ...repo.env, PULUMI_CONFIG_PASSPHRASE: "not-the-team-passphrase" });
    expect(failed.code, explain(failed)).toBe(1);
    expect(failed.stderr).toContain("this is not drift");

    // The runbook: accept the live state into the state, then deploy the registry's value again.
    ok(repo.stack("dev", "refresh"));
    ok(repo.nexus("deploy", "--stack", "dev"));
    deployed.dev!.push(merged);
  });

  it("4. nexus history shows each deploy with its commit, who ran it, the changes and the verdicts", () => {
    const entries = JSON.parse(ok(repo.nexus("history", "--stack", "dev", "--json")).stdout) as {
      kind: string;
      result: string;
      commit: string;
      changes: Record<string, number>;
      record?: { commit: string; by: string; approvals: string[]; verdicts: string };
    }[];
    const deploys = entries.filter((e) => e.record).reverse();
    expect(deploys.map((e) => e.record!.commit)).toEqual(deployed.dev);
    for (const e of deploys) {
      expect(e.result).toBe("succeeded");
      expect(e.commit).toBe(e.record!.commit);
      expect(e.record!.by).toBe("delivery-rehearsal");
      expect(e.record!.verdicts).toMatch(/^\d+ evaluated, 0 mandatory and \d+ advisory violations$/);
    }
    expect(deploys[0]!.changes.create).toBeGreaterThan(100);
    expect(deploys[1]!.changes.update).toBeGreaterThan(0);
    const table = ok(repo.nexus("history", "--stack", "dev")).stdout;
    expect(table).toContain(`| succeeded | delivery-rehearsal | ${merged.slice(0, 12)} |`);
    expect(table).toContain("| refresh |");
  });

  it("5. a fresh clone with only the CI secrets in its environment previews the shared stacks", () => {
    const clone = path.join(tmp, "clone");
    ok(repo.run("git", ["clone", "-q", repo.dir, clone]));
    // Dependencies as `npm ci` would install them (the same packages, linked to save the time).
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(clone, "node_modules"));
    fs.symlinkSync(path.join(ROOT, "policy", "node_modules"), path.join(clone, "policy", "node_modules"));
    const ci: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NEXUS_CACHE: process.env.NEXUS_CACHE,
      KUBECONFIG: devCluster.kubeconfig,
      PULUMI_BACKEND_URL: repo.env.PULUMI_BACKEND_URL,
      PULUMI_CONFIG_PASSPHRASE: repo.passphrase,
      AWS_ACCESS_KEY_ID: repo.env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: repo.env.AWS_SECRET_ACCESS_KEY,
    };
    for (const stack of ["dev", "staging"]) {
      const r = repo.run("bash", ["scripts/stack", "preview", "--expect-no-changes"], { ...ci, NEXUS_STACK: stack }, clone);
      expect(r.code, explain(r)).toBe(0);
    }
    expect(fs.existsSync(path.join(clone, ".pulumi-passphrase")), "a team stack never generates a passphrase").toBe(false);
    expect(spawnSync("git", ["status", "--porcelain"], { cwd: clone, encoding: "utf8" }).stdout).toBe("");
  });

  it("6. two ups started together: one runs, the other fails on the lock, and the state stays intact", async () => {
    const a = repo.spawnStack("dev", "up");
    const b = repo.spawnStack("dev", "up");
    const codes = await Promise.all([a, b].map((p) => new Promise<number>((resolve) => p.on("close", (code) => resolve(code ?? -1)))));
    const outputs = [a.output(), b.output()];
    expect(codes.filter((c) => c === 0).length, outputs.join("\n-----\n")).toBe(1);
    const loser = outputs[codes.findIndex((c) => c !== 0)]!;
    expect(loser).toContain("the stack is currently locked by 1 lock(s)");
    converged("dev");
  });

  /**
   * Work for the next update of dev without an engine run: a line added near the top of every
   * registry file moves the registry FILE:LINE that each object carries in its source annotation,
   * so the update changes every object. Committed, so the checkout stays clean.
   */
  let shifts = 0;
  const shiftSources = () => {
    shifts++;
    for (const file of fs.readdirSync(path.join(repo.dir, "registries")).filter((f) => f.endsWith(".yaml"))) {
      const [first, ...rest] = repo.project.read(`registries/${file}`).split("\n");
      repo.project.write(`registries/${file}`, [first, `# (moved down ${shifts} line(s) by the crash trials)`, ...rest].join("\n"));
    }
    repo.commit(`Registry sources move down a line (${shifts})`);
  };

  /** scripts/stack up, started; resolves once its output shows N objects DONE ("created", "updated"), or it ended. */
  const upUntil = async (done: "created" | "updated" | "previewing", n: number) => {
    const up = repo.spawnStack("dev", "up");
    const count = () => (up.output().match(new RegExp(` ${done} \\(`, "g")) ?? []).length;
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const reached = done === "previewing" ? /Previewing update/.test(up.output()) : count() >= n;
        if (reached || up.exitCode !== null || Date.now() - started > 300_000) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
    });
    return { up, count, seconds: () => ((Date.now() - started) / 1000).toFixed(1) };
  };

  it("7. an up killed with SIGKILL at different moments recovers by the runbook to no changes and no orphans", async () => {
    // Five moments: while it previews; early and late among creates (everything but the namespaces
    // destroyed first: a deleted namespace stays Terminating on a cluster without a node for
    // longer than a trial takes); early and late among updates (every object's source moved).
    const TRIALS: { work: "none" | "create" | "update"; at: number }[] = [
      { work: "none", at: 0 },
      { work: "create", at: 10 },
      { work: "update", at: 40 },
      { work: "create", at: 110 },
      { work: "update", at: 150 },
    ];
    const trials: string[] = [];
    for (const { work, at } of TRIALS) {
      if (work === "create") ok(repo.stack("dev", "destroy", "--exclude", NAMESPACES));
      if (work === "update") shiftSources();
      const done = work === "none" ? "previewing" : work === "create" ? "created" : "updated";
      const { up, count, seconds } = await upUntil(done, at);
      const alive = up.exitCode === null;
      const killedAfter = seconds();
      if (alive) repo.killTree(up.pid!);
      await new Promise((resolve) => (up.exitCode !== null || up.signalCode !== null ? resolve(null) : up.on("close", resolve)));
      const atKill = work === "none" ? "while it previewed" : `after ${count()} objects ${done}`;
      const state = stateObjects("dev");
      ok(repo.stack("dev", "recover"));
      ok(repo.stack("dev", "up"));
      // The recovery's refresh read every object back just before: preview and orphans suffice.
      converged("dev", false);
      trials.push(
        `killed ${killedAfter} s after its start, ${atKill}: state then held ${state.objects.length} objects and ` +
          `${state.pending} pending operation(s); recover + up: converged, no orphan`,
      );
      expect(alive, `trial ${work} at ${at}: the update finished before the kill point`).toBe(true);
    }
    fs.writeFileSync(path.join(tmp, "trials.txt"), trials.join("\n"));
    console.log(`SIGKILL trials:\n  ${trials.join("\n  ")}`);
  });

  it("8. the state store restarted during a deploy: the deploy completes or fails cleanly, and the next preview works", async () => {
    shiftSources();
    const { up } = await upUntil("updated", 40);
    store.stop();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    store.start();
    const code = await new Promise<number>((resolve) => (up.exitCode !== null ? resolve(up.exitCode) : up.on("close", (c) => resolve(c ?? -1))));
    console.log(
      `store restart during a deploy: the deploy ${code === 0 ? "completed" : `failed (exit ${code})`}; last lines:\n${up.output().trim().split("\n").slice(-4).join("\n")}`,
    );
    // The next preview works: after a failed deploy, before the runbook's recovery; after a
    // completed one it is the convergence check's own, which must find no change.
    if (code !== 0) {
      const preview = repo.stack("dev", "preview");
      expect(preview.code, explain(preview)).toBe(0);
      ok(repo.stack("dev", "recover"));
      ok(repo.stack("dev", "up"));
    }
    converged("dev");
  });

  it("9. export, remove the stack, import: the next preview shows no changes", () => {
    const file = path.join(tmp, "dev-state.json");
    ok(repo.pulumi("stack", "export", "--stack", "dev", "--file", file));
    ok(repo.pulumi("stack", "rm", "dev", "--yes", "--force", "--preserve-config"));
    expect(repo.pulumi("stack", "select", "dev").code).not.toBe(0);
    // The committed salt: the re-created stack opens the same encrypted secrets.
    ok(repo.stack("dev", "init"));
    ok(repo.pulumi("stack", "import", "--stack", "dev", "--file", file));
    converged("dev");
    expect(repo.git("status", "--porcelain")).toBe("");
  });

  it("10. the passphrase rotates: the new one opens the committed secrets and the state, the old one no longer does", () => {
    const before = repo.project.read("Pulumi.staging.yaml");
    const next = `${repo.passphrase}-rotated`;
    ok(repo.run("bash", ["scripts/stack", "rotate"], { ...repo.env, NEXUS_STACK: "staging", PULUMI_NEW_PASSPHRASE: next }));
    const after = repo.project.read("Pulumi.staging.yaml");
    expect(after).not.toBe(before);
    expect(after.match(/^encryptionsalt: .*$/m)![0]).not.toBe(before.match(/^encryptionsalt: .*$/m)![0]);
    expect(after.match(/secure: v1:/g)?.length).toBe(before.match(/secure: v1:/g)?.length);
    repo.commit("Rotate the passphrase of staging");

    // (The crash trials moved the registry sources since staging was deployed: the preview plans updates.)
    const withNew = repo.run("bash", ["scripts/stack", "preview"], {
      ...repo.env,
      NEXUS_STACK: "staging",
      PULUMI_CONFIG_PASSPHRASE: next,
    });
    expect(withNew.code, explain(withNew)).toBe(0);
    const secret = repo.run("pulumi", ["config", "get", "--stack", "staging", "postgresPassword"], { ...repo.env, PULUMI_CONFIG_PASSPHRASE: next });
    expect(secret.stdout.trim()).toBe("staging-postgresPassword-value");
    const withOld = repo.run("bash", ["scripts/stack", "preview"], { ...repo.env, NEXUS_STACK: "staging" });
    expect(withOld.code).not.toBe(0);
    expect(withOld.stdout + withOld.stderr).toContain("incorrect passphrase");
  });

  it("11. prod keeps its secrets under the AWS KMS key its committed stack config names, with no passphrase", async () => {
    // A KMS API on 127.0.0.1: moto's server mode (scripts/s3-store), holding the key and alias.
    const kms = new MotoServer(path.join(tmp, "kms"), await freePort());
    kms.start();
    try {
      await kms.createKeyWithAlias("alias/nexus-prod-pulumi", "eu-central-1");
      repo.project.write("Pulumi.prod.yaml", read(path.join(ROOT, "Pulumi.prod.yaml")));
      const env: NodeJS.ProcessEnv = { ...repo.env, AWS_ENDPOINT_URL_KMS: kms.endpoint, NEXUS_STACK: "prod" };
      delete env.PULUMI_CONFIG_PASSPHRASE;
      const init = repo.run("bash", ["scripts/stack", "init"], env);
      expect(init.code, explain(init)).toBe(0);
      expect(repo.project.read("Pulumi.prod.yaml")).toMatch(/^encryptedkey: \S+$/m);
      ok(repo.run("pulumi", ["config", "set", "--secret", "--stack", "prod", "postgresPassword", "prod-postgres-value", "--non-interactive"], env));
      expect(repo.project.read("Pulumi.prod.yaml")).not.toContain("prod-postgres-value");
      const get = repo.run("pulumi", ["config", "get", "--stack", "prod", "postgresPassword", "--non-interactive"], env);
      expect(get.stdout.trim(), explain(get)).toBe("prod-postgres-value");
      // Without the key (its endpoint unreachable) the secret stays closed.
      const closed = repo.run("pulumi", ["config", "get", "--stack", "prod", "postgresPassword", "--non-interactive"], {
        ...env,
        AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:9",
      });
      expect(closed.code).not.toBe(0);
    } finally {
      kms.stop();
    }
  });
});

interface StateResource {
  type: string;
  outputs?: { kind?: string; metadata?: { name: string; namespace?: string } };
}
