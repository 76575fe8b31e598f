import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { PROJECT_DIR } from "../audit/stack";
import { parseJsonValues, summarize, type RunSummary } from "./events";

// How the delivery commands run the engine: always through scripts/stack, so a laptop and a CI job
// get the same bootstrap, backend, secrets provider, stack config copy and policy gate.

export interface StackRun {
  code: number;
  /** Everything pulumi wrote to standard output (its --json document or event stream). */
  stdout: string;
  summary: RunSummary;
}

export interface StackRunner {
  (action: string, stack: string, flags: readonly string[], extraEnv?: NodeJS.ProcessEnv): Promise<StackRun>;
}

/**
 * scripts/stack ACTION on STACK with pulumi's --json output captured and summarized. Its standard
 * error (the stack command's own lines, pulumi's errors) goes to ours, so a CI log shows them.
 */
export function stackRunner(projectDir: string = PROJECT_DIR): StackRunner {
  return (action, stack, flags, extraEnv = {}) =>
    new Promise((resolve) => {
      const child = spawn("bash", [path.join(projectDir, "scripts", "stack"), action, ...flags], {
        cwd: projectDir,
        env: { ...process.env, ...extraEnv, NEXUS_STACK: stack },
        stdio: ["ignore", "pipe", "inherit"],
      });
      const out: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.on("error", (error) => resolve({ code: 127, stdout: "", summary: { ...summarize([]), errors: [error.message] } }));
      child.on("close", (code) => {
        const stdout = Buffer.concat(out).toString("utf8");
        let values: unknown[] = [];
        try {
          values = parseJsonValues(stdout);
        } catch {
          // Not JSON (an early failure of the stack command): the summary stays empty.
        }
        resolve({ code: code ?? 1, stdout, summary: summarize(values) });
      });
    });
}

/**
 * The commit the checkout is at, and whether it differs from it: changed tracked files or
 * untracked ones that are not ignored, as Pulumi's own git.dirty in the update history counts.
 */
export function gitHead(projectDir: string = PROJECT_DIR): { commit: string; dirty: boolean } | { error: string } {
  const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: projectDir, encoding: "utf8" });
  if (head.status !== 0) return { error: `not a git checkout (git rev-parse HEAD: ${(head.stderr || head.error?.message || "").trim()})` };
  const status = spawnSync("git", ["status", "--porcelain"], { cwd: projectDir, encoding: "utf8" });
  return { commit: head.stdout.trim(), dirty: status.stdout.trim() !== "" };
}

/** Who runs the command, for the record: the CI actor, else the login name. */
export function actor(env: NodeJS.ProcessEnv = process.env): string {
  return env.NEXUS_ACTOR || env.GITHUB_ACTOR || env.USER || env.LOGNAME || "unknown";
}
