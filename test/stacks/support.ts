import { loadModel } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { referencedSecrets, type StackSettings } from "../../stacks/settings";
import { REAL_REGISTRIES } from "../support/registries";
import * as pulumi from "@pulumi/pulumi";

/** What readSettings gives a stack whose config sets nothing: its defaults, AWS off. */
export function defaultSettings(environment: string): StackSettings {
  return { environment, registriesDir: "registries", kubernetes: {}, skipAwait: false, localCommands: true, aws: { enabled: false } };
}

/**
 * The dev and prod stacks as Pulumi.<stack>.yaml sets them (test/audit/settings.test.ts holds them
 * to it), but for prod's Kubernetes context: the mocked programs reach no cluster.
 */
export const DEV_SETTINGS: StackSettings = { ...defaultSettings("dev"), readyTimeoutSeconds: 180 };

export const PROD_SETTINGS: StackSettings = {
  ...defaultSettings("prod"),
  aws: {
    enabled: true,
    region: "eu-central-1",
    backupBucket: "nexus-prod-backups",
    oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/NEXUSPROD",
    oidcIssuer: "oidc.eks.eu-central-1.amazonaws.com/id/NEXUSPROD",
  },
};

export function realModel(env: string): Model {
  return loadModel({ registriesDir: REAL_REGISTRIES, env, today: "2026-11-27" });
}

/** A recognisable secret value per referenced key, so a test can search for any leak. */
export function fakeSecrets(model: Model): Record<string, pulumi.Output<string>> {
  return Object.fromEntries([...referencedSecrets(model).keys()].map((k) => [k, pulumi.secret(`s3cr3t-${k}`)]));
}
