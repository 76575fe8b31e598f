/**
 * The policy table, in the style of `kyverno test`: each row names a policy, a fixture and the
 * expected verdict; failures list the exact messages. Every row runs through the policy server's
 * own handlers (support.ts), with only that row's policy enabled and the config of TEST_CONFIG.
 */
import { describe, expect, it } from "vitest";
import { POLICY_IDS, type PolicyId } from "../../domain/schema";
import { FIXTURES, TEST_CONFIG, TODAY } from "./fixtures";
import { POD_SECURITY_FIXTURES } from "./fixtures/kube";
import { runPolicy } from "./support";

/** The shared fixtures and the Pod Security ones (test/integration/podSecurityParity.test.ts creates the latter too). */
const ALL_FIXTURES = { ...FIXTURES, ...POD_SECURITY_FIXTURES };
type FixtureName = keyof typeof ALL_FIXTURES;

interface Row {
  policy: PolicyId;
  resource: FixtureName;
  expected: "pass" | "fail";
  /** Exact messages of a failure, in report order. */
  messages?: string[];
  /** Config properties replacing the table's defaults for this row. */
  config?: Record<string, unknown>;
}

const TABLE: Row[] = [
  { policy: "no-privileged-containers", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "no-privileged-containers",
    resource: "pod-privileged",
    expected: "fail",
    messages: [
      'Pod "debug": container "debug" runs privileged: remove securityContext.privileged or set it to false; a privileged container has every device and capability of the node',
    ],
  },
  {
    policy: "no-privileged-containers",
    resource: "pod-ephemeral-privileged",
    expected: "fail",
    messages: [
      'Pod "debug": ephemeral container "debugger" runs privileged: remove securityContext.privileged or set it to false; a privileged container has every device and capability of the node',
    ],
  },
  { policy: "no-host-namespaces", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "no-host-namespaces",
    resource: "deployment-host-namespaces",
    expected: "fail",
    messages: [
      'Deployment "api": the pod sets hostNetwork: true and hostPID: true: remove them so the pod keeps its own namespaces; expose traffic through a Service instead',
    ],
  },
  { policy: "no-host-ports", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "no-host-ports",
    resource: "daemonset-host-port",
    expected: "fail",
    messages: ['DaemonSet "node-agent": container "api" binds host port 9100: remove hostPort and reach the container through a Service'],
  },
  { policy: "no-host-path-volumes", resource: "cronjob-restricted", expected: "pass" },
  {
    policy: "no-host-path-volumes",
    resource: "deployment-host-path",
    expected: "fail",
    messages: [
      'Deployment "api": volume "docker-sock" mounts hostPath "/var/run/docker.sock" from the node: use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead',
    ],
  },
  { policy: "run-as-non-root", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "run-as-non-root",
    resource: "statefulset-root",
    expected: "fail",
    messages: ['StatefulSet "postgres": container "postgres" runs as UID 0 (root): set runAsUser to a non-zero UID (10001 unless the image declares one)'],
  },
  {
    policy: "run-as-non-root",
    resource: "deployment-may-run-as-root",
    expected: "fail",
    messages: ['Deployment "api": container "api" may run as root: set securityContext.runAsNonRoot: true on the pod or the container'],
  },
  {
    policy: "run-as-non-root",
    resource: "deployment-root-pod",
    expected: "fail",
    messages: [
      'Deployment "api": the pod runs as UID 0 (root): set securityContext.runAsUser to a non-zero UID (10001 unless the image declares one)',
      'Deployment "api": the pod sets securityContext.runAsNonRoot: false: set it to true',
    ],
  },
  // In its own user namespace a pod's UID 0 is not root on the node (v1.35).
  { policy: "run-as-non-root", resource: "deployment-user-namespace", expected: "pass" },
  // Windows pods are not exempt from runAsNonRoot.
  { policy: "run-as-non-root", resource: "pod-windows", expected: "pass" },
  {
    policy: "run-as-non-root",
    resource: "pod-windows-may-run-as-root",
    expected: "fail",
    messages: ['Pod "win-api": container "win-api" may run as root: set securityContext.runAsNonRoot: true on the pod or the container'],
  },
  { policy: "no-privilege-escalation", resource: "cronjob-restricted", expected: "pass" },
  {
    policy: "no-privilege-escalation",
    resource: "job-init-escalates",
    expected: "fail",
    messages: ['Job "migrate": init container "wait-for-db" does not forbid privilege escalation: set securityContext.allowPrivilegeEscalation: false'],
  },
  { policy: "no-privilege-escalation", resource: "pod-windows", expected: "pass" },
  { policy: "drop-all-capabilities", resource: "deployment-restricted", expected: "pass" },
  { policy: "drop-all-capabilities", resource: "pod-windows", expected: "pass" },
  {
    policy: "drop-all-capabilities",
    resource: "deployment-capabilities",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" does not drop all capabilities: set securityContext.capabilities.drop: ["ALL"]',
      'Deployment "api": container "api" adds capabilities SYS_ADMIN: remove them from securityContext.capabilities.add (only NET_BIND_SERVICE may be added back)',
    ],
  },
  { policy: "seccomp-runtime-default", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "seccomp-runtime-default",
    resource: "deployment-seccomp-unconfined",
    expected: "fail",
    messages: ['Deployment "api": container "api" uses seccomp profile Unconfined: set securityContext.seccompProfile.type to RuntimeDefault'],
  },
  {
    policy: "seccomp-runtime-default",
    resource: "deployment-no-seccomp",
    expected: "fail",
    messages: ['Deployment "api": container "api" has no seccomp profile: set securityContext.seccompProfile.type: RuntimeDefault on the pod'],
  },
  {
    policy: "seccomp-runtime-default",
    resource: "deployment-seccomp-pod-unconfined",
    expected: "fail",
    messages: ['Deployment "api": the pod uses seccomp profile Unconfined: set securityContext.seccompProfile.type to RuntimeDefault'],
  },
  { policy: "seccomp-runtime-default", resource: "pod-windows", expected: "pass" },
  { policy: "no-host-probes-and-hooks", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "no-host-probes-and-hooks",
    resource: "deployment-probe-host",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" sets livenessProbe.httpGet.host "169.254.169.254", startupProbe.tcpSocket.host "10.0.0.1" and lifecycle.preStop.httpGet.host "10.0.0.2": remove host so the kubelet probes the pod\'s own IP; a host lets the kubelet reach any address the node can',
    ],
  },
  { policy: "restricted-volume-types", resource: "deployment-allowed-volumes", expected: "pass" },
  // hostPath is no-host-path-volumes' finding, not reported twice.
  { policy: "restricted-volume-types", resource: "deployment-host-path", expected: "pass" },
  {
    policy: "restricted-volume-types",
    resource: "deployment-nfs-volume",
    expected: "fail",
    messages: [
      'Deployment "api": volume "shared" is of type nfs, which the restricted Pod Security profile does not allow: mount the storage through a PersistentVolumeClaim or a CSI volume instead (allowed types: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret)',
    ],
  },
  { policy: "no-windows-host-process", resource: "pod-windows", expected: "pass" },
  {
    policy: "no-windows-host-process",
    resource: "pod-windows-host-process",
    expected: "fail",
    messages: [
      'Pod "win-agent": the pod sets securityContext.windowsOptions.hostProcess: true: remove it; a HostProcess container runs with the privileges of the Windows node',
    ],
  },
  { policy: "default-proc-mount", resource: "deployment-proc-mount-default", expected: "pass" },
  {
    policy: "default-proc-mount",
    resource: "deployment-proc-mount-unmasked",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" sets securityContext.procMount: Unmasked: remove it (or set Default) so /proc keeps the runtime\'s masked paths; the restricted profile allows no other value, even with hostUsers: false',
    ],
  },
  { policy: "safe-sysctls-only", resource: "deployment-safe-sysctls", expected: "pass" },
  {
    policy: "safe-sysctls-only",
    resource: "deployment-unsafe-sysctls",
    expected: "fail",
    messages: [
      'Deployment "api": the pod sets the sysctls kernel.msgmax and net.core.somaxconn: remove them from securityContext.sysctls (a node-wide setting belongs to the node\'s configuration); only kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_local_reserved_ports, net.ipv4.ip_unprivileged_port_start, net.ipv4.ping_group_range, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_rmem, net.ipv4.tcp_syncookies and net.ipv4.tcp_wmem are allowed',
    ],
  },
  { policy: "selinux-allowed-options", resource: "deployment-selinux-allowed", expected: "pass" },
  {
    policy: "selinux-allowed-options",
    resource: "deployment-selinux",
    expected: "fail",
    messages: [
      'Deployment "api": the pod sets securityContext.seLinuxOptions type "spc_t": set no user or role, and leave type unset or use one of container_t, container_init_t, container_kvm_t, container_engine_t',
      'Deployment "api": container "api" sets securityContext.seLinuxOptions user "system_u" and role "system_r": set no user or role, and leave type unset or use one of container_t, container_init_t, container_kvm_t, container_engine_t',
    ],
  },
  { policy: "apparmor-allowed-profiles", resource: "deployment-apparmor-localhost", expected: "pass" },
  {
    policy: "apparmor-allowed-profiles",
    resource: "deployment-apparmor-unconfined",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" sets AppArmor profile Unconfined: set securityContext.appArmorProfile.type to RuntimeDefault (or Localhost with a profile loaded on the nodes)',
    ],
  },
  {
    policy: "apparmor-allowed-profiles",
    resource: "deployment-apparmor-annotation",
    expected: "fail",
    messages: [
      'Deployment "api": the pod annotation container.apparmor.security.beta.kubernetes.io/api is "unconfined": remove it and set securityContext.appArmorProfile.type: RuntimeDefault on the container instead (the annotation is deprecated)',
    ],
  },
  { policy: "read-only-root-filesystem", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "read-only-root-filesystem",
    resource: "deployment-writable-root",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (e.g. /tmp)',
    ],
  },
  { policy: "resources-required", resource: "job-init-escalates", expected: "pass" },
  {
    policy: "resources-required",
    resource: "deployment-no-limits",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" has no requests.memory, limits.cpu and limits.memory: set resources.requests and resources.limits for cpu and memory (the registry entry\'s resources)',
    ],
  },
  { policy: "probes-required", resource: "deployment-restricted", expected: "pass" },
  { policy: "probes-required", resource: "cronjob-restricted", expected: "pass" },
  {
    policy: "probes-required",
    resource: "deployment-no-probes",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" has no livenessProbe and readinessProbe: declare probes.liveness and probes.readiness for it in the registry',
    ],
  },
  { policy: "allowed-image-registries", resource: "cronjob-restricted", expected: "pass" },
  {
    policy: "allowed-image-registries",
    resource: "deployment-foreign-registry",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" image "quay.io/evil/miner:1.0" is not from an allowed registry: use an image from one of ghcr.io/nexus-platform and docker.io/library, or add its registry to imageRegistries in registries/security.yaml',
    ],
  },
  { policy: "pinned-image-tags", resource: "deployment-digest-image", expected: "pass" },
  {
    policy: "pinned-image-tags",
    resource: "deployment-latest-image",
    expected: "fail",
    messages: ['Deployment "api": container "api" image "ghcr.io/nexus-platform/api:latest" uses the mutable tag latest: pin it to a version tag or a digest'],
  },
  {
    policy: "pinned-image-tags",
    resource: "deployment-untagged-image",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" image "ghcr.io/nexus-platform/api" has no tag: pin it to a version tag or a digest, e.g. ghcr.io/nexus-platform/api:1.2.3',
    ],
  },
  { policy: "no-default-service-account", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "no-default-service-account",
    resource: "deployment-default-sa",
    expected: "fail",
    messages: ["Deployment \"api\": the pod runs as the namespace's default ServiceAccount: set serviceAccountName to the workload's own ServiceAccount"],
  },
  { policy: "token-automount-declared", resource: "serviceaccount-no-automount", expected: "pass" },
  { policy: "token-automount-declared", resource: "serviceaccount-declared-automount", expected: "pass" },
  {
    policy: "token-automount-declared",
    resource: "serviceaccount-automount-unset",
    expected: "fail",
    messages: [
      'ServiceAccount "api" mounts its API token (automountServiceAccountToken is unset, which means true): set automountServiceAccountToken: false, or declare automountServiceAccountToken: true for "api" in the registry if it calls the Kubernetes API (it then carries the nexus.platform/token-automount annotation)',
    ],
  },
  {
    policy: "token-automount-declared",
    resource: "deployment-automount",
    expected: "fail",
    messages: [
      'Deployment "api": the pod sets automountServiceAccountToken: true: set it to false, or declare automountServiceAccountToken: true for "api" in the registry if it calls the Kubernetes API (it then carries the nexus.platform/token-automount annotation)',
    ],
  },
  { policy: "no-literal-secret-env", resource: "deployment-restricted", expected: "pass" },
  {
    policy: "no-literal-secret-env",
    resource: "deployment-literal-secret",
    expected: "fail",
    messages: [
      'Deployment "api": container "api" sets env DATABASE_PASSWORD to a literal value that looks like a secret: reference a Secret with valueFrom.secretKeyRef instead (list it under secrets: in the registry; the value lives in Pulumi config secrets)',
      'Deployment "api": container "api" sets env DATABASE_URL to a literal value that looks like a secret: reference a Secret with valueFrom.secretKeyRef instead (list it under secrets: in the registry; the value lives in Pulumi config secrets)',
    ],
  },
  {
    policy: "no-literal-secret-env",
    resource: "configmap-literal-secret",
    expected: "fail",
    messages: [
      'ConfigMap "api-env": key SMTP_PASSWORD holds a value that looks like a secret: move it to the entry\'s secrets: in the registry (a Pulumi config secret), which becomes a Secret',
    ],
  },
  { policy: "namespace-default-deny", resource: "namespace-default-deny", expected: "pass" },
  {
    policy: "namespace-default-deny",
    resource: "namespace-allow-all",
    expected: "fail",
    messages: [
      'Namespace "data" has no default-deny NetworkPolicy: add one in it with podSelector: {}, policyTypes: [Ingress, Egress] and no ingress or egress rules (SecurityBaseline does so for every registry namespace), then allow traffic with narrower policies',
    ],
  },
  { policy: "namespace-pod-security-labels", resource: "namespace-restricted", expected: "pass" },
  {
    policy: "namespace-pod-security-labels",
    resource: "namespace-unlabelled",
    expected: "fail",
    messages: [
      'Namespace "core" has no pod-security.kubernetes.io/enforce label: label it pod-security.kubernetes.io/enforce: restricted (the registry\'s podSecurity.level) so the API server rejects non-compliant pods',
    ],
  },
  {
    policy: "namespace-pod-security-labels",
    resource: "namespace-baseline",
    expected: "fail",
    messages: [
      'Namespace "web" enforces Pod Security level "baseline", weaker than the registry\'s "restricted": set pod-security.kubernetes.io/enforce: restricted',
    ],
  },
  { policy: "no-public-service-types", resource: "service-cluster-ip", expected: "pass" },
  { policy: "no-public-service-types", resource: "service-load-balancer-public", expected: "pass" },
  {
    policy: "no-public-service-types",
    resource: "service-node-port-internal",
    expected: "fail",
    messages: [
      'Service "backend-api" has type NodePort but "backend-api" is not declared exposure: public in registries/orchestration.yaml: use type ClusterIP, or declare the service public',
    ],
  },
  { policy: "no-wildcard-rbac", resource: "role-scoped", expected: "pass" },
  {
    policy: "no-wildcard-rbac",
    resource: "clusterrole-wildcard",
    expected: "fail",
    messages: [
      'ClusterRole "ops-everything" rule 2 grants "*" in apiGroups and resources: list the exact apiGroups and resources it needs (rbac rules in registries/security.yaml)',
      'ClusterRole "ops-everything" rule 3 grants "*" in verbs: list the exact verbs it needs (rbac rules in registries/security.yaml)',
    ],
  },
  { policy: "no-cluster-admin-bindings", resource: "rolebinding-scoped", expected: "pass" },
  {
    policy: "no-cluster-admin-bindings",
    resource: "clusterrolebinding-cluster-admin",
    expected: "fail",
    messages: [
      'ClusterRoleBinding "platform-admins-root" binds ClusterRole cluster-admin to Group "nexus-platform:platform-admins": bind a Role with only the rules needed instead (rbac in registries/security.yaml)',
    ],
  },
  { policy: "traceability-labels", resource: "deployment-restricted", expected: "pass" },
  { policy: "traceability-labels", resource: "kms-key-rotating", expected: "pass" },
  {
    policy: "traceability-labels",
    resource: "configmap-untraced",
    expected: "fail",
    messages: [
      'ConfigMap "api-config" has no label nexus.platform/owner and no annotation nexus.platform/source: build its metadata with components/labels.ts (metadata) so it names its owner team and the registry FILE:LINE it came from',
    ],
  },
  {
    policy: "traceability-labels",
    resource: "configmap-bad-source",
    expected: "fail",
    messages: [
      'ConfigMap "api-config" has nexus.platform/source "orchestration", which is not a registry FILE:LINE: take it from the model entry\'s source, e.g. "registries/orchestration.yaml:12"',
    ],
  },
  {
    policy: "traceability-labels",
    resource: "bucket-untagged",
    expected: "fail",
    messages: [
      'Bucket "scratch" has no tag nexus.platform/owner and no tag nexus.platform/source: build its tags with components/labels.ts (awsTags) so it names its owner team and the registry FILE:LINE it came from',
    ],
  },
  { policy: "stateful-workload-backup", resource: "statefulset-with-backup", expected: "pass" },
  {
    policy: "stateful-workload-backup",
    resource: "statefulset-without-backup",
    expected: "fail",
    messages: [
      'StatefulSet "redis" has no backup CronJob labelled nexus.platform/backup-of=redis: add a backup task with target: redis to registries/automation.yaml (its BackupJob carries that label)',
    ],
  },
  { policy: "cronjob-concurrency-forbid", resource: "cronjob-restricted", expected: "pass" },
  {
    policy: "cronjob-concurrency-forbid",
    resource: "cronjob-allow-concurrency",
    expected: "fail",
    messages: ['CronJob "postgres-backup" has concurrencyPolicy unset (Allow): set spec.concurrencyPolicy: Forbid so two runs never overlap'],
  },
  { policy: "cronjob-deadlines", resource: "cronjob-restricted", expected: "pass" },
  {
    policy: "cronjob-deadlines",
    resource: "cronjob-no-deadlines",
    expected: "fail",
    messages: [
      'CronJob "postgres-backup" has no spec.startingDeadlineSeconds and spec.jobTemplate.spec.activeDeadlineSeconds: set both (a missed run starts at most that late; a hung run is stopped after the task\'s timeoutSeconds)',
    ],
  },
  { policy: "s3-block-public-access", resource: "bucket-hardened", expected: "pass" },
  { policy: "s3-block-public-access", resource: "bucket-hardened-preview", expected: "pass" },
  {
    policy: "s3-block-public-access",
    resource: "bucket-bare",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" has no public access block: add an aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true',
    ],
  },
  {
    policy: "s3-block-public-access",
    resource: "bucket-public",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" has the public ACL "public-read": remove acl (buckets are private by default) and serve objects through signed URLs if needed',
      'Bucket "nexus-backups-prod" has a public access block that leaves blockPublicPolicy and restrictPublicBuckets off: set all four of blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true',
    ],
  },
  { policy: "s3-sse-kms", resource: "bucket-hardened", expected: "pass" },
  { policy: "s3-sse-kms", resource: "bucket-hardened-preview", expected: "pass" },
  { policy: "s3-sse-kms", resource: "bucket-hardened-by-name", expected: "pass" },
  {
    policy: "s3-sse-kms",
    resource: "bucket-bare",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" has no server-side encryption configuration: add an aws.s3.BucketServerSideEncryptionConfiguration for it with sseAlgorithm "aws:kms" and the backup KMS key as kmsMasterKeyId',
    ],
  },
  {
    policy: "s3-sse-kms",
    resource: "bucket-aes256",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" encrypts with AES256 instead of SSE-KMS: set applyServerSideEncryptionByDefault.sseAlgorithm to "aws:kms" with kmsMasterKeyId set to the backup KMS key',
    ],
  },
  {
    policy: "s3-sse-kms",
    resource: "bucket-kms-managed-key",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" uses SSE-KMS without kmsMasterKeyId, i.e. the AWS-managed key: set kmsMasterKeyId to the dedicated backup KMS key, which rotates',
    ],
  },
  { policy: "s3-versioning", resource: "bucket-hardened", expected: "pass" },
  { policy: "s3-versioning", resource: "bucket-hardened-by-name", expected: "pass" },
  {
    policy: "s3-versioning",
    resource: "bucket-bare",
    expected: "fail",
    messages: ['Bucket "nexus-backups-prod" has no versioning: add an aws.s3.BucketVersioning for it with versioningConfiguration.status "Enabled"'],
  },
  {
    policy: "s3-versioning",
    resource: "bucket-versioning-suspended",
    expected: "fail",
    messages: ['Bucket "nexus-backups-prod" has versioning Suspended: set versioningConfiguration.status to "Enabled"'],
  },
  { policy: "s3-tls-only", resource: "bucket-hardened", expected: "pass" },
  { policy: "s3-tls-only", resource: "bucket-hardened-preview", expected: "pass" },
  {
    policy: "s3-tls-only",
    resource: "bucket-bare",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" has no bucket policy: add an aws.s3.BucketPolicy for it that denies "s3:*" to Principal "*" when aws:SecureTransport is "false", on the bucket and its objects',
    ],
  },
  {
    policy: "s3-tls-only",
    resource: "bucket-policy-allows-http",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" has a bucket policy that does not deny plain-HTTP requests: add a statement that denies "s3:*" to Principal "*" when aws:SecureTransport is "false", on the bucket and its objects',
    ],
  },
  { policy: "s3-lifecycle-within-gdpr", resource: "bucket-hardened", expected: "pass" },
  { policy: "s3-lifecycle-within-gdpr", resource: "bucket-hardened-preview", expected: "pass" },
  {
    policy: "s3-lifecycle-within-gdpr",
    resource: "bucket-bare",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" has no enabled lifecycle rule that expires objects, so backups are kept forever: add an aws.s3.BucketLifecycleConfiguration with expiration.days from each backup task\'s retention',
    ],
  },
  {
    policy: "s3-lifecycle-within-gdpr",
    resource: "bucket-lifecycle-beyond-gdpr",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" keeps objects under "postgres/" for 45 days, beyond the GDPR maximum of 30 days: set expiration.days of the rule for "postgres/" to at most 30 (registries/automation.yaml retention)',
    ],
  },
  {
    policy: "s3-lifecycle-within-gdpr",
    resource: "bucket-lifecycle-noncurrent-forever",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" is versioned but never expires noncurrent versions under "postgres/", so deleted personal data stays: add noncurrentVersionExpiration with noncurrentDays at most 10 to the bucket-wide rule',
    ],
  },
  {
    policy: "s3-lifecycle-within-gdpr",
    resource: "bucket-lifecycle-none",
    expected: "fail",
    messages: [
      'Bucket "nexus-backups-prod" has no enabled lifecycle rule that expires objects, so backups are kept forever: add an aws.s3.BucketLifecycleConfiguration with expiration.days from each backup task\'s retention',
    ],
  },
  { policy: "kms-key-rotation", resource: "kms-key-rotating", expected: "pass" },
  { policy: "kms-key-rotation", resource: "kms-key-asymmetric", expected: "pass" },
  {
    policy: "kms-key-rotation",
    resource: "kms-key-static",
    expected: "fail",
    messages: ['Key "backups-key" does not rotate: set enableKeyRotation: true (yearly by default; rotationPeriodInDays to shorten it)'],
  },
  { policy: "iam-no-wildcards", resource: "role-policy-scoped", expected: "pass" },
  {
    policy: "iam-no-wildcards",
    resource: "policy-wildcards",
    expected: "fail",
    messages: [
      'Policy "backup-admin" statement 1 (Everything) allows Action "*": list the actions it needs, e.g. "s3:PutObject"',
      'Policy "backup-admin" statement 1 (Everything) allows Resource "*": scope it to ARNs, e.g. "arn:aws:s3:::BUCKET/PREFIX/*"',
      'Policy "backup-admin" statement 2 allows Action "s3:*": list the actions it needs, e.g. "s3:PutObject"',
      'Policy "backup-admin" statement 3 uses NotAction, which allows every other action: list the allowed actions with Action',
    ],
  },
  { policy: "slo-alerts-present", resource: "monitoring-with-alerts", expected: "pass" },
  { policy: "slo-alerts-present", resource: "prometheusrule-with-alerts", expected: "pass" },
  {
    policy: "slo-alerts-present",
    resource: "monitoring-without-alerts",
    expected: "fail",
    messages: [
      'SLO "frontend-availability" of service "frontend" has no burn-rate alert in the rules of ConfigMap "prometheus-rules": generate its multi-window burn-rate alerts (alerting rules labelled slo: frontend-availability) from registries/monitoring.yaml',
    ],
  },
  { policy: "backup-alerts-present", resource: "monitoring-with-alerts", expected: "pass" },
  { policy: "backup-alerts-present", resource: "prometheusrule-with-alerts", expected: "pass" },
  {
    policy: "backup-alerts-present",
    resource: "monitoring-without-alerts",
    expected: "fail",
    messages: [
      'backup task "postgres-backup" (backing up "postgres") has no alert in the rules of ConfigMap "prometheus-rules": add its "backup failed or missed" alert, labelled task: postgres-backup, to the MonitoringStack rules',
    ],
  },
  { policy: "prod-ha-user-facing", resource: "prod-frontend-ha", expected: "pass" },
  { policy: "prod-ha-user-facing", resource: "prod-frontend-autoscaled", expected: "pass" },
  {
    policy: "prod-ha-user-facing",
    resource: "prod-frontend-single",
    expected: "fail",
    messages: [
      'Deployment "frontend" of user-facing service "frontend" runs 1 replica in prod: set replicas to at least 2 in its prod override in registries/orchestration.yaml',
      'Deployment "frontend" of user-facing service "frontend" has no PodDisruptionBudget: run at least 2 replicas in prod so ServiceDeployment adds one, or add a PodDisruptionBudget selecting its pods',
    ],
  },
  // Extra rows: configuration changes the verdict.
  {
    policy: "allowed-image-registries",
    resource: "deployment-foreign-registry",
    expected: "pass",
    config: { allowedRegistries: ["quay.io/evil", "docker.io/library"] },
  },
  { policy: "no-public-service-types", resource: "service-node-port-internal", expected: "pass", config: { publicServices: ["backend-api"] } },
  { policy: "token-automount-declared", resource: "deployment-automount", expected: "pass", config: { tokenAutomountServices: ["api"] } },
  { policy: "prod-ha-user-facing", resource: "prod-frontend-single", expected: "pass", config: { environment: "dev", userFacingServices: ["frontend"] } },
  {
    policy: "prod-ha-user-facing",
    resource: "prod-frontend-ha",
    expected: "fail",
    config: { environment: "prod", userFacingServices: ["frontend", "backend-api"] },
    messages: [
      'user-facing service "backend-api" has no Deployment or StatefulSet in this stack: deploy it from registries/orchestration.yaml, or drop userFacing',
    ],
  },
  {
    policy: "slo-alerts-present",
    resource: "monitoring-with-alerts",
    expected: "fail",
    config: { slos: [{ name: "frontend-availability", service: "frontend" }], ruleResources: ["prometheus-rules", "prometheus-slo-rules"] },
    messages: ['rule resource "prometheus-slo-rules" is not in the stack: the MonitoringStack must create it, or correct ruleResources in the policy config'],
  },
  {
    policy: "s3-lifecycle-within-gdpr",
    resource: "bucket-hardened",
    expected: "fail",
    config: { gdprMaxDays: { "postgres/": 20, "users/": 30 } },
    messages: [
      'Bucket "nexus-backups-prod" keeps personal data under "postgres/" up to 21 days (expiration 14 + noncurrent 7), beyond the GDPR maximum of 20 days: lower noncurrentVersionExpiration.noncurrentDays to at most 6',
      'Bucket "nexus-backups-prod" has no lifecycle rule expiring objects under "users/", which hold personal data: add a rule with filter.prefix "users/" and expiration.days at most 30 (the task\'s gdpr.maxRetentionDays)',
    ],
  },
];

describe("policy table", () => {
  it.each(TABLE.map((row) => [`${row.policy} ${row.expected === "pass" ? "passes" : "fails"} ${row.resource}${row.config ? " (config)" : ""}`, row] as const))(
    "%s",
    async (_title, row) => {
      const result = await runPolicy(row.policy, ALL_FIXTURES[row.resource], { today: TODAY, ...TEST_CONFIG[row.policy], ...row.config });
      if (row.expected === "pass") {
        expect(result.messages).toEqual([]);
      } else {
        expect(result.messages).toEqual(row.messages);
        expect(result.diagnostics.every((d) => d.enforcementLevel === "mandatory")).toBe(true);
      }
    },
  );

  it("has a passing and a failing fixture for every catalog policy", () => {
    const missing = POLICY_IDS.flatMap((id) =>
      (["pass", "fail"] as const).filter((v) => !TABLE.some((r) => r.policy === id && r.expected === v)).map((v) => `${id}: no ${v} row`),
    );
    expect(missing).toEqual([]);
  });

  it("has messages for every failing row and none for passing rows", () => {
    expect(TABLE.filter((r) => (r.expected === "fail") !== (r.messages !== undefined && r.messages.length > 0))).toEqual([]);
  });
});
