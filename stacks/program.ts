/**
 * The whole program, once: the Kubernetes provider and the platform, given the stack's settings,
 * the model and the secrets. The Pulumi entry (stacks/index.ts) calls it with what it read from
 * stack config; `nexus audit` calls it under mocks with placeholders for the secrets, so the
 * audited program cannot drift from the deployed one.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Model } from "../domain/model";
import { buildPlatform, type PlatformOutputs } from "./platform";
import { kubernetesProviderArgs, type StackSettings } from "./settings";

/** The Pulumi name of the explicit Kubernetes provider. */
export const KUBERNETES_PROVIDER = "kubernetes";

export interface ProgramOutputs extends PlatformOutputs {
  /** Resources registered per type token; complete by the time outputs are recorded. */
  resourceCounts: Record<string, number>;
}

export function buildProgram(settings: StackSettings, model: Model, secrets: Record<string, pulumi.Output<string>>): ProgramOutputs {
  const resourceCounts: Record<string, number> = {};
  pulumi.runtime.registerStackTransformation((args) => {
    resourceCounts[args.type] = (resourceCounts[args.type] ?? 0) + 1;
    return undefined;
  });
  const kubernetes = new k8s.Provider(KUBERNETES_PROVIDER, kubernetesProviderArgs(settings));
  return { ...buildPlatform(model, settings, secrets, { providers: [kubernetes] }), resourceCounts };
}
