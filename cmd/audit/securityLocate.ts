/**
 * Where a value of the registries is written, for the security changes: FILE:LINE in the file
 * and the environment override it comes from, as the loader locates its problems. The diff
 * names list entries by their fields (securityDiff.ts Segment); they are found in the registry
 * resolved for the environment, then located through the override that set them, if any.
 */
import * as path from "node:path";
import { Locator } from "../../domain/loader/locator";
import { parseRegistryFile, type ParsedFile } from "../../domain/loader/parse";
import type { PathSegment, Problem } from "../../domain/loader/problems";
import { isPlainObject, resolveEnvironment } from "../../domain/loader/resolve";
import { REGISTRY_FILES, type RegistryKey } from "../../domain/schema";
import type { Locate, Segment } from "./securityDiff";

const KEYS = Object.keys(REGISTRY_FILES) as RegistryKey[];

/** A Locate over the registry files in `registriesDir`, resolved for `env`. */
export function registryLocator(registriesDir: string, env: string): Locate {
  const folder = path.basename(path.resolve(registriesDir));
  // The files already loaded once; problems reading them again would have stopped the audit.
  const ignored: Problem[] = [];
  const files = {} as Record<RegistryKey, ParsedFile>;
  for (const key of KEYS) {
    const { file } = REGISTRY_FILES[key];
    files[key] = parseRegistryFile(path.join(registriesDir, file), `${folder}/${file}`, ignored);
  }
  const locator = new Locator(files, env, ignored);
  const resolved = new Map<RegistryKey, unknown>();
  return (key, segments) => {
    if (!resolved.has(key)) resolved.set(key, resolveEnvironment(files[key].data, env));
    // A value that is not written (a default, a removed entry) is located at its nearest written parent;
    // every value at its key, so that a list or mapping is found at its name rather than its first item.
    const p = locator.problem(key, indexed(resolved.get(key), segments), "", "", true);
    return `${p.file}:${p.line}`;
  };
}

/** The path with each field-matching segment replaced by its index, as far as it is found. */
function indexed(data: unknown, segments: readonly Segment[]): PathSegment[] {
  const found: PathSegment[] = [];
  let at: unknown = data;
  for (const s of segments) {
    if (typeof s === "object") {
      const fields = Object.entries(s);
      // A plain-string element is the short form of an entry of one field (securityDiff.ts Segment).
      const picks = (item: unknown) => (isPlainObject(item) ? fields.every(([k, v]) => item[k] === v) : fields.length === 1 && item === fields[0]![1]);
      const i = Array.isArray(at) ? at.findIndex(picks) : -1;
      if (i < 0) return found;
      found.push(i);
      at = (at as unknown[])[i];
    } else if (Array.isArray(at) && typeof s === "number" && s < at.length) {
      found.push(s);
      at = at[s];
    } else if (isPlainObject(at) && String(s) in at) {
      found.push(s);
      at = at[String(s)];
    } else {
      return found;
    }
  }
  return found;
}
