import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { formatProblem, loadRegistries, type Problem } from "../../domain/loader";
import { REGISTRY_FILE_NAMES as FILES, expectLocatedInRegistry } from "../support/problems";
import { copyRegistries, MINIMAL_REGISTRIES, REAL_REGISTRIES, removeRegistries } from "../support/registries";

/**
 * Whatever is done to a registry file, the loader answers with a model or with located problems,
 * and never throws. Mutations are random but seeded, so a failure replays the same way.
 */

const SEED = 20261127;

type Segment = string | number;

/** Every path to a value inside a plain YAML value, the root excluded. */
function paths(value: unknown, prefix: Segment[] = []): Segment[][] {
  const out: Segment[][] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push([...prefix, i], ...paths(v, [...prefix, i])));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push([...prefix, k], ...paths(v, [...prefix, k]));
  }
  return out;
}

function parentOf(root: unknown, p: Segment[]): Record<string | number, unknown> {
  let node = root as Record<string | number, unknown>;
  for (const s of p.slice(0, -1)) node = node[s] as Record<string | number, unknown>;
  return node;
}

/** A value of a different type than `old`. */
const otherValue = (old: unknown) =>
  fc
    .oneof(
      fc.integer({ min: -100_000, max: 100_000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.string({ maxLength: 30 }),
      fc.constantFrom("", "latest", "0 2 * *", "CRON_TZ=UTC 0 2 * * *", "x".repeat(70), "Upper_Case", "*", "~"),
      fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    )
    .filter((v) => typeof v !== typeof old || Array.isArray(v) !== Array.isArray(old) || (v === null) !== (old === null));

type Edit = { kind: "delete-key"; pick: number } | { kind: "replace-scalar"; pick: number; value: unknown } | { kind: "duplicate-entry"; pick: number };

const structuralEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("delete-key" as const), pick: fc.nat() }),
  fc.nat().chain((pick) => otherValue(undefined).map((value) => ({ kind: "replace-scalar" as const, pick, value }))),
  fc.record({ kind: fc.constant("duplicate-entry" as const), pick: fc.nat() }),
);

/** Applies a structural edit to the parsed file and writes it back as YAML; undefined when nothing fits. */
function applyEdit(text: string, edit: Edit): string | undefined {
  const data = parse(text) as unknown;
  const all = paths(data);
  if (edit.kind === "delete-key") {
    const keys = all.filter((p) => typeof p[p.length - 1] === "string");
    const p = keys[edit.pick % keys.length]!;
    delete parentOf(data, p)[p[p.length - 1]!];
  } else if (edit.kind === "replace-scalar") {
    const scalars = all.filter((p) => {
      const v = parentOf(data, p)[p[p.length - 1]!];
      return v === null || typeof v !== "object";
    });
    const p = scalars[edit.pick % scalars.length]!;
    const parent = parentOf(data, p);
    const key = p[p.length - 1]!;
    // Keep the change a real change of type, as the property promises.
    if (typeof parent[key] === typeof edit.value && (parent[key] === null) === (edit.value === null)) return undefined;
    parent[key] = edit.value;
  } else {
    const entries = all.filter((p) => typeof p[p.length - 1] === "number");
    if (entries.length === 0) return undefined;
    const p = entries[edit.pick % entries.length]!;
    const list = parentOf(data, p) as unknown as unknown[];
    const i = p[p.length - 1] as number;
    list.splice(i, 0, structuredClone(list[i]));
  }
  return stringify(data);
}

const textEdit = fc.oneof(
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 6 }),
      fc.constantFrom(..."\t\n:-[]{}\"'&*!|>#%@`,? ".split("")).map((c) => new TextEncoder().encode(c)),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }).map((s) => new TextEncoder().encode(s)),
    ),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap-lines" as const), a: fc.nat(), b: fc.nat() }),
);

type TextEdit = typeof textEdit extends fc.Arbitrary<infer T> ? T : never;

function applyTextEdit(original: Buffer, edit: TextEdit): Buffer {
  if (edit.kind === "insert") {
    const at = edit.at % (original.length + 1);
    return Buffer.concat([original.subarray(0, at), Buffer.from(edit.bytes), original.subarray(at)]);
  }
  if (edit.kind === "truncate") return original.subarray(0, edit.at % original.length);
  const lines = original.toString("latin1").split("\n");
  const a = edit.a % lines.length;
  const b = edit.b % lines.length;
  [lines[a], lines[b]] = [lines[b]!, lines[a]!];
  return Buffer.from(lines.join("\n"), "latin1");
}

