/**
 * What the delivery commands read from `pulumi ... --json`: the JSON values of its output, the
 * changes, counts, policy verdicts and errors of a preview or refresh document and of an engine
 * event stream, and the lines the comments are made of. The fixtures have the shapes Pulumi
 * 3.274 writes (payloads trimmed to the fields that matter, inputs and outputs elided).
 */
import { describe, expect, it } from "vitest";
import { countsLine, parseJsonValues, summarize, urnParts, verdictLine, violationsAt, type RunSummary } from "../../cmd/deliver/events";
import {
  analyzed,
  CONFIGMAP,
  CRONJOB,
  DEPLOYMENT,
  diagnostic,
  done,
  event,
  NAMESPACE,
  PREFIX,
  pre,
  previewDocument,
  PROVIDER,
  STACK_URN,
  state,
  step,
  stream,
  summaryEvent,
  violation,
} from "./deliverFixtures";

/** A streamed preview (PULUMI_ENABLE_STREAMING_JSON_PREVIEW) with one advisory and one mandatory violation. */
const PREVIEW_STREAM = stream(
  event({ policyLoadEvent: {} }),
  event({ preludeEvent: { config: { "nexus-platform:awsEnabled": "false" } } }),
  analyzed(STACK_URN, ["no-privileged-containers", "cronjob-deadlines", "traceability-labels"]),
  pre("same", STACK_URN),
  diagnostic("debug", "Registering resource: t=pulumi:pulumi:Stack, name=nexus-platform-dev"),
  diagnostic("info", "Loaded 5 registries for environment dev"),
  diagnostic("warning", "kubernetes:apps/v1:Deployment resource has a deprecated field", DEPLOYMENT),
  analyzed(NAMESPACE, ["no-privileged-containers", "cronjob-deadlines", "traceability-labels"]),
  pre("create", NAMESPACE),
  violation(CONFIGMAP, "traceability-labels", "advisory", "ConfigMap web/system-dashboard-env has no nexus.io/source annotation"),
  analyzed(CONFIGMAP, ["no-privileged-containers", "cronjob-deadlines"], ["traceability-labels"]),
  pre("update", CONFIGMAP, { diffs: ["data"], detailedDiff: { "data.REFRESH_SECONDS": { kind: "update", inputDiff: false } } }),
  violation(CRONJOB, "cronjob-deadlines", "mandatory", "CronJob web/nightly-report sets no startingDeadlineSeconds"),
  analyzed(CRONJOB, ["no-privileged-containers", "traceability-labels"], ["cronjob-deadlines"]),
  pre("create-replacement", CRONJOB, { diffs: ["spec"] }),
  pre("replace", CRONJOB, { diffs: ["spec"] }),
  pre("delete-replaced", CRONJOB),
  analyzed(DEPLOYMENT, ["no-privileged-containers", "cronjob-deadlines", "traceability-labels"]),
  pre("same", DEPLOYMENT),
  event({ policyAnalyzeStackSummaryEvent: { policyPackName: "nexus-platform", policyPackVersion: "0.1.0", policyPackVersionTag: "0.1.0" } }),
  diagnostic("error", "preview failed"),
  summaryEvent({ same: 2, create: 1, update: 1, replace: 1 }, "failed", true),
  event({ cancelEvent: {} }),
);

