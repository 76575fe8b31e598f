import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Problem } from "../../domain/loader";
import { DEFAULT_MAX_FILE_BYTES, LIMITS } from "../../domain/loader/parse";
import { REGISTRY_FILES } from "../../domain/schema";
import { REGISTRY_FILE_NAMES as FILES, expectLocatedInRegistry } from "../support/problems";
import { copyRegistries, MINIMAL_REGISTRIES, REAL_REGISTRIES, removeRegistries, ROOT } from "../support/registries";

/**
 * Hostile registry files: whatever bytes a registry holds, loading it (what `nexus validate` runs)
 * ends within a deadline with a model or with located problems, and never throws. Each load runs
 * in a worker thread, so that a load that hangs (a backtracking regular expression, a quadratic
 * loop) is stopped at its deadline and reported with its input instead of hanging the run, and a
 * load that exhausts memory fails the test instead of killing it.
 */

const SEED = 20261127;
/** Per input. A registry loads in tens of milliseconds; the bugs this guards against took minutes. */
const DEADLINE_MS = 2_000;
/** For the generated megabyte-sized inputs of the limit tests. */
const LARGE_DEADLINE_MS = 5_000;
/**
 * A property that finds a hang spends a deadline on each shrinking step: stop it, as a failure
 * with the smallest input found so far, before the test's own timeout hides the input.
 */
const RUN = { seed: SEED, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true };
const PROPERTY_TIMEOUT_MS = 90_000;

