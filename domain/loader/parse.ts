import * as fs from "node:fs";
import * as path from "node:path";
import {
  Composer,
  Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
  visit,
  YAMLMap,
  type Alias,
  type CST,
  type Pair,
} from "yaml";
import { fastParse } from "./fastParse";
import { LIMITS, DEFAULT_MAX_FILE_BYTES } from "./limits";
import type { PathSegment, Problem } from "./problems";

export { DEFAULT_MAX_FILE_BYTES, LIMITS } from "./limits";

export interface ParsedFile {
  /** Path as reported in problems and source annotations, e.g. "registries/orchestration.yaml". */
  display: string;
  doc?: Document.Parsed;
  lineCounter: LineCounter;
  /** The plain data of the document, when it parsed without errors. */
  data?: unknown;
  /**
   * Read on the fast path (no `doc`): the line of each key of the root mapping and of each entry
   * directly in it, by container (see fastParse.ts). Anything else needs the parse with positions.
   */
  lines?: WeakMap<object, Map<PathSegment, number>>;
}

export function problemAt(file: ParsedFile, offset: number | undefined, path: string, message: string, code: string): Problem {
  const pos = offset === undefined ? { line: 1, col: 1 } : file.lineCounter.linePos(offset);
  return { file: file.display, line: pos.line, column: pos.col, path: oneLine(path), message: oneLine(message), code };
}

/** Escapes control characters a key or value may carry, so that one problem stays one line. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, (c) =>
    c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const EMPTY = "file is empty: it must be a mapping that starts with apiVersion: nexus/v1 and kind";

/**
 * Reads and parses one registry file. Problems are returned, never thrown: a missing, binary,
 * huge, empty or malformed file is just another located finding.
 */
export function parseRegistryFile(filePath: string, display: string, problems: Problem[], maxBytes = DEFAULT_MAX_FILE_BYTES): ParsedFile {
  const parsed: ParsedFile = { display, lineCounter: new LineCounter() };
  const text = readRegistryText(filePath, parsed, problems, maxBytes);
  if (text !== undefined) parseWithPositions(text, parsed, problems);
  return parsed;
}

/**
 * The fast path: reads and checks the file as parseRegistryFile does, then reads its data without
 * positions (fastParse.ts). Undefined when the file has a problem or is outside what the fast path
 * reads: parseRegistryFile then decides and locates.
 */
export function parseRegistryFileFast(filePath: string, display: string, maxBytes = DEFAULT_MAX_FILE_BYTES): ParsedFile | undefined {
  const parsed: ParsedFile = { display, lineCounter: new LineCounter() };
  const problems: Problem[] = [];
  const text = readRegistryText(filePath, parsed, problems, maxBytes);
  if (text === undefined || problems.length > 0) return undefined;
  const fast = fastParse(text);
  if (!fast) return undefined;
  parsed.data = fast.data;
  parsed.lines = fast.lines;
  return parsed;
}

/** Reads the file and runs the checks on its text; undefined (with a problem) when there is no text to parse. */
function readRegistryText(filePath: string, parsed: ParsedFile, problems: Problem[], maxBytes: number): string | undefined {
  const lineCounter = parsed.lineCounter;
  const fail = (message: string, code: string) => problems.push(problemAt(parsed, undefined, "(file)", message, code));
  const failAt = (offset: number, message: string, code: string) => problems.push(problemAt(parsed, offset, "(file)", message, code));

  let stat: fs.Stats;
  try {
    stat = fs.statSync(filePath);
  } catch {
    fail(`file not found: create it (every registry folder holds ${path.basename(filePath)}) or pass --registries DIR`, "file-missing");
    return undefined;
  }
  if (!stat.isFile()) {
    fail("is not a regular file: replace it with the YAML registry file", "file-unreadable");
    return undefined;
  }
  if (stat.size > maxBytes) {
    fail(`file is ${byteSize(stat.size)}, over the ${byteSize(maxBytes)} limit for a registry: split it or remove generated content`, "file-too-large");
    return undefined;
  }
  const buffer = fs.readFileSync(filePath);
  const nul = buffer.indexOf(0);
  if (nul >= 0) {
    fail(`file is binary (a NUL byte at offset ${nul}): a registry must be UTF-8 YAML text`, "file-binary");
    return undefined;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buffer);
  } catch {
    fail("file is not valid UTF-8 text: save it as UTF-8", "file-encoding");
    return undefined;
  }

  const lines = scanLines(text, lineCounter);
  if (lines.blank) {
    fail(EMPTY, "file-empty");
    return undefined;
  }
  if (lines.long) {
    failAt(
      lines.long.start + LIMITS.maxLineChars,
      `line is ${lines.long.length} characters long, over the ${LIMITS.maxLineChars}-character limit for a registry line: break the value over several lines or remove generated content`,
      "line-too-long",
    );
    return undefined;
  }

  return text;
}

