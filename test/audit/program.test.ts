/**
 * `nexus audit` on the real dev and prod programs: evaluated once each under mocks (beforeAll),
 * then judged by the pack in this process; the same resources, changed where the registries
 * cannot express a fault (a privileged container, a bucket without encryption or public access
 * block), and the real pack process (parity) reuse those runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeOf } from "../../cmd/audit/cli";
import { KUBERNETES_PROVIDER, SECRET_PLACEHOLDER, evaluateProgram, type EvaluatedProgram, type ProgramResource } from "../../cmd/audit/evaluate";
import { POLICY_DIR, auditPack, buildReport, packAnalyzer, renderJson, renderMarkdown, type ComplianceReport } from "../../cmd/audit/report";
import { AWS, K8S } from "../../contract/types";
import { PackAnalyzer, spawnPolicyPack, type Evaluation } from "../../internal/pulumi/analyzer";
import { WIRE } from "../../internal/pulumi/sdk";
import { policyPackConfig } from "../../stacks/policyConfig";
import { API_SERVER } from "../../stacks/platform";
import { TODAY, changed, one, policyCounts, privilegedFrontend, registryLine, violationsOf } from "./support";

const SECRET_SIG = { key: WIRE.sigKey, value: WIRE.secret };
/** The component of the security baseline; contract/types.ts lists only what the policy pack inspects. */
const BASELINE = "nexus:security:SecurityBaseline";
const BUCKET = AWS.buckets[0];
const ENCRYPTION = AWS.encryption[0];

interface Audited {
  program: EvaluatedProgram;
  report: ComplianceReport;
  evaluation: Evaluation;
}

async function audited(stack: "dev" | "prod"): Promise<Audited> {
  const result = await evaluateProgram({ stack, today: TODAY });
  if (!result.ok) throw new Error(`the real registries have problems: ${JSON.stringify(result.problems)}`);
  return { program: result.program, ...(await buildReport(result.program)) };
}

let dev: Audited;
let prod: Audited;

beforeAll(async () => {
  dev = await audited("dev");
  prod = await audited("prod");
}, 120_000);

