import { LIMITS } from "./limits";
import type { PathSegment } from "./problems";

/**
 * The fast path of the loader: reads the plain data of a registry file written in the YAML that
 * registries are written in (block mappings and sequences, one-line flow collections, plain and
 * quoted one-line scalars, `|` and `>` block scalars, comments), without the yaml package's CST,
 * Document and source ranges, which take 20 times longer on a large file. It records only the line
 * of each top-level entry and of each item of a top-level list, the `source` lines of the model.
 *
 * It gives up (returns undefined) on anything else (anchors, aliases, tags, explicit keys,
 * multi-line plain or quoted scalars, tabs, CR line ends, documents markers, unusual block scalar
 * headers, duplicate keys, non-name keys, and anything near a limit), and on anything that is not
 * valid YAML. The loader then parses the file with the yaml package and positions, which decides
 * and locates every problem. What it accepts it reads exactly as the yaml package does (YAML 1.2
 * core schema); test/registries/fastPath.test.ts holds both paths to the same model.
 */
export interface FastParsed {
  data: Record<string, unknown>;
  /** For the root mapping and each mapping or list directly in it: the line of each key or item. */
  lines: WeakMap<object, Map<PathSegment, number>>;
}

/** Thrown inside the parser when the text is outside what it reads; caught in fastParse. */
class GiveUp {}
const GIVE_UP = new GiveUp();

/** Characters the fast path leaves to the yaml package: tabs, CR, other controls, BOM, Unicode line separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNUSUAL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;

/** A registry key: a plain name. Keys that the core schema reads as null or a boolean are left to the slow path. */
const KEY_START = /[A-Za-z_]/;
const NOT_A_STRING_KEY = new Set(["null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "__proto__"]);

const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 /* _ */ || c === 46 /* . */ || c === 47 /* / */ || c === DASH;
}

/** Indicators: each may be a token of its own. */
const INDICATORS = new Set([..."-?:,[]{}|>"].map((c) => c.charCodeAt(0)));

/**
 * An upper bound of the tokens the yaml package's lexer makes of `text` (which limits.ts caps):
 * one per line break, per run of spaces and per indicator character, two per stretch of other
 * characters between them (a scalar is a marker and its text), and two more per `|` or `>` (a
 * block scalar's marker and text, which may be empty). The parse proper runs only under the cap.
 */
export function tokenBound(text: string): number {
  let bound = 2; // the document-start marker, and one to spare
  let inSpace = false;
  let inPiece = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      bound += 1;
      inSpace = inPiece = false;
    } else if (c === SPACE) {
      if (!inSpace) bound += 1;
      inSpace = true;
      inPiece = false;
    } else if (INDICATORS.has(c)) {
      bound += c === 124 || c === 62 ? 3 : 1;
      inSpace = inPiece = false;
    } else {
      if (!inPiece) bound += 2;
      inPiece = true;
      inSpace = false;
    }
  }
  return bound;
}

/** The YAML 1.2 core schema's reading of a plain scalar, as the yaml package resolves it. */
export function plainValue(s: string): unknown {
  const c = s.charCodeAt(0);
  // Only these first characters can start a null, a boolean or a number.
  if (!(
    s === "" ||
    (c >= 48 && c <= 57) ||
    c === 43 ||
    c === DASH ||
    c === 46 ||
    c === 126 ||
    c === 110 ||
    c === 78 ||
    c === 116 ||
    c === 84 ||
    c === 102 ||
    c === 70
  )) {
    return s;
  }
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s)) return s[0] === "t" || s[0] === "T";
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) {
    return s.slice(-3).toLowerCase() === "nan" ? NaN : s[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s)) return parseFloat(s);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}

type Container =
  | { kind: "map"; indent: number; depth: number; value: Record<string, unknown>; lines?: Map<PathSegment, number> }
  | { kind: "seq"; indent: number; depth: number; value: unknown[]; lines?: Map<PathSegment, number>; underKey: boolean };