/** The parse with positions: the yaml package's CST and Document, then the plain data. */
function parseWithPositions(text: string, parsed: ParsedFile, problems: Problem[]): void {
  const fail = (message: string, code: string) => problems.push(problemAt(parsed, undefined, "(file)", message, code));
  const failAt = (offset: number, message: string, code: string) => problems.push(problemAt(parsed, offset, "(file)", message, code));

  // The lexer and the CST parser are iterative, so they are safe on any input; the composer and
  // everything after it recurse, and run only once the token count and the nesting are bounded.
  // The lexer alone counts the tokens first: it is ten times faster than the CST parser, so that a
  // file over the limit is refused before the slow part starts.
  const count = countTokens(text);
  if (count.over !== undefined) {
    failAt(
      count.over,
      `the file holds more than ${LIMITS.maxTokens} YAML tokens (keys, values, indicators, comments, line breaks) by here, over the limit for a registry: split it or remove generated content`,
      "file-too-many-tokens",
    );
    return;
  }
  const tokens: CST.Token[] = [];
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) for (const token of parser.next(lexeme)) tokens.push(token);
  for (const token of parser.end()) tokens.push(token);
  const deep = tooDeep(tokens, LIMITS.maxDepth);
  if (deep !== undefined) {
    failAt(
      deep,
      `nesting is deeper than ${LIMITS.maxDepth} levels here, over the limit for a registry: flatten the structure (a registry nests fewer than 10 levels)`,
      "yaml-too-deep",
    );
    return;
  }

  // Duplicate keys are found by inspect() below: the yaml package's own check compares each key
  // with every earlier one, which takes minutes on a mapping of some ten thousand keys. Its check
  // of a YAML 1.1 ordered map (!!omap) is just as quadratic, and a registry has no use for one:
  // without the tag it is read as the list it is written as.
  const composer = new Composer({
    uniqueKeys: false,
    keepSourceTokens: true,
    customTags: (tags) => tags.filter((tag) => typeof tag === "string" || tag.tag !== "tag:yaml.org,2002:omap"),
  });
  const docs = Array.from(composer.compose(tokens)) as Document.Parsed[];
  if (docs.length === 0) {
    fail(EMPTY, "file-empty");
    return;
  }
  if (docs.length > 1) {
    const second = docs[1]!;
    problems.push(
      problemAt(
        parsed,
        second.range[0],
        "(file)",
        "holds more than one YAML document: keep one document per registry file and remove the '---' separator",
        "yaml-multiple-documents",
      ),
    );
  }
  const doc = docs[0]!;
  parsed.doc = doc;
  const found = inspect(doc, LIMITS.maxValues + count.tokens);
  // Only the first syntax error: the parser's later errors are mostly its confusion after it.
  const error = doc.errors[0];
  if (error && (found.duplicateKey === undefined || error.pos[0] <= found.duplicateKey)) {
    const { offset, message } = yamlError(doc, error.code, error.message, error.pos[0]);
    failAt(offset, message, `yaml-${error.code.toLowerCase().replace(/_/g, "-")}`);
  } else if (found.duplicateKey !== undefined) {
    failAt(found.duplicateKey, yamlMessage("DUPLICATE_KEY", "Map keys must be unique"), "yaml-duplicate-key");
  }
  if (doc.errors.length > 0 || found.duplicateKey !== undefined || docs.length > 1) return;

  for (const alias of found.unresolved) {
    failAt(
      alias.range?.[0] ?? 0,
      `YAML syntax: alias *${alias.source} has no anchor: define the anchor (&${alias.source}) before using the alias (*${alias.source}), or write the value out`,
      "yaml-bad-alias",
    );
  }
  if (found.unresolved.length > 0) return;
  if (found.limit) {
    failAt(found.limit.offset, found.limit.message, found.limit.code);
    return;
  }

  if (!isMap(doc.contents)) {
    const what = doc.contents === null ? "nothing" : isScalar(doc.contents) ? "a single value" : "a list";
    problems.push(
      problemAt(
        parsed,
        doc.contents?.range?.[0],
        "(root)",
        `the file holds ${what}; it must be a mapping with apiVersion, kind and the registry's sections`,
        "yaml-not-a-mapping",
      ),
    );
    return;
  }
  try {
    // inspect() has bounded the expansion; the yaml package's own alias count would refuse an
    // anchor used more than 100 times whatever it holds, and without saying where.
    parsed.data = doc.toJS({ maxAliasCount: -1 });
  } catch (error) {
    fail(`cannot expand the document (${(error as Error).message}): write the aliased values out`, "yaml-alias");
  }
}

