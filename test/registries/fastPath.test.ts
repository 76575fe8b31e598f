import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lexer, parseDocument } from "yaml";
import { generateRegistries, REGISTRY_FILE_NAMES } from "../../bench/generate";
import { formatProblem, loadRegistries } from "../../domain/loader";
import { fastParse, tokenBound } from "../../domain/loader/fastParse";
import { LIMITS, parseRegistryFileFast } from "../../domain/loader/parse";
import { copyRegistries, MINIMAL_REGISTRIES, REAL_REGISTRIES, removeRegistries } from "../support/registries";

/**
 * The loader reads registries without positions first (domain/loader/fastParse.ts) and parses
 * them with positions only to locate a problem. Both routes must give the same result: the same
 * model (source lines included), the same problems at the same lines and columns.
 */

const TODAY = "2026-11-27";
const CASES_DIR = path.join(__dirname, "cases");

function lexerTokens(text: string): number {
  return Array.from(new Lexer().lex(text)).length;
}

/** Every route gives the same result; the fast one really was taken for every file. */
function expectSameBothWays(dir: string, env: string | undefined): ReturnType<typeof loadRegistries> {
  for (const f of REGISTRY_FILE_NAMES) expect(parseRegistryFileFast(path.join(dir, f), f), f).toBeDefined();
  const fast = loadRegistries({ registriesDir: dir, env, today: TODAY });
  const positions = loadRegistries({ registriesDir: dir, env, today: TODAY, parse: "positions" });
  expect(fast).toEqual(positions);
  return fast;
}

const generated: Record<number, string> = {};
beforeAll(() => {
  for (const n of [100, 1000]) {
    generated[n] = copyRegistries(MINIMAL_REGISTRIES);
    generateRegistries(generated[n], { services: n });
  }
});
afterAll(() => Object.values(generated).forEach(removeRegistries));

describe("the fast path and the parse with positions give the same model", () => {
  it.each([["dev"], ["prod"], [undefined]])("on the project's registries (env %s)", (env) => {
    const result = expectSameBothWays(REAL_REGISTRIES, env);
    expect(result.problems).toEqual([]);
    if (env) expect(result.model!.services.every((s) => /^registries\/orchestration\.yaml:\d+$/.test(s.source))).toBe(true);
  });

  it("on the minimal registries", () => {
    expectSameBothWays(MINIMAL_REGISTRIES, "dev");
  });

  it.each([[100], [1000]])("on a generated set of %i services", (n) => {
    const result = expectSameBothWays(generated[n]!, "dev");
    expect(result.problems).toEqual([]);
    expect(result.model!.services).toHaveLength(n);
  });
});

