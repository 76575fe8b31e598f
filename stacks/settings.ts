import * as pulumi from "@pulumi/pulumi";
import type { Model } from "../src/model";

/** Everything a stack may set; the registries say what runs, the stack says where. */
export interface StackSettings {
  /** Registry environment to resolve (defaults to the stack name). */
  environment: string;
  registriesDir: string;
  kubernetes: { kubeconfig?: string; context?: string };
  /** For an API server without nodes: do not wait for workloads to become ready. */
  skipAwait: boolean;
  aws:
    | { enabled: false }
    | { enabled: true; region: string; backupBucket: string; oidcProviderArn: string; oidcIssuer: string };
}

/** Reads the stack configuration. Only the program entry calls this; components never read config. */
export function readSettings(stack: string): StackSettings {
  const config = new pulumi.Config();
  const awsEnabled = config.getBoolean("awsEnabled") ?? false;
  const kubeconfig = config.get("kubeconfig");
  const context = config.get("kubeContext");
  return {
    environment: config.get("environment") ?? stack,
    registriesDir: config.get("registries") ?? "registries",
    kubernetes: { ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) },
    skipAwait: config.getBoolean("skipAwait") ?? false,
    aws: awsEnabled
      ? {
          enabled: true,
          region: new pulumi.Config("aws").require("region"),
          backupBucket: config.require("backupBucket"),
          oidcProviderArn: config.require("oidcProviderArn"),
          oidcIssuer: config.require("oidcIssuer"),
        }
      : { enabled: false },
  };
}

/** Every Pulumi config key the registries reference as a secret, with who references it. */
export function referencedSecrets(model: Model): Map<string, string> {
  const refs = new Map<string, string>();
  const add = (key: string | undefined, by: string) => {
    if (key !== undefined && !refs.has(key)) refs.set(key, by);
  };
  for (const s of model.services) for (const r of s.secrets) add(r.configKey, `service ${s.name} (${s.source})`);
  for (const t of model.tasks) for (const r of t.secrets) add(r.configKey, `task ${t.name} (${t.source})`);
  for (const c of model.monitoring.channels) {
    const by = `channel ${c.name} (${c.source})`;
    if (c.type === "slack") add(c.webhookSecret, by);
    if (c.type === "email") add(c.passwordSecret, by);
    if (c.type === "pagerduty") add(c.routingKeySecret, by);
    if (c.type === "webhook") add(c.urlSecret, by);
  }
  return refs;
}

/**
 * Reads every referenced secret from the stack config, as secret outputs. All missing keys are
 * reported together, with the command that sets each.
 */
export function readSecrets(model: Model): Record<string, pulumi.Output<string>> {
  const config = new pulumi.Config();
  const secrets: Record<string, pulumi.Output<string>> = {};
  const missing: string[] = [];
  for (const [key, by] of referencedSecrets(model)) {
    const value = config.getSecret(key);
    if (value === undefined) missing.push(`  ${key} (used by ${by}): pulumi config set --secret ${key} VALUE`);
    else secrets[key] = value;
  }
  if (missing.length > 0) {
    throw new Error(`${missing.length} secret(s) the registries reference are not set in this stack; nothing was deployed. Set them:\n${missing.join("\n")}`);
  }
  return secrets;
}
