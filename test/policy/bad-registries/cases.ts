/**
 * Deliberately bad registries for `nexus audit`: each case is the real registries/ with a few
 * text replacements (one change, or one change on top of another case), generated into a fresh
 * folder at test time, with exactly what the audit must say about it: the loader's located
 * problems (for what the registries cannot express: `latest` tags, foreign registries, stateful
 * services without backup), or the policy violations (policy, resource, level, message) and the
 * exit status of `nexus audit`.
 *
 * A privileged container cannot be written in the registries (the components always apply the
 * restricted security context), so it is injected into the evaluated resources instead
 * (test/audit/program.test.ts); the same holds for an S3 bucket without encryption or public
 * access block, which the BackupStorage component always creates.
 */
import { REAL_REGISTRIES, copyRegistries, replaceIn } from "../../support/registries";

export interface Edit {
  file: "orchestration.yaml" | "automation.yaml" | "monitoring.yaml" | "pipelines.yaml" | "security.yaml";
  /** Text that occurs exactly once in the file (checked). */
  from: string;
  to: string;
}

export interface ExpectedViolation {
  policy: string;
  enforcement: "mandatory" | "advisory";
  /** The Pulumi name of the resource the violation is about. */
  resource: string;
  message: string;
}

export interface BadRegistryCase {
  description: string;
  stack: "dev" | "prod";
  /** Applied in order; a case may start from another case's edits. */
  edits: readonly Edit[];
  /** Located loader problems, as `nexus audit` prints them (FILE:LINE:COL path: message). */
  problems?: readonly string[];
  /** Exactly the violations of the report (when the registries load). */
  violations?: readonly ExpectedViolation[];
  exitCode: 0 | 1;
}

/** The day every case is judged on. */
export const TODAY = "2026-11-27";

/**
 * A literal token in the health-check task's env. (A service's env goes to a ConfigMap read with
 * envFrom, which no-literal-secret-env does not look into; a task's env is set on its container.)
 */
const LITERAL_SECRET: Edit = {
  file: "automation.yaml",
  from: "    target: system-monitor\n    env:\n      SYSTEM_MONITOR_URL: http://system-monitor.observability.svc.cluster.local:9108\n    resources:\n      requests: { cpu: 50m, memory: 64Mi }\n      limits: { cpu: 200m, memory: 128Mi }\n    timeoutSeconds: 120\n",
  to: "    target: system-monitor\n    env:\n      SYSTEM_MONITOR_URL: http://system-monitor.observability.svc.cluster.local:9108\n      MONITOR_API_TOKEN: changeme-4242\n    resources:\n      requests: { cpu: 50m, memory: 64Mi }\n      limits: { cpu: 200m, memory: 128Mi }\n    timeoutSeconds: 120\n",
};

/** Granted 80 days before it expires: within the production floor's 90 days. */
const grantedFor = (expires: string) => new Date(Date.parse(expires) - 80 * 86_400_000).toISOString().slice(0, 10);

/** The real registries grant no exception: `exceptions: []` becomes a list of this one. */
const exceptionFor = (
  policy: string,
  resource: string,
  owner: string,
  expires: string,
  reason = "The monitor token moves to a Secret with the next release of system-monitor.",
): Edit => ({
  file: "security.yaml",
  from: "exceptions: []\n",
  to: `exceptions:\n  - policy: ${policy}\n    resource: ${resource}\n    owner: ${owner}\n    reason: ${reason}\n    appliesTo: [dev, prod]\n    granted: "${grantedFor(expires)}"\n    expires: "${expires}"\n`,
});

const LITERAL_SECRET_MESSAGE =
  'CronJob "health-check": container "task" sets env MONITOR_API_TOKEN to a literal value that looks like a secret: reference a Secret with valueFrom.secretKeyRef instead (list it under secrets: in the registry; the value lives in Pulumi config secrets)';

const literalSecret = (enforcement: ExpectedViolation["enforcement"], message = LITERAL_SECRET_MESSAGE): ExpectedViolation => ({
  policy: "no-literal-secret-env",
  enforcement,
  resource: "health-check-cronjob",
  message,
});

