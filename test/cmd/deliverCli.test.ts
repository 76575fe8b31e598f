/**
 * `nexus check`, `deploy`, `drift` and `history` with a stand-in for scripts/stack that records
 * each call and answers with what Pulumi 3.274 writes: the exit status, the Markdown written, and
 * which engine runs happen (none after a refusal). The stacks, their promotion and approval rules
 * are the repository's own (Pulumi.<stack>.yaml, registries/pipelines.yaml); `check` runs the real
 * credential-free audit.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { checkCommand, deployCommand, driftCommand, historyCommand } from "../../cmd/deliver/cli";
import type { StackRun, StackRunner } from "../../cmd/deliver/engine";
import { parseJsonValues, summarize, type Change } from "../../cmd/deliver/events";
import { parseRecord, recordMessage } from "../../cmd/deliver/record";
import { CONFIGMAP, DEPLOYMENT, FAILING_PREVIEW, historyEntry, PASSING_PREVIEW, previewDocument, STACK_URN, step, UP_OUTPUT } from "./deliverFixtures";

const HEAD = "3f9c2b7e1d0a4c5b8e6f7a9d2c1b0e3f4a5d6c7b";
const OLDER = "9a8b7c6d5e4f30211203948576afbecd01234567";
const CLEAN = { commit: HEAD, dirty: false };
const STREAMED = { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" };

interface Call {
  action: string;
  stack: string;
  flags: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** A run as scripts/stack reports it: its exit status and standard output, summarized as the real runner does. */
function ran(code: number, stdout = "", summary?: Partial<StackRun["summary"]>): StackRun {
  let values: unknown[] = [];
  try {
    values = parseJsonValues(stdout);
  } catch {
    // As the real runner: output that is not JSON leaves the summary empty.
  }
  return { code, stdout, summary: { ...summarize(values), ...summary } };
}

type Reply = StackRun | ((stack: string, flags: readonly string[]) => StackRun);

/** The stand-in: answers by action ("history", "preview", ...), fails any action it has no answer for. */
function fakeRunner(replies: Record<string, Reply>) {
  const calls: Call[] = [];
  const run: StackRunner = async (action, stack, flags, env) => {
    calls.push({ action, stack, flags: [...flags], env });
    const reply = replies[action];
    if (!reply) return ran(127, "", { errors: [`no reply for ${action}`] });
    return typeof reply === "function" ? reply(stack, flags) : reply;
  };
  return { run, calls, actions: () => calls.map((c) => `${c.action} ${c.stack}`) };
}

const history = (...entries: ReturnType<typeof historyEntry>[]) => ran(0, JSON.stringify(entries, null, 4));
const at = (hour: number) => `2026-12-01T${String(hour).padStart(2, "0")}:00:00.000Z`;
/** The promotion check passes: HEAD went to the stack before from a clean checkout. */
const deployedHead = () =>
  history(historyEntry({ start: at(10), commit: HEAD, message: recordMessage({ commit: HEAD, by: "ci", approvals: [], verdicts: "x" }) }));

let tmp: string;
let err: MockInstance<typeof console.error>;
let out: MockInstance<typeof process.stdout.write>;
const stderr = () => err.mock.calls.map((c) => c.map(String).join(" ")).join("\n");
const stdout = () => out.mock.calls.map((c) => String(c[0])).join("");
const outFile = (name: string) => path.join(tmp, name);
const read = (file: string) => fs.readFileSync(file, "utf8");

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-deliver-"));
  err = vi.spyOn(console, "error").mockImplementation(() => undefined);
  out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  // As in a workflow run: NEXUS_ACTOR names who deploys, GITHUB_ACTOR who triggered the run.
  vi.stubEnv("NEXUS_ACTOR", "dana-ops");
  vi.stubEnv("GITHUB_ACTOR", "merge-bot");
  vi.stubEnv("NEXUS_APPROVED_BY", undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  fs.rmSync(tmp, { recursive: true, force: true });
});
afterAll(() => vi.restoreAllMocks());

