/**
 * Values on their way into a shell line (a workflow's `run:` script). Pure functions, no imports.
 *
 * Inside single quotes the shell expands nothing: `$`, backquotes, `"`, `\`, `;`, `#` and line
 * breaks are all literal, and only `'` itself needs care. A value written bare or inside double
 * quotes could run commands (`$(...)`), split into more words, or end a comment line with a newline.
 * Actions expands `${{` before the shell runs: pass text through actionsLiteral as well.
 */

/** Characters that are one literal word wherever a shell meets them. */
const WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `'value'`, each `'` written as `'\''`: one word whatever the value holds. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A value as one shell word: bare when it is one already (a registry name, a path), single-quoted otherwise. */
export function shellWord(value: string): string {
  return WORD.test(value) ? value : shellQuote(value);
}

/**
 * A value written between double quotes the caller writes around it (`"stack NAME: ..."`): bare
 * when nothing in it is special there, else the double quotes are closed, the value single-quoted
 * and the double quotes reopened (`"stack "'a$b'": ..."`), which the shell joins into one word.
 */
export function shellInDoubleQuotes(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./ -]*$/.test(value) ? value : `"${shellQuote(value)}"`;
}

/** Text for a `#` comment line: a line break would end the comment and run the rest, so each one is shown escaped. */
export function shellComment(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this replaces
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === "\t" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}
