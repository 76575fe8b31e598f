import { AWS } from "../../contract/types";
import type { PolicyResource } from "@pulumi/policy";
import { kindOf } from "./kube";
import { UNKNOWN, asObject, asString, isObject, known, q, type Props, type Unknown } from "./props";

/** @pulumi/aws v7 type tokens; the V2 aliases of v6 are accepted too. */
export { AWS };

function knownString(read: () => unknown): string | undefined {
  const v = known(read);
  return v === UNKNOWN ? undefined : asString(v);
}

/** `Bucket "nexus-backups-prod"`: the bucket name when known, else the Pulumi name. */
export function describeAws(resource: Pick<PolicyResource, "type" | "name" | "props">): string {
  const physical = (AWS.buckets as readonly string[]).includes(resource.type) ? knownString(() => resource.props.bucket) : undefined;
  return `${kindOf(resource.type)} ${q(physical ?? resource.name)}`;
}

/**
 * The bucket configuration resources (versioning, encryption, ...) of a bucket. In @pulumi/aws v7
 * they are separate resources whose `bucket` input is the bucket's id or name. They are linked by
 * the engine's property dependencies of `bucket` (known even in preview, when the id is not), else
 * by the value of `bucket`, else, when no property dependencies were recorded, by dependencies.
 */
export function companionsOf(bucket: PolicyResource, resources: readonly PolicyResource[], types: readonly string[]): PolicyResource[] {
  const ids = new Set(
    [knownString(() => bucket.props.bucket), knownString(() => bucket.props.id), knownString(() => bucket.props.arn)].filter(
      (v): v is string => v !== undefined && v.length > 0,
    ),
  );
  return resources.filter((r) => {
    if (!types.includes(r.type)) return false;
    const propertyDeps = r.propertyDependencies?.bucket;
    if (propertyDeps && propertyDeps.some((d) => d.urn === bucket.urn)) return true;
    const value = knownString(() => r.props.bucket);
    if (value !== undefined && ids.has(value)) return true;
    const hasPropertyDeps = propertyDeps !== undefined && propertyDeps.length > 0;
    return !hasPropertyDeps && value === undefined && (r.dependencies ?? []).some((d) => d.urn === bucket.urn);
  });
}

export function bucketsOf(resources: readonly PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => (AWS.buckets as readonly string[]).includes(r.type));
}

export interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

/** The statements of an IAM policy document given as JSON text or as an object. */
export function statementsOf(policy: unknown): Statement[] | { error: string } {
  let doc: unknown = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch (error) {
      return { error: (error as Error).message };
    }
  }
  if (!isObject(doc)) return { error: "the document is not a JSON object" };
  const statement = doc.Statement;
  const list = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  return list.map((s) => asObject(s) as Statement);
}

export function strings(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === "string");
}

/** A policy property that may not be known during preview. */
export function policyDocument(resource: Pick<PolicyResource, "props">): unknown | Unknown {
  return known(() => resource.props.policy);
}

export type { Props };
