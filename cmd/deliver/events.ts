// What the engine reports, read from `pulumi ... --json`: the planned or applied resource
// changes and the policy pack's verdicts. Pure functions over parsed JSON, tested without an engine.

/** A resource change: the operation, the URN, and which properties differ (when the engine says). */
export interface Change {
  op: string;
  urn: string;
  type: string;
  name: string;
  properties: string[];
}

/** One policy's verdicts over a run: resources it passed, and its violations with their level. */
export interface PolicyVerdict {
  policy: string;
  passed: number;
  violations: { urn: string; message: string; level: string }[];
}

export interface RunSummary {
  /** Operation counts, `same` included (summaryEvent.resourceChanges, or changeSummary). */
  counts: Record<string, number>;
  changes: Change[];
  verdicts: PolicyVerdict[];
  /** Error diagnostics the engine reported (policy violations are in `verdicts`). */
  errors: string[];
  /** The engine's own result for an update (`succeeded`, `failed`), when it reported one. */
  result?: string;
}

/** The JSON values of a text holding one or more of them back to back (pulumi's --json streams). */
export function parseJsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0 && start >= 0) {
        values.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
      }
    }
  }
  return values;
}

/** `TYPE` and `NAME` of a URN (`urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME`). */
export function urnParts(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  const name = parts[parts.length - 1] ?? urn;
  const typePath = parts[parts.length - 2] ?? "";
  return { type: typePath.split("$").pop() ?? typePath, name };
}

const NO_CHANGE = new Set(["same", "read", "refresh"]);

function change(op: string, urn: string, detailedDiff: unknown, diffs: unknown): Change {
  const properties =
    detailedDiff && typeof detailedDiff === "object"
      ? Object.keys(detailedDiff)
      : Array.isArray(diffs)
        ? diffs.filter((d): d is string => typeof d === "string")
        : [];
  return { op, urn, ...urnParts(urn), properties };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);

/**
 * The summary of one engine run from its --json output: either the single document of a
 * preview or refresh (`steps`, `changeSummary`, `diagnostics`), or the event stream of an update
 * or a streamed preview (one object per engine event).
 */
export function summarize(values: readonly unknown[]): RunSummary {
  const summary: RunSummary = { counts: {}, changes: [], verdicts: [], errors: [] };
  const verdicts = new Map<string, PolicyVerdict>();
  const verdict = (policy: string) => {
    let v = verdicts.get(policy);
    if (!v) verdicts.set(policy, (v = { policy, passed: 0, violations: [] }));
    return v;
  };
  // Every step named, once, with the properties the first mention that has them lists; and the
  // steps an update (not a preview) completed. An update's output starts with its preview's
  // document, so what a failed update planned but never did is named there too.
  const named = new Map<string, Change>();
  const completed = new Set<string>();
  let updated = false;
  const name = (c: Change): string => {
    const key = `${c.op} ${c.urn}`;
    const known = named.get(key);
    if (!known) named.set(key, c);
    else if (known.properties.length === 0) known.properties = c.properties;
    return key;
  };
  for (const value of values) {
    const doc = obj(value);
    if (Array.isArray(doc.steps)) {
      for (const s of doc.steps.map(obj)) name(change(String(s.op), String(s.urn), s.detailedDiff, s.diffReasons));
      Object.assign(summary.counts, obj(doc.changeSummary));
      for (const d of (Array.isArray(doc.diagnostics) ? doc.diagnostics : []).map(obj)) {
        if (d.severity === "error") summary.errors.push(String(d.message ?? "").trim());
      }
      continue;
    }
    // A step streams as a resourcePreEvent when it starts and a resOutputsEvent when it is done; a
    // refresh streams each resource as a "refresh" before it reads it, and its outcome after.
    const started = obj(obj(doc.resourcePreEvent).metadata);
    if (started.urn) name(change(String(started.op), String(started.urn), started.detailedDiff, started.diffs));
    const doneEvent = obj(doc.resOutputsEvent);
    const done = obj(doneEvent.metadata);
    if (done.urn) {
      const key = name(change(String(done.op), String(done.urn), done.detailedDiff, done.diffs));
      if (doneEvent.planning !== true) completed.add(key);
    }
    const analyzed = obj(doc.policyAnalyzeSummaryEvent ?? doc.policyAnalyzeStackSummaryEvent);
    for (const p of strings(analyzed.passed)) verdict(p).passed++;
    const violation = obj(doc.policyEvent);
    if (violation.policyName) {
      verdict(String(violation.policyName)).violations.push({
        urn: String(violation.resourceUrn ?? ""),
        message: String(violation.message ?? "").trim(),
        level: String(violation.enforcementLevel ?? "advisory"),
      });
    }
    const diag = obj(doc.diagnosticEvent);
    if (diag.severity === "error") summary.errors.push(String(diag.message ?? "").trim());
    const end = obj(doc.summaryEvent);
    if (end.resourceChanges) {
      summary.counts = { ...(obj(end.resourceChanges) as Record<string, number>) };
      if (typeof end.result === "string") summary.result = end.result;
      if (end.isPreview === false) updated = true;
    }
  }
  // An update's changes are the steps it completed; a preview's, the steps it plans.
  summary.changes = [...named.entries()].filter(([key, c]) => !NO_CHANGE.has(c.op) && (!updated || completed.has(key))).map(([, c]) => c);
  summary.verdicts = [...verdicts.values()].sort((a, b) => a.policy.localeCompare(b.policy));
  summary.errors = [...new Set(summary.errors.filter(Boolean))];
  return summary;
}

/** Violations of one enforcement level across every policy. */
export function violationsAt(summary: RunSummary, level: string): { policy: string; urn: string; message: string }[] {
  return summary.verdicts.flatMap((v) => v.violations.filter((x) => x.level === level).map((x) => ({ policy: v.policy, urn: x.urn, message: x.message })));
}

/** "3 to create, 1 to update" planned, "create 3, update 1" done, or "no changes": the counts other than `same`. */
export function countsLine(counts: Record<string, number>, planned: boolean): string {
  const words = Object.entries(counts)
    .filter(([op, n]) => op !== "same" && n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => (planned ? `${n} to ${op}` : `${op} ${n}`));
  return words.length > 0 ? words.join(", ") : "no changes";
}

/** One line of policy verdicts: "42 policies: 41 passed everywhere, 1 advisory, 0 mandatory violations". */
export function verdictLine(summary: RunSummary): string {
  const mandatory = violationsAt(summary, "mandatory").length;
  const advisory = violationsAt(summary, "advisory").length;
  const clean = summary.verdicts.filter((v) => v.violations.length === 0).length;
  return `${summary.verdicts.length} policies evaluated, ${clean} without violations; ${mandatory} mandatory and ${advisory} advisory violations`;
}
