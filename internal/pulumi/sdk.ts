/**
 * Every use of the Pulumi SDK's internals, in one place: the wire signatures of secrets, resource
 * references and unknowns, the mock monitor hooks and `waitForRPCs`, which the SDK's entry point
 * awaits but its typings do not declare. test/internal/sdk.test.ts fails with a clear message when
 * an SDK upgrade changes any of them.
 */
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { specialResourceSig, specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { runInPulumiStack } from "@pulumi/pulumi/runtime/stack";

export { MockMonitor, runInPulumiStack };

/** The wire form the engine and the mock monitor give secrets, resource references and unknowns. */
export const WIRE = {
  /** The key that marks a special value (`{ [sigKey]: secret, value }`). */
  sigKey: specialSigKey,
  secret: specialSecretSig,
  resource: specialResourceSig,
  /** The string that stands for an unknown value during preview. */
  unknown: unknownValue,
} as const;

/** Points the runtime at a mock monitor for one program run. */
export function setMockOptions(monitor: MockMonitor, project: string, stack: string, preview: boolean): void {
  settings.setMockOptions(monitor, project, stack, preview);
}

/** Waits until every registration of the program has reached the monitor. */
export async function waitForRPCs(): Promise<void> {
  const wait = (settings as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof wait !== "function") {
    throw new Error("@pulumi/pulumi/runtime/settings no longer exports waitForRPCs: internal/pulumi/sdk.ts needs the new way to await registrations");
  }
  await wait();
}
