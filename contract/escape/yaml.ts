/**
 * Free text on its way into a YAML file: comments and scalars. Pure functions, no imports, so
 * every layer that writes YAML (the Prometheus rule files, the generated workflows) escapes alike.
 *
 * The `yaml` package breaks lines at LF and CR only, but libyaml, PyYAML, go-yaml and YamlDotNet
 * (GitHub Actions) also break at NEL U+0085, LS U+2028 and PS U+2029. A description holding one of
 * them, written raw into a comment or a plain scalar, ends the comment or the scalar for those
 * parsers and the rest of the line becomes YAML of its own, e.g. a new key. Nothing here leaves
 * such a character, any other C0/C1 control, a BOM or a noncharacter raw in the output.
 */

/**
 * Characters never left raw in YAML we write: C0 controls but TAB and LF, CR, DEL, C1 controls
 * (NEL among them), LS, PS, BOM, U+FFFE, U+FFFF and lone surrogates. TAB and LF are left to the
 * YAML writer, which escapes them where a scalar's style needs it.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this finds
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");

/** Every character that ends a line for some YAML 1.1 or 1.2 parser, and the other unsafe ones. */
const BREAKING_ALL = new RegExp(`\\n|${UNSAFE.source}`, "g");

/** `\uXXXX`: valid in a double-quoted scalar for YAML 1.1 and 1.2 (and JSON), and readable in a comment. */
const hex = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const escapeChar = (c: string) => SHORT[c] ?? hex(c);

/** Whether the text holds a character a YAML writer must not leave raw (see UNSAFE). */
export function hasYamlUnsafe(text: string): boolean {
  return UNSAFE.test(text);
}

/**
 * Free text for one comment line: every line break (LF, CR, NEL, LS, PS) and other unsafe
 * character becomes a visible escape (`\n`, `\r`, `\u0085`, ...), so the text cannot end the
 * comment. TAB stays: it ends nothing.
 */
export function yamlComment(text: string): string {
  return text.replace(BREAKING_ALL, escapeChar);
}

/**
 * The unsafe characters left raw in a YAML text the `yaml` package wrote, as `\uXXXX`. Correct
 * only where each of them sits inside a double-quoted scalar or a comment: force the double-quoted
 * style on every string scalar `hasYamlUnsafe` finds before writing (the package itself quotes C0
 * and C1 controls, but not LS, PS or a BOM), and write comments through `yamlComment`.
 */
export function escapeYamlUnsafe(yamlText: string): string {
  return yamlText.replace(UNSAFE_ALL, hex);
}

/** A double-quoted scalar: `"` and `\` escaped, and every control, line break or unsafe character as an escape. */
export function yamlDoubleQuoted(value: string): string {
  return `"${value
    .replace(/["\\]/g, "\\$&")
    .replace(/[\t\n]/g, escapeChar)
    .replace(UNSAFE_ALL, escapeChar)}"`;
}

/** Words YAML 1.1 (PyYAML, go-yaml v2) reads as booleans or null when plain: `yes`, `off`, `~`, `y`... */
const YAML11_WORDS = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/;

/**
 * A string scalar for a mapping value or sequence item: plain when it is a word or words that
 * every parser reads back as that same string, double-quoted otherwise.
 */
export function yamlScalar(value: string): string {
  const plain = /^[A-Za-z][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+-]+)*$/.test(value) && !YAML11_WORDS.test(value);
  return plain ? value : yamlDoubleQuoted(value);
}
