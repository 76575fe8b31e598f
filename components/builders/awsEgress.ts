/**
 * Egress to AWS services by name (`network.awsEgress` in registries/security.yaml), turned into
 * CIDR rules for the stack's region. The ranges come from a dated snapshot of AWS's published
 * ip-ranges.json (awsIpRanges.ts, written by scripts/lib/aws-ip-ranges.mjs, which says how each
 * service's ranges are chosen): no network the program runs on can download the live file, and a
 * deploy must not change because AWS published new ranges. Re-run the script to refresh it.
 */
import type { AwsEgressRule, AwsEgressService, EgressRule } from "../../domain/schema";
import { SNAPSHOT } from "./awsIpRanges";

export interface AwsIpRanges {
  /** Where the snapshot was taken from. */
  source: string;
  syncToken: string;
  /** When AWS published the snapshot, as ip-ranges.json writes it: YYYY-MM-DD-hh-mm-ss. */
  createDate: string;
  regions: Readonly<Record<string, Readonly<Record<AwsEgressService, readonly string[]>>>>;
}

export const AWS_IP_RANGES: AwsIpRanges = SNAPSHOT;

/** The IPv4 ranges of an AWS service in a region, from the snapshot; throws for a region it lacks. */
export function awsServiceCidrs(service: AwsEgressService, region: string, ranges: AwsIpRanges = AWS_IP_RANGES): string[] {
  const known = ranges.regions[region];
  if (!known) {
    throw new Error(
      `the AWS IP range snapshot (${ranges.createDate}) has no region "${region}" (it has ${Object.keys(ranges.regions).join(", ")}): ` +
        `add it with scripts/lib/aws-ip-ranges.mjs`,
    );
  }
  const cidrs = known[service];
  if (cidrs.length === 0) throw new Error(`the AWS IP range snapshot (${ranges.createDate}) lists no range of ${service} in ${region}`);
  return [...cidrs];
}

/**
 * The CIDR egress rules of the AWS rules in `region`: the ranges of every service a rule names, in
 * the order named, each once. `region` is undefined where the stack has no AWS; then a rule is an
 * error naming its registry entry, since it would open nothing the stack uses.
 */
export function awsEgressRules(
  rules: readonly (AwsEgressRule & { source?: string })[],
  region: string | undefined,
  ranges: AwsIpRanges = AWS_IP_RANGES,
): EgressRule[] {
  return rules.map((rule) => {
    const where = `egress rule "${rule.name}"${rule.source ? ` (${rule.source})` : ""}`;
    if (region === undefined) throw new Error(`${where} names AWS services, but this stack has AWS off (awsEnabled): remove it for this environment`);
    const cidrs = [...new Set(rule.services.flatMap((service) => awsServiceCidrs(service, region, ranges)))];
    const description = `${rule.services.join(", ")} in ${region} (AWS ranges of ${ranges.createDate})${rule.description ? `: ${rule.description}` : ""}`;
    return { name: rule.name, description, cidrs, ports: [...rule.ports], namespaces: [...rule.namespaces] };
  });
}
