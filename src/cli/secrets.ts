import { parseArgs } from "node:util";
import { formatProblem, loadRegistries } from "../loader";
import { referencedSecrets } from "../../stacks/settings";

const USAGE = `Usage: nexus secrets --env NAME [--registries DIR]

Lists the Pulumi config keys the registries reference as secrets in one environment, one per
line as "KEY<TAB>who references it". Values are never read or printed: set each with
  pulumi config set --secret KEY VALUE

Example: npx nexus secrets --env prod`;

export async function secretsCommand(args: string[]): Promise<number> {
  let values: { env?: string; registries?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { env: { type: "string" }, registries: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (error) {
    console.error(`nexus: ${(error as Error).message.split("\n")[0]}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.env) {
    console.error(`nexus: --env is required\n\n${USAGE}`);
    return 2;
  }
  const result = loadRegistries({ registriesDir: values.registries ?? "registries", env: values.env });
  if (!result.model) {
    for (const p of result.problems) console.log(formatProblem(p));
    return 1;
  }
  for (const [key, by] of referencedSecrets(result.model)) console.log(`${key}\t${by}`);
  return 0;
}
