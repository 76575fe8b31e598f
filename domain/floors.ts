/**
 * The production floor: the minimum every production environment gets, whatever the registries
 * say. Registries may tighten it, never loosen it; `nexus validate` reports a registry below the
 * floor as a located error naming the floor. These numbers live in code on purpose: the security
 * and pipelines registries are edited by many people and configure the very gate that judges
 * them, so the floor cannot be one of their fields.
 */
import type { PolicyId } from "./schema/policies";

export const FLOOR = {
  /** Pod Security Standard every production namespace enforces. */
  podSecurityLevel: "restricted",
  /** RBAC subjects that stand for everyone (or no one in particular) and are never bound. */
  forbiddenSubjects: ["system:anonymous", "system:unauthenticated", "system:authenticated"],
  /** Resources a Group may never be granted, in any verb: credentials and a shell in pods. */
  groupForbiddenResources: ["secrets", "pods/exec", "pods/attach", "serviceaccounts/token", "*"],
  /** Resources no task may read through the API (clusterAccess): its token would carry every credential of the namespaces it reads. */
  taskForbiddenReads: ["secrets"],
  /** An egress CIDR with this prefix length means "anywhere" (0.0.0.0/0, ::/0). */
  openPrefixLength: 0,
  /** An exception expires at most this many days after the day it was granted. */
  exceptionMaxDays: 90,
  /** The runners a production task may use: local commands run outside the cluster's controls. */
  allowedRunners: ["k8s-cronjob", "k8s-job"],
  /** Policies that stay mandatory in production: Pod Security, supply chain, isolation, access, data at rest. */
  mandatoryPolicies: [
    "no-privileged-containers",
    "no-host-namespaces",
    "no-host-ports",
    "no-host-path-volumes",
    "run-as-non-root",
    "no-privilege-escalation",
    "drop-all-capabilities",
    "seccomp-runtime-default",
    "no-host-probes-and-hooks",
    "restricted-volume-types",
    "no-windows-host-process",
    "default-proc-mount",
    "safe-sysctls-only",
    "selinux-allowed-options",
    "apparmor-allowed-profiles",
    "allowed-image-registries",
    "pinned-image-tags",
    "no-literal-secret-env",
    "namespace-default-deny",
    "namespace-pod-security-labels",
    "no-public-service-types",
    "no-wildcard-rbac",
    "no-cluster-admin-bindings",
    "traceability-labels",
    "stateful-workload-backup",
    "s3-block-public-access",
    "s3-sse-kms",
    "s3-tls-only",
    "s3-lifecycle-within-gdpr",
    "iam-no-wildcards",
  ] satisfies PolicyId[] as readonly PolicyId[],
} as const;

/** A floor's name as errors cite it. */
export type FloorName =
  | "pod-security-level"
  | "rbac-subjects"
  | "rbac-group-grants"
  | "open-egress"
  | "mandatory-policies"
  | "deploy-gate"
  | "deploy-approval"
  | "task-runners"
  | "task-api-reads"
  | "exception-lifetime";
