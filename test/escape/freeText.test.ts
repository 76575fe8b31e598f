/**
 * domain/loader/freeText.ts: the registry text refused where it is written, input → finding.
 */
import { describe, expect, it } from "vitest";
import type { Registries } from "../../domain/loader/checks";
import { checkFreeText, freeTextProblem, type FreeTextReporter } from "../../domain/loader/freeText";
import type { Locator } from "../../domain/loader/locator";

// The loader's Locator is what the check reports to (a compile-time check).
type LocatorReports = Locator extends FreeTextReporter ? true : never;
const locatorReports: LocatorReports = true;

describe("freeTextProblem", () => {
  it.each([
    ["an ordinary description", false, undefined],
    ["tab\tand\nnew lines", false, undefined],
    ["emoji 😀 and ünïcödé", false, undefined],
    ["NEL\u0085key: 1", false, "free-text: holds U+0085 NEXT LINE at character 4, which YAML parsers other than the `yaml` package read as a line break"],
    ["LS\u2028", false, "free-text: holds U+2028 LINE SEPARATOR at character 3, which YAML parsers other than the `yaml` package read as a line break"],
    ["PS\u2029", false, "free-text: holds U+2029 PARAGRAPH SEPARATOR at character 3, which YAML parsers other than the `yaml` package read as a line break"],
    ["CR\r\n", false, "free-text: holds U+000D CARRIAGE RETURN at character 3, which YAML parsers other than the `yaml` package read as a line break"],
    ["\ufeffBOM", false, "free-text: holds U+FEFF BYTE ORDER MARK at character 1, which generated files cannot show as written"],
    ["bell\u0007", false, "free-text: holds the character U+0007 at character 5, which generated files cannot show as written"],
    ["lone \ud800", false, "free-text: holds the character U+D800 at character 6, which generated files cannot show as written"],
    ["${{ secrets.X }}", false, undefined],
    [
      "${{ secrets.X }}",
      true,
      'actions-expression: holds "${{" at character 1: GitHub Actions would evaluate it as an expression in the generated workflows; remove it',
    ],
    ["$ {{ fine }}", true, undefined],
  ])("%j (workflow text: %s) → %s", (text, workflowText, finding) => {
    const problem = freeTextProblem(text, workflowText);
    expect(problem && `${problem.code}: ${problem.message}`.replace(/: remove it \(a space or a new line instead\)$/, "")).toBe(finding);
  });
});

describe("checkFreeText", () => {
  it("reports to the loader's Locator", () => expect(locatorReports).toBe(true));

  it("reports every refused string and mapping key at its path, `${{` only in the pipelines registry", () => {
    const registries = {
      orchestration: { services: [{ name: "api", description: "fine" }] },
      automation: { tasks: [{ name: "t", description: "uses ${{ x }} in a task" }] },
      monitoring: { alerts: [{ name: "a", summary: "down\u2028groups: []" }] },
      pipelines: {
        environments: [{ name: "prod", approval: { reviewers: ["org/team", "${{ secrets.TOKEN }}"] } }],
        pipelines: [{ name: "release", description: "Merge\u0085jobs: {}" }],
      },
      security: { labels: { "key\u2029": "v" } },
    } as unknown as Registries;
    const found: string[] = [];
    checkFreeText(registries, {
      report: (key, path, message, code, atKey) => found.push(`${key} ${path.join(".")}${atKey ? " (key)" : ""} ${code}: ${message.split(" at ")[0]}`),
    });
    expect(found).toEqual([
      "monitoring alerts.0.summary free-text: holds U+2028 LINE SEPARATOR",
      'pipelines environments.0.approval.reviewers.1 actions-expression: holds "${{"',
      "pipelines pipelines.0.description free-text: holds U+0085 NEXT LINE",
      "security labels.key\u2029 (key) free-text: its key holds U+2029 PARAGRAPH SEPARATOR",
    ]);
  });
});