/** A key or a dash with nothing after it on its line: its value is the block that follows, or null. */
interface Pending {
  parent: Container;
  /** The key in a mapping, or the item's index in a list. */
  slot: string | number;
  /** Column of the key or dash. */
  indent: number;
}

/** Reads `text`, or returns undefined when the fast path does not apply (see above). */
export function fastParse(text: string): FastParsed | undefined {
  if (UNUSUAL.test(text)) return undefined;
  if (tokenBound(text) > LIMITS.maxTokens) return undefined;
  try {
    return new Reader(text).read();
  } catch (error) {
    if (error instanceof GiveUp) return undefined;
    throw error;
  }
}

class Reader {
  private pos = 0;
  private lineNo = 0;
  private line = "";
  private readonly stack: Container[] = [];
  private pending: Pending | undefined;
  private readonly lines = new WeakMap<object, Map<PathSegment, number>>();

  constructor(private readonly text: string) {}

  read(): FastParsed {
    let root: Container | undefined;
    while (this.nextLine()) {
      const line = this.line;
      let indent = 0;
      while (line.charCodeAt(indent) === SPACE) indent++;
      if (indent === line.length || line.charCodeAt(indent) === HASH) continue; // blank or comment line
      const dash = this.isDash(indent);
      if (root === undefined) {
        if (indent !== 0 || dash) throw GIVE_UP;
        root = this.open("map", 0, 1);
      }
      if (this.pending) this.resolvePending(indent, dash);
      // Close the blocks this line is outside of; a list under a key at the key's own indent
      // ends at the next line at that indent that is not an item.
      for (;;) {
        const top = this.stack[this.stack.length - 1];
        if (!top) throw GIVE_UP;
        if (top.indent > indent || (top.kind === "seq" && top.underKey && top.indent === indent && !dash)) this.stack.pop();
        else break;
      }
      const top = this.stack[this.stack.length - 1]!;
      if (top.indent !== indent) throw GIVE_UP;
      if (top.kind === "map") {
        if (dash) throw GIVE_UP;
        this.entry(top, indent);
      } else {
        if (!dash) throw GIVE_UP;
        this.item(top, indent);
      }
    }
    if (!root) throw GIVE_UP;
    if (this.pending) this.setSlot(this.pending, null, undefined);
    return { data: root.value as Record<string, unknown>, lines: this.lines };
  }

  /** Advances to the next line; false at the end of the text. */
  private nextLine(): boolean {
    if (this.pos > this.text.length) return false;
    const end = this.text.indexOf("\n", this.pos);
    const stop = end < 0 ? this.text.length : end;
    this.line = this.text.slice(this.pos, stop);
    this.pos = stop + 1;
    this.lineNo++;
    return true;
  }

  private isDash(at: number): boolean {
    return this.line.charCodeAt(at) === DASH && (at + 1 === this.line.length || this.line.charCodeAt(at + 1) === SPACE);
  }

  private open(kind: "map" | "seq", indent: number, depth: number, underKey = false): Container {
    if (depth > LIMITS.maxDepth) throw GIVE_UP;
    const container: Container = kind === "map" ? { kind, indent, depth, value: {} } : { kind, indent, depth, value: [], underKey };
    if (depth <= 2) {
      container.lines = new Map();
      this.lines.set(container.value, container.lines);
    }
    this.stack.push(container);
    return container;
  }

  private setSlot(p: Pending, value: unknown, line: number | undefined): void {
    if (p.parent.kind === "map") p.parent.value[p.slot as string] = value;
    else p.parent.value[p.slot as number] = value;
    if (line !== undefined) p.parent.lines?.set(p.slot, line);
  }

  /** The first content line after a key or dash with no value: a nested block, or the value is null. */
  private resolvePending(indent: number, dash: boolean): void {
    const p = this.pending!;
    this.pending = undefined;
    const depth = p.parent.depth + 1;
    if (indent > p.indent) {
      const nested = this.open(dash ? "seq" : "map", indent, depth);
      this.setSlot(p, nested.value, p.parent.kind === "seq" ? this.lineNo : undefined);
    } else if (indent === p.indent && dash && p.parent.kind === "map") {
      const nested = this.open("seq", indent, depth, true);
      this.setSlot(p, nested.value, undefined);
    } else {
      this.setSlot(p, null, undefined);
    }
  }

