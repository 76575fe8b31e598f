import type { RegistryKey } from "../schema";
import { offsetOf, problemAt, type ParsedFile } from "./parse";
import { formatPath, type PathSegment, type Problem } from "./problems";
import { sourcePath } from "./resolve";

/** Thrown when a file read on the fast path does not know a line asked for: the loader parses again with positions. */
export class NeedPositions extends Error {
  constructor() {
    super("this file was read without positions");
    this.name = "NeedPositions";
  }
}

/** The line the fast path recorded for the key or item at `path` (as offsetOf with atKey would find it). */
function fastLine(file: ParsedFile, path: readonly PathSegment[]): number {
  let node: unknown = file.data;
  for (let i = 0; i < path.length - 1; i++) node = node && typeof node === "object" ? (node as Record<PathSegment, unknown>)[path[i]!] : undefined;
  const line = node && typeof node === "object" && path.length > 0 ? file.lines!.get(node)?.get(path[path.length - 1]!) : undefined;
  if (line === undefined) throw new NeedPositions();
  return line;
}

/** Turns a path in a resolved registry into a located problem in the file it came from. */
export class Locator {
  constructor(
    private readonly files: Readonly<Record<RegistryKey, ParsedFile>>,
    private readonly env: string | undefined,
    private readonly problems: Problem[],
  ) {}

  report(key: RegistryKey, path: readonly PathSegment[], message: string, code: string, atKey = false): void {
    this.problems.push(this.problem(key, path, message, code, atKey));
  }

  problem(key: RegistryKey, path: readonly PathSegment[], message: string, code: string, atKey = false): Problem {
    const file = this.files[key];
    const source = sourcePath(file.data, path, this.env);
    const offset = file.doc ? offsetOf(file.doc, source, atKey) : undefined;
    return problemAt(file, offset, formatPath(source), message, code);
  }

  /** "registries/orchestration.yaml:12" for the entry at `path`. */
  source(key: RegistryKey, path: readonly PathSegment[]): string {
    const file = this.files[key];
    if (!file.doc && file.lines) return `${file.display}:${fastLine(file, path)}`;
    // A section such as `stack:` is written on its key's line, not its first field's.
    const offset = file.doc ? offsetOf(file.doc, path, true) : undefined;
    const line = offset === undefined ? 1 : file.lineCounter.linePos(offset).line;
    return `${file.display}:${line}`;
  }
}
