import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { auditComment, COMMENT_LIMIT } from "../../cmd/ci/commands/auditComment";
import { ADAPTERS, compareWithDisk, generateCiFiles, type GeneratedFile } from "../../cmd/ci";
import { CODEOWNERS_PATH } from "../../cmd/ci/github/codeowners";
import { GENERATED_MARKER } from "../../cmd/ci/github";
import { loadRegistries } from "../../domain/loader";
import { copyRegistries, REAL_REGISTRIES, removeRegistries, replaceIn, ROOT } from "../support/registries";
import { cli, tempDir } from "./support";

/**
 * How a change to the security gate reaches its owners: `nexus ci generate` writes
 * .github/CODEOWNERS from the teams registry (the owner of the security audit task reviews the
 * gate's files), the pull-request check compares with the target branch (`nexus check --base`),
 * and the combined audit comment (`nexus ci comment`) opens with every environment's security changes.
 */

const codeowners = (files: readonly GeneratedFile[]) => files.find((f) => f.path === CODEOWNERS_PATH)?.content;
const withRegistries = (edit: (dir: string) => void, test: (dir: string) => void) => {
  const dir = copyRegistries(REAL_REGISTRIES);
  try {
    edit(dir);
    test(dir);
  } finally {
    removeRegistries(dir);
  }
};

describe(".github/CODEOWNERS", () => {
  it("is committed exactly as `nexus ci generate` writes it", () => {
    const result = generateCiFiles(REAL_REGISTRIES);
    expect(result.problems).toEqual([]);
    expect(result.files.map((f) => f.path)).toEqual([
      ".github/workflows/drift.yml",
      ".github/workflows/pull-request.yml",
      ".github/workflows/release.yml",
      CODEOWNERS_PATH,
    ]);
    const differences = compareWithDisk(ADAPTERS.github!, result.files, ROOT);
    expect(differences, "run `npx nexus ci generate` and commit .github/").toEqual([]);
  });

  it("makes the owner of the security audit task review the security and pipelines registries, schemas, pack, floor and workflows", () => {
    const text = codeowners(generateCiFiles(REAL_REGISTRIES).files)!;
    const lines = text.split("\n");
    expect(lines[0]).toBe(`# ${GENERATED_MARKER} from registries/security.yaml, registries/automation.yaml,`);
    expect(text).toContain("review of team security\n# (nexus-platform/security): it owns the security audit task security-audit");
    expect(lines.filter((l) => l !== "" && !l.startsWith("#"))).toEqual([
      "/registries/security.yaml @nexus-platform/security",
      "/registries/pipelines.yaml @nexus-platform/security",
      "/registries/schema/ @nexus-platform/security",
      "/policy/ @nexus-platform/security",
      "/domain/floors.ts @nexus-platform/security",
      "/.github/workflows/ @nexus-platform/security",
      "/.github/CODEOWNERS @nexus-platform/security",
    ]);
    // Every comment on a line of its own, none wider than 100 characters.
    for (const l of lines) if (l.includes("#")) expect(l.startsWith("#") && l.length <= 100, l).toBe(true);
  });

  it("follows the audit task's owner and that team's githubTeam", () => {
    withRegistries(
      (dir) => {
        replaceIn(dir, "automation.yaml", "kind: security-audit\n    owner: security\n", "kind: security-audit\n    owner: sre\n");
        replaceIn(dir, "orchestration.yaml", "githubTeam: nexus-platform/sre\n", "githubTeam: nexus-platform/sre-leads\n");
      },
      (dir) => {
        const text = codeowners(generateCiFiles(dir).files)!;
        expect(text).toContain("/registries/security.yaml @nexus-platform/sre-leads\n");
        expect(text).toContain("review of team sre\n# (nexus-platform/sre-leads)");
      },
    );
  });

  it("is a located problem, and nothing is generated, when the owning team has no githubTeam", async () => {
    const owner = "    channel: security-slack\n    githubTeam: nexus-platform/security\n";
    withRegistries(
      (dir) => replaceIn(dir, "orchestration.yaml", owner, "    channel: security-slack\n"),
      (dir) => {
        const result = generateCiFiles(dir);
        expect(result.files).toEqual([]);
        const line = fs.readFileSync(path.join(dir, "orchestration.yaml"), "utf8").split("\n").indexOf("  - name: security");
        expect(result.problems.map((p) => `${p.file}:${p.line} ${p.path}: ${p.message}`)).toEqual([
          `registries/orchestration.yaml:${line + 1} teams[5].githubTeam: team "security" owns the security audit task "security-audit", so ` +
            '.github/CODEOWNERS makes it review the security and pipelines registries: give it githubTeam, its GitHub team as "org/team"',
        ]);
      },
    );
  });

  it("rejects a githubTeam that is not org/team, at its line", () => {
    withRegistries(
      (dir) => replaceIn(dir, "orchestration.yaml", "githubTeam: nexus-platform/security\n", "githubTeam: security\n"),
      (dir) => {
        const problems = loadRegistries({ registriesDir: dir }).problems;
        expect(problems.map((p) => `${p.file} ${p.path}: ${p.message}`)).toEqual([
          expect.stringMatching(
            /^registries\/orchestration\.yaml teams\[5\]\.githubTeam: .*must be a GitHub team "org\/team", e\.g\. "nexus-platform\/security"/,
          ),
        ]);
      },
    );
  });

  it("is covered by --check: missing, then edited, then regenerated", async () => {
    const out = tempDir();
    expect((await cli(["generate", "--out", out])).code).toBe(0);
    const file = path.join(out, CODEOWNERS_PATH);
    expect(fs.readFileSync(file, "utf8")).toBe(fs.readFileSync(path.join(ROOT, CODEOWNERS_PATH), "utf8"));
    fs.rmSync(file);
    let check = await cli(["generate", "--check", "--out", out]);
    expect(check.code).toBe(1);
    expect(check.out).toBe(`${file}: missing`);
    fs.writeFileSync(file, "* @someone\n");
    check = await cli(["generate", "--check", "--out", out]);
    expect(check.code).toBe(1);
    expect(check.out).toBe(`${file}: differs from the registry`);
    expect((await cli(["generate", "--out", out])).code).toBe(0);
    expect((await cli(["generate", "--check", "--out", out])).code).toBe(0);
  });
});

