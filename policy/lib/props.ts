/**
 * Reading resource properties as the policy server hands them over: plain JSON wrapped in a proxy
 * that throws `UnknownValueError` when a value is not known yet (during `pulumi preview`).
 *
 * Resource policies let that error through on the field they judge, so the server reports the
 * standard advisory "can't run policy during preview". Stack policies look across many resources
 * and use `known()` for the fields they only link resources by, so one unknown bucket name does
 * not stop the check of every other bucket.
 */

export type Props = Record<string, unknown>;

/** Marker for "not known during preview". */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/** True for the error @pulumi/policy throws when a policy reads an unknown value. */
export function isUnknownValueError(error: unknown): boolean {
  return error instanceof Error && (error.constructor?.name === "UnknownValueError" || /can't be known during preview/.test(error.message));
}

/** Runs an accessor; an unknown value gives `UNKNOWN` instead of an exception. */
export function known<T>(read: () => T): T | Unknown {
  try {
    return read();
  } catch (error) {
    if (isUnknownValueError(error)) return UNKNOWN;
    throw error;
  }
}

export function isObject(value: unknown): value is Props {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): Props {
  return isObject(value) ? value : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** `obj.a.b.c` without throwing on missing levels (unknown values still throw). */
export function path(value: unknown, ...keys: string[]): unknown {
  let at: unknown = value;
  for (const key of keys) {
    if (!isObject(at)) return undefined;
    at = at[key];
  }
  return at;
}

/** A string map (labels, annotations, tags); non-string values are dropped. */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v === "string") out[key] = v;
  }
  return out;
}

/** Quotes a name for a message. */
export function q(value: unknown): string {
  return JSON.stringify(typeof value === "string" ? value : String(value));
}

/** "a, b and c" */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
