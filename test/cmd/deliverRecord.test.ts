/**
 * The record `nexus deploy` writes into an update's message and reads back, and a stack's history
 * as `pulumi stack history --json` gives it: which update deployed a commit (the promotion check),
 * the last deploy (for a refusal) and the Markdown table `nexus history` prints.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deployedAt, historyEntries, historyMarkdown, lastDeployed, parseRecord, recordMessage, type DeployRecord } from "../../cmd/deliver/record";
import { historyEntry } from "./deliverFixtures";

const HEAD = "3f9c2b7e1d0a4c5b8e6f7a9d2c1b0e3f4a5d6c7b";
const OLDER = "9a8b7c6d5e4f30211203948576afbecd01234567";
const VERDICTS = "41 evaluated, 0 mandatory and 2 advisory violations";

describe("recordMessage and parseRecord", () => {
  it("reads back what was written, approvals or none", () => {
    const withApprovals: DeployRecord = { commit: HEAD, by: "dana-ops", approvals: ["sre-lead", "platform-lead"], verdicts: VERDICTS };
    const message = recordMessage(withApprovals);
    expect(message).toBe(`nexus deploy ${HEAD} by dana-ops; approvals: sre-lead, platform-lead; policies: ${VERDICTS}`);
    expect(parseRecord(message)).toEqual(withApprovals);

    const none: DeployRecord = { commit: HEAD.slice(0, 7), by: "github-actions[bot]", approvals: [], verdicts: VERDICTS };
    expect(recordMessage(none)).toContain("; approvals: none; ");
    expect(parseRecord(recordMessage(none))).toEqual(none);
  });

  it("round-trips any commit, GitHub login and verdict line (a line deploy writes: printable, not blank at either end)", () => {
    const login = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/);
    const record = fc.record({
      commit: fc.stringMatching(/^[0-9a-f]{7,40}$/),
      by: fc.oneof(
        login,
        login.map((l) => `${l}[bot]`),
      ),
      approvals: fc.array(login, { maxLength: 4 }),
      verdicts: fc.stringMatching(/^[!-~](?:[ -~]{0,78}[!-~])?$/),
    });
    fc.assert(
      fc.property(record, (r) => {
        expect(parseRecord(recordMessage(r))).toEqual(r);
      }),
    );
  });

  it("reads a record with the whitespace Pulumi or a terminal left around it", () => {
    expect(parseRecord(`  nexus deploy ${HEAD} by dana; approvals: none; policies: ${VERDICTS}\n`)?.commit).toBe(HEAD);
  });

  it("finds no record in a message nexus deploy did not write", () => {
    expect(parseRecord(undefined)).toBeUndefined();
    expect(parseRecord("")).toBeUndefined();
    expect(parseRecord("Merge pull request #42 from nexus-platform/dashboard-refresh")).toBeUndefined();
    expect(parseRecord(`nexus deploy not-a-commit by dana; approvals: none; policies: ${VERDICTS}`)).toBeUndefined();
    expect(parseRecord(`nexus deploy ${HEAD} by dana; policies: ${VERDICTS}`)).toBeUndefined();
  });
});

describe("historyEntries", () => {
  it("takes each update's kind, times, result, git commit and dirty flag, changes and record", () => {
    const json = [
      historyEntry({
        start: "2026-12-01T09:30:00.000Z",
        commit: HEAD,
        message: recordMessage({ commit: HEAD, by: "dana", approvals: ["lee"], verdicts: VERDICTS }),
      }),
      historyEntry({ start: "2026-11-30T18:00:00.000Z", commit: OLDER, dirty: true, kind: "refresh", changes: { same: 222 } }),
    ];
    expect(historyEntries(json)).toEqual([
      {
        kind: "update",
        start: "2026-12-01T09:30:00.000Z",
        end: "2026-12-01T09:30:41.000Z",
        result: "succeeded",
        commit: HEAD,
        dirty: false,
        changes: { same: 221, update: 1 },
        record: { commit: HEAD, by: "dana", approvals: ["lee"], verdicts: VERDICTS },
        message: json[0]!.message,
      },
      {
        kind: "refresh",
        start: "2026-11-30T18:00:00.000Z",
        end: "2026-11-30T18:00:41.000Z",
        result: "succeeded",
        commit: OLDER,
        dirty: true,
        changes: { same: 222 },
        record: undefined,
        message: "Merge pull request #42 from nexus-platform/dashboard-refresh",
      },
    ]);
  });

  it("has no commit for an update run outside a git checkout, and no entries for what is not a list", () => {
    const [entry] = historyEntries([historyEntry({ start: "2026-12-01T09:30:00.000Z" })]);
    expect(entry).toMatchObject({ commit: undefined, dirty: false });
    expect(historyEntries({ error: "no stack" })).toEqual([]);
    expect(historyEntries(null)).toEqual([]);
    expect(historyEntries([])).toEqual([]);
  });
});

describe("deployedAt and lastDeployed", () => {
  const at = (hour: number) => `2026-12-01T${String(hour).padStart(2, "0")}:00:00.000Z`;

  it("deployedAt finds only a successful update of the commit from a clean checkout, the newest one", () => {
    const entries = historyEntries([
      historyEntry({ start: at(12), commit: HEAD, kind: "refresh" }),
      historyEntry({ start: at(11), commit: HEAD, dirty: true }),
      historyEntry({ start: at(10), commit: HEAD, result: "failed" }),
      historyEntry({ start: at(9), commit: OLDER }),
      historyEntry({ start: at(8), commit: HEAD }),
      historyEntry({ start: at(7), commit: HEAD }),
    ]);
    expect(deployedAt(entries, HEAD)?.start).toBe(at(8));
    expect(deployedAt(entries, OLDER)?.start).toBe(at(9));
    expect(deployedAt(entries, "0000000000000000000000000000000000000000")).toBeUndefined();
  });

  it("deployedAt refuses a commit that only a dirty, failed or refresh run names", () => {
    const entries = historyEntries([
      historyEntry({ start: at(12), commit: HEAD, kind: "refresh" }),
      historyEntry({ start: at(11), commit: HEAD, dirty: true }),
      historyEntry({ start: at(10), commit: HEAD, result: "failed" }),
      historyEntry({ start: at(9), commit: OLDER }),
    ]);
    expect(deployedAt(entries, HEAD)).toBeUndefined();
  });

  it("deployedAt does not take a commit's prefix for the commit", () => {
    const entries = historyEntries([historyEntry({ start: at(9), commit: HEAD })]);
    expect(deployedAt(entries, HEAD.slice(0, 12))).toBeUndefined();
  });

  it("lastDeployed is the newest successful update, dirty or not, and never a refresh or a failed update", () => {
    const entries = historyEntries([
      historyEntry({ start: at(12), commit: HEAD, kind: "refresh" }),
      historyEntry({ start: at(11), commit: HEAD, result: "failed" }),
      historyEntry({ start: at(10), commit: OLDER, dirty: true }),
      historyEntry({ start: at(9), commit: HEAD }),
    ]);
    expect(lastDeployed(entries)).toMatchObject({ start: at(10), commit: OLDER, dirty: true });
    expect(lastDeployed(historyEntries([historyEntry({ start: at(12), kind: "refresh" })]))).toBeUndefined();
    expect(lastDeployed([])).toBeUndefined();
  });
});

describe("historyMarkdown", () => {
  it("writes one row per update, newest first, with what nexus deploy recorded and Pulumi's own facts", () => {
    const entries = historyEntries([
      historyEntry({
        start: "2026-12-01T09:30:00.000Z",
        commit: HEAD,
        message: recordMessage({ commit: HEAD, by: "dana", approvals: ["lee", "kim"], verdicts: VERDICTS }),
        changes: { same: 220, update: 1, create: 2, delete: 0 },
      }),
      historyEntry({ start: "2026-11-30T18:00:00.000Z", commit: OLDER, dirty: true, kind: "refresh", changes: { same: 222 } }),
      historyEntry({
        start: "2026-11-30T12:00:00.000Z",
        message: recordMessage({ commit: OLDER, by: "ci", approvals: [], verdicts: VERDICTS }),
        result: "failed",
      }),
    ]);
    const lines = historyMarkdown("prod", entries).split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "# Updates of stack prod (newest first)",
      "",
      "| started (UTC) | kind | result | by | commit | resource changes | approvals | policy verdicts |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]);
    expect(lines.slice(4, 7)).toEqual([
      `| 2026-12-01T09:30:00.000Z | update | succeeded | dana | ${HEAD.slice(0, 12)} | update 1, create 2 | lee, kim | ${VERDICTS} |`,
      `| 2026-11-30T18:00:00.000Z | refresh | succeeded | - (not through nexus deploy) | ${OLDER.slice(0, 12)} (uncommitted changes) | none | - | - |`,
      `| 2026-11-30T12:00:00.000Z | update | failed | ci | - | update 1 | none | ${VERDICTS} |`,
    ]);
    expect(historyMarkdown("prod", entries)).not.toContain("No update yet");
  });

  it("says when a stack has no update yet", () => {
    const text = historyMarkdown("staging", []);
    expect(text).toContain("# Updates of stack staging (newest first)");
    expect(text).toContain("No update yet.");
    expect(text.split("\n").filter((l) => l.startsWith("| 20"))).toEqual([]);
  });
});
