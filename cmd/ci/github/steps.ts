import { ACTIONS, expr, lines, NODE_VERSION, secret, sh, step, variable, type Environment, type Step } from "./syntax";

/**
 * Checkout, Node.js and the npm dependencies: what every job needs to run `npx nexus`. With
 * `history`, every branch and its history too, so `nexus check --base` can read the target branch.
 * The checkout keeps no token in .git/config: the commands run the pull request's own code, and
 * nothing after the checkout pushes or fetches.
 */
export function setupSteps(history = false): Step[] {
  return [
    step({ name: "Check out", uses: ACTIONS.checkout, with: { ...(history ? { "fetch-depth": 0 } : {}), "persist-credentials": false } }),
    step({
      name: "Set up Node.js",
      uses: ACTIONS.setupNode,
      // scripts/stack installs the policy pack's dependencies itself: its lock file keys the cache too.
      with: { "node-version": NODE_VERSION, cache: "npm", "cache-dependency-path": "package-lock.json\npolicy/package-lock.json\n" },
    }),
    step({ name: "Install dependencies", run: "npm ci" }),
  ];
}

/** The per-user tool cache scripts/bootstrap fills (Pulumi CLI, plugins, promtool, actionlint). */
export function toolchainCacheStep(): Step {
  return step({
    name: "Cache the Pulumi toolchain",
    uses: ACTIONS.cache,
    with: {
      path: "~/.cache/nexus",
      key: `nexus-tools-${expr("runner.os")}-${expr("hashFiles('package-lock.json', 'scripts/bootstrap', 'scripts/actionlint')")}`,
      "restore-keys": `nexus-tools-${expr("runner.os")}-\n`,
    },
  });
}

const KUBECONFIG_FILE = "kubeconfig";

/**
 * What a `nexus check|deploy|drift` step reads: the stack secrets' passphrase, the state backend
 * and the kubeconfig written by credentialSteps. References only, never values.
 */
export function nexusEnv(env: Environment): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.secrets.passphrase) out.PULUMI_CONFIG_PASSPHRASE = secret(env.secrets.passphrase);
  if (env.secrets.backendUrl) out.PULUMI_BACKEND_URL = variable(env.secrets.backendUrl);
  if (env.secrets.kubeconfig) out.KUBECONFIG = `${expr("runner.temp")}/${KUBECONFIG_FILE}`;
  return out;
}

/** The job's token permissions; undefined (the workflow's read-only default) when it needs nothing more. */
export function permissionsFor(env: Environment, extra: Record<string, string> = {}): Record<string, string> | undefined {
  const perms: Record<string, string> = { ...extra };
  if (env.secrets.awsRoleArn) perms["id-token"] = "write";
  if (Object.keys(perms).length === 0) return undefined;
  return { contents: "read", ...perms };
}

/** AWS credentials through OIDC where the environment names a role, and its kubeconfig where it names one. */
export function credentialSteps(env: Environment): Step[] {
  return [
    ...(env.secrets.awsRoleArn ? awsSteps(env, env.secrets.awsRoleArn) : []),
    ...(env.secrets.kubeconfig ? [kubeconfigStep(env, env.secrets.kubeconfig)] : []),
  ];
}

/** OIDC credentials in the region the stack's own config names (`nexus ci region`). */
function awsSteps(env: Environment, roleArn: string): Step[] {
  return [
    step({
      name: `Read the AWS region of stack ${env.stack}`,
      id: "aws-region",
      run: `npx nexus ci region --stack ${sh.word(env.stack)} --github-output region\n`,
    }),
    step({
      name: "Configure AWS credentials (OIDC)",
      uses: ACTIONS.awsCredentials,
      with: { "role-to-assume": secret(roleArn), "aws-region": expr("steps.aws-region.outputs.region") },
    }),
  ];
}

/**
 * The kubeconfig secret as a file only the runner's user reads. An unset secret stops the job
 * here: with an empty kubeconfig scripts/stack would find no cluster and start its throwaway one.
 */
function kubeconfigStep(env: Environment, name: string): Step {
  return step({
    name: `Write the kubeconfig of ${env.name}`,
    env: { KUBECONFIG_DATA: secret(name) },
    run: lines(`: "\${KUBECONFIG_DATA:?the secret ${name} is not set}"`, `umask 077 && printf '%s\\n' "$KUBECONFIG_DATA" > "$RUNNER_TEMP/${KUBECONFIG_FILE}"`),
  });
}
