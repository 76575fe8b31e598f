import * as pulumi from "@pulumi/pulumi";
import type { Model } from "../domain/model";
import { parseDuration } from "../domain/schema";

/** Everything a stack may set; the registries say what runs, the stack says where. */
export interface StackSettings {
  /** Registry environment to resolve (defaults to the stack name). */
  environment: string;
  registriesDir: string;
  kubernetes: { kubeconfig?: string; context?: string };
  /** For an API server without nodes: do not wait for workloads to become ready. */
  skipAwait: boolean;
  /**
   * How long `pulumi up` waits for an awaited object (Deployment, StatefulSet, Service, ...) to
   * become ready before it fails the deploy, in seconds; absent, the provider's own defaults.
   */
  readyTimeoutSeconds?: number;
  /**
   * Whether local-command tasks run. Off only where the Command provider plugin is not
   * available; the skipped tasks are then listed in the stack outputs.
   */
  localCommands: boolean;
  aws: { enabled: false } | { enabled: true; region: string; backupBucket: string; oidcProviderArn: string; oidcIssuer: string };
  /**
   * An S3-compatible store the backups of a stack without AWS go to (absent: they stay in a claim
   * of the cluster). Its credentials are the secrets BACKUP_STORE_SECRET_KEYS, read apart.
   */
  backupStore?: BackupStoreSettings;
  /**
   * The API server's addresses, for a cluster whose \`kubernetes\` EndpointSlice lists none (an API
   * server on a loopback address publishes none); absent, the program reads them from the cluster.
   */
  apiServerEndpoints?: { ip: string; port: number }[];
}

/** Where a stack without AWS keeps its backups: any S3-compatible endpoint, with static credentials. */
export interface BackupStoreSettings {
  /** http(s) URL of the S3 API, given to the aws CLI as --endpoint-url. */
  endpoint: string;
  bucket: string;
  region: string;
}

/** The secret config keys of the backup store's credentials, by the environment variable the aws CLI reads. */
export const BACKUP_STORE_SECRET_KEYS = { AWS_ACCESS_KEY_ID: "backupStoreAccessKeyId", AWS_SECRET_ACCESS_KEY: "backupStoreSecretAccessKey" } as const;

/** Keys of the project namespace the settings read (set as `nexus-platform:KEY` in Pulumi.<stack>.yaml). */
export const SETTINGS_KEYS = [
  "environment",
  "registries",
  "kubeconfig",
  "kubeContext",
  "skipAwait",
  "readyTimeout",
  "apiServerEndpoints",
  "localCommands",
  "awsEnabled",
  "backupBucket",
  "oidcProviderArn",
  "oidcIssuer",
  "backupStoreEndpoint",
  "backupStoreBucket",
  "backupStoreRegion",
] as const;

/**
 * Stack configuration as plain values: keys of the project namespace bare ("awsEnabled"), keys of
 * other namespaces qualified ("aws:region"), values as Pulumi stores them (strings).
 */
export type ConfigValues = Readonly<Record<string, string | undefined>>;

/**
 * A duration as the `readyTimeout` setting takes it, in seconds: whole seconds ("180") or a
 * whole number with the unit s, m or h ("180s", "3m", "1h"). null when it is none of these or
 * is zero.
 */
export function durationSeconds(text: string): number | null {
  const m = /^\s*(\d+)\s*(s|m|h)?\s*$/.exec(text);
  const n = m ? parseDuration(`${m[1]}${m[2] ?? "s"}`) : undefined;
  return n !== undefined && n > 0 && Number.isSafeInteger(n) ? n : null;
}

/**
 * The settings from configuration values, with the defaults, the boolean parsing and the errors of
 * `pulumi.Config` (`getBoolean`, `require`). Shared by the program entry (`readSettings`) and
 * `nexus audit`, which reads Pulumi.<stack>.yaml itself.
 */
