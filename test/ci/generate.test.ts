import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTIONS, GENERATED_MARKER, NODE_VERSION } from "../../cmd/ci/github";
import { ADAPTERS, compareWithDisk, generateWorkflows, type GeneratedFile } from "../../cmd/ci";
import { copyRegistries, REAL_REGISTRIES, removeRegistries, replaceIn, ROOT } from "../support/registries";
import { cli, tempDir } from "./support";

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
type Step = { name: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown> };

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

  it("preview every target behind the policy gate and post one audit comment on pull requests", () => {
    const wf = workflow(generateWorkflows(REAL_REGISTRIES).files, "pull-request");
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(Object.keys(wf.jobs)).toEqual(["checks", "preview-dev", "preview-prod", "audit-comment"]);
    expect(runs(wf.jobs.checks!)).toContain("npx nexus validate --format text");
    expect(runs(wf.jobs.checks!)).toContain("npm run test:unit");
    for (const env of ["dev", "prod"]) {
      const job = wf.jobs[`preview-${env}`]!;
      expect(job.needs).toEqual(["checks"]);
      const text = runs(job);
      expect(text).toContain("scripts/bootstrap");
      expect(text).toContain(`npx nexus policy-config --env ${env} --out "$RUNNER_TEMP/nexus-policy-${env}.json"`);
      expect(text).toContain(`pulumi preview --stack ${env} --policy-pack policy --policy-pack-config "$RUNNER_TEMP/nexus-policy-${env}.json"`);
      expect(text).toContain(`npx nexus audit --stack ${env} --base "origin/$BASE_REF" --format md`);
      const audit = job.steps.find((s) => s.run?.includes("nexus audit")) as Step & { "continue-on-error"?: boolean };
      expect(audit["continue-on-error"]).toBe(true);
      expect(job.steps.at(-1)!.run).toContain("exit 1");
      const cache = job.steps.find((s) => s.uses === ACTIONS.cache)!;
      expect(cache.with).toMatchObject({ path: "~/.cache/nexus" });
      expect(String(cache.with!.key)).toContain("hashFiles('package-lock.json'");
    }
    expect(wf.jobs["preview-prod"]!.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(runs(wf.jobs["preview-prod"]!)).toContain('pulumi login "$PULUMI_BACKEND_URL"');
    const comment = wf.jobs["audit-comment"]!;
    expect(comment.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(runs(comment)).toContain('npx nexus ci comment --audit-dir "$RUNNER_TEMP/nexus-audit" --envs dev,prod --sha "$HEAD_SHA" --out');
    const post = comment.steps.at(-1)!;
    expect(post.run).toContain('npx nexus ci post-comment --pr "$PR_NUMBER" --marker nexus-audit --body-file');
    expect(post.env).toEqual({ GITHUB_TOKEN: "${{ github.token }}", PR_NUMBER: "${{ github.event.pull_request.number }}" });
    // The comment is posted even when the gate failed (the comment step exits 1 after writing it).
    expect((post as Step & { if?: string }).if).toBe("${{ !cancelled() && steps.comment.outcome != 'skipped' }}");
  });

  it("tell drift from failure by the exit status and open one issue per stack", () => {
    const wf = workflow(generateWorkflows(REAL_REGISTRIES).files, "drift");
    expect(wf.on).toEqual({ schedule: [{ cron: "0 5 * * *" }], workflow_dispatch: {} });
    for (const env of ["dev", "prod"]) {
      const job = wf.jobs[`drift-${env}`]!;
      expect(job.permissions).toMatchObject({ contents: "read", issues: "write" });
      const detect = job.steps.find((s) => s.run?.includes("pulumi refresh"))!;
      expect(detect.run).toContain(`pulumi refresh --preview-only --expect-no-changes --json --stack ${env}`);
      expect(detect.run).toContain("7) result=drift");
      expect(detect.run).toContain('exit "$rc"');
      expect(detect.run).toContain(`npx nexus ci report-errors --report "$RUNNER_TEMP/nexus-drift-${env}.json"`);
      const [write, post] = job.steps.slice(-2) as (Step & { if?: string })[];
      expect(write!.run).toContain(`npx nexus ci drift-issue --stack ${env} --env ${env} --report "$RUNNER_TEMP/nexus-drift-${env}.json" --out`);
      expect(post!.run).toContain(`npx nexus ci post-issue --title "Drift detected in stack ${env}" --body-file "$RUNNER_TEMP/nexus-drift-${env}.md"`);
      expect(post!.env).toEqual({ GITHUB_TOKEN: "${{ github.token }}" });
      for (const s of [write!, post!]) expect(s.if).toBe("${{ steps.drift.outputs.result == 'drift' }}");
    }
  });
});

