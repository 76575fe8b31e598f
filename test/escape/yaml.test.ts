/**
 * contract/escape/yaml.ts, input → output, with the characters other YAML parsers break lines at.
 * Each double-quoted result is read back by the `yaml` package and must give the input again.
 */
import { describe, expect, it } from "vitest";
import { Document, parse, visit } from "yaml";
import { escapeYamlUnsafe, hasYamlUnsafe, yamlComment, yamlDoubleQuoted, yamlScalar } from "../../contract/escape/yaml";
import { rowTests } from "../support/table";

/** Characters libyaml, PyYAML, go-yaml or YamlDotNet read as a line break, or that we never leave raw. */
// eslint-disable-next-line no-control-regex -- control characters are what this finds
const RAW = /[\r\u0085\u2028\u2029\ufeff\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("yamlComment", () => {
  rowTests(
    yamlComment,
    [
      ["plain text", "plain text"],
      ["tab\tstays", "tab\tstays"],
      ["LF\nkey: 1", "LF\\nkey: 1"],
      ["CR\rkey: 1", "CR\\rkey: 1"],
      ["CRLF\r\nkey: 1", "CRLF\\r\\nkey: 1"],
      ["NEL\u0085key: 1", "NEL\\u0085key: 1"],
      ["LS\u2028key: 1", "LS\\u2028key: 1"],
      ["PS\u2029key: 1", "PS\\u2029key: 1"],
      ["BOM\ufeff", "BOM\\ufeff"],
      ["NUL\u0000 ESC\u001b DEL\u007f C1\u009b", "NUL\\u0000 ESC\\u001b DEL\\u007f C1\\u009b"],
      ["nonchar\ufffe\uffff", "nonchar\\ufffe\\uffff"],
      ["lone \ud800 surrogate", "lone \\ud800 surrogate"],
      ["pair 😀 stays", "pair 😀 stays"],
      ["${{ secrets.X }} # not evaluated in a comment", "${{ secrets.X }} # not evaluated in a comment"],
    ],
    {
      check: (output) => {
        expect(output).not.toMatch(RAW);
        expect(output).not.toContain("\n");
      },
    },
  );

  it("keeps a hostile description on its comment line for the `yaml` package", () => {
    const doc = new Document({ name: "x" });
    doc.commentBefore = ` ${yamlComment("Merge\u0085jobs: {evil: 1}\u2028on: push\nx: 1")}`;
    expect(parse(doc.toString())).toEqual({ name: "x" });
  });
});

describe("yamlDoubleQuoted", () => {
  rowTests(
    yamlDoubleQuoted,
    [
      ["", '""'],
      ["plain", '"plain"'],
      ['quote " and \\ backslash', '"quote \\" and \\\\ backslash"'],
      ["tab\tLF\nCR\r", '"tab\\tLF\\nCR\\r"'],
      ["NEL\u0085LS\u2028PS\u2029", '"NEL\\u0085LS\\u2028PS\\u2029"'],
      ["\ufeffBOM", '"\\ufeffBOM"'],
      ["C0\u0001C1\u009fDEL\u007f", '"C0\\u0001C1\\u009fDEL\\u007f"'],
      ["key: value # comment", '"key: value # comment"'],
      ["${{ x }}", '"${{ x }}"'],
    ],
    {
      title: "%j → %s",
      check: (output, input) => {
        expect(output).not.toMatch(RAW);
        expect(parse(`k: ${output}\n`)).toEqual({ k: input });
      },
    },
  );
});

describe("yamlScalar", () => {
  rowTests(
    yamlScalar,
    [
      ["nexus-platform/sre-leads", "nexus-platform/sre-leads"],
      ["Drift detected in stack prod", "Drift detected in stack prod"],
      ["yes", '"yes"'],
      ["off", '"off"'],
      ["y", '"y"'],
      ["null", '"null"'],
      ["123", '"123"'],
      ["1.5", '"1.5"'],
      ["", '""'],
      ["a: b", '"a: b"'],
      ["a #b", '"a #b"'],
      ["- item", '"- item"'],
      ["trailing ", '"trailing "'],
      ["*alias", '"*alias"'],
      ["a\u2028b", '"a\\u2028b"'],
    ],
    { title: "%j → %s", check: (output, input) => expect(parse(`k: ${output}\n`)).toEqual({ k: input }) },
  );
});

describe("hasYamlUnsafe and escapeYamlUnsafe", () => {
  rowTests(
    hasYamlUnsafe,
    [
      ["plain", false],
      ["tab\tand\nLF", false],
      ["CR\r", true],
      ["NEL\u0085", true],
      ["LS\u2028", true],
      ["PS\u2029", true],
      ["BOM\ufeff", true],
      ["DEL\u007f", true],
    ],
    { title: "%j unsafe: %s" },
  );

  it("write a document whose hostile strings are double-quoted with escapes, and read back the same", () => {
    const data = { name: "a\u2028b: 1", list: ["x\u0085y", "ok", "bom\ufeff"], "key\u2029": "v", block: "multi\nline\n" };
    const doc = new Document(data);
    visit(doc, {
      Scalar(_, node) {
        if (typeof node.value === "string" && hasYamlUnsafe(node.value)) node.type = "QUOTE_DOUBLE";
      },
    });
    const text = escapeYamlUnsafe(doc.toString({ lineWidth: 0 }));
    expect(text).not.toMatch(RAW);
    expect(text).toContain('name: "a\\u2028b: 1"');
    expect(text).toContain("block: |\n  multi\n  line\n");
    expect(parse(text)).toEqual(data);
  });
});
