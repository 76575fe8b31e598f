import type { PolicyConfigSchema } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { BaseConfig, ExceptionConfig } from "../../contract/policyConfig";

export type { BaseConfig, ExceptionConfig };

const DATE = "^\\d{4}-\\d{2}-\\d{2}$";

export const BASE_PROPERTIES: Record<string, PolicyConfigJSONSchema> = {
  today: {
    type: "string",
    pattern: DATE,
    description: "Day the exceptions are judged against (YYYY-MM-DD), fixed when the config is compiled so verdicts are reproducible",
  },
  exceptions: {
    type: "array",
    description: "Time-boxed exceptions from registries/security.yaml for this policy",
    items: {
      type: "object",
      properties: {
        resource: { type: "string", minLength: 1, description: "Registry entry, Kubernetes object or Pulumi resource name" },
        expires: { type: "string", pattern: DATE, description: "Last day the exception applies (YYYY-MM-DD)" },
        owner: { type: "string", minLength: 1, description: "Team accountable for the exception" },
        reason: { type: "string", minLength: 1, description: "Why the resource may deviate" },
      },
      required: ["resource", "expires", "owner", "reason"],
    },
  },
};

/** A policy's config schema: its own properties plus `today` and `exceptions`. */
export function configSchema(properties: Record<string, PolicyConfigJSONSchema> = {}, required: string[] = []): PolicyConfigSchema {
  return { properties: { ...BASE_PROPERTIES, ...properties }, ...(required.length > 0 ? { required } : {}) };
}

export const stringList = (description: string): PolicyConfigJSONSchema => ({ type: "array", items: { type: "string" }, description });

/** Today as the config says, else the machine's date (UTC). */
export function today(config: BaseConfig): string {
  return typeof config.today === "string" && config.today.length > 0 ? config.today : new Date().toISOString().slice(0, 10);
}
