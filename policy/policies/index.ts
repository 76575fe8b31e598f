import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { backupPolicies } from "./backups";
import { networkPolicies } from "./network";
import { stackPolicies } from "./stack";
import { traceabilityPolicies } from "./traceability";
import { workloadPolicies } from "./workloads";

/** The pack's name, as `pulumi preview --policy-pack policy` reports it. */
export const PACK_NAME = "nexus-platform";

/** Level of a policy the config does not mention (the compiled config always names every one). */
export const PACK_ENFORCEMENT = "mandatory" as const;

/** Every policy of the pack, in the order of the catalog (domain/schema/policies.ts) by domain. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  ...workloadPolicies,
  ...networkPolicies,
  ...traceabilityPolicies,
  ...backupPolicies,
  ...awsPolicies,
  ...stackPolicies,
];

export { awsPolicies, backupPolicies, networkPolicies, stackPolicies, traceabilityPolicies, workloadPolicies };
