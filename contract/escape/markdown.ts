/**
 * Free text on its way into GitHub-flavoured Markdown: the audit report, the pull-request comment
 * and the drift issue. Pure functions, no imports.
 *
 * The report must show every section whatever an exception's reason says. What could hide the
 * rest: raw HTML (`<!--` opens a comment that runs to the end of the comment, `<details>` folds),
 * a line break (a table row ends, and the next line may open an HTML block, a heading or a code
 * fence), a `|` (a new table cell), and a backtick run (a code span swallowing the cell). So:
 * `&`, `<`, `>` become entities; every line break (CR and CRLF included, and NEL, LS, PS, which
 * other renderers break at) becomes `<br>` in a cell or a space in running text; Markdown's
 * inline punctuation is backslash-escaped; other control characters are shown as `\uXXXX`.
 */

const LINE_BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/g;
// eslint-disable-next-line no-control-regex -- control characters are what this replaces
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufeff]/g;
const hex = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
const ENTITY: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** Backslash, then the punctuation that starts emphasis, links, images, strikethrough, code spans and table cells. */
const INLINE = /[\\`*_[\]~|]/g;

function escapeInline(text: string, lineBreak: string): string {
  return text
    .replace(INLINE, "\\$&")
    .replace(/[&<>]/g, (c) => ENTITY[c]!)
    .replace(LINE_BREAK, lineBreak)
    .replace(CONTROL, (c) => `\\${hex(c)}`);
}

/**
 * Text in a paragraph, list item or heading: shown as written, on one line. A leading `#`, `-`,
 * `+`, `=` or `1.` would open a block when the text starts a line, so it is escaped too (a `>`
 * is an entity already, which opens nothing).
 */
export function mdText(value: string): string {
  return escapeInline(value, " ").replace(/^(\s*)([#+=-]|\d+[.)])/, (_m, space: string, mark: string) => `${space}${mark.replace(/^(\d*)(.)$/, "$1\\$2")}`);
}

/** Text in a table cell: as mdText, but line breaks are kept as `<br>`; an empty value shows as "—". */
export function mdCell(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  return escapeInline(value, "<br>");
}

/**
 * Inline code: Markdown expands nothing inside a code span (no entity, no escape), so the text
 * is fenced by a backtick run longer than any inside it, padded with a space when it starts or
 * ends with a backtick, and line breaks and controls, which a code span cannot hold, become a
 * space and `\uXXXX`. `table: true` for a table cell, where GFM splits cells at `|` even inside
 * code and `\|` is the way to keep it.
 */
export function mdCode(value: string | null | undefined, options: { table?: boolean } = {}): string {
  if (value === null || value === undefined || value === "") return "—";
  let text = value.replace(LINE_BREAK, " ").replace(CONTROL, hex);
  if (options.table) text = text.replace(/\|/g, "\\|");
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") || (/^ .* $/.test(text) && text.trim() !== "") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A link: the text as mdText, the address only when it is http(s), with the characters that would end it percent-encoded. */
export function mdLink(text: string, url: string): string {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) return mdText(text);
  const target = url.replace(/[()<>\\"'`[\]|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  return `[${mdText(text)}](${target})`;
}

/** Text inside an HTML comment `<!-- ... -->`: `--`, `>` and line breaks, which could end it early, are left out. */
export function mdCommentText(value: string): string {
  return value.replace(LINE_BREAK, " ").replace(CONTROL, "").replace(/-{2,}/g, "-").replace(/[<>]/g, "");
}

/** Text inside an HTML element of the Markdown (a `<summary>`), where Markdown escapes are not read: entities only, on one line. */
export function htmlText(value: string): string {
  return value
    .replace(/[&<>"]/g, (c) => (c === '"' ? "&quot;" : ENTITY[c]!))
    .replace(LINE_BREAK, " ")
    .replace(CONTROL, hex);
}
