import type { RegistryKey } from "../schema";
import { offsetOf, problemAt, type ParsedFile } from "./parse";
import { formatPath, type PathSegment, type Problem } from "./problems";
import { sourcePath } from "./resolve";

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
    // A section such as `stack:` is written on its key's line, not its first field's.
    const offset = file.doc ? offsetOf(file.doc, path, true) : undefined;
    const line = offset === undefined ? 1 : file.lineCounter.linePos(offset).line;
    return `${file.display}:${line}`;
  }
}
