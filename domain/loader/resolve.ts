import type { ImageRegistry } from "../schema";
import type { PathSegment } from "./problems";

type Plain = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Deep merge where the override wins, mappings merge key by key and arrays are replaced whole.
 * An override of `null` removes the key, so an environment can drop e.g. autoscaling.
 */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = key in base ? deepMerge(base[key], value) : value;
  }
  return out;
}

/**
 * Resolves every `environments` block of a registry document for one environment: each object
 * that carries one becomes itself merged with the chosen override, and loses the block.
 */
export function resolveEnvironment(value: unknown, env: string): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveEnvironment(item, env));
  if (!isPlainObject(value)) return value;
  let current: Plain = value;
  // Only a mapping is an override block; a list named `environments` is ordinary data.
  if (isPlainObject(value.environments)) {
    const { environments, ...rest } = value as { environments: Plain };
    const override = environments[env];
    current = isPlainObject(override) ? (deepMerge(rest, override) as Plain) : rest;
  }
  const out: Plain = {};
  for (const [key, child] of Object.entries(current)) out[key] = resolveEnvironment(child, env);
  return out;
}

/**
 * The image registries allowed in one environment, in their order: every plain entry, and each
 * entry scoped to environments only where it names this one.
 */
export function registriesIn(entries: readonly ImageRegistry[], env: string): string[] {
  return entries.flatMap((e) => (typeof e === "string" ? [e] : e.environments.includes(env) ? [e.registry] : []));
}

interface Cursor {
  value: unknown;
  source: PathSegment[];
  fromOverride: boolean;
}

/**
 * Maps a path in a resolved document back to where its value is written in the file: inside the
 * environment override when the override set it, else in the entry itself. Used only to locate
 * problems, so it walks lazily instead of recording the origin of every value.
 */
export function sourcePath(data: unknown, path: readonly PathSegment[], env: string | undefined): PathSegment[] {
  let cursors: Cursor[] = [{ value: data, source: [], fromOverride: false }];
  let best: Cursor = cursors[0]!;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const next: Cursor[] = [];
    for (const cursor of cursors) {
      const value = cursor.value;
      if (env !== undefined && isPlainObject(value) && isPlainObject(value.environments)) {
        const override = value.environments[env];
        if (isPlainObject(override) && segment in override) {
          next.push({ value: override[segment], source: [...cursor.source, "environments", env, segment], fromOverride: true });
        }
      }
      if (Array.isArray(value) && typeof segment === "number" && segment < value.length) {
        next.push({ value: value[segment], source: [...cursor.source, segment], fromOverride: cursor.fromOverride });
      } else if (isPlainObject(value) && String(segment) in value) {
        next.push({ value: value[String(segment)], source: [...cursor.source, segment], fromOverride: cursor.fromOverride });
      }
    }
    if (next.length === 0) break;
    // An override replaces what it sets, so its path wins over the entry's own.
    cursors = next.some((c) => c.fromOverride) ? next.filter((c) => c.fromOverride) : next;
    best = cursors[0]!;
  }
  return best.source;
}
