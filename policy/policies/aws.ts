/**
 * AWS: the backup bucket, its KMS key and the backup roles. In @pulumi/aws v7 a bucket's
 * versioning, encryption, public access block, lifecycle and policy are separate resources, so the
 * S3 checks are stack validations that find each bucket's companions; a missing companion is a
 * violation.
 */
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { AWS, bucketsOf, companionsOf, describeAws, policyDocument, statementsOf, strings, type Statement } from "../lib/aws";
import { configSchema, type BaseConfig } from "../lib/config";
import { reporter, subjectOf, type Report } from "../lib/exceptions";
import { checked } from "../lib/policy";
import { UNKNOWN, asArray, asObject, asString, isObject, known, list, path, q } from "../lib/props";

interface BucketContext<C> {
  resources: PolicyResource[];
  report: (message: string) => void;
  config: C;
  /** `Bucket "nexus-backups-prod"` */
  what: string;
}

/** Runs a check for every bucket of the stack, with the policy's exceptions. */
function eachBucket<C extends BaseConfig>(check: (bucket: PolicyResource, ctx: BucketContext<C>) => void) {
  return (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const config = args.getConfig<C>();
    const report: Report = reporter(config, reportViolation);
    for (const bucket of bucketsOf(args.resources)) {
      check(bucket, {
        resources: args.resources,
        report: (message) => report(message, subjectOf(bucket)),
        config,
        what: describeAws(bucket),
      });
    }
  };
}

/**
 * Runs a check for every bucket with its companion resources of one kind; a bucket without any
 * is reported as `${what} ${missing}` and not checked further.
 */
function eachBucketWith(types: readonly string[], missing: string, check: (companions: PolicyResource[], ctx: BucketContext<BaseConfig>) => void) {
  return eachBucket((bucket, ctx) => {
    const companions = companionsOf(bucket, ctx.resources, types);
    if (companions.length === 0) ctx.report(`${ctx.what} ${missing}`);
    else check(companions, ctx);
  });
}

const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3BlockPublicAccess: StackValidationPolicy = {
  name: "s3-block-public-access",
  description: "Checks whether every S3 bucket has a public access block with all four settings on and no public ACL (CIS AWS 2.1.4).",
  configSchema: configSchema(),
  validateStack: eachBucket((bucket, { resources, report, what }) => {
    const acl = known(() => asString(bucket.props.acl));
    if (acl !== UNKNOWN && acl !== undefined && PUBLIC_ACLS.includes(acl)) {
      report(`${what} has the public ACL ${q(acl)}: remove acl (buckets are private by default) and serve objects through signed URLs if needed`);
    }
    const blocks = companionsOf(bucket, resources, AWS.publicAccessBlock);
    if (blocks.length === 0) {
      report(`${what} has no public access block: add an aws.s3.BucketPublicAccessBlock for it with ${list([...BLOCK_FLAGS])} all true`);
      return;
    }
    const off = (b: PolicyResource) =>
      BLOCK_FLAGS.filter((f) => {
        const v = known(() => b.props[f]);
        return v !== true && v !== UNKNOWN;
      });
    const best = blocks.map(off).sort((a, b) => a.length - b.length)[0] ?? [];
    if (best.length > 0) {
      report(`${what} has a public access block that leaves ${list(best)} off: set all four of ${list([...BLOCK_FLAGS])} to true`);
    }
  }),
};

const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

