/**
 * The shape of the policy pack's config (`--policy-pack-config`): what `nexus policy-config`
 * writes and every policy of the pack reads. Types only, no imports.
 */

/**
 * One time-boxed exception from registries/security.yaml, compiled into the config of the policy
 * it exempts. `resource` is the registry entry name (also the resource's `app.kubernetes.io/name`
 * label), the Kubernetes object name or the Pulumi resource name.
 */
export interface ExceptionConfig {
  resource: string;
  expires: string;
  owner: string;
  reason: string;
}

/** Properties every policy of the pack accepts. */
export interface BaseConfig {
  /** The day exceptions are judged against, YYYY-MM-DD; set when the config is compiled. */
  today?: string;
  exceptions?: ExceptionConfig[];
}

export type EnforcementLevel = "mandatory" | "advisory" | "disabled";

/** One policy's entry: its level plus the properties of its config schema. */
export interface PolicyConfigEntry {
  enforcementLevel: EnforcementLevel;
  /** The day exceptions are judged against (YYYY-MM-DD). */
  today: string;
  exceptions: ExceptionConfig[];
  [property: string]: unknown;
}