/**
 * The number of YAML tokens, and where the parser would stand when the one over the limit comes
 * (the offset it reports): scalar markers and document-mode tokens take no source text.
 */
function countTokens(text: string): { tokens: number; over?: number } {
  let tokens = 0;
  let offset = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (++tokens > LIMITS.maxTokens) return { tokens, over: offset };
    if (lexeme !== "\x1f" && lexeme !== "\x02" && lexeme !== "\x18") offset += lexeme.length;
  }
  return { tokens };
}

/**
 * One pass over the text: records where each line starts (the parser is not given the line
 * counter, so that problems found before parsing are located too), whether the file holds only
 * comments and blank lines, and the first over-long line. Linear in the text, unlike a regular
 * expression over the whole file, which can backtrack exponentially on many comment lines.
 */
function scanLines(text: string, lineCounter: LineCounter): { blank: boolean; long?: { start: number; length: number } } {
  let blank = true;
  let long: { start: number; length: number } | undefined;
  let start = 0;
  lineCounter.addNewLine(0);
  for (;;) {
    const newline = text.indexOf("\n", start);
    const end = newline < 0 ? text.length : newline;
    if (blank) {
      const content = text.slice(start, end).trimStart();
      if (content !== "" && !content.startsWith("#")) blank = false;
    }
    if (long === undefined && end - start > LIMITS.maxLineChars) long = { start, length: end - start };
    if (newline < 0) break;
    start = newline + 1;
    lineCounter.addNewLine(start);
  }
  return { blank, long };
}

/**
 * The offset of the first collection nested deeper than `max`, walking the parser's tokens with
 * an explicit stack (the tokens of a hostile file may nest thousands of levels).
 */
