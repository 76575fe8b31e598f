import { formatProblem, loadRegistries } from "../domain/loader";
import { parseCommand, stringOptions, registriesDirProblem, usageError } from "./args";
import { referencedSecrets } from "../stacks/settings";

const USAGE = `Usage: nexus secrets --env NAME [--registries DIR]

Lists the Pulumi config keys the registries reference as secrets in one environment, one per
line as "KEY<TAB>KIND<TAB>who references it", where KIND is "url" (a webhook address) or
"token". Values are never read or printed: set each with
  pulumi config set --secret KEY VALUE

Example: npx nexus secrets --env prod`;

export async function secretsCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, stringOptions("env", "registries"), USAGE);
  if ("exit" in parsed) return parsed.exit;
  const values = parsed.values as { env?: string; registries?: string };
  if (!values.env) return usageError("--env is required", USAGE);
  const registriesDir = values.registries ?? "registries";
  const dirProblem = registriesDirProblem(registriesDir);
  if (dirProblem) return usageError(dirProblem, USAGE);
  const result = loadRegistries({ registriesDir, env: values.env });
  if (!result.model) {
    for (const p of result.problems) console.log(formatProblem(p));
    return 1;
  }
  for (const [key, { kind, by }] of referencedSecrets(result.model)) console.log(`${key}\t${kind}\t${by}`);
  return 0;
}
