/**
 * Free text on its way into a GitHub Actions workflow value. Pure functions, no imports.
 *
 * Actions evaluates `${{ ... }}` in nearly every value of a workflow (job and step names, `run:`
 * scripts, `env:`, `with:`, `if:`), before any shell sees it: a reviewer name holding
 * `${{ secrets.TOKEN }}` written into a job name would print the secret's value into the run's
 * title, and one in a `run:` line would run as code. Comments are not evaluated.
 */

/** The opening of an Actions expression. */
export const EXPRESSION_OPEN = "${{";

/** Where `text` would open an Actions expression, if anywhere (-1 when nowhere). */
export function expressionAt(text: string): number {
  return text.indexOf(EXPRESSION_OPEN);
}

/**
 * Text Actions shows as written: each `${{` becomes the expression `${{ '${{' }}`, whose value is
 * the string `${{` (a quoted literal may hold `${{` and `}}`; a `}}` without an opening is plain
 * text already). The result holds no other expression.
 */
export function actionsLiteral(text: string): string {
  return text.split(EXPRESSION_OPEN).join(`${EXPRESSION_OPEN} '${EXPRESSION_OPEN}' }}`);
}
