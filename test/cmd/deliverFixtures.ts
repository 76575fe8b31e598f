/**
 * What Pulumi 3.274 writes to standard output for the delivery commands, built field by field:
 * the engine events of `pulumi preview|up --json` (one JSON object per line), the document of a
 * preview or refresh, and the array of `pulumi stack history --json`. Resource inputs and outputs
 * are left empty; the other fields are named and shaped as the CLI writes them.
 */
import { urnParts } from "../../cmd/deliver/events";

export const PREFIX = "urn:pulumi:dev::nexus-platform::";
export const STACK_URN = `${PREFIX}pulumi:pulumi:Stack::nexus-platform-dev`;
export const PROVIDER = `${PREFIX}pulumi:providers:kubernetes::nexus-k8s::4d6e1f2a-9a1b-4c7e-8f00-3b5c6d7e8f90`;
export const CONFIGMAP = `${PREFIX}nexus:workloads:ServiceDeployment$kubernetes:core/v1:ConfigMap::system-dashboard-env`;
export const DEPLOYMENT = `${PREFIX}nexus:workloads:ServiceDeployment$kubernetes:apps/v1:Deployment::system-dashboard`;
export const CRONJOB = `${PREFIX}nexus:automation:AutomationTask$kubernetes:batch/v1:CronJob::nightly-report`;
export const NAMESPACE = `${PREFIX}kubernetes:core/v1:Namespace::web`;
const PACK = { policyPackName: "nexus-platform", policyPackVersion: "0.1.0", policyPackVersionTag: "0.1.0" };

let sequence = 0;
/** One engine event as `pulumi preview|up --json` streams it. */
export const event = (payload: Record<string, unknown>) => JSON.stringify({ sequence: sequence++, timestamp: 1796132321, ...payload });
export const stream = (...lines: string[]) => `${lines.join("\n")}\n`;

export const state = (urn: string, id: string, outputs: Record<string, unknown> = {}) => ({
  type: urnParts(urn).type,
  urn,
  custom: true,
  id,
  parent: STACK_URN,
  inputs: {},
  outputs,
  provider: PROVIDER,
});

/** The metadata of a step's events: its op, resource and states (none before a create, none after a delete). */
const stepMetadata = (op: string, urn: string, newId: string) => ({
  op,
  urn,
  type: urnParts(urn).type,
  old: op === "create" ? null : state(urn, "web/x"),
  new: op === "delete" ? null : state(urn, newId),
  logical: true,
  provider: PROVIDER,
});

/** The resourcePreEvent of a planned step, with the diff the provider reported. */
export function pre(op: string, urn: string, diff: { diffs?: string[]; detailedDiff?: Record<string, unknown> } = {}) {
  const metadata = { ...stepMetadata(op, urn, ""), ...(diff.diffs ? { diffs: diff.diffs } : {}), detailedDiff: diff.detailedDiff ?? null };
  return event({ resourcePreEvent: { metadata, planning: true } });
}

/** The resOutputsEvent of a step an update completed (no diff: the provider's diff came with its start). */
export function done(op: string, urn: string) {
  return event({ resOutputsEvent: { metadata: stepMetadata(op, urn, "web/x") } });
}

/** The policies that passed (and failed) one resource. */
export const analyzed = (urn: string, passed: string[], failed: string[] = []) =>
  event({ policyAnalyzeSummaryEvent: { resourceUrn: urn, ...PACK, passed, ...(failed.length > 0 ? { failed } : {}) } });

/** A policy violation: its message is the policy's description, then what the policy reported. */
export const violation = (urn: string, policyName: string, enforcementLevel: "advisory" | "mandatory", reported: string) =>
  event({
    policyEvent: { resourceUrn: urn, message: `Policy ${policyName}.\n${reported}\n`, color: "never", policyName, ...PACK, enforcementLevel },
  });

export const diagnostic = (severity: string, message: string, urn?: string) =>
  event({ diagnosticEvent: { ...(urn ? { urn } : {}), prefix: `${severity}: `, message: `${message}\n`, color: "never", severity } });

export const summaryEvent = (resourceChanges: Record<string, number>, result: "succeeded" | "failed", isPreview: boolean) =>
  event({
    summaryEvent: { maybeCorrupt: false, durationSeconds: 4, resourceChanges, PolicyPacks: { "nexus-platform|local|policy": "0.1.0" }, isPreview, result },
  });

/** The single document of `pulumi preview --json` or `pulumi refresh --preview-only --json` (also printed first by `pulumi up --json`). */
export const previewDocument = (steps: unknown[], changeSummary: Record<string, number>, diagnostics?: unknown[]) =>
  JSON.stringify({ steps, ...(diagnostics ? { diagnostics } : {}), duration: 1185567516, changeSummary }, null, 4);

