import { isIsoDate, parseCommand, stringOptions, registriesDirProblem, usageError as commandUsageError, writeOut } from "./args";
import { formatProblem, loadRegistries } from "../domain/loader";
import { policyPackConfig } from "../stacks/policyConfig";

export const POLICY_CONFIG_USAGE = `Usage: nexus policy-config --env NAME [--registries DIR] [--out FILE] [--today YYYY-MM-DD]

Compiles the policy pack's config for one environment from the registries: each policy's
enforcement (registries/security.yaml), its exceptions, and the facts it checks against
(allowed image registries, public and user-facing services, SLOs, backup tasks, GDPR limits).
Pass the file to the engine with --policy-pack-config.
Exit status: 0 written, 1 registry problems (FILE:LINE:COL field.path: message), 2 usage error.

Options:
  --env NAME         environment to compile for (required), e.g. dev or prod
  --registries DIR   folder with the registry files (default: registries)
  --out FILE         write the JSON there (default: standard output)
  --today DATE       day exceptions are judged against, YYYY-MM-DD (default: today, UTC)
  -h, --help         show this help

Example:
  npx nexus policy-config --env prod --out .nexus/policy-prod.json
  pulumi preview --stack prod --policy-pack policy --policy-pack-config .nexus/policy-prod.json`;

function usageError(message: string): number {
  return commandUsageError(message, POLICY_CONFIG_USAGE);
}

export async function policyConfig(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("env", "registries", "out", "today"), POLICY_CONFIG_USAGE);
  if ("exit" in parsed) return parsed.exit;
  const values = parsed.values;
  const env = values.env as string | undefined;
  if (!env) return usageError("--env is required");
  const today = (values.today as string | undefined) ?? new Date().toISOString().slice(0, 10);
  if (!isIsoDate(today)) return usageError(`--today must be a date YYYY-MM-DD, got "${today}"`);
  const registriesDir = (values.registries as string | undefined) ?? "registries";
  const dirProblem = registriesDirProblem(registriesDir);
  if (dirProblem) return usageError(dirProblem);

  const result = loadRegistries({ registriesDir, env, today });
  if (result.problems.length > 0 || !result.model) {
    for (const p of result.problems) console.log(formatProblem(p));
    console.error(`nexus: ${result.problems.length} problem(s) in ${registriesDir}; fix them and run again`);
    return 1;
  }
  const json = `${JSON.stringify(policyPackConfig(result.model, today), null, 2)}\n`;
  const out = values.out as string | undefined;
  const written = writeOut(out, json);
  if (written !== 0) return written;
  if (out !== undefined) {
    const expired = result.model.security.exceptions.filter((e) => e.expired).length;
    console.error(
      `wrote ${out}: policy pack config for ${env} (${Object.keys(JSON.parse(json)).length} policies, judged on ${today}${expired > 0 ? `, ${expired} expired exception(s)` : ""})`,
    );
  }
  return 0;
}