describe("a problem found on the fast path is located by the parse with positions", () => {
  /** A copy of the 100-service set with `from` replaced once in orchestration.yaml, and the line and column of `at` in it. */
  function edited(from: string, to: string, at: string): { dir: string; line: number; column: number } {
    const dir = copyRegistries(generated[100]!);
    const file = path.join(dir, "orchestration.yaml");
    const text = fs.readFileSync(file, "utf8");
    const i = text.indexOf(from);
    expect(i).toBeGreaterThanOrEqual(0);
    const next = text.slice(0, i) + to + text.slice(i + from.length);
    fs.writeFileSync(file, next);
    const offset = i + to.indexOf(at);
    const before = next.slice(0, offset);
    return { dir, line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
  }

  it.each([
    ["a schema problem", "    port: 8049\n", '    port: "8049"\n', '"8049"', "services[49].port"],
    [
      "a cross-registry problem",
      "dependsOn: [inventory-svc-0040, agents-svc-0028]",
      "dependsOn: [inventory-svc-0040, agents-svc-9999]",
      "agents-svc-9999",
      "services[49].dependsOn[1]",
    ],
  ])("%s, at its exact line and column", (_, from, to, at, field) => {
    const { dir, line, column } = edited(from, to, at);
    try {
      // The file itself is still one the fast path reads: the problem is found after reading it.
      expect(parseRegistryFileFast(path.join(dir, "orchestration.yaml"), "orchestration.yaml")).toBeDefined();
      const result = loadRegistries({ registriesDir: dir, env: "dev", today: TODAY });
      expect(result.model).toBeUndefined();
      expect(result.problems).toHaveLength(1);
      expect(formatProblem(result.problems[0]!)).toMatch(
        new RegExp(`^registries/orchestration\\.yaml:${line}:${column} ${field.replace(/[[\].]/g, "\\$&")}: `),
      );
      expect(loadRegistries({ registriesDir: dir, env: "dev", today: TODAY, parse: "positions" })).toEqual(result);
    } finally {
      removeRegistries(dir);
    }
  });
});

describe("fastParse reads what it accepts exactly as the yaml package does", () => {
  /** The yaml package's reading, as parse.ts configures it; undefined when it reports an error. */
  function yamlData(text: string): unknown {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    return doc.errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: -1 });
  }

  const scalar = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom("x", "orders-svc-0001", "2", "-3.5", "true", '"8"', "'q'", "[a, b]", "{ cpu: 1, memory: 2Gi }", "a, b (c)", "--all"),
    },
    fc.constantFrom(
      "x",
      "orders-svc-0001",
      "---",
      "1",
      "-1",
      "+1",
      "08",
      "0o17",
      "0x1F",
      "0x",
      "1_000",
      "1e3",
      "-1.5",
      ".5",
      "1.",
      ".inf",
      "-.Inf",
      ".nan",
      "~",
      "null",
      "Null",
      "NULL",
      "nULL",
      "true",
      "True",
      "TRUE",
      "yes",
      "off",
      "2001-12-14",
      "a b  c",
      "a #b",
      "a#b",
      "a: b",
      "a:b",
      "a:",
      "http://x:80/#y",
      "-x",
      "--x",
      "- x",
      "?x",
      ":x",
      "@x",
      "`x",
      "%x",
      "!x",
      "&x",
      "*x",
      '"q"',
      '"q \\" \\\\ \\/ \\n \\t \\u00e9"',
      '"\\x41"',
      '"open',
      "'it''s'",
      "'open",
      "''",
      '""',
      "[a, b]",
      "[a, [b, c], {k: v}]",
      "{ k: v, n: 1 }",
      "{ k: v, k: w }",
      "[a, ]",
      "[a,b]",
      "{k:v}",
      "{ k }",
      "[ ]",
      "{}",
      "[a: b]",
      '["a": b]',
      "[a # c]",
      "é ü 😀",
      "x ",
    ),
    fc.string({ maxLength: 8 }),
  );
  const key = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom("name", "image", "k", "kind", "a.b/c-d", "_x") },
    fc.constantFrom("null", "true", "__proto__", "1", '"q"', "? k", "k k", "x:y"),
    fc.string({ maxLength: 4 }),
  );

  type Tree = { scalar: string } | { block: string } | { map: [string, Tree][] } | { seq: Tree[] };
  const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      { weight: 3, arbitrary: scalar.map((s) => ({ scalar: s })) },
      fc.constantFrom(">-", "|", ">", "|-", "|+", ">2").map((h) => ({ block: h })),
      fc.array(fc.tuple(key, tie("tree")), { maxLength: 4 }).map((map) => ({ map })),
      fc.array(tie("tree"), { maxLength: 4 }).map((seq) => ({ seq })),
    ),
  }));

  const blockBody = fc.constantFrom(["a", "b"], ["a", "", "b"], ["a", "  b", "c"], ["a ", "b"], ["# not a comment", "x: y"], ["a", "", ""]);
  const indentStep = fc.constantFrom(1, 2, 4);
  const comment = fc.constantFrom("", "", "", " # c", "  #c");

  /** Block YAML for a tree: the text after a key's colon or a dash (a leading space or a line break). */
  function render(t: Tree, indent: number, step: number, body: readonly string[], note: string): string {
    const pad = " ".repeat(indent);
    if ("scalar" in t) return ` ${t.scalar}${note}`;
    if ("block" in t) return ` ${t.block}${note}\n${body.map((l) => (l === "" ? "" : pad + l)).join("\n")}`;
    if ("map" in t) {
      if (t.map.length === 0) return ` {}${note}`;
      return `${note}${t.map.map(([k, v]) => `\n${pad}${k}:${render(v, indent + step, step, body, note)}`).join("")}`;
    }
    if (t.seq.length === 0) return ` []${note}`;
    return `${note}${t.seq.map((v) => `\n${pad}-${render(v, indent + step, step, body, note)}`).join("")}`;
  }

  it("on random registry-like documents: the same data, or it leaves the file to the yaml package", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(key, tree), { minLength: 1, maxLength: 4 }), indentStep, blockBody, comment, (entries, step, body, note) => {
        const text = `apiVersion: nexus/v1${note}\n${entries.map(([k, v]) => `${k}:${render(v, step, step, body, note)}`).join("\n")}\n`;
        const fast = fastParse(text);
        if (fast === undefined) return;
        accepted++;
        expect(fast.data, text).toEqual(yamlData(text));
        // The limit the fast path applies holds for the yaml lexer's own count.
        expect(tokenBound(text), text).toBeGreaterThanOrEqual(lexerTokens(text));
      }),
      { seed: 20261201, numRuns: 3000 },
    );
    // The property says something only if many inputs take the fast path.
    expect(accepted).toBeGreaterThan(300);
  });

  it("on the project's registries and every bad-input case file", () => {
    const dirs = [REAL_REGISTRIES, MINIMAL_REGISTRIES];
    const texts = dirs.flatMap((d) => REGISTRY_FILE_NAMES.map((f) => fs.readFileSync(path.join(d, f), "utf8")));
    for (const f of fs.readdirSync(CASES_DIR)) texts.push(fs.readFileSync(path.join(CASES_DIR, f), "utf8"));
    for (const text of texts) {
      const fast = fastParse(text);
      if (fast) expect(fast.data).toEqual(yamlData(text));
    }
    for (const text of texts.slice(0, 2 * REGISTRY_FILE_NAMES.length)) expect(fastParse(text)).toBeDefined();
  });
});