/** One step of that document: a provider's reasons are `diffReasons` there, `diffs` in the events. */
export const step = (op: string, urn: string, extra: Record<string, unknown> = {}) => ({
  op,
  urn,
  provider: PROVIDER,
  ...(op === "create" ? {} : { oldState: state(urn, "web/x") }),
  ...(op === "delete" ? {} : { newState: state(urn, "") }),
  detailedDiff: null,
  ...extra,
});

/** A streamed preview that passes the gate: one update, one advisory violation. */
export const PASSING_PREVIEW = stream(
  event({ policyLoadEvent: {} }),
  event({ preludeEvent: { config: { "nexus-platform:awsEnabled": "false" } } }),
  analyzed(STACK_URN, ["no-privileged-containers", "cronjob-deadlines", "traceability-labels"]),
  pre("same", STACK_URN),
  violation(CONFIGMAP, "traceability-labels", "advisory", "ConfigMap web/system-dashboard-env has no nexus.io/source annotation"),
  analyzed(CONFIGMAP, ["no-privileged-containers", "cronjob-deadlines"], ["traceability-labels"]),
  pre("update", CONFIGMAP, { diffs: ["data"], detailedDiff: { "data.REFRESH_SECONDS": { kind: "update", inputDiff: false } } }),
  event({ policyAnalyzeStackSummaryEvent: { ...PACK } }),
  summaryEvent({ same: 221, update: 1 }, "succeeded", true),
  event({ cancelEvent: {} }),
);

/** A streamed preview the gate stops: a mandatory violation, and the engine's "preview failed". */
export const FAILING_PREVIEW = stream(
  event({ policyLoadEvent: {} }),
  event({ preludeEvent: { config: {} } }),
  analyzed(STACK_URN, ["no-privileged-containers", "cronjob-deadlines", "traceability-labels"]),
  pre("same", STACK_URN),
  violation(CRONJOB, "cronjob-deadlines", "mandatory", "CronJob web/nightly-report sets no startingDeadlineSeconds"),
  analyzed(CRONJOB, ["no-privileged-containers", "traceability-labels"], ["cronjob-deadlines"]),
  pre("create", CRONJOB),
  event({ policyAnalyzeStackSummaryEvent: { ...PACK } }),
  diagnostic("error", "preview failed"),
  summaryEvent({ same: 221, create: 1 }, "failed", true),
  event({ cancelEvent: {} }),
);

/** What `pulumi up --json` writes for an update: its preview's document, then the update's events. */
export const UP_OUTPUT =
  previewDocument([step("same", STACK_URN), step("update", CONFIGMAP, { detailedDiff: { "data.REFRESH_SECONDS": { kind: "update", inputDiff: false } } })], {
    same: 221,
    update: 1,
  }) +
  "\n" +
  stream(
    event({ policyLoadEvent: {} }),
    event({ preludeEvent: { config: {} } }),
    analyzed(CONFIGMAP, ["no-privileged-containers", "cronjob-deadlines", "traceability-labels"]),
    pre("update", CONFIGMAP, { diffs: ["data"], detailedDiff: { "data.REFRESH_SECONDS": { kind: "update", inputDiff: false } } }),
    done("update", CONFIGMAP),
    summaryEvent({ same: 221, update: 1 }, "succeeded", false),
    event({ cancelEvent: {} }),
  );

/** One entry of `pulumi stack history --json` (Pulumi records the checkout's git facts in `environment`). */
export function historyEntry(e: {
  kind?: string;
  commit?: string;
  dirty?: boolean;
  result?: string;
  message?: string;
  start: string;
  changes?: Record<string, number>;
}) {
  const git = e.commit
    ? {
        "git.author": "Dana Ops",
        "git.author.email": "dana@nexus.example",
        "git.committer": "GitHub",
        "git.committer.email": "noreply@github.com",
        "git.dirty": e.dirty ? "true" : "false",
        "git.head": e.commit,
        "git.headName": "refs/heads/main",
        "vcs.kind": "github.com",
        "vcs.owner": "nexus-platform",
        "vcs.repo": "nexus",
      }
    : {};
  return {
    version: 0,
    kind: e.kind ?? "update",
    startTime: e.start,
    message: e.message ?? "Merge pull request #42 from nexus-platform/dashboard-refresh",
    environment: { "exec.kind": "cli", "pulumi.arch": "amd64", "pulumi.flag.json": "true", "pulumi.os": "linux", "pulumi.version": "v3.274.1", ...git },
    config: {},
    result: e.result ?? "succeeded",
    endTime: e.start.replace(/:00\.000Z$/, ":41.000Z"),
    resourceChanges: e.changes ?? { same: 221, update: 1 },
  };
}
