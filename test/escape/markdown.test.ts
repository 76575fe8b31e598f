/**
 * contract/escape/markdown.ts, input → output, with the text that would hide the rest of a report:
 * an HTML comment, a line break ending a table row, a pipe adding a cell, a backtick run.
 */
import { describe, expect, it } from "vitest";
import { htmlText, mdCell, mdCode, mdCommentText, mdLink, mdText } from "../../contract/escape/markdown";
import { escapeTable, rowTests } from "../support/table";

describe("mdCell", () => {
  rowTests(
    mdCell,
    [
      ["plain text", "plain text"],
      ["a|b", "a\\|b"],
      ["back\\slash", "back\\\\slash"],
      ["LF\nCRLF\r\nCR\rNEL\u0085LS\u2028PS\u2029end", "LF<br>CRLF<br>CR<br>NEL<br>LS<br>PS<br>end"],
      ["<!-- hide the rest", "&lt;!-- hide the rest"],
      ["</details><details>", "&lt;/details&gt;&lt;details&gt;"],
      ["a & b", "a &amp; b"],
      ["`code` *bold* _em_ ~~del~~ [link](x)", "\\`code\\` \\*bold\\* \\_em\\_ \\~\\~del\\~\\~ \\[link\\](x)"],
      ["ctrl\u0001\u001b\u007f\u009b", "ctrl\\\\u0001\\\\u001b\\\\u007f\\\\u009b"],
      ["BOM\ufeff", "BOM\\\\ufeff"],
      ["", "—"],
    ],
    // Whatever the input, no line break, HTML tag or unescaped pipe is left to end the row or add a cell.
    { check: (output) => expect(output.replace(/<br>/g, "")).not.toMatch(/[\n\r\u0085\u2028\u2029<>]|(?<!\\)\|/) },
  );

  it("shows null and undefined as a dash", () => {
    expect([mdCell(null), mdCell(undefined)]).toEqual(["—", "—"]);
  });
});

escapeTable("mdText", mdText, [
  ["plain text", "plain text"],
  ["two\nlines\r\nand\u2028more", "two lines and more"],
  ["<!-- x -->", "&lt;!-- x --&gt;"],
  ["# heading", "\\# heading"],
  ["> quote", "&gt; quote"],
  ["- item", "\\- item"],
  ["1. item", "1\\. item"],
  ["mid # not a heading", "mid # not a heading"],
  ["a|b", "a\\|b"],
]);

escapeTable("mdCode", mdCode, [
  ["prod", {}, "`prod`"],
  ["a`b", {}, "``a`b``"],
  ["``x", {}, "``` ``x ```"],
  ["x`", {}, "`` x` ``"],
  [" padded ", {}, "`  padded  `"],
  ["<!-- stays literal in code -->", {}, "`<!-- stays literal in code -->`"],
  ["line\nbreak\r\nCR\rNEL\u0085", {}, "`line break CR NEL `"],
  ["a|b", {}, "`a|b`"],
  ["a|b", { table: true }, "`a\\|b`"],
  ["ctrl\u0001", {}, "`ctrl\\u0001`"],
  ["", {}, "—"],
]);

escapeTable("mdLink", mdLink, [
  ["run", "https://github.com/o/r/actions/runs/1", "[run](https://github.com/o/r/actions/runs/1)"],
  ["run", "https://x/a)b(c<d>", "[run](https://x/a%29b%28c%3Cd%3E)"],
  ["run", "javascript:alert(1)", "run"],
  ["run", "https://x/a b", "run"],
  ["[x](y)", "https://x/", "[\\[x\\](y)](https://x/)"],
]);

describe("mdCommentText and htmlText", () => {
  rowTests(
    mdCommentText,
    [
      ["dev", "dev"],
      ["a-->b", "a-b"],
      ["a--!>b", "a-!b"],
      ["a\nb", "a b"],
      ["<x>", "x"],
    ],
    // The comment closes where the renderer closes it, not earlier.
    { title: "comment %j → %j", check: (output) => expect(`<!-- ${output} -->`.indexOf("-->")).toBe(`<!-- ${output} `.length) },
  );

  rowTests(
    htmlText,
    [
      ["dev", "dev"],
      ['</summary><!-- "x" & y', "&lt;/summary&gt;&lt;!-- &quot;x&quot; &amp; y"],
      ["a\r\nb", "a b"],
    ],
    { title: "html %j → %j" },
  );
});