describe("limits at scale", () => {
  it("the token bound of the fast path is never below the yaml lexer's count on registries", () => {
    const texts = [REAL_REGISTRIES, generated[1000]!].flatMap((d) => REGISTRY_FILE_NAMES.map((f) => fs.readFileSync(path.join(d, f), "utf8")));
    for (const f of fs.readdirSync(CASES_DIR)) texts.push(fs.readFileSync(path.join(CASES_DIR, f), "utf8"));
    texts.push("k: [a,b,c]\n- - -\n? x\n: y\n{a: [b]}: c\n'q' \"r\" #c\n\n\n", "a", "", "-", ":", "[[[[", "\n\n");
    for (const text of texts) expect(tokenBound(text)).toBeGreaterThanOrEqual(lexerTokens(text));
    // Random registry-like documents the fast path reads: see "on random registry-like documents" above.
  });

  it("a generated set of 10 000 services is within every limit and loads with no problem", () => {
    const dir = copyRegistries(MINIMAL_REGISTRIES);
    try {
      generateRegistries(dir, { services: 10_000 });
      // Each file is within the limits (the fast path reads only those under every limit, the
      // token bound above the lexer's count included), so that a problem in it could be located.
      for (const f of REGISTRY_FILE_NAMES) expect(parseRegistryFileFast(path.join(dir, f), f), f).toBeDefined();
      expect(tokenBound(fs.readFileSync(path.join(dir, "orchestration.yaml"), "utf8"))).toBeLessThan(LIMITS.maxTokens);
      const result = loadRegistries({ registriesDir: dir, env: "dev", today: TODAY });
      expect(result.problems).toEqual([]);
      expect(result.counts.services).toBe(10_000);
      expect(result.model!.services[9999]!.source).toMatch(/^registries\/orchestration\.yaml:\d+$/);
    } finally {
      removeRegistries(dir);
    }
  }, 120_000);
});
