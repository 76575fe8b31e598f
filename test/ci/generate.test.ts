import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTIONS, GENERATED_MARKER, NODE_VERSION } from "../../cmd/ci/github";
import { ADAPTERS, compareWithDisk, generateWorkflows, type GeneratedFile } from "../../cmd/ci";
import { checkCommand, deployCommand, driftCommand } from "../../cmd/deliver/cli";
import { copyRegistries, REAL_REGISTRIES, removeRegistries, replaceIn, ROOT } from "../support/registries";
import { cli, runStep, tempDir } from "./support";

/**
 * The CI configuration is derived from registries/pipelines.yaml: the committed workflows must be
 * exactly what the generator gives, deploys follow the promotion order, registry errors are
 * located, and no generated file holds a secret value.
 */

type Workflow = { name: string; on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> };
type Job = {
  name: string;
  needs?: string[];
  environment?: string;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  permissions?: Record<string, string>;
  steps: Step[];
};
type Step = { name: string; id?: string; if?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown> };

const workflow = (files: readonly GeneratedFile[], name: string): Workflow => {
  const file = files.find((f) => f.path === `.github/workflows/${name}.yml`);
  if (!file) throw new Error(`no ${name}.yml among ${files.map((f) => f.path).join(", ")}`);
  return parse(file.content) as Workflow;
};
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");

