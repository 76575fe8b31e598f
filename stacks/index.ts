import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadModel } from "../src/loader";
import { buildPlatform } from "./platform";
import { kubernetesProviderArgs, readSecrets, readSettings } from "./settings";

// The program entry: the only place that reads stack configuration and the registries.
const resourceCountsByType: Record<string, number> = {};
pulumi.runtime.registerStackTransformation((args) => {
  resourceCountsByType[args.type] = (resourceCountsByType[args.type] ?? 0) + 1;
  return undefined;
});

const settings = readSettings(pulumi.getStack());
const model = loadModel({ registriesDir: path.resolve(__dirname, "..", settings.registriesDir), env: settings.environment });
const secrets = readSecrets(model);

const kubernetes = new k8s.Provider("kubernetes", kubernetesProviderArgs(settings));

const platform = buildPlatform(model, settings, secrets, { providers: [kubernetes] });

export const environment = platform.environment;
export const services = platform.services;
export const monitoring = platform.monitoring;
export const backups = platform.backups;
export const tasks = platform.tasks;
export const networkPaths = platform.networkPaths;
// Filled as resources register; complete by the time outputs are recorded.
export const resourceCounts = resourceCountsByType;
