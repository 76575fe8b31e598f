// The record of a deploy and the history of a stack. `nexus deploy` writes who deployed which
// commit, with which approvals and policy verdicts, into the update's message; Pulumi keeps it in
// the stack's update history next to its own facts (time, result, resource changes, the git
// commit of the checkout). `nexus history` and the promotion check read both back.

export interface DeployRecord {
  commit: string;
  by: string;
  approvals: string[];
  verdicts: string;
}

const RECORD = /^nexus deploy ([0-9a-f]{7,40}) by (.+?); approvals: (.*?); policies: (.*)$/;

/** The update message of a deploy: one line, readable in `pulumi stack history` too. */
export function recordMessage(r: DeployRecord): string {
  return `nexus deploy ${r.commit} by ${r.by}; approvals: ${r.approvals.length > 0 ? r.approvals.join(", ") : "none"}; policies: ${r.verdicts}`;
}

export function parseRecord(message: string | undefined): DeployRecord | undefined {
  const m = RECORD.exec((message ?? "").trim());
  if (!m) return undefined;
  return { commit: m[1]!, by: m[2]!, approvals: m[3] === "none" ? [] : m[3]!.split(", "), verdicts: m[4]! };
}

export interface HistoryEntry {
  kind: string;
  start: string;
  end: string;
  result: string;
  /** The git commit of the checkout that ran the update (Pulumi's git.head), with its dirty flag. */
  commit?: string;
  dirty: boolean;
  changes: Record<string, number>;
  /** What `nexus deploy` recorded, when it ran the update. */
  record?: DeployRecord;
  message: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});

/** The entries of `pulumi stack history --json`, newest first as Pulumi lists them. */
export function historyEntries(json: unknown): HistoryEntry[] {
  if (!Array.isArray(json)) return [];
  return json.map(obj).map((u) => {
    const env = obj(u.environment);
    const message = typeof u.message === "string" ? u.message : "";
    return {
      kind: String(u.kind ?? ""),
      start: String(u.startTime ?? ""),
      end: String(u.endTime ?? ""),
      result: String(u.result ?? ""),
      commit: typeof env["git.head"] === "string" ? env["git.head"] : undefined,
      dirty: env["git.dirty"] === "true",
      changes: Object.fromEntries(Object.entries(obj(u.resourceChanges)).map(([k, v]) => [k, Number(v)])),
      record: parseRecord(message),
      message,
    };
  });
}

/** The newest update that deployed COMMIT successfully from a clean checkout, if any. */
export function deployedAt(entries: readonly HistoryEntry[], commit: string): HistoryEntry | undefined {
  return entries.find((e) => e.kind === "update" && e.result === "succeeded" && !e.dirty && e.commit === commit);
}

/** The newest successful update, for a refusal message ("it runs X, deployed at T"). */
export function lastDeployed(entries: readonly HistoryEntry[]): HistoryEntry | undefined {
  return entries.find((e) => e.kind === "update" && e.result === "succeeded");
}

const changeText = (changes: Record<string, number>) =>
  Object.entries(changes)
    .filter(([op, n]) => op !== "same" && n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(", ") || "none";

/** The history as a Markdown table, newest first: the audit trail of who changed the stack and how. */
export function historyMarkdown(stack: string, entries: readonly HistoryEntry[]): string {
  const rows = entries.map((e) => {
    const commit = e.commit ? `${e.commit.slice(0, 12)}${e.dirty ? " (uncommitted changes)" : ""}` : "-";
    const by = e.record?.by ?? "- (not through nexus deploy)";
    const approvals = e.record ? (e.record.approvals.length > 0 ? e.record.approvals.join(", ") : "none") : "-";
    const verdicts = e.record?.verdicts ?? "-";
    return `| ${e.start} | ${e.kind} | ${e.result} | ${by} | ${commit} | ${changeText(e.changes)} | ${approvals} | ${verdicts} |`;
  });
  return [
    `# Updates of stack ${stack} (newest first)`,
    "",
    "| started (UTC) | kind | result | by | commit | resource changes | approvals | policy verdicts |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    entries.length === 0 ? "No update yet.\n" : "",
  ].join("\n");
}