describe("the committed workflows", () => {
  it("are exactly what `nexus ci generate` produces from registries/", () => {
    const result = generateWorkflows(REAL_REGISTRIES);
    expect(result.problems).toEqual([]);
    expect(result.files.map((f) => f.path)).toEqual([".github/workflows/drift.yml", ".github/workflows/pull-request.yml", ".github/workflows/release.yml"]);
    const differences = compareWithDisk(ADAPTERS.github!, result.files, ROOT);
    expect(
      differences,
      `the committed workflows differ from registries/pipelines.yaml (${differences.map((d) => `${d.path}: ${d.kind}`).join("; ")}): ` +
        "run `npx nexus ci generate` and commit .github/workflows/",
    ).toEqual([]);
  });

  it("are deterministic and carry the do-not-edit header", () => {
    const a = generateWorkflows(REAL_REGISTRIES).files;
    const b = generateWorkflows(REAL_REGISTRIES).files;
    expect(b).toEqual(a);
    for (const f of a) {
      expect(f.content.split("\n")[0]).toBe(`# ${GENERATED_MARKER} from registries/pipelines.yaml — do not edit.`);
    }
  });

  it("pin every action to an exact version from the one ACTIONS constant", () => {
    const pins = new Set<string>(Object.values(ACTIONS));
    for (const pin of pins) expect(pin).toMatch(/^[\w.-]+\/[\w.-]+@v\d+\.\d+\.\d+$/);
    for (const f of generateWorkflows(REAL_REGISTRIES).files) {
      const wf = parse(f.content) as Workflow;
      for (const job of Object.values(wf.jobs)) {
        for (const s of job.steps) if (s.uses) expect(pins, `${f.path}: ${s.uses}`).toContain(s.uses);
      }
    }
  });

  it("check every preview target behind the policy gate and post one comment per stack on pull requests", () => {
    const wf = workflow(generateWorkflows(REAL_REGISTRIES).files, "pull-request");
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read" });
    // The preview and audit stages' targets, once each, in promotion order.
    const targets = registryTargets("pull-request", ["preview", "audit"]);
    expect(targets.length).toBeGreaterThan(0);
    expect(Object.keys(wf.jobs)).toEqual(["checks", ...targets.map((env) => `check-${env}`)]);
    expect(runs(wf.jobs.checks!)).toContain("npx nexus validate --format text");
    expect(runs(wf.jobs.checks!)).toContain("npm run test:unit");
    for (const env of targets) {
      const job = wf.jobs[`check-${env}`]!;
      expect(job.needs).toEqual(["checks"]);
      const body = `"$RUNNER_TEMP/check-${env}.md"`;
      const check = job.steps.find((s) => s.id === "check")!;
      // The target branch reaches the command as a variable, never as script text.
      expect(check.env!.BASE_REF).toBe("${{ github.base_ref }}");
      expect(check.run).toBe(`npx nexus check --stack ${env} --base "origin/$BASE_REF" --out ${body}\n`);
      const post = job.steps.at(-1)!;
      expect(post.run).toBe(`npx nexus ci post-comment --pr "$PR_NUMBER" --marker nexus-check-${env} --body-file ${body}\n`);
      expect(post.env).toEqual({ GITHUB_TOKEN: "${{ github.token }}", PR_NUMBER: "${{ github.event.pull_request.number }}" });
      // Posted when the check failed too (it exits 1 after writing the body), not when it never ran.
      expect(post.if).toBe("${{ !cancelled() && steps.check.outcome != 'skipped' }}");
      expect(job.permissions).toMatchObject({ contents: "read", "pull-requests": "write" });
      const cache = job.steps.find((s) => s.uses === ACTIONS.cache)!;
      expect(cache.with).toMatchObject({ path: "~/.cache/nexus" });
      expect(String(cache.with!.key)).toContain("hashFiles('package-lock.json'");
    }
    // Where the registry names an AWS role, the job may ask GitHub for an OIDC token; elsewhere not.
    for (const env of targets) {
      const aws = environment(env).secrets?.awsRoleArn !== undefined;
      expect(wf.jobs[`check-${env}`]!.permissions!["id-token"], env).toBe(aws ? "write" : undefined);
    }
  });

  it("tell drift from failure by the exit status and open one issue per stack", () => {
    const wf = workflow(generateWorkflows(REAL_REGISTRIES).files, "drift");
    expect(wf.on).toEqual({ schedule: [{ cron: "0 5 * * *" }], workflow_dispatch: {} });
    const targets = registryTargets("drift", ["drift"]);
    expect(Object.keys(wf.jobs)).toEqual(targets.map((env) => `drift-${env}`));
    for (const env of targets) {
      const job = wf.jobs[`drift-${env}`]!;
      expect(job.permissions).toMatchObject({ contents: "read", issues: "write" });
      const detect = job.steps.find((s) => s.id === "drift")!;
      const post = job.steps.at(-1)!;
      expect(post.run).toBe(
        `npx nexus ci post-issue --title "Drift detected in stack ${env}" --body-file "$RUNNER_TEMP/drift-${env}.md" --update-comment "Drift still present"\n`,
      );
      expect(post.env).toEqual({ GITHUB_TOKEN: "${{ github.token }}" });
      const issueWhen = /^\$\{\{ steps\.drift\.outputs\.status == '(\d+)' \}\}$/.exec(post.if ?? "");
      expect(issueWhen, post.if).not.toBeNull();

      // The step as the runner runs it, with `nexus drift` exiting each way.
      for (const [exit, stepFails] of [
        [0, false],
        [2, false],
        [1, true],
        [3, true],
      ] as const) {
        const run = runStep(detect.run!, { npxExit: exit });
        expect(run.npx, `exit ${exit}`).toEqual([`nexus drift --stack ${env} --out ${run.runnerTemp}/drift-${env}.md`]);
        // A failed check fails the step with the command's own status; drift and no drift pass it.
        expect(run.code, `exit ${exit}`).toBe(stepFails ? exit : 0);
        expect(run.outputs, `exit ${exit}`).toEqual({ status: String(exit) });
        // The issue is opened on drift only: a failed check skips it (the job has failed already).
        expect(run.outputs.status === issueWhen![1], `exit ${exit}`).toBe(exit === 2);
      }
    }
  });
});