function tooDeep(tokens: readonly CST.Token[], max: number): number | undefined {
  let first: number | undefined;
  const stack: { token: CST.Token; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (token.type === "document") {
      if (token.value) stack.push({ token: token.value, depth });
    } else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      if (depth + 1 > max) {
        if (first === undefined || token.offset < first) first = token.offset;
        continue;
      }
      for (const item of token.items as CST.CollectionItem[]) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return first;
}

interface Findings {
  /** Offset of the first key repeated in its mapping. */
  duplicateKey?: number;
  unresolved: Alias[];
  /** The first limit crossed: alias loop, too many aliases, too large an expansion, too long a key. */
  limit?: { offset: number; message: string; code: string };
}

/**
 * Walks the composed document once, in document order and with an explicit stack: finds duplicate
 * keys, over-long keys and aliases without an anchor, and measures what aliases expand to (values
 * and nesting) without expanding them, so that an alias bomb or an alias inside its own anchor is
 * refused, where it is written, before anything walks the expanded values.
 */
function inspect(doc: Document.Parsed, maxValues: number): Findings {
  const found: Findings = { unresolved: [] };
  const limit = (offset: number, message: string, code: string) => {
    if (found.limit === undefined || offset < found.limit.offset) found.limit = { offset, message, code };
  };
  /** What a node stands for once its aliases are expanded: values, and levels of nesting. */
  interface Size {
    values: number;
    depth: number;
  }
  const anchors = new Map<string, unknown>();
  const sizes = new Map<unknown, Size>();
  const open = new Set<unknown>();
  let aliasNodes = 0;
  let values = 0;
  let tooMany = false;

  type Frame = { node: unknown; level: number; parent: Size } | { exit: unknown; size: Size; parent: Size };
  const root: Size = { values: 0, depth: 0 };
  const stack: Frame[] = [{ node: doc.contents, level: 0, parent: root }];
  const count = (node: { range?: readonly number[] | null }, added: number) => {
    const before = values;
    values += added;
    if (before <= maxValues && values > maxValues) {
      limit(
        node.range?.[0] ?? 0,
        `with its aliases expanded, the document holds more than ${maxValues} values by here (${LIMITS.maxValues} plus one per YAML token of the file), over the limit for a registry: write the values out or use fewer nested aliases`,
        "yaml-alias-expansion",
      );
    }
  };

  while (stack.length > 0) {
    const frame = stack.pop()!;
    if ("exit" in frame) {
      frame.size.depth += 1;
      frame.parent.values += frame.size.values;
      frame.parent.depth = Math.max(frame.parent.depth, frame.size.depth);
      if (open.delete(frame.exit)) sizes.set(frame.exit, frame.size);
      continue;
    }
    const { node, level, parent } = frame;
    if (!isNode(node)) continue;
    const offset = node.range?.[0] ?? 0;
    if (isAlias(node) || node.anchor) {
      if (++aliasNodes > LIMITS.maxAliasNodes && !tooMany) {
        tooMany = true;
        limit(
          offset,
          `more than ${LIMITS.maxAliasNodes} anchors and aliases by here, over the limit for a registry: write the values out`,
          "yaml-too-many-aliases",
        );
      }
    }
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      const size = target === undefined ? undefined : sizes.get(target);
      if (target === undefined) {
        found.unresolved.push(node);
      } else if (size === undefined) {
        limit(
          offset,
          `YAML syntax: alias *${node.source} is inside the value its anchor &${node.source} names, so it would repeat forever: write the value out instead`,
          "yaml-alias-cycle",
        );
      } else {
        parent.values += size.values;
        parent.depth = Math.max(parent.depth, size.depth);
        count(node, size.values);
        if (level + size.depth > LIMITS.maxDepth) {
          limit(
            offset,
            `alias *${node.source} nests the value of &${node.source} here deeper than ${LIMITS.maxDepth} levels, over the limit for a registry: write the value out or flatten it`,
            "yaml-too-deep",
          );
        }
      }
      continue;
    }
    if (node.anchor) {
      anchors.set(node.anchor, node);
      open.add(node);
    }
    count(node, 1);
    if (!isMap(node) && !isSeq(node)) {
      parent.values += 1;
      if (open.delete(node)) sizes.set(node, { values: 1, depth: 0 });
      continue;
    }
    // Children add their values and depth to `size`; the collection's own level is added on exit.
    const size: Size = { values: 1, depth: 0 };
    stack.push({ exit: node, size, parent });
    const inner = level + 1;
    const seen = isMap(node) ? new Set<unknown>() : undefined;
    const children: unknown[] = [];
    for (const item of node.items as unknown[]) {
      if (!isPair(item)) {
        children.push(item);
        continue;
      }
      const key = (item as Pair).key;
      if (isScalar(key)) {
        const name = key.value;
        if (seen && name === name) {
          if (seen.has(name)) {
            const at = key.range?.[0] ?? offset;
            if (found.duplicateKey === undefined || at < found.duplicateKey) found.duplicateKey = at;
          } else {
            seen.add(name);
          }
        }
        const chars = String(name).length;
        if (chars > LIMITS.maxKeyChars) {
          limit(
            key.range?.[0] ?? offset,
            `key is ${chars} characters long, over the ${LIMITS.maxKeyChars}-character limit for a key: shorten it`,
            "key-too-long",
          );
        }
      }
      const other = notAName(key);
      if (other) limit(other.offset, `this key is ${other.what}; a registry key is a plain name: write it out as one`, "key-not-plain");
      children.push(key, (item as Pair).value);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], level: inner, parent: size });
  }
  return found;
}

/**
 * What a mapping key is when it is not a name. The yaml package turns such a key into text by
 * printing it, copying every anchor of the document for each one: quadratic on a hostile file,
 * and a registry has no use for them.
 */
function notAName(key: unknown): { what: string; offset: number } | undefined {
  if (!isNode(key)) return undefined;
  const offset = key.range?.[0] ?? 0;
  if (isMap(key)) return { what: "a mapping", offset };
  if (isSeq(key)) return { what: "a list", offset };
  if (isAlias(key)) return { what: "an alias", offset };
  if (isScalar(key) && key.value !== null && typeof key.value === "object") return { what: key.value instanceof Date ? "a date" : "a tagged value", offset };
  return undefined;
}

