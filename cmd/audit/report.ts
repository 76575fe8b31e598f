/**
 * The compliance report of `nexus audit`: the evaluated program's resources run through the
 * policy pack in this process (the policy server's own handlers, internal/pulumi/analyzer.ts) with the
 * config `nexus policy-config` compiles for the environment, then every resource with its registry
 * FILE:LINE and its verdicts, every violation, the exceptions in force and each policy's level.
 * The sections are built in sections.ts from the verdicts of verdicts.ts; markdown.ts renders them.
 */
import type { Evaluation, PackAnalyzer } from "../../internal/pulumi/analyzer";
import { policyPackConfig, type PolicyPackConfigFile } from "../../stacks/policyConfig";
import { evaluateProgram, runProgram, type EvaluatedProgram, type EvaluateOptions, type PreparedStack, type ProgramResource } from "./evaluate";
import { auditPack, packAnalyzer } from "./pack";
import { REPORT_SCHEMA, type AuditResult, type ComplianceReport } from "./schema";
import { reportBackups, reportExceptions, reportPolicies, reportResources, reportSummary, reportViolations } from "./sections";
import { resourceSources } from "./sources";
import { exceptionFinder, levelsOf, resourceVerdicts, silencedViolations, withoutActiveExceptions, type Judgement } from "./verdicts";

export { POLICY_DIR, auditPack, packAnalyzer } from "./pack";
export { renderMarkdown, summaryLine } from "./markdown";
export * from "./schema";

/** Evaluates the pack, then again without the exceptions in force to find the violations they silence. */
export async function judge(
  pack: PackAnalyzer,
  resources: readonly ProgramResource[],
  config: PolicyPackConfigFile,
  today: string,
): Promise<Pick<Judgement, "evaluation" | "silenced">> {
  const evaluation = await pack.evaluate(resources, config);
  const probe = withoutActiveExceptions(config, today);
  const unexcepted = probe.policies.size > 0 ? (await pack.evaluate(resources, probe.config)).diagnostics : [];
  return {
    evaluation,
    silenced: silencedViolations(
      evaluation.diagnostics,
      unexcepted.filter((d) => probe.policies.has(d.policyName)),
    ),
  };
}

/**
 * Evaluates the pack over a program's resources and builds the report. `resources` defaults to
 * the program's; pass changed ones to judge a variant of the same program.
 */
export async function buildReport(
  program: EvaluatedProgram,
  resources: readonly ProgramResource[] = program.resources,
): Promise<{ report: ComplianceReport; evaluation: Evaluation }> {
  const { model, today } = program;
  const config = policyPackConfig(model, today);
  const exceptionFor = exceptionFinder(model.security.exceptions, resources, today);
  const j: Judgement = { today, resources, levelOf: levelsOf(config), exceptionFor, ...(await judge(packAnalyzer(), resources, config, today)) };
  const sources = resourceSources(resources, [...model.tasks, ...model.services]);
  const reported = reportResources(resources, resourceVerdicts(j), sources);
  const violations = reportViolations(j, sources);
  const policies = reportPolicies(j, reported);
  const exceptions = reportExceptions(model.security.exceptions, j, violations);
  const summary = reportSummary({ violations, excepted: j.silenced.length, resources: reported, policies, exceptions });
  const pack = auditPack();
  const report: ComplianceReport = {
    schema: REPORT_SCHEMA,
    project: program.project,
    stack: program.stack,
    environment: model.environment.name,
    today,
    registries: program.registriesDir,
    pack: { name: pack.packName, version: pack.packVersion },
    passed: summary.mandatory === 0,
    summary,
    policies,
    exceptions,
    backups: reportBackups(model.tasks),
    violations,
    resources: reported,
  };
  return { report, evaluation: j.evaluation };
}

/** `nexus audit` without the CLI: evaluate the stack's program, then the pack. */
export async function audit(options: EvaluateOptions): Promise<AuditResult> {
  const result = await evaluateProgram(options);
  if (!result.ok) return { ok: false, registries: result.registriesDir, problems: result.problems };
  return { ok: true, ...(await buildReport(result.program)) };
}

/** The audit of a stack whose registries already loaded (stack.ts prepareStack). */
export async function auditPrepared(prepared: PreparedStack): Promise<{ report: ComplianceReport; evaluation: Evaluation }> {
  return buildReport(await runProgram(prepared));
}

/** The JSON report: a stable structure (fixed key order, sorted lists), newline-terminated. */
export function renderJson(report: ComplianceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