  /** `key: value` at column `at` of the current line, in `map`. */
  private entry(map: Container & { kind: "map" }, at: number): void {
    const line = this.line;
    if (!KEY_START.test(line[at] ?? "")) throw GIVE_UP;
    let end = at + 1;
    while (end < line.length && isKeyChar(line.charCodeAt(end))) end++;
    if (line.charCodeAt(end) !== COLON || (end + 1 < line.length && line.charCodeAt(end + 1) !== SPACE)) throw GIVE_UP;
    const key = line.slice(at, end);
    if (key.length > LIMITS.maxKeyChars || NOT_A_STRING_KEY.has(key) || Object.prototype.hasOwnProperty.call(map.value, key)) throw GIVE_UP;
    map.lines?.set(key, this.lineNo);
    this.value({ parent: map, slot: key, indent: map.indent }, end + 1);
  }

  /** `- value` at column `at` of the current line, in `seq`. */
  private item(seq: Container & { kind: "seq" }, at: number): void {
    const index = seq.value.length;
    seq.value.push(null);
    const p: Pending = { parent: seq, slot: index, indent: at };
    let from = at + 1;
    while (this.line.charCodeAt(from) === SPACE) from++;
    if (from < this.line.length && this.line.charCodeAt(from) !== HASH && this.startsEntry(from)) {
      // `- key: value`: a mapping whose keys are at this column.
      this.stack.length = this.stack.indexOf(seq) + 1;
      const map = this.open("map", from, seq.depth + 1) as Container & { kind: "map" };
      this.setSlot(p, map.value, this.lineNo);
      this.entry(map, from);
      return;
    }
    this.value(p, at + 1);
  }

  /** Whether a `key:` starts at `at`. */
  private startsEntry(at: number): boolean {
    const line = this.line;
    if (!KEY_START.test(line[at] ?? "")) return false;
    let end = at + 1;
    while (end < line.length && isKeyChar(line.charCodeAt(end))) end++;
    return line.charCodeAt(end) === COLON && (end + 1 === line.length || line.charCodeAt(end + 1) === SPACE);
  }

  /** The value after a key's colon or a dash, from column `from` (spaces first). */
  private value(p: Pending, from: number): void {
    const line = this.line;
    let at = from;
    while (line.charCodeAt(at) === SPACE) at++;
    if (at >= line.length || (line.charCodeAt(at) === HASH && at > from)) {
      this.pending = p;
      return;
    }
    if (at === from) throw GIVE_UP; // `key:value` is a plain scalar, not an entry
    const c = line[at]!;
    const here = p.parent.kind === "seq" ? this.lineNo : undefined;
    let value: unknown;
    let end: number;
    if (c === "|" || c === ">") {
      this.setSlot(p, this.blockScalar(at, p.indent), here);
      return;
    } else if (c === '"') {
      [value, end] = doubleQuoted(line, at);
    } else if (c === "'") {
      [value, end] = singleQuoted(line, at);
    } else if (c === "[" || c === "{") {
      const flow = new FlowReader(line, p.parent.depth + 1, p.parent.depth + 1 <= 2 ? this.lines : undefined, this.lineNo);
      value = flow.collection(at);
      end = flow.pos;
    } else {
      const text = blockPlain(line, at);
      this.setSlot(p, plainValue(text), here);
      return;
    }
    afterValue(line, end);
    this.setSlot(p, value, here);
  }

