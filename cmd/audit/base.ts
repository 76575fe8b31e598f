/**
 * `nexus audit --base REF`: the registries as they are at a git revision, loaded for the stack's
 * environment and compared with the working tree's (securityDiff.ts). The five files are read
 * with `git show` into a temporary folder of the same name, so that the base loads, and reports
 * its problems, exactly as the working tree's registries do.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatProblem, loadRegistries } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { REGISTRY_FILES } from "../../domain/schema";
import type { ComplianceReport, ReportBase } from "./schema";
import { securityChanges, type SecurityChange } from "./securityDiff";
import { registryLocator } from "./securityLocate";

/** A revision git cannot resolve, or no git: a usage error of `--base` (exit 2), one line. */
export class BaseRefError extends Error {}

interface Git {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function git(cwd: string, args: string[]): Git {
  const r = spawnSync("git", ["-C", cwd, ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new BaseRefError(code === "ENOENT" ? "--base needs git, which is not installed or not on PATH" : `--base: git failed: ${r.error.message}`);
  }
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

/** The commit REF names, as seen from the registries folder's repository. */
export function resolveBase(ref: string, registriesDir: string): string {
  const found = git(registriesDir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  if (found.ok) return found.stdout.trim();
  if (!git(registriesDir, ["rev-parse", "--git-dir"]).ok) throw new BaseRefError(`--base ${ref}: ${registriesDir} is not inside a git repository`);
  throw new BaseRefError(`--base ${ref}: no such commit, branch or tag in this repository (fetch it first, e.g. git fetch origin main)`);
}

/**
 * Writes the registry files of `commit` (those that exist there) into a fresh folder named like
 * `registriesDir`; returns it. The caller removes its parent.
 */
function checkOutRegistries(commit: string, registriesDir: string): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nexus-base-")), path.basename(path.resolve(registriesDir)));
  fs.mkdirSync(dir);
  for (const { file } of Object.values(REGISTRY_FILES)) {
    // "./" is relative to the folder git runs in: the registries may sit anywhere in the repository.
    const shown = git(registriesDir, ["show", `${commit}:./${file}`]);
    if (shown.ok) fs.writeFileSync(path.join(dir, file), shown.stdout);
  }
  return dir;
}

export interface BaseComparison {
  base: ReportBase;
  securityChanges: SecurityChange[];
}

/**
 * The security changes of the working tree's registries (`head`, loaded from `registriesDir`)
 * against those of `ref`. Registries that do not load at `ref` give no changes and say why in
 * `base.problem`. Throws BaseRefError when git cannot resolve `ref`.
 */
export function compareWithBase(options: { ref: string; registriesDir: string; head: Model; today: string }): BaseComparison {
  const { ref, registriesDir, head, today } = options;
  const commit = resolveBase(ref, registriesDir);
  const env = head.environment.name;
  const dir = checkOutRegistries(commit, registriesDir);
  try {
    const loaded = loadRegistries({ registriesDir: dir, env, today });
    if (loaded.problems.length > 0 || !loaded.model) {
      const n = loaded.problems.length;
      const first = loaded.problems[0];
      return {
        base: {
          ref,
          commit,
          loaded: false,
          problem:
            `the registries at ${ref} do not load for ${env} (${n} problem${n === 1 ? "" : "s"}${first ? `, first: ${formatProblem(first)}` : ""}), ` +
            "so their security changes are not listed",
        },
        securityChanges: [],
      };
    }
    return { base: { ref, commit, loaded: true }, securityChanges: securityChanges(loaded.model, head, registryLocator(registriesDir, env)) };
  } finally {
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
}

/** The report with the comparison placed after its summary: the changes come before the verdicts. */
export function withBase(report: ComplianceReport, comparison: BaseComparison): ComplianceReport {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(report)) {
    out[key] = value;
    if (key === "summary") Object.assign(out, comparison);
  }
  return out as unknown as ComplianceReport;
}

/** One line for standard error: how many changes, and how many loosen. */
export function baseLine(comparison: BaseComparison): string {
  const { base, securityChanges: changes } = comparison;
  if (!base.loaded) return base.problem ?? `the registries at ${base.ref} do not load`;
  const loosens = changes.filter((c) => c.direction === "loosens").length;
  return `${changes.length} security change${changes.length === 1 ? "" : "s"} against ${base.ref} (${loosens} loosen${loosens === 1 ? "s" : ""}, ${changes.length - loosens} tighten${changes.length - loosens === 1 ? "s" : ""})`;
}
