/**
 * Free text the registries may not hold, refused where it is written. Registry text reaches
 * generated files (workflows, Prometheus rules, the audit report), whose writers escape it
 * (contract/escape/); refusing it here as well names the line to fix instead of shipping a
 * workflow comment with `\u2028` in it.
 *
 * - Control characters other than TAB and LF, and the line separators NEL U+0085, LS U+2028 and
 *   PS U+2029: libyaml, PyYAML, go-yaml and GitHub's own parser break lines at them (the `yaml`
 *   package does not), so a description holding one splits a comment or a scalar in two.
 *   A BOM, U+FFFE, U+FFFF and lone surrogates are refused with them.
 * - `${{` anywhere in the pipelines registry: GitHub Actions evaluates it as an expression in the
 *   workflow values the text reaches (a reviewer name is in a job name).
 */
import type { RegistryKey } from "../schema";
import type { Registries } from "./checks";
import type { PathSegment } from "./problems";

/** What the check reports to; the loader's Locator is one. */
export interface FreeTextReporter {
  report(key: RegistryKey, path: readonly PathSegment[], message: string, code: string, atKey?: boolean): void;
}

// The same set as contract/escape/yaml.ts, which this layer cannot import.
// eslint-disable-next-line no-control-regex -- control characters are what this finds
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const NAMES: Readonly<Record<number, string>> = {
  0x0d: "CARRIAGE RETURN",
  0x85: "NEXT LINE",
  0x2028: "LINE SEPARATOR",
  0x2029: "PARAGRAPH SEPARATOR",
  0xfeff: "BYTE ORDER MARK",
};

const LINE_BREAKS = new Set([0x0d, 0x85, 0x2028, 0x2029]);

/** Why a piece of registry text is refused, or undefined when it is not. */
export function freeTextProblem(text: string, workflowText: boolean): { message: string; code: string } | undefined {
  const bad = UNSAFE.exec(text);
  if (bad) {
    const point = bad[0].charCodeAt(0);
    const at = `U+${point.toString(16).toUpperCase().padStart(4, "0")}`;
    const what = NAMES[point] ? `${at} ${NAMES[point]}` : `the character ${at}`;
    const why = LINE_BREAKS.has(point)
      ? "which YAML parsers other than the `yaml` package read as a line break"
      : "which generated files cannot show as written";
    return {
      message: `holds ${what} at character ${bad.index + 1}, ${why}: remove it (a space or a new line instead)`,
      code: "free-text",
    };
  }
  if (workflowText) {
    const at = text.indexOf("${{");
    if (at >= 0) {
      return {
        message: `holds "\${{" at character ${at + 1}: GitHub Actions would evaluate it as an expression in the generated workflows; remove it`,
        code: "actions-expression",
      };
    }
  }
  return undefined;
}

/** Reports every string (values and mapping keys) of the registries that freeTextProblem refuses. */
export function checkFreeText(r: Registries, at: FreeTextReporter): void {
  for (const key of Object.keys(r) as RegistryKey[]) walk(r[key], [], key, key === "pipelines", at);
}

function walk(value: unknown, path: PathSegment[], key: RegistryKey, workflowText: boolean, at: FreeTextReporter): void {
  if (typeof value === "string") {
    const problem = freeTextProblem(value, workflowText);
    if (problem) at.report(key, path, problem.message, problem.code);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, [...path, i], key, workflowText, at));
    return;
  }
  if (value && typeof value === "object") {
    for (const [name, item] of Object.entries(value)) {
      const problem = freeTextProblem(name, workflowText);
      if (problem) at.report(key, [...path, name], `its key ${problem.message}`, problem.code, true);
      walk(item, [...path, name], key, workflowText, at);
    }
  }
}