describe("the real programs", () => {
  it("give zero violations in dev and prod: exit 0", () => {
    for (const { report } of [dev, prod]) {
      expect(violationsOf(report)).toEqual([]);
      expect(report.summary.mandatory).toBe(0);
      expect(report.passed).toBe(true);
      expect(exitCodeOf(report)).toBe(0);
    }
  });

  it("list every registered resource once, with URN, type and name", () => {
    for (const { program, report } of [dev, prod]) {
      expect(report.resources.map((r) => r.urn).sort()).toEqual(program.resources.map((r) => r.urn).sort());
      expect(new Set(report.resources.map((r) => r.urn)).size).toBe(report.resources.length);
      expect(report.summary.resources).toBe(program.resources.length);
      for (const r of report.resources) {
        expect(r.urn.endsWith(`::${r.type}::${r.name}`) || r.urn.endsWith(`$${r.type}::${r.name}`)).toBe(true);
      }
    }
    expect(dev.report.resources.length).toBeGreaterThan(150);
    expect(prod.report.resources.filter((r) => r.type.startsWith("aws:")).length).toBeGreaterThanOrEqual(10);
  });

  it("give every resource its registry FILE:LINE, except the stack, the provider and the baseline that span several entries, and the read of the API server", () => {
    for (const { report, program } of [dev, prod]) {
      const without = report.resources.filter((r) => r.source === null).map((r) => `${r.type} ${r.name}`);
      expect(without.sort()).toEqual(
        [
          `${BASELINE} baseline`,
          `${K8S.Provider} ${KUBERNETES_PROVIDER}`,
          `${pulumi.runtime.rootPulumiStackTypeName} nexus-platform-${program.stack}`,
          // It reads where the cluster's API server is: no registry entry says that.
          `nexus:cluster:KubernetesApiServer ${API_SERVER}`,
        ].sort(),
      );
      for (const r of report.resources.filter((x) => x.source !== null)) expect(r.source, r.urn).toMatch(registryLine());
      // Kubernetes objects carry their own annotation, taggable AWS resources their own tag.
      for (const r of report.resources.filter((x) => x.type.startsWith("kubernetes:"))) expect(r.sourceFrom, r.urn).toBe("annotation");
      for (const r of report.resources.filter((x) => [...AWS.buckets, AWS.kmsKey, AWS.iamRole].includes(x.type as never)))
        expect(r.sourceFrom, r.urn).toBe("tag");
      // The entry itself: postgres' StatefulSet points at postgres in orchestration.yaml.
      const postgres = program.model.services.find((s) => s.name === "postgres")!;
      expect(report.resources.find((r) => r.type === K8S.StatefulSet && r.name.startsWith("postgres"))?.source).toBe(postgres.source);
    }
  });

  it("record parents, dependencies, property dependencies and providers as the engine describes them", () => {
    const { program } = prod;
    const bucket = one(program.resources, BUCKET, "backups-bucket");
    const encryption = one(program.resources, ENCRYPTION, "backups-encryption");
    expect(encryption.propertyDependencies?.bucket).toEqual([bucket.urn]);
    expect(encryption.dependencies).toContain(bucket.urn);
    expect(encryption.parent).toBe(bucket.parent);
    expect(bucket.parent).toBe("urn:pulumi:prod::nexus-platform::pulumi:pulumi:Stack$nexus:backup:BackupStorage::backups");
    expect(bucket.provider).toEqual({
      urn: "urn:pulumi:prod::nexus-platform::pulumi:providers:aws::default_7_48_0",
      type: "pulumi:providers:aws",
      name: "default_7_48_0",
      props: { region: "eu-central-1", version: "7.48.0" },
    });
    const sts = program.resources.find((r) => r.type === K8S.StatefulSet && r.name.startsWith("postgres"))!;
    expect(sts.parent).toMatch(/nexus:workloads:ServiceDeployment::postgres$/);
    expect(sts.provider).toMatchObject({
      type: K8S.Provider,
      name: KUBERNETES_PROVIDER,
      props: { context: "nexus-prod", enableServerSideApply: "true" },
    });
    expect(sts.custom).toBe(true);
    expect(program.resources[0]?.type).toBe(pulumi.runtime.rootPulumiStackTypeName);
  });

  it("fill every referenced secret with a placeholder, still marked secret", () => {
    const secret = dev.program.resources.find((r) => r.type === K8S.Secret && r.name.startsWith("postgres"))!;
    const data = secret.props.stringData as Record<string, unknown>;
    expect(data[SECRET_SIG.key]).toBe(SECRET_SIG.value);
    expect(Object.values(data.value as Record<string, string>)).toEqual([SECRET_PLACEHOLDER]);
  });

  it("judge every resource with every enabled resource policy, at the environment's level", () => {
    for (const { report, program } of [dev, prod]) {
      for (const p of report.policies)
        expect(p.enforcement, p.name).toBe(program.model.security.enforcement[p.name as keyof typeof program.model.security.enforcement]);
      for (const p of report.policies.filter((x) => x.kind === "resource" && x.enforcement !== "disabled")) {
        expect((p.checked ?? 0) + p.notApplicable, p.name).toBe(report.resources.length);
        expect(p.passed, p.name).toBe(p.checked);
      }
      const workloads = report.resources.filter((r) => r.type === K8S.Deployment || r.type === K8S.StatefulSet);
      expect(workloads.length).toBeGreaterThan(5);
      for (const w of workloads) {
        expect(w.verdicts.find((v) => v.policy === "no-privileged-containers")).toEqual({
          policy: "no-privileged-containers",
          verdict: "pass",
          enforcement: "mandatory",
        });
        expect(w.verdicts.find((v) => v.policy === "kms-key-rotation")).toMatchObject({
          verdict: "not-applicable",
          reason: expect.stringContaining(AWS.kmsKey),
        });
      }
    }
    // dev: read-only-root-filesystem advisory, prod-ha-user-facing disabled (registries/security.yaml).
    const devPolicy = (name: string) => dev.report.policies.find((p) => p.name === name)!;
    expect(devPolicy("read-only-root-filesystem").enforcement).toBe("advisory");
    expect(devPolicy("prod-ha-user-facing")).toMatchObject({ enforcement: "disabled", violations: 0 });
    expect(dev.report.summary).toMatchObject({ ...policyCounts(dev.program.model), disabledPolicies: 1 });
    expect(prod.report.summary).toMatchObject({ ...policyCounts(prod.program.model), disabledPolicies: 0 });
    expect(prod.report.policies.find((p) => p.name === "prod-ha-user-facing")).toMatchObject({ enforcement: "mandatory", kind: "stack", violations: 0 });
  });

  it("need no exception: postgres passes read-only-root-filesystem on its own, its socket directory a writable path", () => {
    for (const { report } of [dev, prod]) {
      expect(report.exceptions).toEqual([]);
      expect(report.summary).toMatchObject({ exceptions: 0, expiredExceptions: 0, excepted: 0 });
      const postgres = report.resources.find((r) => r.type === K8S.StatefulSet && r.name.startsWith("postgres"))!;
      expect(postgres.verdicts.find((v) => v.policy === "read-only-root-filesystem")).toMatchObject({ verdict: "pass" });
    }
  });
});