describe("the header of each workflow", () => {
  const files = generateWorkflows(REAL_REGISTRIES).files;
  const headerOf = (f: GeneratedFile) =>
    f.content
      .slice(0, f.content.search(/^name: /m))
      .split("\n")
      .map((l) => l.replace(/^# ?/, ""))
      .join("\n");

  it("lists exactly the secrets and variables the workflow references, with the environments that use them", () => {
    for (const f of files) {
      const head = headerOf(f);
      const body = f.content.slice(f.content.search(/^name: /m));
      const used = new Set([...body.matchAll(/\$\{\{ ((?:secrets|vars)\.[A-Z0-9_]+) \}\}/g)].map((m) => m[1]!));
      const listed = new Set([...head.matchAll(/^ {2}((?:secrets|vars)\.[A-Z0-9_]+) /gm)].map((m) => m[1]!));
      expect(listed, f.path).toEqual(used);
    }
    const pr = headerOf(files.find((f) => f.path.endsWith("pull-request.yml"))!);
    // Only the environments the pull request checks: staging is deployed and watched, not checked.
    expect(pr).toMatch(/^ {2}secrets\.PULUMI_CONFIG_PASSPHRASE +passphrase of the stack secrets of dev$/m);
    expect(pr).not.toContain("KUBECONFIG_STAGING");
  });

  it("say what the exit status of each command means, as the steps act on it", () => {
    const text = (name: string) => headerOf(files.find((f) => f.path.endsWith(`${name}.yml`))!).replace(/\n/g, " ");
    expect(text("pull-request")).toContain(
      "Exit status 0 pass, 1 fail (a mandatory policy violation or a preview error): the body is posted either way, and the job fails on 1.",
    );
    expect(text("release")).toContain("Exit status 0 deployed, 1 refused or failed: its report goes to the job summary either way; the job fails on 1.");
    const drift = text("drift");
    const post = workflow(files, "drift").jobs["drift-prod"]!.steps.at(-1)!;
    const code = /'(\d+)'/.exec(post.if!)![1];
    expect(drift).toContain(`exit status 0 no drift, the job passes; ${code} drift, the job passes and the issue "Drift detected in stack STACK"`);
    expect(drift).toContain("any other status (1: the check itself failed");
    for (const f of files) expect(headerOf(f), f.path).not.toMatch(/pulumi refresh --preview-only --expect-no-changes`? exits|local API server|file backend/);
  });
});

/** The environments the stages of some types target in one pipeline of the real registry, in promotion order. */
function registryTargets(pipeline: string, types: string[]): string[] {
  const registry = realPipelines();
  const stages = registry.pipelines.find((p) => p.name === pipeline)!.stages.filter((s) => types.includes(s.type));
  const names = new Set(stages.flatMap((s) => s.targets ?? []));
  return registry.promotion.filter((e) => names.has(e));
}
type Registry = {
  environments: { name: string; secrets?: Record<string, string>; approval?: { required?: boolean } }[];
  promotion: string[];
  pipelines: { name: string; stages: { type: string; targets?: string[] }[] }[];
};
const realPipelines = () => parse(fs.readFileSync(path.join(REAL_REGISTRIES, "pipelines.yaml"), "utf8")) as Registry;
const environment = (name: string) => realPipelines().environments.find((e) => e.name === name)!;

/** Every `npx nexus ARGS` the run: scripts of a job hold (up to a shell operator), with its arguments as the shell splits them. */
function nexusCallsIn(job: Job): { line: string; args: string[] }[] {
  return [...runs(job).matchAll(/npx nexus ((?:"[^"]*"|'[^']*'|[^\s)"'|;&])+(?:[ \t]+(?:"[^"]*"|'[^']*'|[^\s)"'|;&])+)*)/g)].map((m) => ({
    line: m[0],
    args: [...m[1]!.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((w) => w[1] ?? w[2] ?? w[3]!),
  }));
}
const nexusCalls = (files: readonly GeneratedFile[]) => files.flatMap((f) => Object.values((parse(f.content) as Workflow).jobs).flatMap(nexusCallsIn));

/** The jobs that work on a stack: every job but the validate-and-test and protection ones. */
const stackJobs = (files: readonly GeneratedFile[]) =>
  files.flatMap((f) =>
    Object.entries((parse(f.content) as Workflow).jobs)
      .filter(([id]) => /^(check|deploy|drift)-/.test(id))
      .map(([id, job]) => ({ file: f.path, id, job })),
  );

describe("the workflows are thin", () => {
  const files = generateWorkflows(REAL_REGISTRIES).files;

  it("hold no program: no inline node, no github-script, no pulumi, no login, no local cluster", () => {
    for (const f of files) {
      expect(f.content, f.path).not.toMatch(/node -e|node --eval|github-script|script:/);
      for (const job of Object.values((parse(f.content) as Workflow).jobs)) {
        for (const s of job.steps) expect(Object.keys(s.with ?? {}), `${f.path} ${s.name}`).not.toContain("script");
        // The commands do this through scripts/stack; the workflow never does it beside them.
        expect(runs(job), `${f.path} ${job.name}`).not.toMatch(/\bpulumi |\.tools\/env|local-cluster|policy-config|stack select|GITHUB_ENV/);
      }
    }
  });

  it("run one nexus command per stack job, around it only credentials, approvals and posting", () => {
    const jobs = stackJobs(files);
    expect(jobs.map((j) => j.id)).toEqual(expect.arrayContaining(["check-dev", "deploy-dev", "deploy-prod", "drift-prod"]));
    for (const { file, id, job } of jobs) {
      const command = id.slice(0, id.indexOf("-"));
      const main = nexusCallsIn(job).filter((c) => c.args[0] !== "ci");
      expect(
        main.map((c) => c.args[0]),
        `${file} ${id}`,
      ).toEqual([command]);
      expect(main[0]!.args.slice(1, 3), `${file} ${id}`).toEqual(["--stack", expect.any(String)]);
      // The first steps set up the job; every step that runs something is one line, but the
      // kubeconfig writer and the drift step, which turns the exit status into the issue's condition.
      expect(job.steps.slice(0, 3).map((s) => s.name)).toEqual(["Check out", "Set up Node.js", "Install dependencies"]);
      expect(job.steps[3]!.uses).toBe(ACTIONS.cache);
      for (const s of job.steps.filter((x) => x.run !== undefined)) {
        const lines = s.run!.trimEnd().split("\n").length;
        const allowed = s.name.startsWith("Write the kubeconfig of ") ? 2 : s.id === "drift" ? 4 : 1;
        expect(lines, `${file} ${id} ${s.name}`).toBeLessThanOrEqual(allowed);
      }
    }
  });

  it("call `nexus ci` subcommands with arguments the commands accept", async () => {
    const calls = nexusCalls(files)
      .filter((c) => c.args[0] === "ci")
      .map((c) => ({ ...c, args: c.args.slice(1) }));
    expect(new Set(calls.map((c) => c.args[0]))).toEqual(new Set(["region", "approvals", "post-comment", "post-issue", "check-protection"]));
    for (const call of calls) {
      // --help is answered only after every other argument parsed: 0 means they all did.
      const run = await cli([...call.args, "--help"]);
      expect(run.code, `${call.line}\n${run.err}`).toBe(0);
    }
  });

  it("call `nexus check`, `deploy` and `drift` with the arguments the commands accept", async () => {
    const calls = nexusCalls(files).filter((c) => c.args[0] !== "ci" && c.args[0] !== "validate");
    const shapes = new Set(calls.map((c) => c.args.map((a, i) => (i > 0 && !a.startsWith("--") ? "V" : a)).join(" ")));
    expect(shapes).toEqual(
      new Set(["check --stack V --base V --out V", "deploy --stack V --out V", "deploy --stack V --approved-by V --out V", "drift --stack V --out V"]),
    );
    for (const c of calls) {
      const out = c.args[c.args.indexOf("--out") + 1]!;
      // Each report in the runner's temporary folder, named after its command and stack.
      expect(out, c.line).toBe(`$RUNNER_TEMP/${c.args[0]}-${c.args[2]}.md`);
      const command = { check: checkCommand, deploy: deployCommand, drift: driftCommand }[c.args[0] as "check" | "deploy" | "drift"];
      const run = await cli([...c.args.slice(1), "--help"], command);
      expect(run.code, `${c.line}\n${run.err}`).toBe(0);
    }
  });

  it("run every job on the project's Node.js version", () => {
    expect(NODE_VERSION).toBe("24");
    for (const f of files) {
      for (const job of Object.values((parse(f.content) as Workflow).jobs)) {
        const setup = job.steps.filter((s) => s.uses === ACTIONS.setupNode);
        expect(setup, `${f.path} ${job.name}`).toHaveLength(1);
        expect(setup[0]!.with!["node-version"]).toBe("24");
      }
    }
  });

  it("write the kubeconfig secret to a file only the runner reads, and stop when the secret is unset", () => {
    const jobs = stackJobs(files);
    for (const { file, id, job } of jobs) {
      const env = id.slice(id.indexOf("-") + 1);
      const name = environment(env).secrets?.kubeconfig;
      const write = job.steps.find((s) => s.name === `Write the kubeconfig of ${env}`);
      const command = job.steps.find((s) => s.id === id.slice(0, id.indexOf("-")))!;
      if (!name) {
        expect(write, `${file} ${id}`).toBeUndefined();
        expect(command.env?.KUBECONFIG).toBeUndefined();
        continue;
      }
      expect(write!.env).toEqual({ KUBECONFIG_DATA: `\${{ secrets.${name} }}` });
      // The command reads the file the step writes.
      expect(command.env!.KUBECONFIG).toBe("${{ runner.temp }}/kubeconfig");
      const ok = runStep(write!.run!, { env: { KUBECONFIG_DATA: "apiVersion: v1\nkind: Config" } });
      expect(ok.code).toBe(0);
      const written = path.join(ok.runnerTemp, "kubeconfig");
      expect(fs.readFileSync(written, "utf8")).toBe("apiVersion: v1\nkind: Config\n");
      expect(fs.statSync(written).mode & 0o777).toBe(0o600);
      const unset = runStep(write!.run!, { env: { KUBECONFIG_DATA: "" } });
      expect(unset.code).not.toBe(0);
      expect(unset.stderr).toContain(`the secret ${name} is not set`);
      expect(fs.existsSync(path.join(unset.runnerTemp, "kubeconfig"))).toBe(false);
    }
  });

  it("hand the AWS region from `nexus ci region` to the OIDC action where the registry names a role", () => {
    for (const { file, id, job } of stackJobs(files)) {
      const env = id.slice(id.indexOf("-") + 1);
      const role = environment(env).secrets?.awsRoleArn;
      const aws = job.steps.find((s) => s.uses === ACTIONS.awsCredentials);
      if (!role) {
        expect(aws, `${file} ${id}`).toBeUndefined();
        continue;
      }
      const region = job.steps[job.steps.indexOf(aws!) - 1]!;
      const name = /--github-output (\S+)/.exec(region.run ?? "")![1];
      expect(region.run).toBe(`npx nexus ci region --stack ${env} --github-output ${name}\n`);
      expect(aws!.with).toEqual({ "role-to-assume": `\${{ secrets.${role} }}`, "aws-region": `\${{ steps.${region.id}.outputs.${name} }}` });
    }
  });
});

describe("the release pipeline", () => {
  let dir: string;
  let files: GeneratedFile[];
  beforeAll(() => {
    dir = copyRegistries(REAL_REGISTRIES);
    // Staging with an approval and secret names of its own.
    replaceIn(
      dir,
      "pipelines.yaml",
      [
        "  - name: staging",
        "    stack: staging",
        "    approval:",
        "      required: false",
        "    secrets:",
        "      passphrase: PULUMI_CONFIG_PASSPHRASE",
        "      backendUrl: PULUMI_BACKEND_URL",
        "      kubeconfig: KUBECONFIG_STAGING",
        "",
      ].join("\n"),
      [
        "  - name: staging",
        "    stack: staging",
        "    approval: { required: true, reviewers: [nexus-platform/qa-leads] }",
        "    secrets:",
        "      passphrase: STAGING_PASSPHRASE",
        "      backendUrl: STAGING_BACKEND_URL",
        "      kubeconfig: STAGING_KUBECONFIG",
        "",
      ].join("\n"),
    );
    // Stages listed out of order: the jobs still follow the promotion order.
    replaceIn(
      dir,
      "pipelines.yaml",
      [
        "      - { name: deploy-dev, type: deploy, targets: [dev], policyGate: true }",
        "      - { name: deploy-staging, type: deploy, targets: [staging], policyGate: true }",
        "      - { name: deploy-prod, type: deploy, targets: [prod], policyGate: true }",
      ].join("\n"),
      [
        "      - { name: deploy-prod, type: deploy, targets: [prod], policyGate: true }",
        "      - { name: deploy-lower, type: deploy, targets: [staging, dev], policyGate: true }",
      ].join("\n"),
    );
    const result = generateWorkflows(dir);
    expect(result.problems).toEqual([]);
    files = result.files;
  });
  afterAll(() => removeRegistries(dir));

  it("chains the deploy jobs dev → staging → prod with their environments", () => {
    const wf = workflow(files, "release");
    expect(Object.keys(wf.jobs)).toEqual(["checks", "environment-protection", "deploy-dev", "deploy-staging", "deploy-prod"]);
    expect(wf.jobs["deploy-dev"]!.needs).toEqual(["checks", "environment-protection"]);
    expect(wf.jobs["deploy-staging"]!.needs).toEqual(["deploy-dev"]);
    expect(wf.jobs["deploy-prod"]!.needs).toEqual(["deploy-staging"]);
    for (const env of ["dev", "staging", "prod"]) {
      const job = wf.jobs[`deploy-${env}`]!;
      expect(job.environment).toBe(env);
      expect(job.concurrency).toEqual({ group: `deploy-${env}`, "cancel-in-progress": false });
      const report = `"$RUNNER_TEMP/deploy-${env}.md"`;
      const deploy = job.steps.find((s) => s.id === "deploy")!;
      const approved = env === "dev" ? "" : ' --approved-by "$APPROVED_BY"';
      expect(deploy.run).toBe(`npx nexus deploy --stack ${env}${approved} --out ${report}\n`);
      // The report reaches the job summary whether the deploy succeeded or was refused, not when it never ran.
      const summary = job.steps.at(-1)!;
      expect(summary.if).toBe("${{ !cancelled() && steps.deploy.outcome != 'skipped' }}");
      expect(summary.run).toBe(`cat ${report} >> "$GITHUB_STEP_SUMMARY"\n`);
    }
    expect(wf.jobs["deploy-staging"]!.name).toContain("nexus-platform/qa-leads");
  });

  it("passes who approved the run to the deploys that need approval, from a step that fails when nobody did", () => {
    const wf = workflow(files, "release");
    for (const env of ["dev", "staging", "prod"]) {
      const job = wf.jobs[`deploy-${env}`]!;
      const approvals = job.steps.find((s) => s.run?.includes("nexus ci approvals"));
      const deploy = job.steps.find((s) => s.id === "deploy")!;
      if (env === "dev") {
        expect(approvals).toBeUndefined();
        expect(deploy.env!.APPROVED_BY).toBeUndefined();
        expect(job.permissions?.actions).toBeUndefined();
        continue;
      }
      // Its own step before the deploy: a failed `$(...)` inside the deploy's arguments would not stop bash -e.
      expect(job.steps.indexOf(approvals!)).toBe(job.steps.indexOf(deploy) - 1);
      const output = /--github-output (\S+)/.exec(approvals!.run!)![1];
      expect(approvals!.run).toBe(`npx nexus ci approvals --env ${env} --github-output ${output}\n`);
      expect(approvals!.env).toEqual({ GITHUB_TOKEN: "${{ github.token }}" });
      expect(deploy.env!.APPROVED_BY).toBe(`\${{ steps.${approvals!.id}.outputs.${output} }}`);
      // The run's review history is an Actions resource.
      expect(job.permissions).toMatchObject({ actions: "read", contents: "read" });
    }
  });

  it("checks the protection of every gated environment against the registry before deploying", () => {
    const job = workflow(files, "release").jobs["environment-protection"]!;
    expect(job.permissions).toEqual({ actions: "read", contents: "read" });
    // The command reads the reviewers and wait times from the registry of the same commit.
    expect(job.steps.at(-1)!.run).toBe("npx nexus ci check-protection --envs staging,prod\n");
    expect(job.steps.at(-1)!.env).toEqual({ GITHUB_TOKEN: "${{ github.token }}" });
    const text = files.find((f) => f.path.endsWith("release.yml"))!.content;
    expect(text).toContain("#   prod: approval by reviewers nexus-platform/sre-leads, nexus-platform/platform-leads, wait timer 10 min");
    expect(text).toContain("#   staging: approval by reviewers nexus-platform/qa-leads\n");
  });

  it("uses the staging secret names of the registry for staging", () => {
    const job = workflow(files, "release").jobs["deploy-staging"]!;
    const deploy = job.steps.find((s) => s.id === "deploy")!;
    expect(deploy.env).toEqual({
      PULUMI_CONFIG_PASSPHRASE: "${{ secrets.STAGING_PASSPHRASE }}",
      PULUMI_BACKEND_URL: "${{ vars.STAGING_BACKEND_URL }}",
      KUBECONFIG: "${{ runner.temp }}/kubeconfig",
      APPROVED_BY: "${{ steps.approvals.outputs.logins }}",
    });
    expect(job.steps.find((s) => s.env?.KUBECONFIG_DATA)!.env!.KUBECONFIG_DATA).toBe("${{ secrets.STAGING_KUBECONFIG }}");
    // No AWS role: no OIDC token.
    expect(job.permissions).toEqual({ actions: "read", contents: "read" });
    const text = files.find((f) => f.path.endsWith("release.yml"))!.content;
    expect(text).toMatch(/^# {3}secrets\.STAGING_PASSPHRASE +passphrase of the stack secrets of staging$/m);
    expect(text).toMatch(/^# {3}secrets\.PULUMI_CONFIG_PASSPHRASE +passphrase of the stack secrets of dev$/m);
  });
});

describe("free text from the registry", () => {
  it("keeps the workflows valid YAML: descriptions and reviewers with YAML and shell characters", () => {
    const dir = copyRegistries(REAL_REGISTRIES);
    try {
      replaceIn(
        dir,
        "pipelines.yaml",
        "description: Merge to main - deploy dev, then staging, then prod after approval, each from a commit the one before runs.",
        `description: 'Deploy: "dev" # then prod, 100% {safe} & $HOME'`,
      );
      replaceIn(
        dir,
        "pipelines.yaml",
        `reviewers: ["nexus-platform/sre-leads", "nexus-platform/platform-leads"]`,
        `reviewers: ["nexus-platform/sre-leads", "o'brien: #1"]`,
      );
      const { problems, files } = generateWorkflows(dir);
      expect(problems).toEqual([]);
      const text = files.find((f) => f.path.endsWith("release.yml"))!.content;
      expect(text).toContain(`# Deploy: "dev" # then prod, 100% {safe} & $HOME`);
      const wf = parse(text) as Workflow;
      expect(wf.jobs["deploy-prod"]!.name).toBe("deploy prod (approval by reviewers nexus-platform/sre-leads, o'brien: #1, wait timer 10 min)");
      expect(Object.keys(wf.jobs)).toEqual(["checks", "environment-protection", "deploy-dev", "deploy-staging", "deploy-prod"]);
    } finally {
      removeRegistries(dir);
    }
  });
});

describe("a registry error", () => {
  let dir: string;
  beforeAll(() => {
    dir = copyRegistries(REAL_REGISTRIES);
    replaceIn(
      dir,
      "pipelines.yaml",
      "{ name: preview, type: preview, targets: [dev, prod], policyGate: true }",
      "{ name: preview, type: preview, targets: [dev, qa], policyGate: true }",
    );
  });
  afterAll(() => removeRegistries(dir));

  it("is located: file, line, column and field path of the stage target", () => {
    const text = fs.readFileSync(path.join(dir, "pipelines.yaml"), "utf8");
    const at = text.indexOf("qa]");
    const line = text.slice(0, at).split("\n").length;
    const column = at - text.lastIndexOf("\n", at - 1);
    const result = generateWorkflows(dir);
    expect(result.files).toEqual([]);
    const lines = result.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(
      new RegExp(`^registries/pipelines\\.yaml:${line}:${column} pipelines\\[0\\]\\.stages\\[2\\]\\.targets\\[1\\]: environment "qa" does not exist`),
    );
  });

  it("makes the CLI exit 1 with the located problem and write nothing", async () => {
    const out = tempDir();
    const { code, out: stdout, err } = await cli(["generate", "--registries", dir, "--out", out]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^registries\/pipelines\.yaml:\d+:\d+ pipelines\[0\]\.stages\[2\]\.targets\[1\]: /m);
    expect(err).toContain("nothing was generated");
    expect(fs.readdirSync(out)).toEqual([]);
  });
});

describe("secrets", () => {
  const SECRET_FIELDS = ["passphrase", "backendUrl", "kubeconfig", "awsRoleArn"] as const;

  it("appear only as ${{ secrets.NAME }} / ${{ vars.NAME }} references with the registry's names", () => {
    const { files } = generateWorkflows(REAL_REGISTRIES);
    const pipelines = parse(fs.readFileSync(path.join(REAL_REGISTRIES, "pipelines.yaml"), "utf8")) as {
      environments: { secrets?: Record<string, string> }[];
    };
    const names = new Set(pipelines.environments.flatMap((e) => SECRET_FIELDS.map((f) => e.secrets?.[f]).filter(Boolean)));
    for (const f of files) {
      const refs = [...f.content.matchAll(/\$\{\{\s*(secrets|vars)\.([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[2]!);
      for (const r of refs) expect(names, `${f.path} references ${r}`).toContain(r);
      // No other way to reach a secret, and nothing that looks like a value.
      expect(f.content).not.toMatch(/secrets\[|toJSON\(secrets\)|s3:\/\/[a-z0-9]|arn:aws:|-----BEGIN|client-certificate-data/);
      const wf = parse(f.content) as Workflow;
      for (const job of Object.values(wf.jobs)) {
        for (const s of job.steps) {
          for (const [key, value] of Object.entries(s.env ?? {})) {
            if (key === "GITHUB_TOKEN") {
              // The job's own short-lived token, scoped by the job's permissions; never a stored secret.
              expect(value, `${f.path} ${job.name} ${s.name}`).toBe("${{ github.token }}");
            } else if (key === "KUBECONFIG") {
              // A path: the file the kubeconfig step writes from the secret.
              expect(value, `${f.path} ${job.name} ${s.name}`).toBe("${{ runner.temp }}/kubeconfig");
            } else if (/PASSPHRASE|BACKEND|KUBECONFIG|TOKEN|KEY/.test(key)) {
              expect(value, `${f.path} ${job.name} ${s.name} env ${key}`).toMatch(/^\$\{\{ (secrets|vars)\.[A-Z0-9_]+ \}\}$/);
            }
          }
          if (s.with?.["role-to-assume"] !== undefined) expect(s.with["role-to-assume"]).toBe("${{ secrets.AWS_ROLE_ARN }}");
        }
      }
    }
  });

  it("never carry a value written in the registry in place of a name", () => {
    // A registry naming secrets only: the generated text holds the names, never anything else.
    const dir = copyRegistries(REAL_REGISTRIES);
    try {
      replaceIn(
        dir,
        "pipelines.yaml",
        "      backendUrl: PULUMI_BACKEND_URL\n      kubeconfig: KUBECONFIG_PROD\n",
        "      backendUrl: PROD_STATE_URL\n      kubeconfig: KUBECONFIG_PROD\n",
      );
      const files = generateWorkflows(dir).files;
      let prodJobs = 0;
      for (const f of files) {
        for (const [id, job] of Object.entries((parse(f.content) as Workflow).jobs)) {
          const command = job.steps.find((s) => s.id === id.slice(0, id.indexOf("-")));
          if (!command) continue;
          const expected = id.endsWith("-prod") ? "PROD_STATE_URL" : "PULUMI_BACKEND_URL";
          prodJobs += id.endsWith("-prod") ? 1 : 0;
          expect(command.env!.PULUMI_BACKEND_URL, `${f.path} ${id}`).toBe(`\${{ vars.${expected} }}`);
        }
      }
      expect(prodJobs).toBe(3);
      expect(files.find((f) => f.path.endsWith("release.yml"))!.content).toMatch(
        /^# {3}vars\.PROD_STATE_URL +state backend URL \(e\.g\. s3:\/\/BUCKET\) of prod$/m,
      );
    } finally {
      removeRegistries(dir);
    }
  });
});

describe("nexus ci generate", () => {
  it("writes the files and --check passes on them, then fails listing an edited one", async () => {
    const out = tempDir();
    const first = await cli(["generate", "--out", out]);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`wrote ${path.join(out, ".github/workflows/release.yml")}`);
    expect((await cli(["generate", "--check", "--out", out])).code).toBe(0);

    const release = path.join(out, ".github/workflows/release.yml");
    fs.appendFileSync(release, "# hand edit\n");
    fs.writeFileSync(path.join(out, ".github/workflows/old.yml"), `# ${GENERATED_MARKER} from registries/pipelines.yaml — do not edit.\n`);
    fs.writeFileSync(path.join(out, ".github/workflows/hand-written.yml"), "name: mine\n");
    const check = await cli(["generate", "--check", "--out", out]);
    expect(check.code).toBe(1);
    expect(check.out).toContain(`${release}: differs from the registry`);
    expect(check.out).toContain("old.yml: generated earlier, no pipeline produces it now");
    expect(check.out).not.toContain("hand-written.yml");
    expect(check.err).toContain("run `npx nexus ci generate`");

    expect((await cli(["generate", "--out", out])).code).toBe(0);
    expect(fs.existsSync(path.join(out, ".github/workflows/old.yml"))).toBe(false);
    expect(fs.existsSync(path.join(out, ".github/workflows/hand-written.yml"))).toBe(true);
    expect((await cli(["generate", "--check", "--out", out])).code).toBe(0);
  });

  it("shows help with an example and exits 2 on usage errors", async () => {
    const help = await cli(["generate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: nexus ci generate");
    expect(help.out).toContain("npx nexus ci generate --check");
    expect((await cli(["generate", "--target", "jenkins"])).code).toBe(2);
    expect((await cli(["generate", "--bogus"])).code).toBe(2);
    expect((await cli(["generate", "extra"])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
    expect((await cli(["frobnicate"])).code).toBe(2);
  });
});
