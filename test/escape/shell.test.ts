/**
 * contract/escape/shell.ts, input → output, and each output run by bash, which must see the input
 * unchanged as one word.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellComment, shellInDoubleQuotes, shellQuote, shellWord } from "../../contract/escape/shell";

/** The words bash gives `printf '%s\0'` for a script line, NUL-separated. */
function words(line: string): string[] {
  const run = spawnSync("bash", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split("\0").slice(0, -1);
}

const HOSTILE = ["$(touch /tmp/pwned)", "`id`", "a'b", 'a"b', "a b", "x; rm -rf ~", "line\nbreak", "back\\slash", "${HOME}", "#hash", "*"];

describe("shellQuote", () => {
  it.each([
    ["plain", "'plain'"],
    ["", "''"],
    ["a'b", "'a'\\''b'"],
    ["$(id) `id` ${HOME}", "'$(id) `id` ${HOME}'"],
    ["line\nbreak", "'line\nbreak'"],
  ])("%j → %j", (input, output) => {
    expect(shellQuote(input)).toBe(output);
  });

  it.each(HOSTILE)("keeps %j one literal word", (value) => {
    expect(words(shellQuote(value))).toEqual([value]);
  });
});

describe("shellWord", () => {
  it.each([
    ["prod", "prod"],
    ["dev,prod", "dev,prod"],
    ['"$RUNNER_TEMP/x"', `'"$RUNNER_TEMP/x"'`],
    ["a b", "'a b'"],
    ["", "''"],
    ["a'b", "'a'\\''b'"],
  ])("%j → %j", (input, output) => {
    expect(shellWord(input)).toBe(output);
  });

  it.each([...HOSTILE, "prod"])("keeps %j one literal word", (value) => {
    expect(words(shellWord(value))).toEqual([value]);
  });
});

describe("shellInDoubleQuotes", () => {
  it.each([
    ["prod", "prod"],
    ["Drift detected in stack prod", "Drift detected in stack prod"],
    ["a$b", `"'a$b'"`],
    ['a"b', `"'a"b'"`],
  ])("%j → %j", (input, output) => {
    expect(shellInDoubleQuotes(input)).toBe(output);
  });

  it.each([...HOSTILE, "prod"])("keeps %j literal inside a double-quoted word", (value) => {
    expect(words(`"stack ${shellInDoubleQuotes(value)}: ok"`)).toEqual([`stack ${value}: ok`]);
  });
});

describe("shellComment", () => {
  it.each([
    ["dev", "dev"],
    ["dev\nrm -rf ~", "dev\\u000arm -rf ~"],
    ["dev\r\n", "dev\\u000d\\u000a"],
    ["tab\tstays", "tab\tstays"],
  ])("%j → %j", (input, output) => {
    expect(shellComment(input)).toBe(output);
  });

  it("keeps a hostile name inside the comment", () => {
    const run = spawnSync("bash", ["-c", `# runs against ${shellComment("x\necho pwned")}\necho done`], { encoding: "utf8" });
    expect(run.stdout).toBe("done\n");
  });
});
