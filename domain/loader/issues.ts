import type { z } from "zod";
import type { PathSegment } from "./problems";

export interface SchemaFinding {
  path: PathSegment[];
  /** Locate at the mapping key rather than its value (unknown fields). */
  atKey: boolean;
  message: string;
  code: string;
}

type AnySchema = z.core.$ZodType;

function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  for (let i = 0; i < 10 && current; i++) {
    const def = current._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else break;
  }
  return current;
}

/** The keys an object schema allows at `path`, for "did you mean" hints on unknown fields. */
function knownKeys(schema: AnySchema, path: readonly PathSegment[], data: unknown): string[] {
  let current = unwrap(schema);
  let value = data;
  for (const segment of path) {
    if (!current) return [];
    const def = current._zod.def as {
      type: string;
      shape?: Record<string, AnySchema>;
      element?: AnySchema;
      valueType?: AnySchema;
      options?: AnySchema[];
    };
    value = value && typeof value === "object" ? (value as Record<string, unknown>)[segment as string] : undefined;
    if (def.type === "object" && def.shape) current = unwrap(def.shape[String(segment)]);
    else if (def.type === "array" && def.element) current = unwrap(def.element);
    else if (def.type === "record" && def.valueType) current = unwrap(def.valueType);
    else return [];
    current = pickOption(current, value);
  }
  current = pickOption(current, value);
  const def = current?._zod.def as { type: string; shape?: Record<string, AnySchema> } | undefined;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/**
 * For a discriminated union, the option whose `type` matches the data; for a union of a plain
 * value and a mapping, the mapping's option when the data is a mapping.
 */
function pickOption(schema: AnySchema | undefined, value: unknown): AnySchema | undefined {
  const def = schema?._zod.def as { type: string; options?: AnySchema[] } | undefined;
  if (def?.type !== "union" || !def.options) return schema;
  const mapping = value !== null && typeof value === "object" && !Array.isArray(value);
  const type = mapping ? (value as Record<string, unknown>).type : undefined;
  for (const option of def.options) {
    const shape = (unwrap(option)?._zod.def as { shape?: Record<string, AnySchema> }).shape;
    const literal = shape?.type?._zod.def as { values?: unknown[] } | undefined;
    if (literal?.values?.includes(type)) return unwrap(option);
  }
  const object = mapping ? def.options.map(unwrap).find((o) => o?._zod.def.type === "object") : undefined;
  return object ?? unwrap(def.options[0]);
}

/** Edit distance where swapping two neighbouring letters ("tpc" for "tcp") counts as one edit. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const within = Math.max(1, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  for (const c of candidates) {
    // The distance is at least the difference in length: skipping hopeless candidates keeps a
    // megabyte-long value from costing seconds and gigabytes of edit-distance table.
    const other = c.toLowerCase();
    if (Math.abs(lower.length - other.length) > within) continue;
    const d = distance(lower, other);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  // One edit in a short word, a third of the word in a longer one: "web" does not suggest "db".
  return best !== undefined && bestDistance <= within ? best : undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[segment as string];
  }
  return value;
}

const EXPECTED: Record<string, string> = {
  string: "text",
  number: "a number",
  boolean: "true or false",
  object: "a mapping (key: value lines)",
  array: "a list (lines starting with '- ')",
  record: "a mapping (key: value lines)",
};

/**
 * The issues of the one option of a plain union (one that reports each option's errors) whose
 * type the value has, where every other option failed at its root with a wrong type; null when
 * no option has the value's type, undefined when several do.
 */
function unionBranch(errors: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | null | undefined {
  const wrongType = (e: readonly z.core.$ZodIssue[]) => e.length === 1 && e[0]!.code === "invalid_type" && e[0]!.path.length === 0;
  const fitting = errors.filter((e) => !wrongType(e));
  return fitting.length === 1 ? fitting[0] : fitting.length === 0 ? null : undefined;
}

/** Turns zod issues into messages that say what is wrong and how to fix it. */
export function describeIssues(schema: AnySchema, issues: readonly z.core.$ZodIssue[], data: unknown): SchemaFinding[] {
  const out: SchemaFinding[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const field = path.length > 0 ? String(path[path.length - 1]) : "";
    switch (issue.code) {
      case "unrecognized_keys": {
        const keys = knownKeys(schema, path, data);
        for (const key of issue.keys) {
          const guess = suggest(key, keys);
          out.push({
            path: [...path, key],
            atKey: true,
            message: guess ? `unknown field "${key}": did you mean "${guess}"?` : `unknown field "${key}": remove it (allowed here: ${keys.join(", ")})`,
            code: "unknown-field",
          });
        }
        break;
      }
      case "invalid_type": {
        const got = valueAt(data, path);
        if (got === undefined) {
          out.push({ path, atKey: false, message: `required field "${field}" is missing: add it`, code: "missing-field" });
        } else {
          const expected = EXPECTED[issue.expected] ?? issue.expected;
          out.push({
            path,
            atKey: false,
            message: `expected ${expected}, got ${describe(got)}`,
            code: "wrong-type",
          });
        }
        break;
      }
      case "invalid_value": {
        const got = valueAt(data, path);
        const allowed = issue.values.map((v) => JSON.stringify(v)).join(", ");
        const guess = typeof got === "string" ? suggest(got, issue.values.map(String)) : undefined;
        if (got === undefined) {
          const value = issue.values.length === 1 ? String(issue.values[0]) : `one of ${allowed}`;
          out.push({ path, atKey: false, message: `required field "${field}" is missing: add ${field}: ${value}`, code: "missing-field" });
          break;
        }
        out.push({
          path,
          atKey: false,
          message:
            issue.values.length === 1
              ? `must be ${allowed}, got ${describe(got)}`
              : `${describe(got)} is not allowed: use one of ${allowed}${guess ? ` (did you mean "${guess}"?)` : ""}`,
          code: "invalid-value",
        });
        break;
      }
      case "invalid_union": {
        // A union of shapes (a plain string or a mapping): the errors of the one shape the value has.
        const errors = (issue as { errors?: z.core.$ZodIssue[][] }).errors;
        const branch = errors && unionBranch(errors);
        if (branch) {
          out.push(...describeIssues(schema, branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] })) as z.core.$ZodIssue[], data));
          break;
        }
        if (errors && branch === null) {
          const expected = errors.map((e) => (e[0] as { expected: string }).expected).map((t) => EXPECTED[t] ?? t);
          out.push({ path, atKey: false, message: `expected ${expected.join(" or ")}, got ${describe(valueAt(data, path))}`, code: "wrong-type" });
          break;
        }
        // A discriminated union reports the discriminator's path and its allowed values.
        const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
        const got = valueAt(data, path);
        const guess = typeof got === "string" ? suggest(got, options) : undefined;
        out.push({
          path,
          atKey: false,
          message:
            got === undefined
              ? `required field "${field}" is missing: add one of ${options.join(", ")}`
              : `${describe(got)} is not allowed: use one of ${options.join(", ")}${guess ? ` (did you mean "${guess}"?)` : ""}`,
          code: got === undefined ? "missing-field" : "invalid-value",
        });
        break;
      }
      case "too_small":
      case "too_big": {
        const small = issue.code === "too_small";
        const bound = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
        const inclusive = issue.inclusive !== false;
        const kind = issue.origin;
        let message: string;
        if (kind === "array") message = `must have ${small ? "at least" : "at most"} ${bound} item(s)`;
        else if (kind === "string") message = `must be ${small ? "at least" : "at most"} ${bound} character(s) long`;
        else
          message = `must be ${small ? (inclusive ? "at least" : "more than") : inclusive ? "at most" : "less than"} ${bound}, got ${describe(valueAt(data, path))}`;
        out.push({ path, atKey: false, message, code: small ? "too-small" : "too-big" });
        break;
      }
      case "custom": {
        const code = (issue.params as { code?: string } | undefined)?.code ?? "invalid-value";
        out.push({ path, atKey: false, message: issue.message, code });
        break;
      }
      default: {
        const message = issue.message.startsWith("Invalid") ? `${issue.message}: fix the value` : issue.message;
        out.push({ path, atKey: false, message, code: "invalid-value" });
      }
    }
  }
  return out;
}
