/**
 * The catalog of compliance policies. The security registry sets each one's enforcement per
 * environment and the policy pack implements each one under the same id, so both sides agree on
 * one list.
 */
export const POLICY_DOMAINS = ["workloads", "network", "traceability", "backups", "aws", "stack"] as const;
export type PolicyDomain = (typeof POLICY_DOMAINS)[number];

export const POLICY_CATALOG = {
  "no-privileged-containers": "workloads",
  "no-host-namespaces": "workloads",
  "no-host-ports": "workloads",
  "no-host-path-volumes": "workloads",
  "run-as-non-root": "workloads",
  "no-privilege-escalation": "workloads",
  "drop-all-capabilities": "workloads",
  "seccomp-runtime-default": "workloads",
  "no-host-probes-and-hooks": "workloads",
  "restricted-volume-types": "workloads",
  "no-windows-host-process": "workloads",
  "default-proc-mount": "workloads",
  "safe-sysctls-only": "workloads",
  "selinux-allowed-options": "workloads",
  "apparmor-allowed-profiles": "workloads",
  "read-only-root-filesystem": "workloads",
  "resources-required": "workloads",
  "probes-required": "workloads",
  "allowed-image-registries": "workloads",
  "pinned-image-tags": "workloads",
  "no-default-service-account": "workloads",
  "token-automount-declared": "workloads",
  "no-literal-secret-env": "workloads",
  "namespace-default-deny": "network",
  "namespace-pod-security-labels": "network",
  "no-public-service-types": "network",
  "no-wildcard-rbac": "network",
  "no-cluster-admin-bindings": "network",
  "traceability-labels": "traceability",
  "stateful-workload-backup": "backups",
  "cronjob-concurrency-forbid": "backups",
  "cronjob-deadlines": "backups",
  "s3-block-public-access": "aws",
  "s3-sse-kms": "aws",
  "s3-versioning": "aws",
  "s3-tls-only": "aws",
  "s3-lifecycle-within-gdpr": "aws",
  "kms-key-rotation": "aws",
  "iam-no-wildcards": "aws",
  "slo-alerts-present": "stack",
  "backup-alerts-present": "stack",
  "prod-ha-user-facing": "stack",
} as const satisfies Record<string, PolicyDomain>;

export type PolicyId = keyof typeof POLICY_CATALOG;
export const POLICY_IDS = Object.keys(POLICY_CATALOG) as PolicyId[];
