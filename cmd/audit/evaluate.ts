/**
 * Evaluates the stack program without an engine or cloud credentials: the program of
 * stacks/index.ts (the stack's settings, the registries' model, every referenced secret, the
 * Kubernetes provider, buildPlatform) runs against Pulumi's mock monitor, and every registration
 * is recorded the way the engine describes resources to a policy pack: URN, type, name, inputs,
 * parent, dependencies, property dependencies, provider and options.
 *
 * What stays the engine's: providers' Check (defaults a provider adds to inputs, e.g. Kubernetes
 * auto-names) and outputs of real resources. Mocked resources echo their inputs as outputs with
 * a fixed id, so every value is known: the verdicts are those of an update, never "can't run
 * during preview".
 */
import * as pulumi from "@pulumi/pulumi";
import { RecordingMonitor, toResources, type ProgramResource } from "../../internal/pulumi/recording";
import { runInPulumiStack, setMockOptions, waitForRPCs } from "../../internal/pulumi/sdk";
import { buildProgram } from "../../stacks/program";
import { BACKUP_STORE_SECRET_KEYS, referencedSecrets, type StackSettings } from "../../stacks/settings";
import type { Problem } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { prepareStack, type EvaluateOptions, type PreparedStack } from "./stack";

export { PROJECT_DIR, StackConfigError, prepareStack, readStackConfig, stackSettings, type EvaluateOptions, type PreparedStack } from "./stack";

/** The value every referenced secret gets: the audit never sees real secrets. */
export const SECRET_PLACEHOLDER = "<redacted>";

export { KUBERNETES_PROVIDER } from "../../stacks/program";
export type { ProgramResource };

export interface EvaluatedProgram {
  project: string;
  stack: string;
  today: string;
  /** The registry folder as given or configured (for messages). */
  registriesDir: string;
  settings: StackSettings;
  model: Model;
  /** Every registration in the order the program made them (the stack first). */
  resources: ProgramResource[];
}

export type EvaluateResult = { ok: true; program: EvaluatedProgram } | { ok: false; registriesDir: string; problems: Problem[] };

let running = false;

/**
 * Runs the stack's program under mocks and returns its resources; registry problems are returned,
 * located, instead. Throws StackConfigError for a missing stack or invalid stack config, and the
 * program's own error when it fails. One run at a time per process (the Pulumi runtime is global).
 */
export async function evaluateProgram(options: EvaluateOptions): Promise<EvaluateResult> {
  const prepared = prepareStack(options);
  if (!prepared.ok) return prepared;
  return { ok: true, program: await runProgram(prepared.stack) };
}

/** Runs a prepared stack's program under mocks (see evaluateProgram). */
export async function runProgram(prepared: PreparedStack): Promise<EvaluatedProgram> {
  const { project, config, settings, model, stack } = prepared;
  if (running) throw new Error("evaluateProgram: another program is running in this process; await it first");
  running = true;
  try {
    const monitor = new RecordingMonitor();
    setMockOptions(monitor, project, stack, false);
    pulumi.runtime.setAllConfig(config);
    await runInPulumiStack(async () => {
      // As stacks/index.ts: placeholders stand in for readSecrets, the rest is the same program.
      const keys = [...referencedSecrets(model).keys(), ...(settings.backupStore ? Object.values(BACKUP_STORE_SECRET_KEYS) : [])];
      const secrets = Object.fromEntries(keys.map((k) => [k, pulumi.secret(SECRET_PLACEHOLDER)]));
      return { ...buildProgram(settings, model, secrets) };
    });
    await waitForRPCs();
    return {
      project,
      stack,
      today: prepared.today,
      registriesDir: prepared.registriesDir,
      settings,
      model,
      resources: toResources(monitor.registrations, project, stack, config),
    };
  } finally {
    running = false;
  }
}
