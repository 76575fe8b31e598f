/**
 * The label and annotation keys every NEXUS resource carries: the one table the program writes,
 * the policy pack reads and the audit reports. Pure constants, no imports, so the policy pack
 * (its own package) can load it as it is.
 */

export const PART_OF = "nexus-platform";
export const MANAGED_BY = "pulumi";

export const LABEL = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  partOf: "app.kubernetes.io/part-of",
  managedBy: "app.kubernetes.io/managed-by",
  owner: "nexus.platform/owner",
  environment: "nexus.platform/environment",
  backupOf: "nexus.platform/backup-of",
} as const;

export const ANNOTATION = {
  source: "nexus.platform/source",
  exposure: "nexus.platform/exposure",
  tokenAutomount: "nexus.platform/token-automount",
  stateful: "nexus.platform/stateful",
  skipAwait: "pulumi.com/skipAwait",
  patchForce: "pulumi.com/patchForce",
  deletionPropagation: "pulumi.com/deletionPropagationPolicy",
} as const;