type Step = { name: string; id?: string; uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, unknown> };
type Workflow = { jobs: Record<string, { steps: Step[] }> };

describe("the pull-request check", () => {
  const workflows = Object.fromEntries(
    generateCiFiles(REAL_REGISTRIES)
      .files.filter((f) => f.path.startsWith(".github/workflows/"))
      .map((f) => [path.basename(f.path, ".yml"), parse(f.content) as Workflow]),
  );

  it("compares with the target branch, fetched with its history", () => {
    const wf = workflows["pull-request"]!;
    const checks = Object.keys(wf.jobs).filter((id) => id.startsWith("check-"));
    expect(checks.length).toBeGreaterThan(0);
    for (const id of checks) {
      const steps = wf.jobs[id]!.steps;
      // Every branch with its history, and no token left in .git/config for the pull request's code to read.
      expect(steps[0]).toEqual({
        name: "Check out",
        uses: expect.stringMatching(/^actions\/checkout@/),
        with: { "fetch-depth": 0, "persist-credentials": false },
      });
      const check = steps.find((s) => s.id === "check")!;
      // The branch name reaches the script as a variable, never as script text.
      expect(check.env!.BASE_REF).toBe("${{ github.base_ref }}");
      expect(check.run).toContain(` --base "origin/$BASE_REF" `);
      expect(check.run).not.toContain("${{");
    }
    // Only the check needs the history: every other checkout stays shallow, and none keeps the token.
    const others = Object.entries(workflows).flatMap(([name, w]) =>
      Object.entries(w.jobs)
        .filter(([id]) => !(name === "pull-request" && id.startsWith("check-")))
        .map(([, job]) => job.steps[0]!),
    );
    expect(others.length).toBeGreaterThan(0);
    for (const s of others) expect(s.with).toEqual({ "persist-credentials": false });
    for (const name of ["release", "drift"]) expect(JSON.stringify(workflows[name])).not.toContain("--base");
  });
});

describe("the audit comment", () => {
  const report = (env: string, change: string) =>
    [
      `<!-- nexus-audit stack=${env} -->`,
      "<!-- nexus-security-changes -->",
      `### Security changes in \`${env}\` against \`origin/main\` (\`0123456\`)`,
      "",
      change,
      "<!-- /nexus-security-changes -->",
      "",
      `**0 mandatory violations, 0 advisory, 3 resources, 40 policies** in ${env}`,
      "",
      `<details><summary>All resources</summary>\n\n${"| x | y |\n".repeat(4000)}\n</details>`,
    ].join("\n");

  it("opens with every environment's security changes, taken out of the reports and kept when the rest is truncated", () => {
    const dir = tempDir("nexus-audit-");
    const changes = {
      dev: "- 🔓 **loosens** dev: policy read-only-root-filesystem: `advisory` → `disabled` (`registries/security.yaml:123`)",
      prod: "- 🔓 **loosens** prod: egress rule smtp-relay port: `none` → `25` (`registries/security.yaml:23`)",
    };
    for (const env of ["dev", "prod"] as const) {
      fs.mkdirSync(path.join(dir, `nexus-audit-${env}`));
      fs.writeFileSync(path.join(dir, `nexus-audit-${env}`, "status"), "preview=success\naudit=success\n");
      fs.writeFileSync(path.join(dir, `nexus-audit-${env}`, "audit.md"), report(env, changes[env]));
    }
    const { body, failed } = auditComment({ dir, environments: ["dev", "prod"] });
    expect(failed).toEqual([]);
    expect(body.length).toBeLessThan(COMMENT_LIMIT + 200);
    expect(body).toContain("_Truncated: the full reports are in the workflow run's artifacts._");
    const head = body.slice(0, body.indexOf("### ✅ dev"));
    expect(head).toBe(
      [
        "## NEXUS policy audit",
        "",
        "updated on every push",
        "",
        "### Security changes in `dev` against `origin/main` (`0123456`)",
        "",
        changes.dev,
        "",
        "### Security changes in `prod` against `origin/main` (`0123456`)",
        "",
        changes.prod,
        "",
        "",
      ].join("\n"),
    );
    // Shown once: the environments' sections keep the rest of their reports.
    expect(body.split(changes.dev)).toHaveLength(2);
    expect(body).toContain("### ✅ dev: preview success, audit success\n\n<!-- nexus-audit stack=dev -->\n**0 mandatory violations");
  });
});
