import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadModel } from "../domain/loader";
import { buildProgram } from "./program";
import { readBackupStoreCredentials, readSecrets, readSettings } from "./settings";

// The program entry: the only place that reads stack configuration and the registries.
const settings = readSettings(pulumi.getStack());
// Relative to the project (Pulumi.yaml's folder), wherever the program's compiled code runs from.
const model = loadModel({ registriesDir: path.resolve(pulumi.runtime.getRootDirectory(), settings.registriesDir), env: settings.environment });
// The backup store's credentials are stack secrets like the registries' ones, by config key.
const program = asRunError(() => buildProgram(settings, model, { ...readSecrets(model), ...readBackupStoreCredentials(settings) }));

/**
 * The builders refuse a registry that contradicts the stack's settings (AWS egress on a stack
 * with AWS off, for one) with a plain Error; as a RunError, Pulumi shows its message without a
 * stack trace. Other errors (a TypeError is a bug) keep theirs.
 */
function asRunError<T>(build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof Error && e.constructor === Error) throw new pulumi.RunError(e.message);
    throw e;
  }
}

export const environment = program.environment;
export const services = program.services;
export const monitoring = program.monitoring;
export const backups = program.backups;
export const tasks = program.tasks;
export const networkPaths = program.networkPaths;
export const resourceCounts = program.resourceCounts;