describe("prod with AWS on", () => {
  it("passes the S3 bucket, its KMS key and the backup roles' policies", () => {
    const bucket = prod.report.resources.find((r) => r.type === BUCKET)!;
    expect(bucket).toMatchObject({ name: "backups-bucket", source: expect.stringMatching(registryLine("automation")), sourceFrom: "tag" });
    for (const name of ["s3-block-public-access", "s3-sse-kms", "s3-versioning", "s3-tls-only", "s3-lifecycle-within-gdpr"]) {
      expect(
        prod.report.policies.find((p) => p.name === name),
        name,
      ).toMatchObject({ kind: "stack", enforcement: "mandatory", violations: 0, excepted: 0 });
    }
    const key = prod.report.resources.find((r) => r.type === AWS.kmsKey)!;
    expect(key.verdicts.find((v) => v.policy === "kms-key-rotation")?.verdict).toBe("pass");
    const rolePolicies = prod.report.resources.filter((r) => r.type === AWS.iamPolicies[0]);
    expect(rolePolicies).toHaveLength(2);
    for (const r of rolePolicies) expect(r.verdicts.find((v) => v.policy === "iam-no-wildcards")?.verdict).toBe("pass");
  });

  it("fails a bucket without encryption or public access block, and one with a public ACL", async () => {
    const stripped = prod.program.resources.filter((r) => !AWS.encryption.includes(r.type as never) && !AWS.publicAccessBlock.includes(r.type as never));
    const { report } = await buildReport(prod.program, stripped);
    expect(violationsOf(report)).toEqual([
      {
        policy: "s3-block-public-access",
        enforcement: "mandatory",
        resource: "backups-bucket",
        message:
          'Bucket "nexus-prod-backups" has no public access block: add an aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true',
      },
      {
        policy: "s3-sse-kms",
        enforcement: "mandatory",
        resource: "backups-bucket",
        message:
          'Bucket "nexus-prod-backups" has no server-side encryption configuration: add an aws.s3.BucketServerSideEncryptionConfiguration for it with sseAlgorithm "aws:kms" and the backup KMS key as kmsMasterKeyId',
      },
    ]);
    expect(report.violations.every((v) => v.source === prod.report.resources.find((r) => r.type === BUCKET)!.source)).toBe(true);
    expect(exitCodeOf(report)).toBe(1);

    const publicAcl = changed(prod.program, BUCKET, "backups-bucket", (p) => {
      p.acl = "public-read";
    });
    expect(violationsOf((await buildReport(prod.program, publicAcl)).report)).toEqual([
      {
        policy: "s3-block-public-access",
        enforcement: "mandatory",
        resource: "backups-bucket",
        message:
          'Bucket "nexus-prod-backups" has the public ACL "public-read": remove acl (buckets are private by default) and serve objects through signed URLs if needed',
      },
    ]);
  });
});

describe("a privileged container (not expressible in the registries: injected into the evaluated resources)", () => {
  it("is exactly one mandatory no-privileged-containers violation, located at its registry entry", async () => {
    const { report } = await buildReport(dev.program, privilegedFrontend(dev.program));
    expect(violationsOf(report)).toEqual([
      {
        policy: "no-privileged-containers",
        enforcement: "mandatory",
        resource: "frontend-deployment",
        message:
          'Deployment "frontend": container "frontend" runs privileged: remove securityContext.privileged or set it to false; a privileged container has every device and capability of the node',
      },
    ]);
    const frontend = dev.program.model.services.find((s) => s.name === "frontend")!;
    expect(report.violations[0]?.source).toBe(frontend.source);
    expect(report.resources.find((r) => r.name === "frontend-deployment")?.verdicts[0]).toMatchObject({
      policy: "no-privileged-containers",
      verdict: "violation",
    });
    expect(exitCodeOf(report)).toBe(1);
  });
});