export const s3SseKms: StackValidationPolicy = {
  name: "s3-sse-kms",
  description: "Checks whether every S3 bucket encrypts by default with SSE-KMS under a customer-managed KMS key.",
  configSchema: configSchema(),
  validateStack: eachBucketWith(
    AWS.encryption,
    'has no server-side encryption configuration: add an aws.s3.BucketServerSideEncryptionConfiguration for it with sseAlgorithm "aws:kms" and the backup KMS key as kmsMasterKeyId',
    (configs, { report, what }) => {
      const rules = configs.flatMap((c) => {
        const r = known(() => asArray(c.props.rules));
        return r === UNKNOWN ? [UNKNOWN] : r;
      });
      if (rules.includes(UNKNOWN)) return; // not known during preview: judged on update
      const defaults = rules.map((r) => asObject(known(() => asObject(r).applyServerSideEncryptionByDefault)));
      const algorithms = defaults.map((d) => known(() => asString(d.sseAlgorithm)));
      if (algorithms.includes(UNKNOWN)) return;
      const kms = defaults.filter((_d, i) => KMS_ALGORITHMS.includes(algorithms[i] as string));
      if (kms.length === 0) {
        const used = algorithms.filter((a): a is string => typeof a === "string");
        report(
          `${what} encrypts with ${used.length > 0 ? list(used) : "no default algorithm"} instead of SSE-KMS: set applyServerSideEncryptionByDefault.sseAlgorithm to "aws:kms" with kmsMasterKeyId set to the backup KMS key`,
        );
        return;
      }
      const keyed = kms.some((d) => {
        const key = known(() => d.kmsMasterKeyId);
        return key === UNKNOWN || (typeof key === "string" && key.length > 0);
      });
      if (!keyed) {
        report(`${what} uses SSE-KMS without kmsMasterKeyId, i.e. the AWS-managed key: set kmsMasterKeyId to the dedicated backup KMS key, which rotates`);
      }
    },
  ),
};

export const s3Versioning: StackValidationPolicy = {
  name: "s3-versioning",
  description: "Checks whether every S3 bucket has versioning enabled, so an overwritten or deleted backup can be recovered.",
  configSchema: configSchema(),
  validateStack: eachBucketWith(
    AWS.versioning,
    'has no versioning: add an aws.s3.BucketVersioning for it with versioningConfiguration.status "Enabled"',
    (configs, { report, what }) => {
      const statuses = configs.map((c) => known(() => asString(path(c.props, "versioningConfiguration", "status"))));
      if (statuses.includes(UNKNOWN) || statuses.includes("Enabled")) return;
      report(`${what} has versioning ${statuses.filter((s) => typeof s === "string").join(", ") || "unset"}: set versioningConfiguration.status to "Enabled"`);
    },
  ),
};

/** What a bucket policy must do for s3-tls-only, in both of its messages. */
const TLS_FIX = `denies "s3:*" to Principal "*" when aws:SecureTransport is "false", on the bucket and its objects`;

function deniesInsecureTransport(s: Statement): boolean {
  if (s.Effect !== "Deny") return false;
  const principal = s.Principal;
  const everyone = principal === "*" || (isObject(principal) && strings(principal.AWS).includes("*"));
  const actions = strings(s.Action);
  const condition = asObject(asObject(s.Condition).Bool)["aws:SecureTransport"];
  const insecure = (Array.isArray(condition) ? condition : [condition]).some((v) => v === "false" || v === false);
  return everyone && (actions.includes("s3:*") || actions.includes("*")) && insecure;
}

export const s3TlsOnly: StackValidationPolicy = {
  name: "s3-tls-only",
  description: "Checks whether every S3 bucket has a bucket policy denying all requests that do not use TLS (aws:SecureTransport false) (CIS AWS 2.1.1).",
  configSchema: configSchema(),
  validateStack: eachBucketWith(AWS.bucketPolicy, `has no bucket policy: add an aws.s3.BucketPolicy for it that ${TLS_FIX}`, (policies, { report, what }) => {
    let unknown = false;
    const denies = policies.some((p) => {
      const verdict = known(() => {
        const doc = policyDocument(p);
        if (doc === UNKNOWN) return UNKNOWN;
        const statements = statementsOf(doc);
        return Array.isArray(statements) && statements.some(deniesInsecureTransport);
      });
      if (verdict === UNKNOWN) unknown = true;
      return verdict === true;
    });
    if (!denies && !unknown) report(`${what} has a bucket policy that does not deny plain-HTTP requests: add a statement that ${TLS_FIX}`);
  }),
};

