import { expect } from "vitest";
import type { Problem } from "../../domain/loader";
import { REGISTRY_FILES } from "../../domain/schema";

/** The file name of every registry, as the loader looks for it in a registries folder. */
export const REGISTRY_FILE_NAMES: string[] = Object.values(REGISTRY_FILES).map((f) => f.file);

/**
 * A problem a load reported names a registry file, a line and a column (both from 1), and reads
 * as one line. `where` is the problem as the test prints it: it labels each failure and is what
 * must be one line.
 */
export function expectLocatedInRegistry(p: Problem, where: string): void {
  expect(
    REGISTRY_FILE_NAMES.map((f) => `registries/${f}`),
    where,
  ).toContain(p.file);
  expect(Number.isInteger(p.line) && p.line >= 1, where).toBe(true);
  expect(Number.isInteger(p.column) && p.column >= 1, where).toBe(true);
  expect(where, "one problem, one line").not.toMatch(/[\r\n]/);
}
