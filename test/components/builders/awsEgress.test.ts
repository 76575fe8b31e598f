import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AWS_IP_RANGES, awsEgressRules, awsServiceCidrs, type AwsIpRanges } from "../../../components/builders/awsEgress";
import { AWS_EGRESS_SERVICES } from "../../../domain/schema";
import { ROOT } from "../../support/registries";

const RANGES: AwsIpRanges = {
  source: "test",
  syncToken: "1",
  createDate: "2026-08-22-21-17-05",
  regions: {
    "eu-central-1": { s3: ["3.5.136.0/22", "52.219.72.0/22"], sts: ["3.123.0.0/16", "52.219.72.0/22"] },
    "eu-west-1": { s3: ["3.5.64.0/21"], sts: [] },
  },
};

const RULE = { name: "aws-backups", services: ["sts", "s3"] as ("s3" | "sts")[], ports: [443], namespaces: ["data"], source: "registries/security.yaml:30" };

describe("awsServiceCidrs", () => {
  it("gives the ranges of a service in a region", () => {
    expect(awsServiceCidrs("s3", "eu-central-1", RANGES)).toEqual(["3.5.136.0/22", "52.219.72.0/22"]);
  });

  it("names the snapshot's date and regions for a region it lacks, and refuses an empty list", () => {
    expect(() => awsServiceCidrs("s3", "us-east-1", RANGES)).toThrow(
      'the AWS IP range snapshot (2026-08-22-21-17-05) has no region "us-east-1" (it has eu-central-1, eu-west-1): add it with scripts/lib/aws-ip-ranges.mjs',
    );
    expect(() => awsServiceCidrs("sts", "eu-west-1", RANGES)).toThrow("lists no range of sts in eu-west-1");
  });
});

describe("awsEgressRules", () => {
  it("turns each rule into the ranges of its services in the region, each once, keeping ports and namespaces", () => {
    expect(awsEgressRules([RULE], "eu-central-1", RANGES)).toEqual([
      {
        name: "aws-backups",
        description: "sts, s3 in eu-central-1 (AWS ranges of 2026-08-22-21-17-05)",
        cidrs: ["3.123.0.0/16", "52.219.72.0/22", "3.5.136.0/22"],
        ports: [443],
        namespaces: ["data"],
      },
    ]);
  });

  it("describes the rule by its services, region and snapshot date, then the registry's description", () => {
    const [rule] = awsEgressRules([{ ...RULE, description: "Backups log in and upload." }], "eu-central-1", RANGES);
    expect(rule!.description).toBe("sts, s3 in eu-central-1 (AWS ranges of 2026-08-22-21-17-05): Backups log in and upload.");
  });

  it("follows the region: another region gives its own ranges", () => {
    const [rule] = awsEgressRules([{ ...RULE, services: ["s3"] }], "eu-west-1", RANGES);
    expect(rule!.cidrs).toEqual(["3.5.64.0/21"]);
  });

  it("is an error naming the entry where the stack has AWS off, and nothing without rules", () => {
    expect(() => awsEgressRules([RULE], undefined, RANGES)).toThrow(
      'egress rule "aws-backups" (registries/security.yaml:30) names AWS services, but this stack has AWS off (awsEnabled): remove it for this environment',
    );
    expect(awsEgressRules([], undefined, RANGES)).toEqual([]);
  });
});

describe("the committed snapshot", () => {
  const stacks = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));
  const awsRegions = stacks.flatMap((f) => {
    const config = (parse(fs.readFileSync(path.join(ROOT, f), "utf8")) as { config?: Record<string, unknown> }).config ?? {};
    return config["nexus-platform:awsEnabled"] === true || config["nexus-platform:awsEnabled"] === "true"
      ? [{ stack: f, region: String(config["aws:region"]) }]
      : [];
  });

  it("is dated and is read by at least one stack with AWS on", () => {
    expect(AWS_IP_RANGES.createDate).toMatch(/^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/);
    expect(awsRegions.length).toBeGreaterThan(0);
  });

  it("has ranges of every service for the region of every stack with AWS on", () => {
    for (const { stack, region } of awsRegions) {
      for (const service of AWS_EGRESS_SERVICES) {
        expect(awsServiceCidrs(service, region).length, `${stack}: ${service} in ${region}`).toBeGreaterThan(0);
      }
    }
  });

  it("holds IPv4 CIDRs only, none of them open to everything", () => {
    for (const [region, services] of Object.entries(AWS_IP_RANGES.regions)) {
      for (const cidr of Object.values(services).flat()) {
        expect(cidr, region).toMatch(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/);
        expect(Number(cidr.split("/")[1]), `${region} ${cidr}`).toBeGreaterThanOrEqual(8);
      }
    }
  });
});
