import { loadModel } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { referencedSecrets, type StackSettings } from "../../stacks/settings";
import { REAL_REGISTRIES } from "../support/registries";
import * as pulumi from "@pulumi/pulumi";

export const DEV_SETTINGS: StackSettings = {
  environment: "dev",
  registriesDir: "registries",
  kubernetes: {},
  skipAwait: true,
  localCommands: true,
  aws: { enabled: false },
};

export const PROD_SETTINGS: StackSettings = {
  environment: "prod",
  registriesDir: "registries",
  kubernetes: {},
  skipAwait: false,
  localCommands: true,
  aws: {
    enabled: true,
    region: "eu-central-1",
    backupBucket: "nexus-prod-backups",
    oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLE",
    oidcIssuer: "oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLE",
  },
};

export function realModel(env: string): Model {
  return loadModel({ registriesDir: REAL_REGISTRIES, env, today: "2026-11-27" });
}

/** A recognisable secret value per referenced key, so a test can search for any leak. */
export function fakeSecrets(model: Model): Record<string, pulumi.Output<string>> {
  return Object.fromEntries([...referencedSecrets(model).keys()].map((k) => [k, pulumi.secret(`s3cr3t-${k}`)]));
}