function byteSize(bytes: number): string {
  if (bytes % 1048576 === 0) return `${bytes / 1048576} MiB`;
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MiB` : `${bytes} bytes`;
}

/**
 * Where and what a syntax error is. The parser notices an unclosed quote or bracket only where
 * the text runs out, possibly many lines on; point at the quote or bracket that was opened instead.
 */
function yamlError(doc: Document.Parsed, code: string, message: string, pos: number): { offset: number; message: string } {
  const quote = /^Missing closing (["'])quote/.exec(message);
  const flow = /^Flow (sequence|map) in block collection must be sufficiently indented and end with a ([\]}])/.exec(message);
  if (quote || flow) {
    let opened: number | undefined;
    visit(doc, (_, node) => {
      const start = isNode(node) ? node.range?.[0] : undefined;
      if (start === undefined || start > pos || (opened !== undefined && start <= opened)) return;
      if (quote && isScalar(node) && node.type === (quote[1] === '"' ? "QUOTE_DOUBLE" : "QUOTE_SINGLE")) opened = start;
      if (flow && (flow[1] === "map" ? isMap(node) : isSeq(node)) && (node as YAMLMap).flow) {
        const token = (node as YAMLMap).srcToken as { type?: string; end?: { source: string }[] } | undefined;
        if (token?.type === "flow-collection" && !token.end?.some((t) => t.source === flow[2])) opened = start;
      }
    });
    if (opened !== undefined) {
      return {
        offset: opened,
        message: quote
          ? `YAML syntax: the ${quote[1]} quote opened here is never closed: add the closing ${quote[1]}`
          : `YAML syntax: the flow ${flow![1] === "map" ? "mapping" : "sequence"} opened here is never closed: add the closing ${flow![2]} on this line, or indent its continuation lines`,
      };
    }
  }
  return { offset: pos, message: yamlMessage(code, message) };
}

function yamlMessage(code: string, message: string): string {
  // The yaml package's first line is precise; the rest is a source excerpt we print ourselves.
  const first = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  const hints: Record<string, string> = {
    DUPLICATE_KEY: "remove or rename one of the duplicate keys",
    TAB_AS_INDENT: "indent with spaces, not tabs",
    BAD_ALIAS: "define the anchor (&name) before using the alias (*name)",
    BAD_INDENT: "align the line with its siblings",
    MISSING_CHAR: "close the quote, bracket or brace",
    BLOCK_AS_IMPLICIT_KEY: "put the key and its value on one line or indent the value",
    MULTILINE_IMPLICIT_KEY: "put a key on a single line and its value after ': '",
    UNEXPECTED_TOKEN: "check the YAML syntax of this line",
  };
  const hint = hints[code] ?? "fix the YAML syntax here";
  return `YAML syntax: ${first.replace(/\.$/, "")}: ${hint}`;
}

/**
 * The offset of the node at `path`, or of its deepest existing ancestor (so a missing field
 * points at its parent). With `atKey`, a mapping entry is located at its key, not its value.
 */
export function offsetOf(doc: Document.Parsed, path: readonly PathSegment[], atKey = false): number | undefined {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? node.range?.[0] : undefined;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = pairNamed(node as YAMLMap, String(segment));
      if (!pair) return offset;
      const last = i === path.length - 1;
      if (last && atKey && isNode(pair.key)) return pair.key.range?.[0];
      node = pair.value;
      offset = isNode(node) ? node.range?.[0] : isNode(pair.key) ? pair.key.range?.[0] : offset;
    } else if (node && typeof node === "object" && "items" in node && Array.isArray((node as { items: unknown[] }).items)) {
      const item = (node as { items: unknown[] }).items[Number(segment)];
      if (item === undefined) return offset;
      node = item;
      offset = isNode(node) ? node.range?.[0] : offset;
    } else {
      return offset;
    }
  }
  return offset;
}

const keyIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

/**
 * The first entry of `map` whose key reads `name`. Indexed once per mapping: a file with
 * thousands of unknown keys in one mapping is located key by key, and scanning the mapping for
 * each would take quadratic time.
 */
function pairNamed(map: YAMLMap, name: string): Pair | undefined {
  let index = keyIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      if (isPair(p) && isScalar(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p as Pair);
    }
    keyIndexes.set(map, index);
  }
  return index.get(name);
}