interface GdprConfig extends BaseConfig {
  gdprMaxDays?: Record<string, number>;
}

interface LifecycleRule {
  prefix: string;
  expirationDays?: number;
  noncurrentDays?: number;
}

function lifecycleRules(resource: PolicyResource): LifecycleRule[] | typeof UNKNOWN {
  const rules = known(() =>
    asArray(resource.props.rules).flatMap((r): LifecycleRule[] => {
      const rule = asObject(r);
      if (rule.status !== "Enabled") return [];
      const filter = asObject(rule.filter);
      const prefix = asString(filter.prefix) ?? asString(path(filter, "and", "prefix")) ?? asString(rule.prefix) ?? "";
      const days = path(rule, "expiration", "days");
      const noncurrent = path(rule, "noncurrentVersionExpiration", "noncurrentDays");
      return [
        { prefix, ...(typeof days === "number" ? { expirationDays: days } : {}), ...(typeof noncurrent === "number" ? { noncurrentDays: noncurrent } : {}) },
      ];
    }),
  );
  return rules;
}

export const s3LifecycleWithinGdpr: StackValidationPolicy = {
  name: "s3-lifecycle-within-gdpr",
  description:
    "Checks whether every S3 bucket expires its objects by a lifecycle rule, and objects under each personal-data backup prefix (current and noncurrent versions) within the GDPR maximum of their backup task.",
  configSchema: configSchema({
    gdprMaxDays: {
      type: "object",
      additionalProperties: { type: "integer", minimum: 1 },
      description: 'Longest retention in days per backup prefix holding personal data, e.g. {"postgres/": 30}',
    },
  }),
  validateStack: eachBucket<GdprConfig>((bucket, { resources, report, what, config }) => {
    const configs = companionsOf(bucket, resources, AWS.lifecycle);
    const all: LifecycleRule[] = [];
    for (const c of configs) {
      const rules = lifecycleRules(c);
      if (rules === UNKNOWN) return; // not known during preview: judged on update
      all.push(...rules);
    }
    const expiring = all.filter((r) => r.expirationDays !== undefined);
    if (expiring.length === 0) {
      report(
        `${what} has no enabled lifecycle rule that expires objects, so backups are kept forever: add an aws.s3.BucketLifecycleConfiguration with expiration.days from each backup task's retention`,
      );
      return;
    }
    const versioned = companionsOf(bucket, resources, AWS.versioning).some(
      (v) => known(() => path(v.props, "versioningConfiguration", "status")) !== "Suspended",
    );
    for (const [prefix, max] of Object.entries(config.gdprMaxDays ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      const covering = expiring.filter((r) => prefix.startsWith(r.prefix));
      if (covering.length === 0) {
        report(
          `${what} has no lifecycle rule expiring objects under ${q(prefix)}, which hold personal data: add a rule with filter.prefix ${q(prefix)} and expiration.days at most ${max} (the task's gdpr.maxRetentionDays)`,
        );
        continue;
      }
      const rule = [...covering].sort((a, b) => (a.expirationDays ?? 0) - (b.expirationDays ?? 0))[0]!;
      const days = rule.expirationDays ?? 0;
      const ruleName = rule.prefix === "" ? "the bucket-wide rule" : `the rule for ${q(rule.prefix)}`;
      if (days > max) {
        report(
          `${what} keeps objects under ${q(prefix)} for ${days} days, beyond the GDPR maximum of ${max} days: set expiration.days of ${ruleName} to at most ${max} (registries/automation.yaml retention)`,
        );
      } else if (versioned && rule.noncurrentDays === undefined) {
        report(
          `${what} is versioned but never expires noncurrent versions under ${q(prefix)}, so deleted personal data stays: add noncurrentVersionExpiration with noncurrentDays at most ${max - days} to ${ruleName}`,
        );
      } else if (versioned && days + (rule.noncurrentDays ?? 0) > max) {
        report(
          `${what} keeps personal data under ${q(prefix)} up to ${days + (rule.noncurrentDays ?? 0)} days (expiration ${days} + noncurrent ${rule.noncurrentDays}), beyond the GDPR maximum of ${max} days: lower noncurrentVersionExpiration.noncurrentDays to at most ${max - days}`,
        );
      }
    }
  }),
};

const ASYMMETRIC = (spec: unknown) => typeof spec === "string" && spec !== "SYMMETRIC_DEFAULT";

export const kmsKeyRotation: ResourceValidationPolicy = {
  name: "kms-key-rotation",
  description: "Checks whether every symmetric KMS key rotates automatically (CIS AWS 3.6).",
  configSchema: configSchema(),
  validateResource: checked([AWS.kmsKey], (args, say) => {
    if (ASYMMETRIC(args.props.customerMasterKeySpec) || ASYMMETRIC(args.props.keySpec)) {
      return args.notApplicable("asymmetric and HMAC KMS keys cannot rotate automatically");
    }
    if (args.props.enableKeyRotation !== true) {
      say(`${describeAws(args)} does not rotate: set enableKeyRotation: true (yearly by default; rotationPeriodInDays to shorten it)`);
    }
  }),
};

function wildcardFindings(statements: Statement[]): string[] {
  const findings: string[] = [];
  statements.forEach((s, i) => {
    if ((s.Effect ?? "Allow") !== "Allow") return;
    const label = `statement ${i + 1}${typeof s.Sid === "string" && s.Sid ? ` (${s.Sid})` : ""}`;
    const actions = strings(s.Action).filter((a) => a === "*" || /^[^:]+:\*$/.test(a));
    if (actions.length > 0) findings.push(`${label} allows Action ${actions.map((a) => q(a)).join(", ")}: list the actions it needs, e.g. "s3:PutObject"`);
    if (s.NotAction !== undefined) findings.push(`${label} uses NotAction, which allows every other action: list the allowed actions with Action`);
    if (strings(s.Resource).includes("*")) findings.push(`${label} allows Resource "*": scope it to ARNs, e.g. "arn:aws:s3:::BUCKET/PREFIX/*"`);
    if (s.NotResource !== undefined) findings.push(`${label} uses NotResource, which allows every other resource: list the resources with Resource`);
  });
  return findings;
}

export const iamNoWildcards: ResourceValidationPolicy = {
  name: "iam-no-wildcards",
  description: 'Checks whether an IAM policy (managed or inline) allows "*" or service-wide "svc:*" actions, or "*" resources (CIS AWS 1.16).',
  configSchema: configSchema(),
  validateResource: checked([...AWS.iamPolicies, AWS.iamRole], (args, say) => {
    const what = describeAws(args);
    const documents: { label: string; policy: unknown }[] =
      args.type === AWS.iamRole
        ? asArray(args.props.inlinePolicies).map((p) => ({ label: `inline policy ${q(asString(asObject(p).name) ?? "?")}`, policy: asObject(p).policy }))
        : [{ label: "", policy: args.props.policy }];
    for (const { label, policy } of documents) {
      if (policy === undefined) continue;
      const statements = statementsOf(policy);
      if (!Array.isArray(statements)) {
        say(`${what}${label ? ` ${label}` : ""} is not a valid IAM policy document (${statements.error}): pass a JSON policy document`);
        continue;
      }
      for (const finding of wildcardFindings(statements)) say(`${what}${label ? ` ${label}` : ""} ${finding}`);
    }
  }),
};

export const awsPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  s3BlockPublicAccess,
  s3SseKms,
  s3Versioning,
  s3TlsOnly,
  s3LifecycleWithinGdpr,
  kmsKeyRotation,
  iamNoWildcards,
];