export const CASES = {
  "latest-image": {
    description: "frontend's image uses the moving tag latest: the loader rejects it before any policy runs (prod: dev overrides the image)",
    stack: "prod",
    edits: [{ file: "orchestration.yaml", from: "image: ghcr.io/nexus-platform/frontend:1.8.2", to: "image: ghcr.io/nexus-platform/frontend:latest" }],
    problems: [
      'registries/orchestration.yaml:274:12 services[5].image: image "ghcr.io/nexus-platform/frontend:latest" uses the moving tag "latest": pin it with a version tag or an @sha256 digest',
    ],
    exitCode: 1,
  },
  "disallowed-registry": {
    description: "frontend's image comes from a registry security.yaml does not allow: the loader rejects it (prod: dev overrides the image)",
    stack: "prod",
    edits: [{ file: "orchestration.yaml", from: "image: ghcr.io/nexus-platform/frontend:1.8.2", to: "image: quay.io/someone/frontend:1.8.2" }],
    problems: [
      'registries/orchestration.yaml:274:12 services[5].image: image "quay.io/someone/frontend:1.8.2" is not from an allowed registry: use one of ghcr.io/nexus-platform, docker.io/library, docker.io/prom, docker.io/grafana, registry.k8s.io/kube-state-metrics or add its registry to security.yaml imageRegistries',
    ],
    exitCode: 1,
  },
  "local-image-in-prod": {
    description: "frontend's own image is the local build that security.yaml allows in dev only: the loader rejects it for prod",
    stack: "prod",
    edits: [{ file: "orchestration.yaml", from: "image: ghcr.io/nexus-platform/frontend:1.8.2", to: "image: nexus.local/demo:1.1.0" }],
    problems: [
      'registries/orchestration.yaml:274:12 services[5].image: image "nexus.local/demo:1.1.0" is from nexus.local, which security.yaml imageRegistries allows only in dev, not in prod: use one of ghcr.io/nexus-platform, docker.io/library, docker.io/prom, docker.io/grafana, registry.k8s.io/kube-state-metrics here, and this image only in an environments override for dev',
    ],
    exitCode: 1,
  },
  "stateful-no-backup": {
    description: "redis's only backup task is disabled: the loader rejects a stateful service without an enabled backup",
    stack: "dev",
    edits: [{ file: "automation.yaml", from: "    target: redis\n", to: "    target: redis\n    enabled: false\n" }],
    problems: [
      'registries/orchestration.yaml:135:15 services[1].stateful: stateful service "redis" has no enabled backup task: add a task of kind backup with target: redis to automation.yaml',
    ],
    exitCode: 1,
  },
  "literal-secret-env": {
    description: "the health-check task gets a literal MONITOR_API_TOKEN env value (no exception): a mandatory violation",
    stack: "dev",
    edits: [LITERAL_SECRET],
    violations: [literalSecret("mandatory")],
    exitCode: 1,
  },
  "literal-secret-env-excepted": {
    description: "literal-secret-env plus an exception in force for health-check: excepted, no violation",
    stack: "dev",
    edits: [LITERAL_SECRET, exceptionFor("no-literal-secret-env", "health-check", "sre", "2027-01-31")],
    violations: [],
    exitCode: 0,
  },
  "expired-exception": {
    description: "literal-secret-env-excepted with the exception expired before TODAY: the violation is back and says so",
    stack: "dev",
    edits: [LITERAL_SECRET, exceptionFor("no-literal-secret-env", "health-check", "sre", "2026-10-31")],
    violations: [
      literalSecret(
        "mandatory",
        `${LITERAL_SECRET_MESSAGE} (exception for health-check by sre expired on 2026-10-31: fix the resource, or renew the exception with a new expiry in registries/security.yaml)`,
      ),
    ],
    exitCode: 1,
  },
  "policy-advisory": {
    description: "literal-secret-env with no-literal-secret-env set to advisory: the violation is advisory and the audit passes",
    stack: "dev",
    edits: [
      LITERAL_SECRET,
      { file: "security.yaml", from: "{ id: no-literal-secret-env, enforcement: mandatory }", to: "{ id: no-literal-secret-env, enforcement: advisory }" },
    ],
    violations: [literalSecret("advisory")],
    exitCode: 0,
  },
  "policy-disabled": {
    description: "literal-secret-env with no-literal-secret-env disabled: the policy gives no verdict at all",
    stack: "dev",
    edits: [
      LITERAL_SECRET,
      { file: "security.yaml", from: "{ id: no-literal-secret-env, enforcement: mandatory }", to: "{ id: no-literal-secret-env, enforcement: disabled }" },
    ],
    violations: [],
    exitCode: 0,
  },
  "stale-exception-expired": {
    description:
      "an exception for postgres (read-only-root-filesystem) that expired: flagged as expired; it silences nothing, since postgres has a read-only root (its socket directory is a writable path)",
    stack: "prod",
    edits: [
      exceptionFor(
        "read-only-root-filesystem",
        "postgres",
        "data",
        "2026-06-30",
        "PostgreSQL writes its socket and lock file to /var/run/postgresql, which was not writable.",
      ),
    ],
    violations: [],
    exitCode: 0,
  },
  "prod-single-replica": {
    description: "frontend runs a single replica in prod: prod-ha-user-facing is violated",
    stack: "prod",
    edits: [
      {
        file: "orchestration.yaml",
        from: "        replicas: 3\n        autoscaling: { minReplicas: 3, maxReplicas: 10 }\n",
        to: "        replicas: 1\n        autoscaling: { minReplicas: 1, maxReplicas: 10 }\n",
      },
    ],
    violations: [
      {
        policy: "prod-ha-user-facing",
        enforcement: "mandatory",
        resource: "frontend-deployment",
        message:
          'Deployment "frontend" of user-facing service "frontend" has no PodDisruptionBudget: run at least 2 replicas in prod so ServiceDeployment adds one, or add a PodDisruptionBudget selecting its pods',
      },
      {
        policy: "prod-ha-user-facing",
        enforcement: "mandatory",
        resource: "frontend-deployment",
        message:
          'Deployment "frontend" of user-facing service "frontend" runs an autoscaler minimum of 1 in prod: set autoscaling.minReplicas to at least 2 in its prod override in registries/orchestration.yaml',
      },
    ],
    exitCode: 1,
  },
} satisfies Record<string, BadRegistryCase>;

export type CaseName = keyof typeof CASES;

/** The case's registries in a fresh temporary folder named `registries`; remove with removeRegistries. */
export function materialize(name: CaseName): string {
  const dir = copyRegistries(REAL_REGISTRIES);
  for (const edit of CASES[name].edits) replaceIn(dir, edit.file, edit.from, edit.to);
  return dir;
}
