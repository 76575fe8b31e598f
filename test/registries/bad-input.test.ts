import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { formatProblem, loadRegistries } from "../../domain/loader";
import { copyRegistries, removeRegistries, replaceIn } from "../support/registries";

/**
 * Each case under cases/ mutates a copy of the minimal valid registries and lists the exact
 * problem lines `nexus validate` must print, in order.
 */
const Mutation = z.strictObject({
  file: z.string(),
  replace: z.string().optional(),
  with: z.string().optional(),
  content: z.string().optional(),
  delete: z.boolean().optional(),
  padBytes: z.number().int().optional(),
  /** Text appended after any padding, to place an error beyond it. */
  append: z.string().optional(),
});
const Case = z.strictObject({
  description: z.string(),
  env: z.string().optional(),
  maxFileBytes: z.number().int().optional(),
  mutate: z.array(Mutation).min(1),
  expect: z.string(),
});

const CASES_DIR = path.join(__dirname, "cases");
const cases = fs
  .readdirSync(CASES_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => ({ name: f.replace(/\.yaml$/, ""), spec: Case.parse(parse(fs.readFileSync(path.join(CASES_DIR, f), "utf8"))) }));

function apply(dir: string, m: z.infer<typeof Mutation>): void {
  const target = path.join(dir, m.file);
  if (m.delete) fs.rmSync(target);
  if (m.content !== undefined) fs.writeFileSync(target, Buffer.from(m.content, "latin1"));
  if (m.replace !== undefined) replaceIn(dir, m.file, m.replace, m.with ?? "");
  if (m.padBytes !== undefined) {
    const line = `# ${"padding ".repeat(12)}\n`;
    fs.appendFileSync(target, line.repeat(Math.ceil(m.padBytes / line.length)));
  }
  if (m.append !== undefined) fs.appendFileSync(target, Buffer.from(m.append, "latin1"));
}

describe("bad registry input", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) removeRegistries(dir);
    dir = undefined;
  });

  it("has a corpus of at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)("$name", ({ spec }) => {
    dir = copyRegistries();
    for (const m of spec.mutate) apply(dir, m);
    const result = loadRegistries({ registriesDir: dir, env: spec.env, today: "2026-11-27", maxFileBytes: spec.maxFileBytes });
    const expected = spec.expect
      .trim()
      .split("\n")
      .map((l) => l.trim());
    expect(result.problems.map(formatProblem)).toEqual(expected);
    expect(result.model).toBeUndefined();
    // The same with every file parsed with positions from the start, as before the fast path.
    expect(loadRegistries({ registriesDir: dir, env: spec.env, today: "2026-11-27", maxFileBytes: spec.maxFileBytes, parse: "positions" })).toEqual(result);
  });
});
