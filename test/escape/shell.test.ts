/**
 * contract/escape/shell.ts, input → output, and each output run by bash, which must see the input
 * unchanged as one word.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellComment, shellInDoubleQuotes, shellQuote, shellWord } from "../../contract/escape/shell";
import { rowTests } from "../support/table";

/** The words bash gives `printf '%s\0'` for a script line, NUL-separated. */
function words(line: string): string[] {
  const run = spawnSync("bash", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split("\0").slice(0, -1);
}

/** A test per value: bash reads the line `scriptOf(value)` as the one word `wordOf(value)`, the value itself unless told. */
function readsAsOneWord(title: string, values: readonly string[], scriptOf: (value: string) => string, wordOf = (value: string) => value): void {
  it.each(values)(title, (value) => {
    expect(words(scriptOf(value))).toEqual([wordOf(value)]);
  });
}

const HOSTILE = ["$(touch /tmp/pwned)", "`id`", "a'b", 'a"b', "a b", "x; rm -rf ~", "line\nbreak", "back\\slash", "${HOME}", "#hash", "*"];

describe("shellQuote", () => {
  rowTests(shellQuote, [
    ["plain", "'plain'"],
    ["", "''"],
    ["a'b", "'a'\\''b'"],
    ["$(id) `id` ${HOME}", "'$(id) `id` ${HOME}'"],
    ["line\nbreak", "'line\nbreak'"],
  ]);

  readsAsOneWord("keeps %j one literal word", HOSTILE, shellQuote);
});

describe("shellWord", () => {
  rowTests(shellWord, [
    ["prod", "prod"],
    ["dev,prod", "dev,prod"],
    ['"$RUNNER_TEMP/x"', `'"$RUNNER_TEMP/x"'`],
    ["a b", "'a b'"],
    ["", "''"],
    ["a'b", "'a'\\''b'"],
  ]);

  readsAsOneWord("keeps %j one literal word", [...HOSTILE, "prod"], shellWord);
});

describe("shellInDoubleQuotes", () => {
  rowTests(shellInDoubleQuotes, [
    ["prod", "prod"],
    ["Drift detected in stack prod", "Drift detected in stack prod"],
    ["a$b", `"'a$b'"`],
    ['a"b', `"'a"b'"`],
  ]);

  readsAsOneWord(
    "keeps %j literal inside a double-quoted word",
    [...HOSTILE, "prod"],
    (value) => `"stack ${shellInDoubleQuotes(value)}: ok"`,
    (value) => `stack ${value}: ok`,
  );
});

describe("shellComment", () => {
  rowTests(shellComment, [
    ["dev", "dev"],
    ["dev\nrm -rf ~", "dev\\u000arm -rf ~"],
    ["dev\r\n", "dev\\u000d\\u000a"],
    ["tab\tstays", "tab\tstays"],
  ]);

  it("keeps a hostile name inside the comment", () => {
    const run = spawnSync("bash", ["-c", `# runs against ${shellComment("x\necho pwned")}\necho done`], { encoding: "utf8" });
    expect(run.stdout).toBe("done\n");
  });
});