/** The property every load must satisfy, whatever the input. */
function checkLoad(dir: string, env: string | undefined): void {
  let result: ReturnType<typeof loadRegistries>;
  try {
    result = loadRegistries({ registriesDir: dir, env, today: "2026-11-27" });
  } catch (error) {
    throw new Error(`loadRegistries threw: ${(error as Error).stack}`, { cause: error });
  }
  const { problems, model } = result;
  if (problems.length === 0) {
    if (env !== undefined) expect(model, "a valid load yields a model").toBeDefined();
    return;
  }
  expect(model).toBeUndefined();
  const texts = new Map<string, string[]>();
  for (const p of problems) {
    const where = formatProblem(p);
    expectLocatedInRegistry(p, where);
    expect(p.path.length, where).toBeGreaterThan(0);
    expect(p.message.length, where).toBeGreaterThan(0);
    expect(p.code.length, where).toBeGreaterThan(0);
    // The position exists in the file (a missing file is reported at 1:1).
    const file = path.join(dir, path.basename(p.file));
    if (!texts.has(p.file)) texts.set(p.file, fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n") : [""]);
    const lines = texts.get(p.file)!;
    expect(p.line, where).toBeLessThanOrEqual(lines.length);
    expect(p.column, where).toBeLessThanOrEqual(lines[p.line - 1]!.length + 1);
  }
  const sorted = [...problems].sort((a: Problem, b: Problem) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  expect(problems.map(formatProblem)).toEqual(sorted.map(formatProblem));
}

/** A registry set held in memory, written to a scratch folder one mutated file at a time. */
function registrySet(from: string) {
  const dir = copyRegistries(from);
  const originals = new Map(FILES.map((f) => [f, fs.readFileSync(path.join(dir, f))]));
  return {
    dir,
    originals,
    /** Writes `content` as `file`, runs `check`, then restores the file. */
    with(file: string, content: Buffer | string, check: () => void): void {
      fs.writeFileSync(path.join(dir, file), content);
      try {
        check();
      } finally {
        fs.writeFileSync(path.join(dir, file), originals.get(file)!);
      }
    },
    remove(): void {
      removeRegistries(dir);
    },
  };
}

const envs = fc.constantFrom<string | undefined>(undefined, "dev", "prod");

describe("random mutations of the minimal registries", () => {
  let set: ReturnType<typeof registrySet>;
  beforeAll(() => {
    set = registrySet(MINIMAL_REGISTRIES);
  });
  afterAll(() => set.remove());

  it("starts from a valid set", () => {
    expect(loadRegistries({ registriesDir: set.dir, env: "prod" }).problems).toEqual([]);
  });

  it("survives deleted keys, retyped scalars and duplicated entries", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FILES), structuralEdit, envs, (file, edit, env) => {
        const text = applyEdit(set.originals.get(file)!.toString("utf8"), edit);
        fc.pre(text !== undefined);
        set.with(file, text!, () => checkLoad(set.dir, env));
      }),
      { numRuns: 200, seed: SEED },
    );
  }, 60_000);

  it("survives inserted bytes, truncation and swapped lines", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FILES), textEdit, envs, (file, edit, env) => {
        set.with(file, applyTextEdit(set.originals.get(file)!, edit), () => checkLoad(set.dir, env));
      }),
      { numRuns: 200, seed: SEED },
    );
  }, 60_000);
});

/**
 * The real registries are being written while these tests are; they are used only when they
 * currently validate, snapshotted once so every run sees the same text. Each load of them costs
 * several times one of the minimal set, hence fewer runs.
 */
const realSet = (() => {
  if (!FILES.every((f) => fs.existsSync(path.join(REAL_REGISTRIES, f)))) return undefined;
  const set = registrySet(REAL_REGISTRIES);
  if (loadRegistries({ registriesDir: set.dir }).problems.length > 0) {
    set.remove();
    return undefined;
  }
  return set;
})();

describe.skipIf(realSet === undefined)("random mutations of the real registries", () => {
  afterAll(() => realSet?.remove());

  it("survives structural and textual mutations", () => {
    const edit = fc.oneof(
      structuralEdit.map((e) => ({ structural: e })),
      textEdit.map((e) => ({ text: e })),
    );
    fc.assert(
      fc.property(fc.constantFrom(...FILES), edit, fc.constantFrom("dev", "prod"), (file, e, env) => {
        const original = realSet!.originals.get(file)!;
        const content = "structural" in e ? applyEdit(original.toString("utf8"), e.structural) : applyTextEdit(original, e.text);
        fc.pre(content !== undefined);
        realSet!.with(file, content!, () => checkLoad(realSet!.dir, env));
      }),
      { numRuns: 60, seed: SEED },
    );
  }, 60_000);
});
