/**
 * The report's sections on small hand-made judgements: where each resource's source comes from,
 * which violations an exception silences, the verdicts, violations, policy rows, exception rows
 * and the summary. The real programs through the whole audit are in program.test.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { exceptionRow, policyRow, reportSummary, reportViolations } from "../../cmd/audit/sections";
import { resourceSources } from "../../cmd/audit/sources";
import { exceptionFinder, resourceVerdicts, silencedViolations, withoutActiveExceptions } from "../../cmd/audit/verdicts";
import { ANNOTATION } from "../../contract/labels";
import { AWS, K8S } from "../../contract/types";
import { WIRE } from "../../internal/pulumi/sdk";
import { expiredNote } from "../../policy/lib/exceptions";
import { policies } from "../../policy/policies";
import type { PolicyPackConfigFile } from "../../stacks/policyConfig";
import { TODAY, diagnostic, judgement, kubeObject, registryException, resource, urnOf } from "./support";

const ORCHESTRATION = "registries/orchestration.yaml:10";
const AUTOMATION = "registries/automation.yaml:20";
/** A component type of the program; contract/types.ts lists only what the policy pack inspects. */
const SERVICE = "nexus:workloads:ServiceDeployment";

const RESOURCE_POLICIES = policies.filter((p) => "validateResource" in p).map((p) => p.name);
const policy = (name: string) => policies.find((p) => p.name === name)!;

describe("resource sources", () => {
  const component = resource(SERVICE, "api", { urn: urnOf(SERVICE, "api"), custom: false });
  const child = (type: string, name: string, source: string) => kubeObject(type, name, source, { urn: urnOf(type, name, [SERVICE]), parent: component.urn });

  it("read a Kubernetes object's annotation, through the secret wrapping of the wire format", () => {
    // Recorded props keep secrets in their wire form: { [sigKey]: secret, value }.
    const annotations = { [WIRE.sigKey]: WIRE.secret, value: { [ANNOTATION.source]: ORCHESTRATION } };
    const secret = resource(K8S.Secret, "db", { props: { metadata: { name: "db", annotations } } });
    const bucket = resource(AWS.buckets[0], "backups", { props: { tags: { [ANNOTATION.source]: AUTOMATION } } });
    const sources = resourceSources([secret, bucket], []);
    expect(sources.get(secret.urn)).toEqual({ source: ORCHESTRATION, from: "annotation" });
    expect(sources.get(bucket.urn)).toEqual({ source: AUTOMATION, from: "tag" });
  });

  it("give a component the source its resources agree on, else the registry entry of its name", () => {
    const agreeing = resourceSources([component, child(K8S.Deployment, "api", ORCHESTRATION), child(K8S.Service, "api", ORCHESTRATION)], []);
    expect(agreeing.get(component.urn)).toEqual({ source: ORCHESTRATION, from: "children" });

    const disagreeing = [component, child(K8S.Deployment, "api", ORCHESTRATION), child(K8S.CronJob, "api-check", AUTOMATION)];
    expect(resourceSources(disagreeing, []).has(component.urn)).toBe(false);
    expect(resourceSources(disagreeing, [{ name: "api", source: "registries/orchestration.yaml:99" }]).get(component.urn)).toEqual({
      source: "registries/orchestration.yaml:99",
      from: "model",
    });
  });

  it("give a resource without its own the nearest ancestor's, and the stack none", () => {
    const stack = resource(pulumi.runtime.rootPulumiStackTypeName, "nexus-platform-test", { custom: false });
    const bucket = resource(AWS.buckets[0], "backups", { parent: stack.urn, props: { tags: { [ANNOTATION.source]: AUTOMATION } } });
    const versioning = resource(AWS.versioning[0], "backups-versioning", { parent: bucket.urn });
    const sources = resourceSources([stack, bucket, versioning], [{ name: "nexus-platform-test", source: AUTOMATION }]);
    expect(sources.get(versioning.urn)).toEqual({ source: AUTOMATION, from: "parent" });
    expect(sources.has(stack.urn)).toBe(false);
  });
});