export function settingsFromConfig(stack: string, values: ConfigValues, project = "nexus-platform"): StackSettings {
  const full = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
  const get = (key: string): string | undefined => values[key];
  const getBoolean = (key: string): boolean | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    if (v === "true") return true;
    if (v === "false") return false;
    throw new pulumi.RunError(`Configuration '${full(key)}' value '${v}' is not a valid boolean`);
  };
  const require = (key: string): string => {
    const v = get(key);
    if (v === undefined) {
      throw new pulumi.RunError(
        `Missing required configuration variable '${full(key)}'\n\tplease set a value using the command \`pulumi config set ${full(key)} <value>\``,
      );
    }
    return v;
  };
  const awsEnabled = getBoolean("awsEnabled") ?? false;
  const kubeconfig = get("kubeconfig");
  const context = get("kubeContext");
  const readyTimeout = get("readyTimeout");
  const readyTimeoutSeconds = readyTimeout === undefined ? undefined : durationSeconds(readyTimeout);
  if (readyTimeoutSeconds === null) {
    throw new pulumi.RunError(
      `Configuration '${full("readyTimeout")}' value '${readyTimeout}' is not a valid duration: give whole seconds (180) or a number with s, m or h (180s, 3m, 1h)`,
    );
  }
  const backupStore = backupStoreSettings(get, require, full, awsEnabled);
  const listedApi = get("apiServerEndpoints");
  const apiServerEndpoints = listedApi === undefined ? undefined : endpointList(listedApi);
  if (apiServerEndpoints === null) {
    throw new pulumi.RunError(`Configuration '${full("apiServerEndpoints")}' value '${listedApi}' is not a list of IP:PORT, e.g. 10.0.0.5:6443,10.0.0.6:6443`);
  }
  return {
    environment: get("environment") ?? stack,
    registriesDir: get("registries") ?? "registries",
    kubernetes: { ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) },
    skipAwait: getBoolean("skipAwait") ?? false,
    ...(readyTimeoutSeconds !== undefined ? { readyTimeoutSeconds } : {}),
    localCommands: getBoolean("localCommands") ?? true,
    aws: awsEnabled
      ? {
          enabled: true,
          region: require("aws:region"),
          backupBucket: require("backupBucket"),
          oidcProviderArn: require("oidcProviderArn"),
          oidcIssuer: require("oidcIssuer"),
        }
      : { enabled: false },
    ...(backupStore ? { backupStore } : {}),
    ...(apiServerEndpoints ? { apiServerEndpoints } : {}),
  };
}

/** "IP:PORT,IP:PORT" (IPv4, or IPv6 in brackets) as endpoints; null when any part is not one. */
export function endpointList(text: string): { ip: string; port: number }[] | null {
  const parts = text.split(",").map((p) => p.trim());
  const out: { ip: string; port: number }[] = [];
  for (const part of parts) {
    const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-fA-F:]+)\]):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535) return null;
    if (m[1] && m[1].split(".").some((o) => Number(o) > 255)) return null;
    out.push({ ip: (m[1] ?? m[2])!, port });
  }
  return out.length > 0 ? out : null;
}

/**
 * The S3-compatible backup store, when backupStoreEndpoint is set: then bucket and region are
 * required. Not with AWS on, where the program creates the bucket and the jobs use IRSA: two
 * destinations for one stack would leave one of them without backups.
 */
function backupStoreSettings(
  get: (key: string) => string | undefined,
  require: (key: string) => string,
  full: (key: string) => string,
  awsEnabled: boolean,
): BackupStoreSettings | undefined {
  const endpoint = get("backupStoreEndpoint");
  if (endpoint === undefined) return undefined;
  if (awsEnabled) {
    throw new pulumi.RunError(
      `Configuration '${full("backupStoreEndpoint")}' is set but awsEnabled is true: with AWS the backups go to the stack's own bucket; remove one of them`,
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.pathname !== "/" || url.search || url.username) {
    throw new pulumi.RunError(
      `Configuration '${full("backupStoreEndpoint")}' value '${endpoint}' is not an S3 endpoint: give http(s)://HOST:PORT, e.g. http://10.244.0.1:9000`,
    );
  }
  // The backup jobs' network policy admits the store by address (storeEgressSpec).
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname)) {
    throw new pulumi.RunError(
      `Configuration '${full("backupStoreEndpoint")}' value '${endpoint}' names its host; give its IPv4 address (the backup jobs' network policy admits addresses, not names)`,
    );
  }
  return { endpoint: url.origin, bucket: require("backupStoreBucket"), region: require("backupStoreRegion") };
}

