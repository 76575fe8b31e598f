import { z } from "zod";
import { Description, EnvironmentOverrides, Name, Owner, header } from "./common";
import { HTTP_CHANNEL_TYPES } from "./monitoring";

export const ENFORCEMENT_LEVELS = ["mandatory", "advisory", "disabled"] as const;
export const Enforcement = z.enum(ENFORCEMENT_LEVELS);
export type Enforcement = z.infer<typeof Enforcement>;

const Cidr = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d|[12]\d|3[0-2])$/, {
    message: 'must be an IPv4 CIDR such as "10.0.0.0/16"',
  })
  .refine(
    (c) =>
      c
        .split("/")[0]!
        .split(".")
        .every((o) => Number(o) <= 255),
    {
      message: "has an octet above 255",
    },
  );

export const EgressRule = z.strictObject({
  name: Name,
  description: Description.optional(),
  cidrs: z.array(Cidr).min(1),
  ports: z.array(z.number().int().min(1).max(65535)).min(1),
  namespaces: z.array(Name).default([]).describe("Namespaces this egress applies to; empty means all"),
  proxyFor: z
    .array(z.enum(HTTP_CHANNEL_TYPES))
    .min(1)
    .optional()
    .describe(
      "Channel types (monitoring.yaml) Alertmanager sends through this destination as an HTTP proxy (proxy_url http://ADDRESS:PORT); the rule then names one /32 CIDR and one port",
    ),
});
export type EgressRule = z.infer<typeof EgressRule>;

/** AWS services an egress rule may name; the program derives their addresses in the stack's region. */
export const AWS_EGRESS_SERVICES = ["s3", "sts"] as const;
export type AwsEgressService = (typeof AWS_EGRESS_SERVICES)[number];

/**
 * Egress to AWS services in the stack's region (`aws:region`): the program turns each service into
 * the ranges AWS publishes for it there (a dated snapshot in the code), so no range is copied by
 * hand and a region change moves the rule with it.
 */
export const AwsEgressRule = z.strictObject({
  name: Name,
  description: Description.optional(),
  services: z.array(z.enum(AWS_EGRESS_SERVICES)).min(1).describe("AWS services reached in the stack's region: s3, sts"),
  ports: z.array(z.number().int().min(1).max(65535)).min(1),
  namespaces: z.array(Name).default([]).describe("Namespaces this egress applies to; empty means all"),
});
export type AwsEgressRule = z.infer<typeof AwsEgressRule>;

export const RbacRule = z.strictObject({
  apiGroups: z.array(z.string()),
  resources: z.array(z.string().min(1)).min(1),
  verbs: z.array(z.enum(["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*"])).min(1),
});

export const RbacBinding = z.strictObject({
  name: Name,
  description: Description.optional(),
  owner: Owner,
  namespaces: z.array(Name).min(1),
  subjects: z
    .array(
      z.strictObject({
        kind: z.enum(["User", "Group", "ServiceAccount"]),
        name: z.string().min(1),
      }),
    )
    .min(1),
  rules: z.array(RbacRule).min(1),
});
export type RbacBinding = z.infer<typeof RbacBinding>;

export const PolicySetting = z.strictObject({
  id: z.string().describe("A policy id of the policy pack's catalog"),
  enforcement: Enforcement,
  environments: EnvironmentOverrides,
});
export type PolicySetting = z.infer<typeof PolicySetting>;

/** Free text that gives a reason in words: at least 4 words and 20 characters. */
const reasonIn = (words: string) =>
  z.string().refine((r) => r.trim().length >= 20 && r.trim().split(/\s+/).length >= 4, {
    message: `${words}: at least 4 words and 20 characters`,
  });
const Reason = reasonIn("must explain the exception in words");

export const PolicyException = z
  .strictObject({
    policy: z.string(),
    resource: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: "must name one resource (a registry entry, object or Pulumi name); wildcards are not allowed" })
      .describe("Name of the resource the exception covers"),
    owner: Owner,
    reason: Reason,
    appliesTo: z.array(Name).min(1).describe("Environments the exception applies to, by name"),
    granted: z.iso.date({ message: "must be a date YYYY-MM-DD" }).describe("Day the exception was granted; production exceptions last at most 90 days from it"),
    expires: z.iso.date({ message: "must be a date YYYY-MM-DD" }),
  })
  .refine((e) => e.expires >= e.granted, { message: "expires before it was granted", path: ["expires"] });
export type PolicyException = z.infer<typeof PolicyException>;

/** A registry host with an optional port and path: images must start with one of these. */
const RegistryPrefix = z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/, {
  message: 'must be a registry host with an optional port and path, e.g. "ghcr.io/nexus-platform" or "localhost:5000"',
});

/**
 * An allowed image registry. Written as a plain string, it applies in every environment; as a
 * mapping, only in the environments it names, with the reason it is not allowed everywhere.
 */
export const ImageRegistry = z.union([
  RegistryPrefix,
  z.strictObject({
    registry: RegistryPrefix,
    environments: z.array(Name).min(1).describe("Environments (declared in pipelines.yaml) where images may come from this registry; nowhere else"),
    reason: reasonIn("must say in words why the registry is allowed in these environments only").describe(
      "Why this registry is allowed in these environments only",
    ),
  }),
]);
export type ImageRegistry = z.infer<typeof ImageRegistry>;

export const SecurityRegistry = z.strictObject({
  ...header("Security"),
  podSecurity: z.strictObject({
    level: z.enum(["privileged", "baseline", "restricted"]),
    environments: EnvironmentOverrides,
  }),
  network: z.strictObject({
    defaultDeny: z.boolean().default(true),
    allowDns: z.boolean().default(true),
    egress: z.array(EgressRule).default([]),
    awsEgress: z
      .array(AwsEgressRule)
      .default([])
      .describe("Egress to AWS services in the stack's region, by service name; only for stacks with AWS on (awsEnabled)"),
    environments: EnvironmentOverrides,
  }),
  imageRegistries: z
    .array(ImageRegistry)
    .min(1)
    .describe("Registries images may come from: a plain entry in every environment, a mapping { registry, environments, reason } only in those"),
  rbac: z.array(RbacBinding).default([]),
  policies: z.array(PolicySetting).min(1),
  exceptions: z.array(PolicyException).default([]),
  audit: z.strictObject({
    task: Name.describe("Automation task that runs the security audit"),
  }),
});
export type SecurityRegistry = z.infer<typeof SecurityRegistry>;