describe("exceptions in force", () => {
  const db = kubeObject(K8S.StatefulSet, "db-statefulset", ORCHESTRATION, {
    props: { metadata: { name: "db", annotations: {} } },
  });
  const writable = diagnostic("read-only-root-filesystem", db.urn, 'StatefulSet "db": writable root');

  it("silence what the run without them reports and the real run does not, counting repeats", () => {
    const other = diagnostic("read-only-root-filesystem", db.urn, "another container");
    expect(silencedViolations([writable], [writable, writable, other])).toEqual([writable, other]);
    expect(silencedViolations([writable, other], [writable, other])).toEqual([]);
  });

  it("are probed with only their policies enabled, each keeping its expired exceptions alone", () => {
    const exceptions = (...expires: string[]) => expires.map((e) => ({ resource: "db", owner: "data", reason: "x", expires: e }));
    const config = {
      "read-only-root-filesystem": { enforcementLevel: "mandatory", today: TODAY, exceptions: exceptions("2026-01-01", "2027-01-01") },
      "run-as-non-root": { enforcementLevel: "mandatory", today: TODAY, exceptions: exceptions("2026-01-01") },
      "no-host-ports": { enforcementLevel: "disabled", today: TODAY, exceptions: exceptions("2027-01-01") },
    } as unknown as PolicyPackConfigFile;
    const probe = withoutActiveExceptions(config, TODAY);
    expect([...probe.policies]).toEqual(["read-only-root-filesystem"]);
    expect(probe.config["read-only-root-filesystem"]).toMatchObject({ enforcementLevel: "mandatory", exceptions: exceptions("2026-01-01") });
    expect(probe.config["run-as-non-root"].enforcementLevel).toBe("disabled");
    expect(probe.config["no-host-ports"].enforcementLevel).toBe("disabled");
  });

  it("are found by policy, expiry and any name of the resource (its object name here)", () => {
    const inForce = registryException({ resource: "db" });
    const expired = registryException({ resource: "db", expires: "2026-11-26" });
    expect(exceptionFinder([expired, inForce], [db], TODAY)(writable)).toBe(inForce);
    expect(exceptionFinder([expired], [db], TODAY)(writable)).toBeUndefined();
    expect(exceptionFinder([registryException({ policy: "run-as-non-root" })], [db], TODAY)(writable)).toBeUndefined();
  });
});

describe("resource verdicts", () => {
  const api = resource(K8S.Deployment, "api");

  it("are violations, then excepted ones, then a pass for every other enabled resource policy, then not applicable", () => {
    const exception = registryException({ policy: "run-as-non-root", resource: "api" });
    const j = judgement([api], {
      evaluation: {
        diagnostics: [diagnostic("read-only-root-filesystem", api.urn, "writable root"), diagnostic("no-privileged-containers", api.urn, "privileged")],
        notApplicable: [{ policyName: "kms-key-rotation", urn: api.urn, reason: "not a KMS key" }],
      },
      silenced: [diagnostic("run-as-non-root", api.urn, "runs as root")],
      exceptionFor: () => exception,
      levels: { "no-host-ports": "disabled" },
    });
    const verdicts = resourceVerdicts(j).get(api.urn)!;
    expect(verdicts.slice(0, 3)).toEqual([
      { policy: "no-privileged-containers", verdict: "violation", enforcement: "mandatory", message: "privileged" },
      { policy: "read-only-root-filesystem", verdict: "violation", enforcement: "mandatory", message: "writable root" },
      {
        policy: "run-as-non-root",
        verdict: "excepted",
        enforcement: "mandatory",
        message: "runs as root",
        exception: { resource: "api", owner: exception.owner, expires: exception.expires, source: exception.source },
      },
    ]);
    expect(verdicts.at(-1)).toEqual({ policy: "kms-key-rotation", verdict: "not-applicable", enforcement: "mandatory", reason: "not a KMS key" });
    const passes = verdicts.filter((v) => v.verdict === "pass").map((v) => v.policy);
    const judged = ["no-privileged-containers", "read-only-root-filesystem", "run-as-non-root", "kms-key-rotation", "no-host-ports"];
    expect(passes).toEqual(RESOURCE_POLICIES.filter((p) => !judged.includes(p)));
  });
});

describe("violations", () => {
  const api = resource(K8S.Deployment, "api");
  const sources = new Map([[api.urn, { source: ORCHESTRATION, from: "annotation" as const }]]);

  it("come mandatory first, located at their resource's entry; stack violations have no resource", () => {
    const e = registryException({ policy: "no-privileged-containers", resource: "api", expires: "2026-11-01" });
    const j = judgement([api], {
      evaluation: {
        diagnostics: [
          diagnostic("no-privileged-containers", api.urn, `privileged (${expiredNote(e)})`, { enforcementLevel: "advisory" }),
          diagnostic("prod-ha-user-facing", undefined, "too few replicas", { phase: "stack" }),
        ],
        notApplicable: [],
      },
    });
    expect(reportViolations(j, sources)).toEqual([
      {
        policy: "prod-ha-user-facing",
        enforcement: "mandatory",
        phase: "stack",
        urn: null,
        type: null,
        name: null,
        source: null,
        message: "too few replicas",
        expiredException: false,
      },
      {
        policy: "no-privileged-containers",
        enforcement: "advisory",
        phase: "resource",
        urn: api.urn,
        type: K8S.Deployment,
        name: "api",
        source: ORCHESTRATION,
        message: `privileged (${expiredNote(e)})`,
        expiredException: true,
      },
    ]);
  });
});