/** Reads the stack configuration. Only the program entry calls this; components never read config. */
export function readSettings(stack: string): StackSettings {
  const config = new pulumi.Config();
  const values: Record<string, string | undefined> = {};
  for (const key of SETTINGS_KEYS) values[key] = config.get(key);
  values["aws:region"] = new pulumi.Config("aws").get("region");
  return settingsFromConfig(stack, values, config.name);
}

/**
 * The backup store's credentials as secret outputs by config key, beside the registries' secrets
 * (none when the stack names no store). Both keys must be set with `pulumi config set --secret`;
 * the missing ones are reported together.
 */
export function readBackupStoreCredentials(settings: StackSettings): Record<string, pulumi.Output<string>> {
  if (!settings.backupStore) return {};
  const config = new pulumi.Config();
  const credentials: Record<string, pulumi.Output<string>> = {};
  const missing: string[] = [];
  for (const key of Object.values(BACKUP_STORE_SECRET_KEYS)) {
    const value = config.getSecret(key);
    if (value === undefined) missing.push(`  ${key}: pulumi config set --secret ${key} VALUE`);
    else credentials[key] = value;
  }
  if (missing.length > 0) {
    throw new Error(`backupStoreEndpoint is set but the store's credentials are not; nothing was deployed. Set them:\n${missing.join("\n")}`);
  }
  return credentials;
}

/** Who references a secret, and whether its value is a URL (a webhook) or an opaque token. */
export interface SecretUse {
  by: string;
  kind: "url" | "token";
}

/** Every Pulumi config key the registries reference as a secret, with who references it. */
export function referencedSecrets(model: Model): Map<string, SecretUse> {
  const refs = new Map<string, SecretUse>();
  const add = (key: string | undefined, by: string, kind: SecretUse["kind"] = "token") => {
    if (key !== undefined && !refs.has(key)) refs.set(key, { by, kind });
  };
  for (const s of model.services) for (const r of s.secrets) add(r.configKey, `service ${s.name} (${s.source})`);
  for (const t of model.tasks) for (const r of t.secrets) add(r.configKey, `task ${t.name} (${t.source})`);
  for (const c of model.monitoring.channels) {
    const by = `channel ${c.name} (${c.source})`;
    if (c.type === "slack") add(c.webhookSecret, by, "url");
    if (c.type === "email") add(c.passwordSecret, by);
    if (c.type === "pagerduty") add(c.routingKeySecret, by);
    if (c.type === "webhook") add(c.urlSecret, by, "url");
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
  for (const [key, { by }] of referencedSecrets(model)) {
    const value = config.getSecret(key);
    if (value === undefined) missing.push(`  ${key} (used by ${by}): pulumi config set --secret ${key} VALUE`);
    else secrets[key] = value;
  }
  if (missing.length > 0) {
    throw new Error(`${missing.length} secret(s) the registries reference are not set in this stack; nothing was deployed. Set them:\n${missing.join("\n")}`);
  }
  return secrets;
}

/**
 * The Kubernetes provider's arguments, shared by the program and `nexus audit`. Server-side apply
 * makes changes by others visible as drift; mutable ConfigMaps and Secrets are updated in place
 * (pods roll through their checksum annotation) instead of being replaced under a fixed name.
 */
export function kubernetesProviderArgs(settings: StackSettings) {
  return {
    ...(settings.kubernetes.kubeconfig ? { kubeconfig: settings.kubernetes.kubeconfig } : {}),
    ...(settings.kubernetes.context ? { context: settings.kubernetes.context } : {}),
    enableServerSideApply: true,
    enableConfigMapMutable: true,
    enableSecretMutable: true,
  };
}