type Outcome = { problems: Problem[]; model: boolean } | { thrown: string } | { timedOut: true };

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
require(workerData.tsx);
const { loadRegistries } = require(workerData.loader);
parentPort.on("message", (dir) => {
  try {
    const result = loadRegistries({ registriesDir: dir, today: "2026-11-27" });
    parentPort.postMessage({ problems: result.problems, model: result.model !== undefined });
  } catch (error) {
    parentPort.postMessage({ thrown: String((error && error.stack) || error) });
  }
});
`;

/** loadRegistries in a worker thread, with a deadline per call. */
class DeadlineLoader {
  private worker!: Worker;
  /** A new worker first compiles the loader and the schemas; only later loads are held to a deadline. */
  private ready!: Promise<Outcome>;

  constructor() {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        tsx: createRequire(path.join(ROOT, "package.json")).resolve("tsx/cjs"),
        loader: path.join(ROOT, "domain", "loader", "index.ts"),
      },
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
    this.ready = this.call(REAL_REGISTRIES, 60_000);
  }

  async load(dir: string, deadlineMs: number): Promise<Outcome> {
    const warm = await this.ready;
    if (!("problems" in warm)) throw new Error(`the loader did not start: ${JSON.stringify(warm).slice(0, 500)}`);
    return this.call(dir, deadlineMs);
  }

  private call(dir: string, deadlineMs: number): Promise<Outcome> {
    return new Promise((resolve) => {
      const worker = this.worker;
      const done = (outcome: Outcome, restart: boolean) => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        if (restart) {
          void worker.terminate();
          this.start();
        }
        resolve(outcome);
      };
      const onMessage = (outcome: Outcome) => done(outcome, false);
      const onError = (error: Error) => done({ thrown: `the worker died: ${error.stack ?? String(error)}` }, true);
      const timer = setTimeout(() => done({ timedOut: true }, true), deadlineMs);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.postMessage(dir);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** The property every load must satisfy: it ended, and every problem it found is located. */
function expectLocated(outcome: Outcome, dir: string, deadlineMs = DEADLINE_MS): Problem[] {
  if ("timedOut" in outcome) throw new Error(`loading did not finish within ${deadlineMs} ms`);
  if ("thrown" in outcome) throw new Error(`loading threw: ${outcome.thrown}`);
  const lines = new Map<string, string[]>();
  for (const p of outcome.problems) {
    const where = `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`.slice(0, 300);
    expectLocatedInRegistry(p, where);
    expect(typeof p.message === "string" && p.message.length > 0, where).toBe(true);
    // The position is inside the file: a line that exists, a column at most one past its end.
    const file = path.join(dir, path.basename(p.file));
    if (!lines.has(file)) lines.set(file, fs.existsSync(file) ? fs.readFileSync(file, "latin1").split("\n") : [""]);
    const text = lines.get(file)!;
    expect(p.line, where).toBeLessThanOrEqual(text.length);
    if (p.line > 1 || p.column > 1) expect(p.column, where).toBeLessThanOrEqual(Buffer.byteLength(text[p.line - 1]!, "latin1") + 1);
  }
  return outcome.problems;
}

const formatted = (problems: Problem[]) => problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);

let loader: DeadlineLoader;
/**
 * Copies of the real and of the minimal registries; each input rewrites one file and restores it
 * afterwards. Random inputs go with the minimal ones, which load in a few milliseconds, so that
 * more of them fit in the time this file may take.
 */
const bases = { real: "", minimal: "" };
type Base = keyof typeof bases;
const originals = new Map<string, Buffer>();

beforeAll(async () => {
  loader = new DeadlineLoader();
  bases.real = copyRegistries(REAL_REGISTRIES);
  bases.minimal = copyRegistries(MINIMAL_REGISTRIES);
  for (const base of Object.keys(bases) as Base[]) {
    for (const f of FILES) originals.set(path.join(bases[base], f), fs.readFileSync(path.join(bases[base], f)));
  }
  await loader.load(bases.real, 60_000);
}, 90_000);

afterAll(async () => {
  await loader?.close();
  for (const dir of Object.values(bases)) if (dir) removeRegistries(dir);
});

async function loadWith(base: Base, file: string, content: Buffer | string, deadlineMs = DEADLINE_MS): Promise<Problem[]> {
  const dir = bases[base];
  const target = path.join(dir, file);
  fs.writeFileSync(target, content);
  try {
    return expectLocated(await loader.load(dir, deadlineMs), dir, deadlineMs);
  } finally {
    fs.writeFileSync(target, originals.get(target)!);
  }
}

const file = fc.constantFrom(...FILES);

/** Fragments of YAML syntax, registry words and awkward characters, joined at random. */
const fragment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("\n", "\r\n", " ", "  ", "    ", "\t", "- ", "? ", ": ", ":", ",", "[", "]", "{", "}") },
  { weight: 2, arbitrary: fc.constantFrom("#", "# note\n", "&a ", "&b ", "*a", "*b", "!!str ", "!!map ", "!tag ", "|\n", ">-\n", "'", '"', "\\") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "---\n",
      "...\n",
      "%YAML 1.2\n",
      "%YAML 1.1\n---\n",
      "!!omap ",
      "!!set ",
      "!!binary ",
      "2001-12-14",
      "<<: ",
      "~",
      "null",
      "true",
      "0x1F",
      "1e3",
      ".nan",
      "-.inf",
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom("apiVersion: nexus/v1\n", "kind: Orchestration\n", "services", "name", "image", "environments", "prod", "dev") },
  { weight: 1, arbitrary: fc.constantFrom("\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u2028", "\ufeff", "é", "😀", "\ud800") },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
);
/** Optionally after a block of comment and blank lines, as many registries start. */
const soup = fc
  .tuple(fc.array(fc.constantFrom("# c\n", "#\n", "\n", "  # indented\n", " \n"), { maxLength: 40, size: "max" }), fc.array(fragment, { maxLength: 120 }))
  .map(([header, parts]) => header.join("") + parts.join(""));

/** Random trees of mappings, sequences, scalars and aliases, with anchors, comments and odd indentation. */
type Tree =
  | { kind: "scalar"; text: string; anchor?: string }
  | { kind: "alias"; name: string }
  | { kind: "map"; entries: [string, Tree][]; anchor?: string; flow: boolean; step: number; comment?: string }
  | { kind: "seq"; items: Tree[]; anchor?: string; flow: boolean; step: number; comment?: string };

const anchorName = fc.option(fc.constantFrom("a", "b", "c"), { freq: 4, nil: undefined });
const { tree } = fc.letrec<{ tree: Tree; scalar: Tree; alias: Tree; map: Tree; seq: Tree }>((tie) => ({
  tree: fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("scalar"), tie("alias"), tie("map"), tie("seq")),
  scalar: fc.record({
    kind: fc.constant("scalar" as const),
    text: fc.oneof(
      fc.constantFrom("x", "1", "-1.5", "true", "null", "~", '"quoted"', "'single'", '"open', "|\n  block\n", "docker.io/x:1", "", "0 2 * * *", "500m"),
      fc.string({ maxLength: 12 }),
    ),
    anchor: anchorName,
  }),
  alias: fc.record({ kind: fc.constant("alias" as const), name: fc.constantFrom("a", "b", "c", "missing") }),
  map: fc.record({
    kind: fc.constant("map" as const),
    entries: fc.array(fc.tuple(fc.oneof(fc.constantFrom("name", "image", "environments", "prod", "k", "k", "? k"), fc.string({ maxLength: 6 })), tie("tree")), {
      maxLength: 4,
    }),
    anchor: anchorName,
    flow: fc.boolean(),
    step: fc.integer({ min: 0, max: 4 }),
    comment: fc.option(fc.constantFrom("# c", "#", "# - [x]"), { nil: undefined }),
  }),
  seq: fc.record({
    kind: fc.constant("seq" as const),
    items: fc.array(tie("tree"), { maxLength: 4 }),
    anchor: anchorName,
    flow: fc.boolean(),
    step: fc.integer({ min: 0, max: 4 }),
    comment: fc.option(fc.constantFrom("# c", "#"), { nil: undefined }),
  }),
}));

function flowText(t: Tree): string {
  const anchor = "anchor" in t && t.anchor ? `&${t.anchor} ` : "";
  if (t.kind === "alias") return `*${t.name}`;
  if (t.kind === "scalar") return anchor + t.text;
  if (t.kind === "map") return `${anchor}{${t.entries.map(([k, v]) => `${k}: ${flowText(v)}`).join(", ")}}`;
  return `${anchor}[${t.items.map(flowText).join(", ")}]`;
}

/** The text after a key's colon or a sequence dash, block style unless the node asks for flow. */
function blockText(t: Tree, indent: number): string {
  if (t.kind === "alias" || t.kind === "scalar" || t.flow || (t.kind === "map" ? t.entries.length === 0 : t.items.length === 0)) return ` ${flowText(t)}`;
  const pad = " ".repeat(indent);
  let out = (t.anchor ? ` &${t.anchor}` : "") + (t.comment ? ` ${t.comment}` : "");
  if (t.kind === "map") for (const [k, v] of t.entries) out += `\n${pad}${k}:${blockText(v, indent + t.step)}`;
  else for (const v of t.items) out += `\n${pad}-${blockText(v, indent + t.step)}`;
  return out;
}

const yamlish = fc
  .tuple(fc.constantFrom(...Object.values(REGISTRY_FILES).map((f) => f.kind)), fc.array(fc.tuple(fc.string({ maxLength: 8 }), tree), { maxLength: 5 }))
  .map(([kind, entries]) => `apiVersion: nexus/v1\nkind: ${kind}\n${entries.map(([k, v]) => `${k || "k"}:${blockText(v, 2)}`).join("\n")}\n`);

/** Hostile lines, inserted at the start of a line of a real registry with that line's indentation. */
const HOSTILE_LINES = [
  "# c\n\n  #\n".repeat(40),
  "x: &x [*x]\n",
  "x: &x\n  y: *x\n",
  "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + Array.from({ length: 8 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(", ")}]\n`).join(""),
  `deep: ${"[".repeat(LIMITS.maxDepth + 5)}${"]".repeat(LIMITS.maxDepth + 5)}\n`,
  `deep: ${"- ".repeat(LIMITS.maxDepth + 5)}x\n`,
  `${"k".repeat(LIMITS.maxKeyChars + 1)}: 1\n`,
  `? ${"k".repeat(LIMITS.maxKeyChars + 1)}\n: 1\n`,
  "name: again\n",
];
/** Hostile text, inserted at any byte. */
const HOSTILE_TEXT = ["[".repeat(LIMITS.maxDepth + 5), "{a: ".repeat(LIMITS.maxDepth + 5), "\u0000", "\t", "\r", "&a ", "*a", "\ufeff", "\u2028"];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("delete-line" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate-line" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("indent" as const), at: fc.nat(), by: fc.constantFrom(-4, -2, -1, 1, 2, 4, "\t") }),
  fc.record({ kind: fc.constant("control" as const), at: fc.nat(), code: fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f)) }),
  fc.record({ kind: fc.constant("insert-text" as const), at: fc.nat(), text: fc.constantFrom(...HOSTILE_TEXT) }),
  // Line 0 often: it is where a header comment block or a top-level key goes.
  fc.record({ kind: fc.constant("insert-lines" as const), at: fc.oneof(fc.constant(0), fc.nat()), text: fc.constantFrom(...HOSTILE_LINES) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

/** Applies a mutation to the bytes of a file (latin1 keeps one character per byte). */
function mutate(bytes: string, m: Mutation): string {
  if (m.kind === "flip") {
    if (bytes.length === 0) return bytes;
    const at = m.at % bytes.length;
    return bytes.slice(0, at) + String.fromCharCode(bytes.charCodeAt(at) ^ (1 << m.bit)) + bytes.slice(at + 1);
  }
  if (m.kind === "control" || m.kind === "insert-text") {
    const at = m.at % (bytes.length + 1);
    const text = m.kind === "control" ? String.fromCharCode(m.code) : Buffer.from(m.text, "utf8").toString("latin1");
    return bytes.slice(0, at) + text + bytes.slice(at);
  }
  const lines = bytes.split("\n");
  const at = m.at % lines.length;
  if (m.kind === "insert-lines") {
    const indent = /^ */.exec(lines[at]!)![0];
    lines.splice(
      at,
      0,
      ...m.text
        .replace(/\n$/, "")
        .split("\n")
        .map((l) => indent + l),
    );
  } else if (m.kind === "delete-line") lines.splice(at, 1);
  else if (m.kind === "duplicate-line") lines.splice(at, 0, lines[at]!);
  else if (typeof m.by === "string") lines[at] = m.by + lines[at];
  else lines[at] = m.by > 0 ? " ".repeat(m.by) + lines[at] : lines[at]!.replace(new RegExp(`^ {0,${-m.by}}`), "");
  return lines.join("\n");
}

describe("loading hostile registries ends in time with located problems", () => {
  it(
    "random bytes",
    async () => {
      await fc.assert(
        fc.asyncProperty(file, fc.uint8Array({ maxLength: 600 }), fc.boolean(), async (f, bytes, afterHeader) => {
          const header = afterHeader
            ? Buffer.from(`apiVersion: nexus/v1\nkind: ${Object.values(REGISTRY_FILES).find((r) => r.file === f)!.kind}\n`)
            : Buffer.alloc(0);
          await loadWith("minimal", f, Buffer.concat([header, Buffer.from(bytes)]));
        }),
        { ...RUN, numRuns: 120 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it.each([
    ["random YAML-ish text", soup],
    ["random trees of mappings, sequences, scalars, comments, anchors and aliases", yamlish],
  ])(
    "%s",
    async (_, text) => {
      await fc.assert(
        fc.asyncProperty(file, text, async (f, t) => {
          await loadWith("minimal", f, t);
        }),
        { ...RUN, numRuns: 150 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "mutations of the real registries",
    async () => {
      await fc.assert(
        fc.asyncProperty(file, fc.array(mutation, { minLength: 1, maxLength: 4 }), async (f, mutations) => {
          let bytes = originals.get(path.join(bases.real, f))!.toString("latin1");
          for (const m of mutations) bytes = mutate(bytes, m);
          await loadWith("real", f, Buffer.from(bytes, "latin1"));
        }),
        { ...RUN, numRuns: 40 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

const HEAD = "apiVersion: nexus/v1\nkind: Monitoring\n";

/** Block mappings nested `levels` deep, the root one included: the one at depth d >= 2 starts on line d + 2, column d. */
function nestedMappings(levels: number, head = HEAD): string {
  let text = `${head}k:\n`;
  for (let i = 1; i < levels; i++) text += `${" ".repeat(i)}k:\n`;
  return text;
}

describe("limits: each is a located problem, reached in linear time", () => {
  it("refuses a block mapping nested thousands of levels deep where it crosses the depth limit", async () => {
    const problems = await loadWith("minimal", "monitoring.yaml", nestedMappings(3000), LARGE_DEADLINE_MS);
    const depth = LIMITS.maxDepth + 1;
    expect(formatted(problems)).toEqual([
      `registries/monitoring.yaml:${depth + 2}:${depth} (file): nesting is deeper than ${LIMITS.maxDepth} levels here, over the limit for a registry: flatten the structure (a registry nests fewer than 10 levels)`,
    ]);
  });

  it("accepts nesting right at the depth limit", async () => {
    const problems = await loadWith("minimal", "monitoring.yaml", nestedMappings(LIMITS.maxDepth).replace(/k:\n$/, "k: v\n"));
    expect(problems.map((p) => p.message).join("\n")).not.toMatch(/nesting is deeper/);
  });

  it("refuses a line over the length limit at the column that crosses it", async () => {
    const problems = await loadWith("minimal", "monitoring.yaml", `${HEAD}stack:\n  owner: ${"x".repeat(70_000)}\n`);
    expect(formatted(problems)).toEqual([
      `registries/monitoring.yaml:4:${LIMITS.maxLineChars + 1} (file): line is 70009 characters long, over the ${LIMITS.maxLineChars}-character limit for a registry line: break the value over several lines or remove generated content`,
    ]);
  });

  it("refuses an explicit key over the key length limit", async () => {
    const problems = await loadWith("minimal", "monitoring.yaml", `${HEAD}stack:\n  ? ${"k".repeat(2000)}\n  : v\n`);
    expect(formatted(problems)).toEqual([
      `registries/monitoring.yaml:4:5 (file): key is 2000 characters long, over the ${LIMITS.maxKeyChars}-character limit for a key: shorten it`,
    ]);
  });

  it("refuses more anchors and aliases than the limit at the one that crosses it", async () => {
    const problems = await loadWith("minimal", "monitoring.yaml", `${HEAD}x: &x 1\nlist:\n${"  - *x\n".repeat(LIMITS.maxAliasNodes + 10)}`);
    // The anchor is the first; the alias on line 4 + n is the (n + 1)th.
    expect(formatted(problems)).toEqual([
      `registries/monitoring.yaml:${4 + LIMITS.maxAliasNodes}:5 (file): more than ${LIMITS.maxAliasNodes} anchors and aliases by here, over the limit for a registry: write the values out`,
    ]);
  });

  it("refuses a file of more YAML tokens than the limit", async () => {
    const problems = await loadWith("minimal", "monitoring.yaml", `${HEAD}stack:\n${"  - a\n".repeat(LIMITS.maxTokens / 4)}`, LARGE_DEADLINE_MS);
    expect(problems).toHaveLength(1);
    expect(formatted(problems)[0]).toMatch(
      new RegExp(`^registries/monitoring\\.yaml:\\d+:\\d+ \\(file\\): the file holds more than ${LIMITS.maxTokens} YAML tokens .* by here, over the limit`),
    );
  });

  it("finds a duplicate key in a mapping of 30,000 keys (the yaml package's check is quadratic)", async () => {
    let text = `${HEAD}stack:\n`;
    for (let i = 0; i < 30_000; i++) text += `  key${i}: ${i}\n`;
    text += "  key7: again\n";
    const problems = await loadWith("minimal", "monitoring.yaml", text, LARGE_DEADLINE_MS);
    expect(formatted(problems)).toEqual([
      "registries/monitoring.yaml:30004:3 (file): YAML syntax: Map keys must be unique: remove or rename one of the duplicate keys",
    ]);
  });

  it("locates each of 10,000 unknown fields of one mapping", async () => {
    let text = `${HEAD}stack:\n`;
    for (let i = 0; i < 10_000; i++) text += `  key${i}: ${i}\n`;
    const problems = await loadWith("minimal", "monitoring.yaml", text, LARGE_DEADLINE_MS);
    const unknown = problems.filter((p) => p.message.startsWith('unknown field "key'));
    expect(unknown).toHaveLength(10_000);
    expect(unknown.every((p) => p.line === Number(p.path.replace("stack.key", "")) + 4 && p.column === 3)).toBe(true);
  });

  it("reads 100,000 comment lines as an empty file", async () => {
    const problems = await loadWith("minimal", "monitoring.yaml", "# comment\n\n  #\n".repeat(100_000), LARGE_DEADLINE_MS);
    expect(formatted(problems)).toEqual([
      "registries/monitoring.yaml:1:1 (file): file is empty: it must be a mapping that starts with apiVersion: nexus/v1 and kind",
    ]);
  });

  it("refuses a file over the default size limit without reading it", async () => {
    const target = path.join(bases.minimal, "monitoring.yaml");
    fs.writeFileSync(target, "");
    // Sparse: the size is what is checked, before any byte is read.
    fs.truncateSync(target, DEFAULT_MAX_FILE_BYTES + 1);
    try {
      const problems = expectLocated(await loader.load(bases.minimal, DEADLINE_MS), bases.minimal);
      expect(formatted(problems)).toEqual([
        "registries/monitoring.yaml:1:1 (file): file is 64.0 MiB, over the 64 MiB limit for a registry: split it or remove generated content",
      ]);
    } finally {
      fs.writeFileSync(target, originals.get(target)!);
    }
  });
});

/** `node bin/nexus.js validate --registries DIR`, killed (and failed) if it runs past the deadline. */
function validate(registries: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "nexus.js"), "validate", "--registries", registries], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`nexus validate did not finish within 30 s on ${registries}`));
    }, 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("nexus validate on hostile folders", () => {
  const folders: string[] = [];
  afterAll(() => folders.forEach(removeRegistries));

  function folder(files: Record<string, string>): string {
    const d = copyRegistries(REAL_REGISTRIES);
    folders.push(d);
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
    return d;
  }

  it("exits 1 with located problems and no stack trace", async () => {
    const comments = "# header\n\n  # more\n".repeat(20);
    const a = folder({
      "orchestration.yaml": nestedMappings(3000, "apiVersion: nexus/v1\nkind: Orchestration\n"),
      "monitoring.yaml":
        HEAD +
        "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" +
        Array.from({ length: 9 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(", ")}]\n`).join(""),
      "security.yaml": "apiVersion: nexus/v1\nkind: Security\npodSecurity: &p\n  self: *p\n",
      "automation.yaml": `${comments}apiVersion: nexus/v1\nkind: Automation\nkind: Automation\n`,
      "pipelines.yaml": `apiVersion: nexus/v1\nkind: Pipelines\nenvironments: [${"x, ".repeat(30_000)}]\n`,
    });
    const b = folder({
      "monitoring.yaml": `${HEAD}stack: ${"[".repeat(500)}\n`,
      "security.yaml": `apiVersion: nexus/v1\nkind: Security\nx: &x 1\nl:\n${"  - *x\n".repeat(LIMITS.maxAliasNodes + 1)}`,
      "automation.yaml": `apiVersion: nexus/v1\nkind: Automation\n? ${"k".repeat(5000)}\n: 1\n`,
    });
    const [ra, rb] = await Promise.all([validate(a), validate(b)]);
    for (const run of [ra, rb]) {
      expect(run.stderr).not.toMatch(/^ {4}at /m);
      expect(run.stderr).not.toMatch(/internal error/);
      expect(run.code, run.stderr).toBe(1);
      const lines = run.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^registries\/[a-z]+\.yaml:\d+:\d+ \S+: \S/);
      for (const line of lines) expect(line).toMatch(/^registries\/[a-z]+\.yaml:\d+:\d+ \S+: \S/);
    }
    const first = (out: string, f: string) => out.split("\n").find((l) => l.startsWith(`registries/${f}:`));
    expect(first(ra.stdout, "orchestration.yaml")).toMatch(/^registries\/orchestration\.yaml:67:65 \(file\): nesting is deeper than 64 levels/);
    expect(first(ra.stdout, "monitoring.yaml")).toMatch(/^registries\/monitoring\.yaml:8:10 \(file\): with its aliases expanded/);
    expect(first(ra.stdout, "security.yaml")).toMatch(/^registries\/security\.yaml:4:9 \(file\): YAML syntax: alias \*p is inside the value/);
    expect(first(ra.stdout, "automation.yaml")).toMatch(/^registries\/automation\.yaml:63:1 \(file\): YAML syntax: Map keys must be unique/);
    expect(first(ra.stdout, "pipelines.yaml")).toMatch(/^registries\/pipelines\.yaml:3:65537 \(file\): line is \d+ characters long/);
    expect(first(rb.stdout, "monitoring.yaml")).toMatch(/^registries\/monitoring\.yaml:3:\d+ \(file\): nesting is deeper than 64 levels/);
    expect(first(rb.stdout, "security.yaml")).toMatch(/^registries\/security\.yaml:\d+:5 \(file\): more than 10000 anchors and aliases/);
    expect(first(rb.stdout, "automation.yaml")).toMatch(/^registries\/automation\.yaml:3:3 \(file\): key is 5000 characters long/);
  }, 60_000);
});