  /**
   * A `|`, `|-`, `>` or `>-` block scalar whose header is at column `at`, owned by a key or dash
   * at column `owner`. Gives up on leading blank lines, on whitespace lines longer than the
   * indentation, on more-indented lines of a folded scalar and on trailing spaces in one.
   */
  private blockScalar(at: number, owner: number): string {
    const line = this.line;
    const folded = line[at] === ">";
    let i = at + 1;
    const strip = line[i] === "-";
    if (strip) i++;
    if (i < line.length) {
      if (line.charCodeAt(i) !== SPACE) throw GIVE_UP;
      while (line.charCodeAt(i) === SPACE) i++;
      if (i < line.length && line.charCodeAt(i) !== HASH) throw GIVE_UP;
    }
    const content: string[] = [];
    let indent = -1;
    for (;;) {
      const start = this.pos;
      if (start > this.text.length) break;
      const nl = this.text.indexOf("\n", start);
      const stop = nl < 0 ? this.text.length : nl;
      const next = this.text.slice(start, stop);
      // The last line of the file without a line break: left to the yaml package's chomping.
      if (nl < 0 && next.trim() !== "") throw GIVE_UP;
      let spaces = 0;
      while (next.charCodeAt(spaces) === SPACE) spaces++;
      if (spaces === next.length) {
        // An empty line: part of the scalar (it may also end it: chomping drops it then).
        if (indent < 0 || spaces > indent) throw GIVE_UP;
        content.push("");
      } else {
        if (indent < 0) {
          if (spaces <= owner) throw GIVE_UP; // an empty block scalar
          indent = spaces;
        }
        if (spaces < indent) break;
        if (spaces > indent && folded) throw GIVE_UP;
        const text = next.slice(indent);
        if (folded && text.charCodeAt(text.length - 1) === SPACE) throw GIVE_UP;
        content.push(text);
      }
      this.pos = stop + 1;
      this.lineNo++;
    }
    while (content.length > 0 && content[content.length - 1] === "") content.pop();
    if (content.length === 0) throw GIVE_UP;
    let out: string;
    if (folded) {
      out = content[0]!;
      let empty = 0;
      for (let k = 1; k < content.length; k++) {
        if (content[k] === "") {
          empty++;
          continue;
        }
        out += (empty === 0 ? " " : "\n".repeat(empty)) + content[k];
        empty = 0;
      }
    } else {
      out = content.join("\n");
    }
    return strip ? out : `${out}\n`;
  }
}

/** After a quoted scalar or a flow collection: spaces, then the end of the line or a comment. */
function afterValue(line: string, end: number): void {
  let i = end;
  while (line.charCodeAt(i) === SPACE) i++;
  if (i < line.length && !(line.charCodeAt(i) === HASH && i > end)) throw GIVE_UP;
}

/** A plain scalar in a block, from `at` to a comment or the end of the line. */
function blockPlain(line: string, at: number): string {
  checkPlainStart(line, at);
  let end = line.length;
  const comment = line.indexOf(" #", at);
  if (comment >= 0) end = comment;
  let text = line.slice(at, end);
  let trim = text.length;
  while (trim > 0 && text.charCodeAt(trim - 1) === SPACE) trim--;
  text = text.slice(0, trim);
  // `a: b: c` is an error, and `a:` at the end would make this line a key.
  if (text.includes(": ") || text.charCodeAt(text.length - 1) === COLON) throw GIVE_UP;
  return text;
}

/** A plain scalar may not start with an indicator, except `-` before a non-space (`-1`, `--all`). */
function checkPlainStart(line: string, at: number): void {
  const c = line[at]!;
  if ("[]{},#&*!|>'\"%@`?:".includes(c)) throw GIVE_UP;
  if (c === "-" && (at + 1 >= line.length || line[at + 1] === " ")) throw GIVE_UP;
}

/** Escapes JSON reads exactly as YAML does. */
const JSON_ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

/** A double-quoted scalar that ends on its line: [value, index after the closing quote]. */
function doubleQuoted(line: string, at: number): [string, number] {
  for (let i = at + 1; i < line.length; i++) {
    const c = line[i];
    if (c === "\\") {
      const e = line[i + 1] ?? "";
      if (JSON_ESCAPES.has(e)) i++;
      else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(line.slice(i + 2, i + 6))) i += 5;
      else throw GIVE_UP;
    } else if (c === '"') {
      return [JSON.parse(line.slice(at, i + 1)) as string, i + 1];
    }
  }
  throw GIVE_UP;
}