describe("policy rows", () => {
  const api = resource(K8S.Deployment, "api");
  const job = resource(K8S.CronJob, "job");

  it("count a resource policy's passes, violations, excepted and not-applicable resources", () => {
    const violation = diagnostic("run-as-non-root", api.urn, "runs as root");
    const j = judgement([api, job], {
      evaluation: { diagnostics: [violation], notApplicable: [{ policyName: "run-as-non-root", urn: job.urn, reason: "no pods" }] },
    });
    const verdicts = resourceVerdicts(j);
    const rows = [api, job].map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: "",
      custom: true,
      source: null,
      sourceFrom: null,
      verdicts: verdicts.get(r.urn)!,
    }));
    expect(policyRow(policy("run-as-non-root"), j, rows)).toMatchObject({
      kind: "resource",
      checked: 1,
      passed: 0,
      notApplicable: 1,
      violations: 1,
      excepted: 0,
    });
    expect(policyRow(policy("no-host-ports"), j, rows)).toMatchObject({ kind: "resource", checked: 2, passed: 2, notApplicable: 0 });
    expect(policyRow(policy("no-host-ports"), judgement([api, job], { levels: { "no-host-ports": "disabled" } }), rows)).toMatchObject({
      enforcement: "disabled",
      checked: 0,
    });
  });

  it("give a stack policy no per-resource counts, and say why it did not apply", () => {
    const j = judgement([api], { evaluation: { diagnostics: [], notApplicable: [{ policyName: "s3-sse-kms", reason: "no buckets in this stack" }] } });
    expect(policyRow(policy("s3-sse-kms"), j, [])).toEqual({
      name: "s3-sse-kms",
      description: policy("s3-sse-kms").description,
      kind: "stack",
      enforcement: "mandatory",
      checked: null,
      passed: null,
      notApplicable: 1,
      violations: 0,
      excepted: 0,
      notApplicableReason: "no buckets in this stack",
    });
  });
});

describe("exception rows", () => {
  const api = resource(K8S.Deployment, "api");

  it("name the resources an exception in force silences, and the days it has left", () => {
    const e = registryException({ policy: "run-as-non-root", resource: "api", expires: "2026-12-27", reason: "  Runs as root until the image is rebuilt \n" });
    const silenced = diagnostic("run-as-non-root", api.urn, "runs as root");
    const j = judgement([api], { silenced: [silenced, silenced], exceptionFor: () => e, levels: { "run-as-non-root": "advisory" } });
    expect(exceptionRow(e, j, [])).toMatchObject({
      status: "in-force",
      daysLeft: 30,
      enforcement: "advisory",
      silences: [api.urn],
      expiredFor: [],
      reason: "Runs as root until the image is rebuilt",
    });
    expect(exceptionRow(e, { ...j, exceptionFor: () => registryException() }, []).silences).toEqual([]);
  });

  it("flag an expired one with the violations that name it as expired", () => {
    const e = registryException({ policy: "run-as-non-root", resource: "api", expires: "2026-11-20" });
    const j = judgement([api], {
      evaluation: { diagnostics: [diagnostic("run-as-non-root", api.urn, `runs as root (${expiredNote(e)})`)], notApplicable: [] },
    });
    const violations = reportViolations(j, new Map());
    expect(exceptionRow(e, j, violations)).toMatchObject({ status: "expired", daysLeft: -7, silences: [], expiredFor: [api.urn] });
    expect(exceptionRow({ ...e, owner: "someone-else" }, j, violations).expiredFor).toEqual([]);
  });
});

describe("the summary", () => {
  it("counts remediate violations as mandatory, and enabled and disabled policies apart", () => {
    const violation = (enforcement: "mandatory" | "remediate" | "advisory") =>
      ({ policy: "p", enforcement, phase: "resource", urn: null, type: null, name: null, source: null, message: "m", expiredException: false }) as const;
    const row = (enforcement: "mandatory" | "advisory" | "disabled") => ({ ...policyRow(policy("no-host-ports"), judgement([]), []), enforcement });
    const summary = reportSummary({
      violations: [violation("mandatory"), violation("remediate"), violation("advisory")],
      excepted: 2,
      resources: [],
      policies: [row("mandatory"), row("advisory"), row("disabled")],
      exceptions: [exceptionRow(registryException({ expires: "2026-01-01" }), judgement([]), [])],
    });
    expect(summary).toEqual({ mandatory: 2, advisory: 1, excepted: 2, resources: 0, policies: 2, disabledPolicies: 1, exceptions: 1, expiredExceptions: 1 });
  });
});
