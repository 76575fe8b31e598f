/**
 * The policy pack's config, compiled from the model: what `pulumi preview --policy-pack policy
 * --policy-pack-config FILE` reads. The security registry decides each policy's enforcement in
 * this environment and its exceptions; the other registries supply the facts policies compare
 * resources against (allowed registries, public services, SLOs, backup tasks, GDPR limits). Pure:
 * the same model and day give the same file.
 */
import type { Model } from "../domain/model";
import type { ExceptionConfig, PolicyConfigEntry } from "../contract/policyConfig";
import { POLICY_IDS, type PolicyId } from "../domain/schema";
import { MONITORING_API_READERS } from "../contract/monitoring";

export type { ExceptionConfig, PolicyConfigEntry };

export type PolicyPackConfigFile = Record<PolicyId, PolicyConfigEntry>;

/** The properties each policy needs beyond level, today and exceptions. */
export function policyProperties(model: Model): Partial<Record<PolicyId, Record<string, unknown>>> {
  const services = model.services;
  const backups = model.tasks.filter((t) => t.kind === "backup");
  const gdprMaxDays: Record<string, number> = {};
  for (const t of backups) {
    const gdpr = t.backup?.gdpr;
    if (!t.backup || !gdpr?.personalData) continue;
    const prefix = t.backup.destination.prefix;
    gdprMaxDays[prefix] = Math.min(gdprMaxDays[prefix] ?? Number.POSITIVE_INFINITY, gdpr.maxRetentionDays);
  }
  return {
    "allowed-image-registries": { allowedRegistries: [...model.security.imageRegistries] },
    // Services that declare automountServiceAccountToken, and tasks that declare clusterAccess.
    "token-automount-declared": {
      tokenAutomountServices: [
        ...services.filter((s) => s.automountServiceAccountToken).map((s) => s.name),
        ...model.tasks.filter((t) => t.clusterAccess && t.runner !== "local-command").map((t) => t.name),
        // The monitoring stack's parts that read the API: node discovery and scrapes, object metrics.
        ...MONITORING_API_READERS,
      ],
    },
    "namespace-pod-security-labels": { level: model.security.podSecurity.level },
    "no-public-service-types": { publicServices: services.filter((s) => s.exposure === "public").map((s) => s.name) },
    "s3-lifecycle-within-gdpr": { gdprMaxDays },
    "slo-alerts-present": { slos: model.monitoring.slos.map((s) => ({ name: s.name, service: s.service })), ruleResources: [] },
    "backup-alerts-present": {
      backupTasks: backups.filter((t) => t.enabled).map((t) => ({ name: t.name, ...(t.target !== undefined ? { target: t.target } : {}) })),
      ruleResources: [],
    },
    "prod-ha-user-facing": { environment: model.environment.name, userFacingServices: services.filter((s) => s.userFacing).map((s) => s.name) },
  };
}

/**
 * The `--policy-pack-config` object for the model's environment: every catalog policy with
 * `{ enforcementLevel, today, exceptions, ...its properties }`. Expired exceptions are kept, so
 * the policy can say which exception expired; only unexpired ones silence a violation.
 */
export function policyPackConfig(model: Model, today: string): PolicyPackConfigFile {
  const properties = policyProperties(model);
  const config = {} as PolicyPackConfigFile;
  for (const id of POLICY_IDS) {
    config[id] = {
      enforcementLevel: model.security.enforcement[id],
      today,
      exceptions: model.security.exceptions
        .filter((e) => e.policy === id && !e.pending)
        .map((e) => ({ resource: e.resource, expires: e.expires, owner: e.owner, reason: e.reason })),
      ...properties[id],
    };
  }
  return config;
}