/** A single-quoted scalar that ends on its line. */
function singleQuoted(line: string, at: number): [string, number] {
  for (let i = at + 1; i < line.length; i++) {
    if (line[i] === "'") {
      if (line[i + 1] === "'") {
        i++;
        continue;
      }
      return [line.slice(at + 1, i).replace(/''/g, "'"), i + 1];
    }
  }
  throw GIVE_UP;
}

/** A flow collection (`[a, b]`, `{ k: v }`, nested) that closes on its line. */
class FlowReader {
  pos = 0;
  constructor(
    private readonly line: string,
    private readonly depth: number,
    private readonly lines: WeakMap<object, Map<PathSegment, number>> | undefined,
    private readonly lineNo: number,
  ) {}

  collection(at: number, depth = this.depth): unknown {
    if (depth > LIMITS.maxDepth) throw GIVE_UP;
    const line = this.line;
    const isMap = line[at] === "{";
    const close = isMap ? "}" : "]";
    const out: Record<string, unknown> | unknown[] = isMap ? {} : [];
    const lines = depth <= 2 && this.lines ? new Map<PathSegment, number>() : undefined;
    if (lines) this.lines!.set(out, lines);
    this.pos = at + 1;
    this.spaces();
    if (line[this.pos] === close) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (isMap) {
        const start = this.pos;
        if (!KEY_START.test(line[start] ?? "")) throw GIVE_UP;
        let end = start + 1;
        while (end < line.length && isKeyChar(line.charCodeAt(end))) end++;
        if (line[end] !== ":" || line[end + 1] !== " ") throw GIVE_UP;
        const key = line.slice(start, end);
        const map = out as Record<string, unknown>;
        if (key.length > LIMITS.maxKeyChars || NOT_A_STRING_KEY.has(key) || Object.prototype.hasOwnProperty.call(map, key)) throw GIVE_UP;
        this.pos = end + 1;
        this.spaces();
        map[key] = this.item(depth);
        lines?.set(key, this.lineNo);
      } else {
        lines?.set((out as unknown[]).length, this.lineNo);
        (out as unknown[]).push(this.item(depth));
      }
      this.spaces();
      const c = line[this.pos];
      if (c === close) {
        this.pos++;
        return out;
      }
      if (c !== ",") throw GIVE_UP;
      this.pos++;
      this.spaces();
      if (line[this.pos] === close || line[this.pos] === ",") throw GIVE_UP; // a trailing or empty entry
    }
  }

  private spaces(): void {
    while (this.line.charCodeAt(this.pos) === SPACE) this.pos++;
  }

  private item(depth: number): unknown {
    const line = this.line;
    const c = line[this.pos];
    if (c === undefined) throw GIVE_UP;
    let value: unknown;
    if (c === "[" || c === "{") {
      value = this.collection(this.pos, depth + 1);
    } else if (c === '"') {
      [value, this.pos] = doubleQuoted(line, this.pos);
    } else if (c === "'") {
      [value, this.pos] = singleQuoted(line, this.pos);
    } else {
      checkPlainStart(line, this.pos);
      let end = this.pos;
      while (end < line.length) {
        const ch = line[end]!;
        if (ch === "," || ch === "[" || ch === "]" || ch === "{" || ch === "}") break;
        // `: ` or `:` before an indicator would make this a key; ` #` a comment inside the collection.
        if (ch === ":" && (end + 1 >= line.length || " ,[]{}".includes(line[end + 1]!))) throw GIVE_UP;
        if (ch === "#" && line[end - 1] === " ") throw GIVE_UP;
        end++;
      }
      let trim = end;
      while (trim > this.pos && line.charCodeAt(trim - 1) === SPACE) trim--;
      value = plainValue(line.slice(this.pos, trim));
      this.pos = end;
      return value;
    }
    // A quoted scalar or collection followed by `:` is a key: leave it to the yaml package.
    let i = this.pos;
    while (line.charCodeAt(i) === SPACE) i++;
    if (line[i] === ":") throw GIVE_UP;
    return value;
  }
}
