import { expect } from "vitest";
import { SECRET_SIG, type MockRun } from "../../internal/pulumi/mocks";
import { secretInside } from "./inputs";

/** Every string (keys too) of a value, skipping the insides of secret values. */
export function plainStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (value !== null && typeof value === "object") {
    if (SECRET_SIG in value) return [];
    return Object.entries(value).flatMap(([k, v]) => [k, ...plainStrings(v)]);
  }
  return [];
}

/** The insides of every secret value. */
export function secretValues(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(secretValues);
  if (value !== null && typeof value === "object") {
    if (SECRET_SIG in value) return [secretInside(value)];
    return Object.values(value).flatMap(secretValues);
  }
  return [];
}

/** No resource input outside a secret value, and no stack output, shows `marker` (part of every fake secret). */
export function expectNoPlaintextSecret(run: MockRun, marker = "s3cr3t"): void {
  for (const r of run.resources) {
    for (const s of plainStrings(r.inputs)) expect(s, `${r.type} ${r.name}`).not.toContain(marker);
  }
  expect(JSON.stringify(run.outputs)).not.toContain(marker);
}
