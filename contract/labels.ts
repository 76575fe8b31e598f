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
  /** On a backup's objects with a gdpr section: whether the copies hold personal data. */
  personalData: "nexus.platform/personal-data",
  /** On a backup's objects whose gdpr section names one: the GDPR Art. 6 basis of keeping the copies. */
  legalBasis: "nexus.platform/legal-basis",
} as const;

export const ANNOTATION = {
  source: "nexus.platform/source",
  /** The registry entry's description, where `kubectl describe` shows it. */
  description: "kubernetes.io/description",
  exposure: "nexus.platform/exposure",
  tokenAutomount: "nexus.platform/token-automount",
  /** On a deployment check's pods: a hash of the workloads it checks, so a change to any of them runs it again. */
  checkRevision: "nexus.platform/check-revision",
  stateful: "nexus.platform/stateful",
  skipAwait: "pulumi.com/skipAwait",
  patchForce: "pulumi.com/patchForce",
  deletionPropagation: "pulumi.com/deletionPropagationPolicy",
} as const;
