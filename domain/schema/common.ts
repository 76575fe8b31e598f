import { z } from "zod";
import { cronProblem } from "./cron";
import { imageProblem, quantityProblem } from "./values";

export const API_VERSION = "nexus/v1";

/** Kubernetes DNS-1123 label: the shape every registry name must have. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const Name = z.string().max(63, { message: "must be at most 63 characters (a DNS-1123 label)" }).regex(DNS_LABEL, {
  message: "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit",
});
export type Name = z.infer<typeof Name>;

export const Owner = Name.describe("Team that owns this entry; a team declared in orchestration.yaml");

export const Description = z.string().min(1).max(500);

export const Cron = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem, params: { code: "cron" } });
});

export const Quantity = z.string().superRefine((value, ctx) => {
  const problem = quantityProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem, params: { code: "quantity" } });
});

/** An image reference pinned by tag or digest; the allowed registries are checked across files. */
export const Image = z.string().superRefine((value, ctx) => {
  const problem = imageProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem, params: { code: "image" } });
});

/**
 * Per-environment overrides. Kept loose here on purpose: the loader deep-merges each override
 * into its entry and validates the merged result with the entry's strict schema, so a typo in an
 * override is reported exactly like a typo in the entry, at the override's own line.
 */
export const EnvironmentOverrides = z
  .record(Name, z.record(z.string(), z.unknown()))
  .describe("Overrides per environment (a name declared in pipelines.yaml), deep-merged into this entry; arrays are replaced")
  .optional();

export const Resources = z.strictObject({
  requests: z.strictObject({ cpu: Quantity, memory: Quantity }),
  limits: z.strictObject({ cpu: Quantity, memory: Quantity }),
});
export type Resources = z.infer<typeof Resources>;

/** Pulumi config key holding a secret; the value never appears in a registry. */
export const SecretRef = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/, {
  message: "must be a Pulumi config key (letters, digits, '_' or '-'), set with `pulumi config set --secret KEY`",
});

export function header<K extends string>(kind: K) {
  return {
    apiVersion: z.literal(API_VERSION, { message: `must be "${API_VERSION}"` }),
    kind: z.literal(kind, { message: `must be "${kind}"` }),
  };
}