describe("parseJsonValues", () => {
  it("reads a pretty-printed document followed by an event stream, as `pulumi up --json` writes them", () => {
    const text =
      previewDocument([step("update", CONFIGMAP)], { same: 3, update: 1 }) + "\n" + stream(event({ preludeEvent: { config: {} } }), event({ cancelEvent: {} }));
    const values = parseJsonValues(text);
    expect(values).toHaveLength(3);
    expect(values[0]).toMatchObject({ changeSummary: { same: 3, update: 1 }, steps: [{ op: "update", urn: CONFIGMAP }] });
    expect(values[1]).toMatchObject({ preludeEvent: { config: {} } });
    expect(values[2]).toHaveProperty("cancelEvent");
  });

  it("is not thrown off by brackets, braces, quotes and escapes inside strings", () => {
    const tricky = { message: 'a "quoted" {brace} [bracket] \\ backslash }]\n', nested: { list: [1, [2, { three: "}" }]] } };
    const values = parseJsonValues(`${JSON.stringify(tricky)}${JSON.stringify(["]", "{"])}`);
    expect(values).toEqual([tricky, ["]", "{"]]);
  });

  it("skips text between values and gives nothing for text without JSON", () => {
    expect(parseJsonValues('warning: A new version of Pulumi is available.\n{"a":1}\nsome words\n{"b":2}')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(parseJsonValues("")).toEqual([]);
    expect(parseJsonValues("error: could not find stack dev\n")).toEqual([]);
  });
});

describe("urnParts", () => {
  it("takes the last type of the parent chain and the name", () => {
    expect(urnParts(CONFIGMAP)).toEqual({ type: "kubernetes:core/v1:ConfigMap", name: "system-dashboard-env" });
    expect(urnParts(NAMESPACE)).toEqual({ type: "kubernetes:core/v1:Namespace", name: "web" });
    expect(urnParts(STACK_URN)).toEqual({ type: "pulumi:pulumi:Stack", name: "nexus-platform-dev" });
    expect(urnParts(`${PREFIX}nexus:backup:BackupStorage$nexus:backup:BackupJob$kubernetes:batch/v1:CronJob::db-backup`)).toEqual({
      type: "kubernetes:batch/v1:CronJob",
      name: "db-backup",
    });
  });

  it("keeps a name with slashes and dots whole", () => {
    expect(urnParts(`${PREFIX}kubernetes:core/v1:Secret::web/alert.webhook`).name).toBe("web/alert.webhook");
  });
});

describe("summarize: the engine's event stream", () => {
  const summary = summarize(parseJsonValues(PREVIEW_STREAM));

  it("lists each planned change once, with the properties the provider names, and leaves out unchanged resources", () => {
    expect(summary.changes).toEqual([
      { op: "create", urn: NAMESPACE, type: "kubernetes:core/v1:Namespace", name: "web", properties: [] },
      { op: "update", urn: CONFIGMAP, type: "kubernetes:core/v1:ConfigMap", name: "system-dashboard-env", properties: ["data.REFRESH_SECONDS"] },
      { op: "create-replacement", urn: CRONJOB, type: "kubernetes:batch/v1:CronJob", name: "nightly-report", properties: ["spec"] },
      { op: "replace", urn: CRONJOB, type: "kubernetes:batch/v1:CronJob", name: "nightly-report", properties: ["spec"] },
      { op: "delete-replaced", urn: CRONJOB, type: "kubernetes:batch/v1:CronJob", name: "nightly-report", properties: [] },
    ]);
  });

  it("counts the resources each policy passed and keeps each violation with its level and message", () => {
    expect(summary.verdicts).toEqual([
      {
        policy: "cronjob-deadlines",
        passed: 4,
        violations: [{ urn: CRONJOB, level: "mandatory", message: "Policy cronjob-deadlines.\nCronJob web/nightly-report sets no startingDeadlineSeconds" }],
      },
      { policy: "no-privileged-containers", passed: 5, violations: [] },
      {
        policy: "traceability-labels",
        passed: 4,
        violations: [
          { urn: CONFIGMAP, level: "advisory", message: "Policy traceability-labels.\nConfigMap web/system-dashboard-env has no nexus.io/source annotation" },
        ],
      },
    ]);
  });

  it("takes the counts and the result from the summary event, and only error diagnostics as errors", () => {
    expect(summary.counts).toEqual({ same: 2, create: 1, update: 1, replace: 1 });
    expect(summary.result).toBe("failed");
    expect(summary.errors).toEqual(["preview failed"]);
  });

  it("does not count a repeated event of the same step twice", () => {
    const twice = summarize(parseJsonValues(stream(pre("update", CONFIGMAP, { diffs: ["data"] }), pre("update", CONFIGMAP, { diffs: ["data"] }))));
    expect(twice.changes).toHaveLength(1);
    expect(twice.changes[0]!.properties).toEqual(["data"]);
  });

  it("reports the same error once, and error diagnostics of resources too", () => {
    const s = summarize(
      parseJsonValues(
        stream(
          diagnostic("error", "boom: update refused", CONFIGMAP),
          diagnostic("error", "update failed"),
          diagnostic("error", "update failed"),
          diagnostic("info#err", "npm WARN deprecated"),
        ),
      ),
    );
    expect(s.errors).toEqual(["boom: update refused", "update failed"]);
  });

  it("gives an empty summary for no output", () => {
    expect(summarize([])).toEqual({ counts: {}, changes: [], verdicts: [], errors: [] });
    expect(summarize(["a string", 42, null, [1, 2]])).toEqual({ counts: {}, changes: [], verdicts: [], errors: [] });
  });
});

describe("summarize: a preview or refresh document", () => {
  it("reads the steps, the change summary and the error diagnostics of a preview", () => {
    const doc = previewDocument(
      [
        step("same", STACK_URN),
        step("create", NAMESPACE),
        step("update", CONFIGMAP, { diffReasons: ["data"], detailedDiff: { "data.REFRESH_SECONDS": { kind: "update", inputDiff: false } } }),
        step("update", DEPLOYMENT, { diffReasons: ["spec"], replaceReasons: [] }),
        step("delete", CRONJOB),
        step("read", `${PREFIX}kubernetes:core/v1:Secret::web/tls`),
      ],
      { same: 218, create: 1, update: 2, delete: 1 },
      [
        { message: "error: preview failed\n", severity: "error" },
        { message: "some advice", severity: "warning" },
      ],
    );
    const s = summarize(parseJsonValues(doc));
    expect(s.changes.map((c) => [c.op, c.name, c.properties])).toEqual([
      ["create", "web", []],
      ["update", "system-dashboard-env", ["data.REFRESH_SECONDS"]],
      ["update", "system-dashboard", ["spec"]],
      ["delete", "nightly-report", []],
    ]);
    expect(s.counts).toEqual({ same: 218, create: 1, update: 2, delete: 1 });
    expect(s.errors).toEqual(["error: preview failed"]);
    expect(s.verdicts).toEqual([]);
    expect(s.result).toBeUndefined();
  });

  it("finds no change in a refresh preview whose objects match the state", () => {
    const doc = previewDocument([step("refresh", STACK_URN), step("refresh", CONFIGMAP), step("refresh", DEPLOYMENT)], { same: 221 });
    const s = summarize(parseJsonValues(doc));
    expect(s.changes).toEqual([]);
    expect(countsLine(s.counts, true)).toBe("no changes");
  });

  it("counts, but cannot name, the drift of a refresh preview document: Pulumi 3.274 writes each of its steps as a refresh", () => {
    const doc = previewDocument([step("refresh", STACK_URN), step("refresh", CONFIGMAP), step("refresh", DEPLOYMENT)], { same: 221, update: 1 });
    const s = summarize(parseJsonValues(doc));
    expect(s.changes).toEqual([]);
    expect(countsLine(s.counts, true)).toBe("1 to update");
  });

  // Pulumi 3.274 writes every step of `refresh --preview-only --json` with op "refresh" and no
  // diff, also for a resource whose live object differs: only changeSummary tells. Streamed
  // (PULUMI_ENABLE_STREAMING_JSON_PREVIEW), the drifted resource's resOutputsEvent carries op
  // "update" with its old and new outputs. Until one of them is read, drift goes unnamed.
  it("names the drifted resource of a refresh preview as Pulumi 3.274 streams it", () => {
    const outputs = (refreshSeconds: string) => ({ ...state(CONFIGMAP, "web/system-dashboard-env"), outputs: { data: { REFRESH_SECONDS: refreshSeconds } } });
    const refreshed = (op: string, urn: string, old: unknown, now: unknown) =>
      event({ resOutputsEvent: { metadata: { op, urn, type: urnParts(urn).type, old, new: now, detailedDiff: null, provider: PROVIDER }, planning: true } });
    const text = stream(
      event({ preludeEvent: { config: {} } }),
      pre("refresh", CONFIGMAP),
      refreshed("update", CONFIGMAP, outputs("15"), outputs("99")),
      pre("refresh", DEPLOYMENT),
      refreshed("same", DEPLOYMENT, state(DEPLOYMENT, "web/system-dashboard"), state(DEPLOYMENT, "web/system-dashboard")),
      summaryEvent({ same: 221, update: 1 }, "succeeded", true),
    );
    expect(summarize(parseJsonValues(text)).changes.map((c) => [c.op, c.name])).toEqual([["update", "system-dashboard-env"]]);
  });
});

describe("summarize: the output of `pulumi up --json` (its preview's document, then the update's events)", () => {
  const upOutput = (events: string[]) =>
    `${previewDocument([step("same", STACK_URN), step("update", CONFIGMAP, { detailedDiff: { "data.REFRESH_SECONDS": { kind: "update", inputDiff: false } } }), step("create", NAMESPACE)], { same: 2, update: 1, create: 1 })}\n${stream(...events)}`;

  it("lists a change the document and the events both name once, and takes the update's counts and result", () => {
    const s = summarize(
      parseJsonValues(
        upOutput([
          event({ preludeEvent: { config: {} } }),
          pre("update", CONFIGMAP, { diffs: ["data"], detailedDiff: { "data.REFRESH_SECONDS": { kind: "update", inputDiff: false } } }),
          pre("create", NAMESPACE),
          done("update", CONFIGMAP),
          done("create", NAMESPACE),
          summaryEvent({ same: 2, update: 1, create: 1 }, "succeeded", false),
        ]),
      ),
    );
    expect(s.changes.map((c) => `${c.op} ${c.name}`)).toEqual(["update system-dashboard-env", "create web"]);
    expect(s.changes[0]!.properties).toEqual(["data.REFRESH_SECONDS"]);
    expect(s.counts).toEqual({ same: 2, update: 1, create: 1 });
    expect(s.result).toBe("succeeded");
    expect(countsLine(s.counts, false)).toBe("create 1, update 1");
  });

  it("reports what a failed update did, not what its preview planned", () => {
    const s = summarize(
      parseJsonValues(
        upOutput([
          pre("update", CONFIGMAP, { diffs: ["data"] }),
          diagnostic("error", 'configmaps "system-dashboard-env" is forbidden: User "deployer" cannot patch resource', CONFIGMAP),
          event({
            resOpFailedEvent: { metadata: { op: "update", urn: CONFIGMAP, type: "kubernetes:core/v1:ConfigMap", provider: PROVIDER }, status: 1, steps: 0 },
          }),
          diagnostic("error", "update failed"),
          event({
            summaryEvent: { maybeCorrupt: true, durationSeconds: 1, resourceChanges: { same: 2 }, PolicyPacks: {}, isPreview: false, result: "failed" },
          }),
        ]),
      ),
    );
    expect(s.result).toBe("failed");
    // Neither the update that failed nor the create the preview planned (the update stopped first).
    expect(s.changes).toEqual([]);
    expect(s.counts).toEqual({ same: 2 });
    expect(countsLine(s.counts, false)).toBe("no changes");
    expect(s.errors).toEqual(['configmaps "system-dashboard-env" is forbidden: User "deployer" cannot patch resource', "update failed"]);
  });
});

describe("violationsAt, countsLine, verdictLine", () => {
  const summary = summarize(parseJsonValues(PREVIEW_STREAM));

  it("violationsAt picks one enforcement level across policies", () => {
    expect(violationsAt(summary, "mandatory")).toEqual([
      { policy: "cronjob-deadlines", urn: CRONJOB, message: expect.stringContaining("startingDeadlineSeconds") },
    ]);
    expect(violationsAt(summary, "advisory")).toEqual([{ policy: "traceability-labels", urn: CONFIGMAP, message: expect.stringContaining("nexus.io/source") }]);
    expect(violationsAt(summary, "disabled")).toEqual([]);
  });

  it("countsLine leaves out `same` and zero counts, sorts by operation, and words planned and done counts apart", () => {
    const counts = { update: 2, same: 221, create: 3, delete: 0, replace: 1 };
    expect(countsLine(counts, true)).toBe("3 to create, 1 to replace, 2 to update");
    expect(countsLine(counts, false)).toBe("create 3, replace 1, update 2");
    expect(countsLine({ same: 221 }, true)).toBe("no changes");
    expect(countsLine({}, false)).toBe("no changes");
  });

  it("verdictLine counts the policies, those without violations, and the violations of each level", () => {
    expect(verdictLine(summary)).toBe("3 policies evaluated, 1 without violations; 1 mandatory and 1 advisory violations");
    const more: RunSummary = {
      ...summary,
      verdicts: [
        ...summary.verdicts,
        {
          policy: "no-host-ports",
          passed: 0,
          violations: [
            { urn: DEPLOYMENT, message: "a", level: "mandatory" },
            { urn: CONFIGMAP, message: "b", level: "mandatory" },
          ],
        },
      ],
    };
    expect(verdictLine(more)).toBe("4 policies evaluated, 1 without violations; 3 mandatory and 1 advisory violations");
    expect(verdictLine(summarize([]))).toBe("0 policies evaluated, 0 without violations; 0 mandatory and 0 advisory violations");
  });
});
