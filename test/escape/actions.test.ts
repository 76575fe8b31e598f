/**
 * contract/escape/actions.ts, input → output: `${{` in free text never opens an expression.
 */
import { describe, expect, it } from "vitest";
import { actionsLiteral, expressionAt } from "../../contract/escape/actions";
import { rowTests } from "../support/table";

/** What Actions would show: each `${{ '...' }}` replaced by its string literal, as the runner evaluates it. */
function evaluated(text: string): string {
  return text.replace(/\$\{\{ '((?:[^']|'')*)' \}\}/g, (_m, literal: string) => literal.replace(/''/g, "'"));
}

/** The expressions Actions would evaluate: every `${{ ... }}`, closing at the first `}}` outside a string literal. */
function expressions(text: string): string[] {
  return [...text.matchAll(/\$\{\{((?:'(?:[^']|'')*'|[^'}]|\}(?!\}))*)\}\}/g)].map((m) => m[1]!.trim());
}

describe("actionsLiteral", () => {
  rowTests(
    actionsLiteral,
    [
      ["nexus-platform/sre-leads", "nexus-platform/sre-leads"],
      ["${{ secrets.AWS_ROLE_ARN }}", "${{ '${{' }} secrets.AWS_ROLE_ARN }}"],
      ["a ${{ github.token }} b ${{ x }}", "a ${{ '${{' }} github.token }} b ${{ '${{' }} x }}"],
      ["$${{", "$${{ '${{' }}"],
      ["${{${{", "${{ '${{' }}${{ '${{' }}"],
      ["it's ${{ x' }}", "it's ${{ '${{' }} x' }}"],
      ["}} alone", "}} alone"],
      ["$ {{ not one }}", "$ {{ not one }}"],
    ],
    {
      // The only expressions left are the string literal '${{', and they evaluate back to the input.
      check: (output, input) => {
        expect(expressions(output).every((e) => e === "'${{'")).toBe(true);
        expect(evaluated(output)).toBe(input);
      },
    },
  );

  it("finds where text would open an expression", () => {
    expect(expressionAt("ok")).toBe(-1);
    expect(expressionAt("a ${{ b }}")).toBe(2);
  });
});