describe("nexus deploy", () => {
  it("deploys the first stack of the promotion without asking another stack's history, and records the deploy in the update's message", async () => {
    const r = fakeRunner({ preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    const code = await deployCommand(["--stack", "dev", "--out", outFile("deploy.md")], r.run, CLEAN);
    expect(code, stderr()).toBe(0);
    expect(r.actions()).toEqual(["preview dev", "up dev"]);
    expect(r.calls[0]).toMatchObject({ flags: ["--json"], env: STREAMED });

    const up = r.calls[1]!;
    expect(up.flags.slice(0, 3)).toEqual(["--json", "--skip-preview", "--message"]);
    expect(parseRecord(up.flags[3])).toEqual({ commit: HEAD, by: "dana-ops", approvals: [], verdicts: "3 evaluated, 0 mandatory and 1 advisory violations" });

    const body = read(outFile("deploy.md"));
    expect(body).toMatch(/^## nexus deploy of stack `dev`: deployed\n/);
    expect(body).toContain(`Commit ${HEAD.slice(0, 12)} by dana-ops; approvals: none.`);
    expect(body).toContain("**Resources:** update 1");
    expect(body).toContain("| update | kubernetes:core/v1:ConfigMap | system-dashboard-env | data.REFRESH_SECONDS |");
    expect(body).toContain(
      "| advisory | traceability-labels | system-dashboard-env | Policy traceability-labels. ConfigMap web/system-dashboard-env has no nexus.io/source annotation |",
    );
  });

  it("promotes to staging a commit dev runs from a clean checkout", async () => {
    const r = fakeRunner({ history: deployedHead(), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    const code = await deployCommand(["--stack", "staging", "--out", outFile("deploy.md")], r.run, CLEAN);
    expect(code, stderr()).toBe(0);
    expect(r.actions()).toEqual(["history dev", "preview staging", "up staging"]);
    expect(r.calls[0]!.flags).toEqual(["--json"]);
    expect(read(outFile("deploy.md"))).toContain("; promoted from dev.");
  });

  it.each([
    ["was never deployed", [], "it was never deployed"],
    ["runs another commit", [historyEntry({ start: at(10), commit: OLDER })], `it runs ${OLDER.slice(0, 12)}, deployed ${at(10)}`],
    [
      "ran HEAD only from a checkout with uncommitted changes",
      [historyEntry({ start: at(11), commit: HEAD, dirty: true }), historyEntry({ start: at(9), commit: OLDER })],
      `it runs ${HEAD.slice(0, 12)} (with uncommitted changes), deployed ${at(11)}`,
    ],
    [
      "failed to deploy HEAD",
      [historyEntry({ start: at(11), commit: HEAD, result: "failed" }), historyEntry({ start: at(9), commit: OLDER })],
      `it runs ${OLDER.slice(0, 12)}, deployed ${at(9)}`,
    ],
    [
      "only refreshed at HEAD",
      [historyEntry({ start: at(11), commit: HEAD, kind: "refresh" }), historyEntry({ start: at(9), commit: OLDER })],
      `it runs ${OLDER.slice(0, 12)}, deployed ${at(9)}`,
    ],
  ])("refuses staging when dev %s, and runs nothing after reading dev's history", async (_, entries, runs) => {
    const r = fakeRunner({ history: history(...entries), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    const code = await deployCommand(["--stack", "staging", "--out", outFile("deploy.md")], r.run, CLEAN);
    expect(code).toBe(1);
    expect(r.actions()).toEqual(["history dev"]);
    const body = read(outFile("deploy.md"));
    expect(body).toMatch(/^## nexus deploy of stack `staging`: refused\n/);
    expect(body).toContain(`commit ${HEAD.slice(0, 12)} is not deployed to dev (stack dev), the environment before staging; ${runs}. Deploy it there first.`);
    expect(body).toContain("Nothing was deployed.");
    expect(stderr()).toContain("nexus deploy: refused: commit");
  });

  it("refuses when the history of the stack before cannot be read", async () => {
    const r = fakeRunner({ history: ran(255, ""), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    expect(await deployCommand(["--stack", "staging"], r.run, CLEAN)).toBe(1);
    expect(r.actions()).toEqual(["history dev"]);
    expect(stderr()).toContain("cannot read the history of stack dev (exit 255)");
    expect(stdout()).toContain("Nothing was deployed.");
  });

  it("refuses prod without an approval, after its promotion check and before any preview", async () => {
    const r = fakeRunner({ history: deployedHead(), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    const code = await deployCommand(["--stack", "prod", "--out", outFile("deploy.md")], r.run, CLEAN);
    expect(code).toBe(1);
    expect(r.actions()).toEqual(["history staging"]);
    expect(read(outFile("deploy.md"))).toContain(
      "prod requires an approval (reviewers: nexus-platform/sre-leads, nexus-platform/platform-leads); none was given (--approved-by or NEXUS_APPROVED_BY)",
    );
  });

  it("does not take a blank --approved-by for an approval", async () => {
    const r = fakeRunner({ history: deployedHead(), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    expect(await deployCommand(["--stack", "prod", "--approved-by", " , "], r.run, CLEAN)).toBe(1);
    expect(r.actions()).toEqual(["history staging"]);
  });

  it("deploys prod with the approvals given, and records them", async () => {
    const r = fakeRunner({ history: deployedHead(), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    const code = await deployCommand(["--stack", "prod", "--approved-by", "lee, kim", "--out", outFile("deploy.md")], r.run, CLEAN);
    expect(code, stderr()).toBe(0);
    expect(r.actions()).toEqual(["history staging", "preview prod", "up prod"]);
    expect(parseRecord(r.calls[2]!.flags[3])).toMatchObject({ commit: HEAD, by: "dana-ops", approvals: ["lee", "kim"] });
    expect(read(outFile("deploy.md"))).toContain(`Commit ${HEAD.slice(0, 12)} by dana-ops; approvals: lee, kim; promoted from staging.`);
  });

  it("takes the approvals from NEXUS_APPROVED_BY, and --approved-by over it", async () => {
    vi.stubEnv("NEXUS_APPROVED_BY", "ops-lead");
    const fromEnv = fakeRunner({ history: deployedHead(), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    expect(await deployCommand(["--stack", "prod"], fromEnv.run, CLEAN)).toBe(0);
    expect(parseRecord(fromEnv.calls.at(-1)!.flags[3])?.approvals).toEqual(["ops-lead"]);

    const fromFlag = fakeRunner({ history: deployedHead(), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    expect(await deployCommand(["--stack", "prod", "--approved-by", "lee"], fromFlag.run, CLEAN)).toBe(0);
    expect(parseRecord(fromFlag.calls.at(-1)!.flags[3])?.approvals).toEqual(["lee"]);
  });

  it("records who ran it from GITHUB_ACTOR when NEXUS_ACTOR is not set", async () => {
    vi.stubEnv("NEXUS_ACTOR", undefined);
    const r = fakeRunner({ preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    expect(await deployCommand(["--stack", "dev"], r.run, CLEAN)).toBe(0);
    expect(parseRecord(r.calls[1]!.flags[3])?.by).toBe("merge-bot");
  });

  it("refuses when the preview fails, with the gate's verdicts, and never runs up", async () => {
    const r = fakeRunner({ preview: ran(1, FAILING_PREVIEW), up: ran(0, UP_OUTPUT) });
    const code = await deployCommand(["--stack", "dev", "--out", outFile("deploy.md")], r.run, CLEAN);
    expect(code).toBe(1);
    expect(r.actions()).toEqual(["preview dev"]);
    const body = read(outFile("deploy.md"));
    expect(body).toMatch(/^## nexus deploy of stack `dev`: refused by the preview\n/);
    expect(body).toContain("**Policy gate:** 3 policies evaluated, 2 without violations; 1 mandatory and 0 advisory violations");
    expect(body).toContain(
      "| mandatory | cronjob-deadlines | nightly-report | Policy cronjob-deadlines. CronJob web/nightly-report sets no startingDeadlineSeconds |",
    );
    expect(body).toContain("- preview failed");
    expect(body).toContain("Nothing was deployed.");
  });

  it("refuses a checkout with uncommitted changes, or no commit, before running anything", async () => {
    const dirty = fakeRunner({ history: deployedHead(), preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    expect(await deployCommand(["--stack", "dev", "--out", outFile("dirty.md")], dirty.run, { commit: HEAD, dirty: true })).toBe(1);
    expect(dirty.calls).toEqual([]);
    expect(read(outFile("dirty.md"))).toContain("the checkout has uncommitted changes or untracked files");

    const none = fakeRunner({ preview: ran(0, PASSING_PREVIEW), up: ran(0, UP_OUTPUT) });
    expect(await deployCommand(["--stack", "dev"], none.run, { error: "not a git checkout (git rev-parse HEAD: fatal: not a git repository)" })).toBe(1);
    expect(none.calls).toEqual([]);
    expect(stderr()).toContain("nexus deploy: refused: not a git checkout");
  });

  it("fails with the update's exit status when up fails, and says so in the summary", async () => {
    const failedUp =
      previewDocument([step("update", CONFIGMAP)], { same: 221, update: 1 }) +
      "\n" +
      JSON.stringify({
        sequence: 9,
        timestamp: 1796132425,
        diagnosticEvent: { urn: CONFIGMAP, prefix: "error: ", message: "the ConfigMap was not Ready\n", color: "never", severity: "error" },
      }) +
      "\n" +
      JSON.stringify({
        sequence: 10,
        timestamp: 1796132425,
        summaryEvent: { maybeCorrupt: true, durationSeconds: 300, resourceChanges: { same: 221 }, PolicyPacks: {}, isPreview: false, result: "failed" },
      });
    const r = fakeRunner({ preview: ran(0, PASSING_PREVIEW), up: ran(255, failedUp) });
    const code = await deployCommand(["--stack", "dev", "--out", outFile("deploy.md")], r.run, CLEAN);
    expect(code).toBe(1);
    expect(r.actions()).toEqual(["preview dev", "up dev"]);
    const body = read(outFile("deploy.md"));
    expect(body).toMatch(/^## nexus deploy of stack `dev`: failed \(exit 255\)\n/);
    expect(body).toContain("**Resources:** no changes");
    expect(body).toContain("- the ConfigMap was not Ready");
  });

  it.each([
    [[], "--stack is required"],
    [["--stack", "Dev"], "--stack Dev: not a stack name"],
    [["--stack", "qa"], "no Pulumi.qa.yaml: the stack qa is not declared"],
    [["--stack", "dev", "--force"], "Unknown option '--force'"],
  ])("exits 2 on a usage error (%j) and runs nothing", async (args, message) => {
    const r = fakeRunner({});
    expect(await deployCommand(args, r.run, CLEAN)).toBe(2);
    expect(r.calls).toEqual([]);
    expect(stderr()).toContain(message);
  });
});

describe("nexus drift", () => {
  const CLEAN_REFRESH = previewDocument([step("refresh", STACK_URN), step("refresh", CONFIGMAP), step("refresh", DEPLOYMENT)], { same: 221 });
  const drifted: Change = {
    op: "update",
    urn: CONFIGMAP,
    type: "kubernetes:core/v1:ConfigMap",
    name: "system-dashboard-env",
    properties: ["data.REFRESH_SECONDS"],
  };

  it("exits 0 and writes nothing when the live objects match the state", async () => {
    const r = fakeRunner({ drift: ran(0, CLEAN_REFRESH) });
    expect(await driftCommand(["--stack", "prod", "--out", outFile("drift.md")], r.run)).toBe(0);
    expect(r.calls.map((c) => [c.action, c.stack, c.flags])).toEqual([["drift", "prod", ["--json"]]]);
    expect(fs.existsSync(outFile("drift.md"))).toBe(false);
    expect(stderr()).toContain("nexus drift: stack prod: no drift");
  });

  it("exits 2 and lists each drifted resource and property in the issue body", async () => {
    const other: Change = { op: "delete", urn: DEPLOYMENT, type: "kubernetes:apps/v1:Deployment", name: "system-dashboard", properties: [] };
    const r = fakeRunner({ drift: ran(7, "", { changes: [drifted, other], counts: { same: 220, update: 1, delete: 1 } }) });
    expect(await driftCommand(["--stack", "dev", "--out", outFile("drift.md")], r.run)).toBe(2);
    const body = read(outFile("drift.md"));
    expect(body).toMatch(/^## Drift detected in stack `dev`\n/);
    expect(body).toContain("The live objects of 2 resource(s) differ");
    expect(body).toContain("npx nexus deploy --stack dev");
    expect(body).toContain("| update | kubernetes:core/v1:ConfigMap | system-dashboard-env | data.REFRESH_SECONDS |");
    expect(body).toContain("| delete | kubernetes:apps/v1:Deployment | system-dashboard | - |");
    expect(stderr()).toContain("drift in 2 resource(s)");
  });

  it("writes the issue body to standard output without --out", async () => {
    const r = fakeRunner({ drift: ran(7, "", { changes: [drifted] }) });
    expect(await driftCommand(["--stack", "dev"], r.run)).toBe(2);
    expect(stdout()).toContain("| update | kubernetes:core/v1:ConfigMap | system-dashboard-env | data.REFRESH_SECONDS |");
  });

  it.each([
    ["a failure with no output (no backend, no credentials)", ran(255, "")],
    [
      "a failure with error diagnostics",
      ran(255, "", { errors: ["error: failed to decrypt encrypted configuration value 'nexus-platform:grafanaAdminPassword'"] }),
    ],
    ["errors next to changes: a refresh that could not read every object", ran(255, "", { changes: [drifted], errors: ["configmaps is forbidden"] })],
  ])("exits 1, not 2, on %s, and writes no issue body", async (_, reply) => {
    const r = fakeRunner({ drift: reply });
    expect(await driftCommand(["--stack", "dev", "--out", outFile("drift.md")], r.run)).toBe(1);
    expect(fs.existsSync(outFile("drift.md"))).toBe(false);
    expect(stderr()).toContain("the check of stack dev failed (exit 255); this is not drift");
  });

  // What Pulumi 3.274 writes for `refresh --preview-only --expect-no-changes --json` when a live
  // object differs: every step is a "refresh", changeSummary counts the update, the exit status is 7.
  it("exits 2 on drift as Pulumi 3.274 reports it in the refresh document", async () => {
    const realDrift = previewDocument([step("refresh", STACK_URN), step("refresh", CONFIGMAP), step("refresh", DEPLOYMENT)], { same: 220, update: 1 });
    const r = fakeRunner({ drift: ran(7, realDrift) });
    expect(await driftCommand(["--stack", "dev", "--out", outFile("drift.md")], r.run)).toBe(2);
  });

  it("exits 2 on a usage error and runs nothing", async () => {
    const r = fakeRunner({});
    expect(await driftCommand(["--out", outFile("drift.md")], r.run)).toBe(2);
    expect(r.calls).toEqual([]);
  });
});

describe("nexus history", () => {
  const ENTRIES = [
    historyEntry({ start: at(12), commit: HEAD, kind: "refresh", changes: { same: 222 } }),
    historyEntry({
      start: at(10),
      commit: HEAD,
      message: recordMessage({ commit: HEAD, by: "dana-ops", approvals: ["lee"], verdicts: "3 evaluated, 0 mandatory and 1 advisory violations" }),
    }),
  ];

  it("prints the stack's updates as a Markdown table", async () => {
    const r = fakeRunner({ history: history(...ENTRIES) });
    expect(await historyCommand(["--stack", "prod"], r.run)).toBe(0);
    expect(r.calls.map((c) => [c.action, c.stack, c.flags])).toEqual([["history", "prod", ["--json"]]]);
    const text = stdout();
    expect(text).toContain("# Updates of stack prod (newest first)");
    expect(text).toContain(`| ${at(12)} | refresh | succeeded | - (not through nexus deploy) | ${HEAD.slice(0, 12)} | none | - | - |`);
    expect(text).toContain(
      `| ${at(10)} | update | succeeded | dana-ops | ${HEAD.slice(0, 12)} | update 1 | lee | 3 evaluated, 0 mandatory and 1 advisory violations |`,
    );
  });

  it("prints the entries as JSON with --json", async () => {
    const r = fakeRunner({ history: history(...ENTRIES) });
    expect(await historyCommand(["--stack", "prod", "--json"], r.run)).toBe(0);
    const entries = JSON.parse(stdout()) as { kind: string; commit: string; record?: { by: string; approvals: string[] } }[];
    expect(entries.map((e) => e.kind)).toEqual(["refresh", "update"]);
    expect(entries[1]).toMatchObject({ commit: HEAD, record: { by: "dana-ops", approvals: ["lee"] } });
    expect(entries[0]!.record).toBeUndefined();
  });

  it("says so for a stack without updates", async () => {
    const r = fakeRunner({ history: ran(0, "[]\n") });
    expect(await historyCommand(["--stack", "staging"], r.run)).toBe(0);
    expect(stdout()).toContain("No update yet.");
  });

  it("exits 1 when the history cannot be read, and prints no table", async () => {
    const r = fakeRunner({ history: ran(255, "") });
    expect(await historyCommand(["--stack", "prod"], r.run)).toBe(1);
    expect(stdout()).toBe("");
    expect(stderr()).toContain("nexus history: cannot read the history of stack prod (exit 255)");
  });
});

describe("nexus check", () => {
  // check loads the audit on use with require(), which resolves compiled JavaScript: under the test
  // runner the sources are TypeScript, so tsx compiles what that require() loads.
  let unregister: (() => void) | undefined;
  beforeAll(async () => {
    // (by a name the type checker leaves alone: tsx types this entry point for node16 resolution only)
    const { register } = (await import("tsx/cjs/api" as string)) as { register: () => () => void };
    unregister = register();
  });
  afterAll(() => unregister?.());

  it("passes with a passing preview and audit: one comment with the preview's changes, the gate's verdicts and the audit", async () => {
    const r = fakeRunner({ preview: ran(0, PASSING_PREVIEW) });
    const code = await checkCommand(["--stack", "dev", "--out", outFile("check.md")], r.run);
    expect(code, stderr()).toBe(0);
    expect(r.calls).toEqual([{ action: "preview", stack: "dev", flags: ["--json"], env: STREAMED }]);
    const body = read(outFile("check.md"));
    expect(body).toMatch(/^<!-- nexus-check:dev -->\n## nexus check of stack `dev`: passed\n/);
    expect(body).toContain("Preview exit 0, audit exit 0.");
    expect(body).toContain("**Resources:** 1 to update");
    expect(body).toContain("| update | kubernetes:core/v1:ConfigMap | system-dashboard-env | data.REFRESH_SECONDS |");
    expect(body).toContain("**Policy gate:** 3 policies evaluated, 2 without violations; 0 mandatory and 1 advisory violations");
    expect(body).toContain("### Audit and security changes");
    expect(body).toContain("<!-- nexus-audit stack=dev -->");
  });

  it("fails when the preview fails, naming the mandatory violation", async () => {
    const r = fakeRunner({ preview: ran(1, FAILING_PREVIEW) });
    const code = await checkCommand(["--stack", "dev", "--out", outFile("check.md")], r.run);
    expect(code).toBe(1);
    const body = read(outFile("check.md"));
    expect(body).toMatch(/^<!-- nexus-check:dev -->\n## nexus check of stack `dev`: failed\n/);
    expect(body).toContain("Preview exit 1, audit exit 0.");
    expect(body).toContain(
      "| mandatory | cronjob-deadlines | nightly-report | Policy cronjob-deadlines. CronJob web/nightly-report sets no startingDeadlineSeconds |",
    );
    expect(stderr()).toContain("nexus check: stack dev failed");
  });

  it("exits 2 on a usage error and runs nothing", async () => {
    const r = fakeRunner({});
    expect(await checkCommand(["--stack", "nope"], r.run)).toBe(2);
    expect(await checkCommand(["--base"], r.run)).toBe(2);
    expect(r.calls).toEqual([]);
  });
});