describe("the report formats", () => {
  it("Markdown: the summary line first, a violations table, then collapsible details with every resource", async () => {
    const md = renderMarkdown(dev.report);
    const lines = md.split("\n");
    expect(lines[0]).toBe("<!-- nexus-audit stack=dev -->");
    const { policies, disabledPolicies } = policyCounts(dev.program.model);
    expect(lines[1]).toBe(`**0 mandatory violations, 0 advisory, ${dev.report.resources.length} resources, ${policies} policies**`);
    expect(md).toContain("### Violations\n\nNone.");
    expect(md).toContain("### Exceptions\n\nNone.");
    expect(md).toContain(`<details><summary>Policies: ${policies} enabled, ${disabledPolicies} disabled in dev</summary>`);
    expect(md).toContain(`<details><summary>All ${dev.report.resources.length} resources, with the registry entry each came from</summary>`);
    for (const r of dev.report.resources) expect(md).toContain(`\`${r.urn}\``);

    const failing = (await buildReport(dev.program, privilegedFrontend(dev.program))).report;
    const failingMd = renderMarkdown(failing);
    expect(failingMd.split("\n")[1]).toBe(`**1 mandatory violation, 0 advisory, ${failing.resources.length} resources, ${policies} policies**`);
    expect(failingMd).toContain("| Level | Policy | Resource | Source | Message |");
    const frontend = dev.program.model.services.find((s) => s.name === "frontend")!;
    expect(failingMd).toContain(
      `| **mandatory** | \`no-privileged-containers\` | \`frontend-deployment\`<br><sub>${K8S.Deployment}</sub> | \`${frontend.source}\` | Deployment "frontend": container "frontend" runs privileged`,
    );
  });

  it("JSON: a stable structure, the same for the same program and day", async () => {
    const json = JSON.parse(renderJson(prod.report));
    expect(Object.keys(json)).toEqual([
      "schema",
      "project",
      "stack",
      "environment",
      "today",
      "registries",
      "pack",
      "passed",
      "summary",
      "policies",
      "exceptions",
      "backups",
      "violations",
      "resources",
    ]);
    expect(json).toMatchObject({
      schema: "nexus-audit/v1",
      project: "nexus-platform",
      stack: "prod",
      environment: "prod",
      today: TODAY,
      registries: "registries",
      pack: { name: "nexus-platform", version: auditPack().packVersion },
      passed: true,
    });
    expect(Object.keys(json.resources[0])).toEqual(["urn", "type", "name", "parent", "custom", "source", "sourceFrom", "verdicts"]);
    expect(json.policies.map((p: { name: string }) => p.name)).toEqual(auditPack().policies.map((p) => p.name));
    expect(renderJson((await buildReport(prod.program)).report)).toBe(renderJson(prod.report));
  });
});

describe("parity with the pack under the Pulumi runner", () => {
  let remote: PackAnalyzer | undefined;
  let stop = () => undefined as void;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(POLICY_DIR, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack"))) {
      throw new Error("the policy pack's dependencies are missing: run `npm ci --prefix policy` first");
    }
    const started = await spawnPolicyPack(POLICY_DIR);
    stop = started.stop;
    remote = PackAnalyzer.connect(started.address, auditPack());
  }, 120_000);

  afterAll(() => {
    remote?.close();
    stop();
  });

  const summary = (e: Evaluation) => ({
    diagnostics: e.diagnostics.map((d) => `${d.phase} ${d.policyName} ${d.enforcementLevel} ${d.urn ?? "-"} ${d.message}`).sort(),
    notApplicable: e.notApplicable.map((n) => `${n.policyName} ${n.urn ?? "-"} ${n.reason}`).sort(),
  });

  it("gives the audit's verdicts for the evaluated dev and prod programs, and for failing variants", async () => {
    const privileged = privilegedFrontend(dev.program, true);
    const stripped = prod.program.resources.filter((r) => !AWS.encryption.includes(r.type as never) && !AWS.versioning.includes(r.type as never));
    const runs: [EvaluatedProgram, readonly ProgramResource[]][] = [
      [dev.program, dev.program.resources],
      [prod.program, prod.program.resources],
      [dev.program, privileged],
      [prod.program, stripped],
    ];
    let compared = 0;
    for (const [program, resources] of runs) {
      const config = policyPackConfig(program.model, TODAY);
      const here = await packAnalyzer().evaluate(resources, config);
      const there = await remote!.evaluate(resources, config);
      expect(summary(there)).toEqual(summary(here));
      compared += here.diagnostics.length + here.notApplicable.length;
    }
    expect(compared).toBeGreaterThan(1000);
    // The audit's own evaluation of the real programs is the in-process one compared here.
    expect(summary(dev.evaluation)).toEqual(summary(await packAnalyzer().evaluate(dev.program.resources, policyPackConfig(dev.program.model, TODAY))));
  }, 60_000);
});
