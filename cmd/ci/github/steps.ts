import { ACTIONS, expr, lines, NODE_VERSION, secret, sh, step, variable, type Environment, type Step, type Target } from "./syntax";

/**
 * Checkout, Node.js and the npm dependencies: what every job needs to run `npx nexus`. With
 * `history`, every branch and its history too, so `nexus audit --base` can read the target branch.
 */
export function setupSteps(policyPack: boolean, history = false): Step[] {
  return [
    step({ name: "Check out", uses: ACTIONS.checkout, with: history ? { "fetch-depth": 0 } : undefined }),
    step({
      name: "Set up Node.js",
      uses: ACTIONS.setupNode,
      with: { "node-version": NODE_VERSION, cache: "npm", "cache-dependency-path": "package-lock.json\npolicy/package-lock.json\n" },
    }),
    step({ name: "Install dependencies", run: "npm ci" }),
    ...(policyPack ? [step({ name: "Install the policy pack's dependencies", run: "npm ci --prefix policy" })] : []),
  ];
}

/** scripts/bootstrap provides the pinned Pulumi CLI and plugins; later steps source .tools/env. */
export function toolchainSteps(): Step[] {
  return [
    step({
      name: "Cache the Pulumi toolchain",
      uses: ACTIONS.cache,
      with: {
        path: "~/.cache/nexus",
        key: `nexus-tools-${expr("runner.os")}-${expr("hashFiles('package-lock.json', 'scripts/bootstrap', 'scripts/actionlint')")}`,
        "restore-keys": `nexus-tools-${expr("runner.os")}-\n`,
      },
    }),
    step({ name: "Provide the Pulumi CLI and plugins", run: "scripts/bootstrap" }),
  ];
}

/** Environment variables of every Pulumi step: secret and variable references only, never values. */
export function pulumiEnv(env: Environment): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.secrets.passphrase) out.PULUMI_CONFIG_PASSPHRASE = secret(env.secrets.passphrase);
  if (env.secrets.backendUrl) out.PULUMI_BACKEND_URL = variable(env.secrets.backendUrl);
  return out;
}

function policyConfigFile(env: Environment): string {
  return `"$RUNNER_TEMP/nexus-policy-${sh.inDoubleQuotes(env.name)}.json"`;
}

export function policyFlags(t: Target): string {
  return t.gate ? ` --policy-pack policy --policy-pack-config ${policyConfigFile(t.env)}` : "";
}

/** The job's token permissions; undefined (the workflow's read-only default) when it needs nothing more. */
export function permissionsFor(env: Environment, extra: Record<string, string> = {}): Record<string, string> | undefined {
  const perms: Record<string, string> = { ...extra };
  if (env.secrets.awsRoleArn) perms["id-token"] = "write";
  if (Object.keys(perms).length === 0) return undefined;
  return { contents: "read", ...perms };
}

/** Cloud credentials, kubeconfig, backend login and (with the policy gate) the policy pack config. */
export function environmentSteps(t: Target): Step[] {
  const { env } = t;
  return [
    ...(env.secrets.awsRoleArn ? awsSteps(env, env.secrets.awsRoleArn) : []),
    kubeconfigStep(env),
    loginStep(env),
    ...(t.gate
      ? [
          step({
            name: `Compile the policy pack config of ${env.name}`,
            run: `npx nexus policy-config --env ${sh.word(env.name)} --out ${policyConfigFile(env)}\n`,
          }),
        ]
      : []),
  ];
}

/** OIDC credentials in the region the stack's own config names (`nexus ci region`). */
function awsSteps(env: Environment, roleArn: string): Step[] {
  return [
    step({
      name: `Read the AWS region of stack ${env.stack}`,
      id: "aws-region",
      run: lines(`region=$(npx nexus ci region --stack ${sh.word(env.stack)})`, `echo "region=$region" >> "$GITHUB_OUTPUT"`),
    }),
    step({
      name: "Configure AWS credentials (OIDC)",
      uses: ACTIONS.awsCredentials,
      with: { "role-to-assume": secret(roleArn), "aws-region": expr("steps.aws-region.outputs.region") },
    }),
  ];
}

function kubeconfigStep(env: Environment): Step {
  if (env.secrets.kubeconfig) {
    return step({
      name: `Write the kubeconfig of ${env.name}`,
      env: { KUBECONFIG_DATA: secret(env.secrets.kubeconfig) },
      run: lines(`umask 077`, `printf '%s\\n' "$KUBECONFIG_DATA" > "$RUNNER_TEMP/kubeconfig"`, `echo "KUBECONFIG=$RUNNER_TEMP/kubeconfig" >> "$GITHUB_ENV"`),
    });
  }
  return step({
    name: `Start the local Kubernetes API server for ${env.name}`,
    run: lines(
      `# No kubeconfig secret in the registry: ${sh.comment(env.name)} runs against the project's own throwaway API server.`,
      `kubeconfig=$(scripts/local-cluster start)`,
      `echo "KUBECONFIG=$kubeconfig" >> "$GITHUB_ENV"`,
    ),
  });
}

function loginStep(env: Environment): Step {
  return step({
    name: `Log in to the state backend of ${env.name}`,
    env: pulumiEnv(env),
    run: env.secrets.backendUrl
      ? lines(`. .tools/env`, `pulumi login "$PULUMI_BACKEND_URL"`)
      : lines(
          `# No backendUrl in the registry: a file backend inside the checkout, discarded with the runner.`,
          `. .tools/env`,
          `mkdir -p .pulumi-state`,
          `pulumi login "file://$GITHUB_WORKSPACE/.pulumi-state"`,
          `pulumi stack select --create ${sh.word(env.stack)}`,
        ),
  });
}
