/**
 * `nexus audit --base REF` against a throwaway git repository holding the real registries: the
 * report opens with what the working tree loosens against REF; registries that do not load at REF
 * are named in one line and the report follows; an unknown REF, or no git, is a usage error (2).
 * Run as CI runs it (support.ts bareEnv), with git on PATH.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComplianceReport } from "../../cmd/audit/schema";
import { SECURITY_CHANGES_BEGIN, SECURITY_CHANGES_END } from "../../cmd/audit/securityMarkdown";
import { REAL_REGISTRIES, ROOT, replaceIn } from "../support/registries";
import { TODAY, bareEnv, type CliRun } from "./support";

const repo = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-audit-base-"));
const registries = path.join(repo, "registries");
const runs = {} as Record<"changed" | "broken" | "unknown" | "noGit", CliRun>;

function git(...args: string[]): string {
  const r = spawnSync("git", ["-C", repo, "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The folders holding node and git: the whole PATH the command gets, as in CI plus git. */
function pathWith(...programs: string[]): string {
  const dirs = programs.map((p) => path.dirname(spawnSync("sh", ["-c", `command -v ${p}`], { encoding: "utf8" }).stdout.trim()));
  return [path.dirname(process.execPath), ...dirs].join(path.delimiter);
}

function nexus(args: readonly string[], PATH: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "nexus.js"), ...args], {
      cwd: ROOT,
      env: { ...bareEnv(), PATH },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** "registries/FILE:LINE" of the one line of the working tree's file that contains `text`. */
function lineOf(file: string, text: string): string {
  const lines = fs.readFileSync(path.join(registries, file), "utf8").split("\n");
  const found = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  if (found.length !== 1) throw new Error(`"${text}" is on ${found.length} lines of ${file}`);
  return `registries/${file}:${found[0]}`;
}

const READ_ONLY_DEV = "      dev: { enforcement: advisory } # local debugging sometimes needs a writable root";
const BACKUP_VERBS = "        verbs: [get, list, watch, create]\n";

beforeAll(async () => {
  fs.mkdirSync(registries);
  for (const f of fs.readdirSync(REAL_REGISTRIES)) if (f.endsWith(".yaml")) fs.copyFileSync(path.join(REAL_REGISTRIES, f), path.join(registries, f));
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "base");
  // A second commit whose security registry does not load, then the working tree back to the first and edited.
  const security = path.join(registries, "security.yaml");
  const good = fs.readFileSync(security, "utf8");
  fs.writeFileSync(security, good.replace("\npodSecurity:", "\npodSecurityLevel:"));
  git("commit", "-q", "-a", "-m", "broken");
  fs.writeFileSync(security, good);
  replaceIn(registries, "security.yaml", READ_ONLY_DEV, READ_ONLY_DEV.replace("advisory", "disabled"));
  replaceIn(registries, "security.yaml", BACKUP_VERBS, BACKUP_VERBS.replace("create]", "create, delete]"));

  const PATH = pathWith("git");
  const audit = ["audit", "--stack", "dev", "--registries", registries, "--today", TODAY];
  const [changed, broken, unknown, noGit] = await Promise.all([
    nexus([...audit, "--base", "HEAD~1", "--format", "json"], PATH),
    nexus([...audit, "--base", "HEAD"], PATH),
    nexus([...audit, "--base", "no-such-branch"], PATH),
    // An empty folder as PATH: node runs by its full path, git is nowhere.
    nexus([...audit, "--base", "HEAD"], fs.mkdtempSync(path.join(repo, "bin-"))),
  ]);
  Object.assign(runs, { changed, broken, unknown, noGit });
}, 240_000);

afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

describe("nexus audit --base", () => {
  it("lists what the working tree loosens against REF, with the FILE:LINE of each new value; the exit status is unchanged", () => {
    const run = runs.changed;
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ComplianceReport;
    expect(report.base).toEqual({ ref: "HEAD~1", commit: git("rev-parse", "HEAD~1"), loaded: true });
    const verbs = lineOf("security.yaml", "verbs: [get, list, watch, create, delete]");
    expect(report.securityChanges).toEqual([
      {
        direction: "loosens",
        environment: "dev",
        area: "policy",
        what: "policy read-only-root-filesystem",
        from: "advisory",
        to: "disabled",
        source: lineOf("security.yaml", "dev: { enforcement: disabled } # local debugging"),
      },
      ...["batch/jobs", "batch/cronjobs"].map((resource) => ({
        direction: "loosens",
        environment: "dev",
        area: "rbac",
        what: `rbac binding data-backup-operators verbs on ${resource}`,
        from: "get, list, watch, create",
        to: "get, list, watch, create, delete",
        source: verbs,
      })),
    ]);
    // Placed before the verdicts.
    expect(Object.keys(report).indexOf("securityChanges")).toBeLessThan(Object.keys(report).indexOf("violations"));
    expect(run.stderr).toContain("nexus audit dev: 3 security changes against HEAD~1 (3 loosen, 0 tighten)");
  });

  it("says in one line that the registries at REF do not load, and still writes the report", () => {
    const run = runs.broken;
    expect(run.code, run.stderr).toBe(0);
    const complaint = run.stderr.split("\n").filter((l) => l.includes("do not load"));
    expect(complaint).toEqual([
      expect.stringMatching(/^nexus: the registries at HEAD do not load for dev \(\d+ problems?, first: registries\/security\.yaml:\d+:\d+ /),
    ]);
    const md = run.stdout;
    const lines = md.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "<!-- nexus-audit stack=dev -->",
      SECURITY_CHANGES_BEGIN,
      `### Security changes in \`dev\` against \`HEAD\` (\`${git("rev-parse", "--short=7", "HEAD")}\`)`,
    ]);
    expect(lines[4]).toMatch(/^⚠️ the registries at HEAD do not load for dev \(/);
    expect(lines[5]).toBe(SECURITY_CHANGES_END);
    expect(md).toMatch(/\n\*\*0 mandatory violations, 0 advisory, \d+ resources, \d+ policies\*\*\n/);
    expect(md).toContain("### Violations");
  });

  it("exits 2 with one line when REF is unknown or git is missing", () => {
    expect(runs.unknown.code).toBe(2);
    expect(runs.unknown.stdout).toBe("");
    expect(runs.unknown.stderr).toBe(
      "nexus: --base no-such-branch: no such commit, branch or tag in this repository (fetch it first, e.g. git fetch origin main)\n",
    );
    expect(runs.noGit.code).toBe(2);
    expect(runs.noGit.stdout).toBe("");
    expect(runs.noGit.stderr).toBe("nexus: --base needs git, which is not installed or not on PATH\n");
  });
});
