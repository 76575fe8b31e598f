import * as fs from "node:fs";
import * as path from "node:path";
import { Document, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit, YAMLMap } from "yaml";
import type { PathSegment, Problem } from "./problems";

/** Larger registry files are refused: they are almost certainly not hand-written registries. */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface ParsedFile {
  /** Path as reported in problems and source annotations, e.g. "registries/orchestration.yaml". */
  display: string;
  doc?: Document.Parsed;
  lineCounter: LineCounter;
  /** The plain data of the document, when it parsed without errors. */
  data?: unknown;
}

export function problemAt(file: ParsedFile, offset: number | undefined, path: string, message: string, code: string): Problem {
  const pos = offset === undefined ? { line: 1, col: 1 } : file.lineCounter.linePos(offset);
  return { file: file.display, line: pos.line, column: pos.col, path: oneLine(path), message: oneLine(message), code };
}

/** Escapes control characters a key or value may carry, so that one problem stays one line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, (c) =>
    c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Reads and parses one registry file. Problems are returned, never thrown: a missing, binary,
 * huge, empty or malformed file is just another located finding.
 */
export function parseRegistryFile(filePath: string, display: string, problems: Problem[], maxBytes = DEFAULT_MAX_FILE_BYTES): ParsedFile {
  const lineCounter = new LineCounter();
  const parsed: ParsedFile = { display, lineCounter };
  const fail = (message: string, code: string) => problems.push(problemAt(parsed, undefined, "(file)", message, code));

  let stat: fs.Stats;
  try {
    stat = fs.statSync(filePath);
  } catch {
    fail(`file not found: create it (every registry folder holds ${path.basename(filePath)}) or pass --registries DIR`, "file-missing");
    return parsed;
  }
  if (!stat.isFile()) {
    fail("is not a regular file: replace it with the YAML registry file", "file-unreadable");
    return parsed;
  }
  if (stat.size > maxBytes) {
    fail(`file is ${byteSize(stat.size)}, over the ${byteSize(maxBytes)} limit for a registry: split it or remove generated content`, "file-too-large");
    return parsed;
  }
  const buffer = fs.readFileSync(filePath);
  const nul = buffer.indexOf(0);
  if (nul >= 0) {
    fail(`file is binary (a NUL byte at offset ${nul}): a registry must be UTF-8 YAML text`, "file-binary");
    return parsed;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buffer);
  } catch {
    fail("file is not valid UTF-8 text: save it as UTF-8", "file-encoding");
    return parsed;
  }
  if (text.trim() === "" || /^(\s*#[^\n]*\n?)*\s*$/.test(text)) {
    fail("file is empty: it must be a mapping that starts with apiVersion: nexus/v1 and kind", "file-empty");
    return parsed;
  }

  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: true });
  if (!Array.isArray(docs)) {
    fail("file is empty: it must be a mapping that starts with apiVersion: nexus/v1 and kind", "file-empty");
    return parsed;
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
  // Only the first syntax error: the parser's later errors are mostly its confusion after it.
  const error = doc.errors[0];
  if (error) {
    const { offset, message } = yamlError(doc, error.code, error.message, error.pos[0]);
    problems.push(problemAt(parsed, offset, "(file)", message, `yaml-${error.code.toLowerCase().replace(/_/g, "-")}`));
  }
  if (doc.errors.length > 0 || docs.length > 1) return parsed;

  let unresolved = false;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) !== undefined) return;
      unresolved = true;
      problems.push(
        problemAt(
          parsed,
          alias.range?.[0],
          "(file)",
          `YAML syntax: alias *${alias.source} has no anchor: define the anchor (&${alias.source}) before using the alias (*${alias.source}), or write the value out`,
          "yaml-bad-alias",
        ),
      );
    },
  });
  if (unresolved) return parsed;

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
    return parsed;
  }
  try {
    parsed.data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    problems.push(
      problemAt(
        parsed,
        undefined,
        "(file)",
        `cannot expand the document (${(error as Error).message}): remove the alias loop or excessive aliases`,
        "yaml-alias",
      ),
    );
  }
  return parsed;
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
      const pair = (node as YAMLMap).items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
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