/** Every `npx nexus ci SUBCOMMAND ARGS` a run: script holds, with its arguments as the shell splits them. */
function nexusCiCalls(files: readonly GeneratedFile[]): { line: string; args: string[] }[] {
  const calls: { line: string; args: string[] }[] = [];
  for (const f of files) {
    for (const job of Object.values((parse(f.content) as Workflow).jobs)) {
      for (const m of runs(job).matchAll(/npx nexus ci ((?:"[^"]*"|'[^']*'|[^\s)"'])+(?:[ \t]+(?:"[^"]*"|'[^']*'|[^\s)"'])+)*)/g)) {
        const args = [...m[1]!.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((w) => w[1] ?? w[2] ?? w[3]!);
        calls.push({ line: m[0], args });
      }
    }
  }
  return calls;
}

describe("the workflows are thin", () => {
  const files = generateWorkflows(REAL_REGISTRIES).files;

  it("hold no program: no inline node, no github-script, only `npx nexus` commands and shell glue", () => {
    for (const f of files) {
      expect(f.content, f.path).not.toMatch(/node -e|node --eval|github-script|script:/);
      for (const job of Object.values((parse(f.content) as Workflow).jobs)) {
        for (const s of job.steps) expect(Object.keys(s.with ?? {}), `${f.path} ${s.name}`).not.toContain("script");
      }
    }
  });

  it("call `nexus ci` subcommands with arguments the commands accept", async () => {
    const calls = nexusCiCalls(files);
    expect(new Set(calls.map((c) => c.args[0]))).toEqual(
      new Set(["region", "report-errors", "comment", "post-comment", "drift-issue", "post-issue", "check-protection"]),
    );
    for (const call of calls) {
      // --help is answered only after every other argument parsed: 0 means they all did.
      const run = await cli([...call.args, "--help"]);
      expect(run.code, `${call.line}\n${run.err}`).toBe(0);
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
});

describe("a pipeline with three environments", () => {
  let dir: string;
  let files: GeneratedFile[];
  beforeAll(() => {
    dir = copyRegistries(REAL_REGISTRIES);
    replaceIn(
      dir,
      "pipelines.yaml",
      "  - name: prod\n",
      [
        "  - name: staging",
        "    stack: staging",
        "    approval: { required: true, reviewers: [nexus-platform/qa-leads] }",
        "    secrets:",
        "      passphrase: STAGING_PASSPHRASE",
        "      backendUrl: STAGING_BACKEND_URL",
        "      kubeconfig: KUBECONFIG_STAGING",
        "  - name: prod\n",
      ].join("\n"),
    );
    replaceIn(dir, "pipelines.yaml", "promotion: [dev, prod]", "promotion: [dev, staging, prod]");
    // Stages listed out of order: the jobs still follow the promotion order.
    replaceIn(
      dir,
      "pipelines.yaml",
      "      - { name: deploy-dev, type: deploy, targets: [dev], policyGate: true }\n      - { name: deploy-prod, type: deploy, targets: [prod], policyGate: true }",
      "      - { name: deploy-prod, type: deploy, targets: [prod], policyGate: true }\n      - { name: deploy-lower, type: deploy, targets: [staging, dev], policyGate: true }",
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
      expect(runs(job)).toContain(`pulumi up --yes --stack ${env} --policy-pack policy --policy-pack-config "$RUNNER_TEMP/nexus-policy-${env}.json"`);
    }
    expect(wf.jobs["deploy-staging"]!.name).toContain("nexus-platform/qa-leads");
  });

  it("checks the protection of every gated environment against the registry before deploying", () => {
    const job = workflow(files, "release").jobs["environment-protection"]!;
    expect(job.permissions).toEqual({ actions: "read", contents: "read" });
    // The command reads the reviewers and wait times from the registry of the same commit.
    expect(job.steps.at(-1)!.run).toBe("npx nexus ci check-protection --envs staging,prod\n");
    expect(job.steps.at(-1)!.env).toEqual({ GITHUB_TOKEN: "${{ github.token }}" });
    const text = files.find((f) => f.path.endsWith("release.yml"))!.content;
    expect(text).toContain("#   prod: approval by reviewers nexus-platform/sre-leads, nexus-platform/platform-leads, wait timer 10 min");
  });

  it("uses the staging secret names of the registry for staging", () => {
    const job = workflow(files, "release").jobs["deploy-staging"]!;
    const up = job.steps.find((s) => s.run?.includes("pulumi up"))!;
    expect(up.env).toEqual({
      PULUMI_CONFIG_PASSPHRASE: "${{ secrets.STAGING_PASSPHRASE }}",
      PULUMI_BACKEND_URL: "${{ vars.STAGING_BACKEND_URL }}",
    });
    expect(job.steps.find((s) => s.env?.KUBECONFIG_DATA)!.env!.KUBECONFIG_DATA).toBe("${{ secrets.KUBECONFIG_STAGING }}");
    expect(job.permissions).toBeUndefined();
  });
});

describe("free text from the registry", () => {
  it("keeps the workflows valid YAML: descriptions and reviewers with YAML and shell characters", () => {
    const dir = copyRegistries(REAL_REGISTRIES);
    try {
      replaceIn(
        dir,
        "pipelines.yaml",
        "description: Merge to main - deploy dev, then prod after approval.",
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
      expect(Object.keys(wf.jobs)).toEqual(["checks", "environment-protection", "deploy-dev", "deploy-prod"]);
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
      replaceIn(dir, "pipelines.yaml", "      backendUrl: PULUMI_BACKEND_URL\n", "      backendUrl: PROD_STATE_URL\n");
      const text = generateWorkflows(dir)
        .files.map((f) => f.content)
        .join("\n");
      expect(text).toContain("${{ vars.PROD_STATE_URL }}");
      expect(text).not.toContain("PULUMI_BACKEND_URL }}");
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
