/**
 * The policy table, in the style of `kyverno test`: for each policy the fixtures it passes and
 * those it fails, with the exact messages of each failure. Every row runs through the policy
 * server's own handlers (support.ts), with only that row's policy enabled and the config of
 * TEST_CONFIG.
 */
import { describe, expect, it } from "vitest";
import { POLICY_IDS, type PolicyId } from "../../domain/schema";
import { FIXTURES, TEST_CONFIG, TODAY, type FixtureName } from "./fixtures";
import { runPolicy } from "./support";

/** What a policy makes of fixtures. */
interface Cases {
  /** Fixtures it passes. */
  pass?: FixtureName[];
  /** Fixtures it fails, with the exact messages in report order. */
  fail?: Partial<Record<FixtureName, string[]>>;
}

interface PolicyCases extends Cases {
  /** Cases under config properties replacing the table's defaults, where configuration changes the verdict. */
  configured?: (Cases & { config: Record<string, unknown> })[];
}

/** no-literal-secret-env's messages for env variables of the "api" container of Deployment "api". */
const envSecrets = (...names: string[]) =>
  names.map(
    (name) =>
      `Deployment "api": container "api" sets env ${name} to a literal value that looks like a secret: reference a Secret with valueFrom.secretKeyRef instead (list it under secrets: in the registry; the value lives in Pulumi config secrets)`,
  );

/** no-literal-secret-env's messages for keys of ConfigMap "api-env". */
const configMapSecrets = (...keys: string[]) =>
  keys.map(
    (key) =>
      `ConfigMap "api-env": key ${key} holds a value that looks like a secret: move it to the entry's secrets: in the registry (a Pulumi config secret), which becomes a Secret`,
  );

const TABLE: Record<PolicyId, PolicyCases> = {
  "no-privileged-containers": {
    pass: ["deployment-restricted"],
    fail: {
      "pod-privileged": [
        'Pod "debug": container "debug" runs privileged: remove securityContext.privileged or set it to false; a privileged container has every device and capability of the node',
      ],
      "pod-ephemeral-privileged": [
        'Pod "debug": ephemeral container "debugger" runs privileged: remove securityContext.privileged or set it to false; a privileged container has every device and capability of the node',
      ],
    },
  },
  "no-host-namespaces": {
    pass: ["deployment-restricted"],
    fail: {
      "deployment-host-namespaces": [
        'Deployment "api": the pod sets hostNetwork: true and hostPID: true: remove them so the pod keeps its own namespaces; expose traffic through a Service instead',
      ],
    },
  },
  "no-host-ports": {
    pass: ["deployment-restricted"],
    fail: {
      "daemonset-host-port": ['DaemonSet "node-agent": container "api" binds host port 9100: remove hostPort and reach the container through a Service'],
    },
  },
  "no-host-path-volumes": {
    pass: ["cronjob-restricted"],
    fail: {
      "deployment-host-path": [
        'Deployment "api": volume "docker-sock" mounts hostPath "/var/run/docker.sock" from the node: use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead',
      ],
    },
  },
  "run-as-non-root": {
    pass: [
      "deployment-restricted",
      // In its own user namespace a pod's UID 0 is not root on the node (v1.35).
      "deployment-user-namespace",
      // Windows pods are not exempt from runAsNonRoot.
      "pod-windows",
    ],
    fail: {
      "statefulset-root": [
        'StatefulSet "postgres": container "postgres" runs as UID 0 (root): set runAsUser to a non-zero UID (10001 unless the image declares one)',
      ],
      "deployment-may-run-as-root": ['Deployment "api": container "api" may run as root: set securityContext.runAsNonRoot: true on the pod or the container'],
      "deployment-root-pod": [
        'Deployment "api": the pod runs as UID 0 (root): set securityContext.runAsUser to a non-zero UID (10001 unless the image declares one)',
        'Deployment "api": the pod sets securityContext.runAsNonRoot: false: set it to true',
      ],
      "pod-windows-may-run-as-root": ['Pod "win-api": container "win-api" may run as root: set securityContext.runAsNonRoot: true on the pod or the container'],
    },
  },
  "no-privilege-escalation": {
    pass: ["cronjob-restricted", "pod-windows"],
    fail: {
      "job-init-escalates": [
        'Job "migrate": init container "wait-for-db" does not forbid privilege escalation: set securityContext.allowPrivilegeEscalation: false',
      ],
    },
  },
  "drop-all-capabilities": {
    pass: ["deployment-restricted", "pod-windows"],
    fail: {
      "deployment-capabilities": [
        'Deployment "api": container "api" does not drop all capabilities: set securityContext.capabilities.drop: ["ALL"]',
        'Deployment "api": container "api" adds capabilities SYS_ADMIN: remove them from securityContext.capabilities.add (only NET_BIND_SERVICE may be added back)',
      ],
    },
  },
  "seccomp-runtime-default": {
    pass: ["deployment-restricted", "pod-windows"],
    fail: {
      "deployment-seccomp-unconfined": [
        'Deployment "api": container "api" uses seccomp profile Unconfined: set securityContext.seccompProfile.type to RuntimeDefault',
      ],
      "deployment-no-seccomp": ['Deployment "api": container "api" has no seccomp profile: set securityContext.seccompProfile.type: RuntimeDefault on the pod'],
      "deployment-seccomp-pod-unconfined": [
        'Deployment "api": the pod uses seccomp profile Unconfined: set securityContext.seccompProfile.type to RuntimeDefault',
      ],
    },
  },
  "no-host-probes-and-hooks": {
    pass: ["deployment-restricted"],
    fail: {
      "deployment-probe-host": [
        'Deployment "api": container "api" sets livenessProbe.httpGet.host "169.254.169.254", startupProbe.tcpSocket.host "10.0.0.1" and lifecycle.preStop.httpGet.host "10.0.0.2": remove host so the kubelet probes the pod\'s own IP; a host lets the kubelet reach any address the node can',
      ],
    },
  },
  "restricted-volume-types": {
    pass: [
      "deployment-allowed-volumes",
      // hostPath is no-host-path-volumes' finding, not reported twice.
      "deployment-host-path",
    ],
    fail: {
      "deployment-nfs-volume": [
        'Deployment "api": volume "shared" is of type nfs, which the restricted Pod Security profile does not allow: mount the storage through a PersistentVolumeClaim or a CSI volume instead (allowed types: configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret)',
      ],
    },
  },
  "no-windows-host-process": {
    pass: ["pod-windows"],
    fail: {
      "pod-windows-host-process": [
        'Pod "win-agent": the pod sets securityContext.windowsOptions.hostProcess: true: remove it; a HostProcess container runs with the privileges of the Windows node',
      ],
    },
  },
  "default-proc-mount": {
    pass: ["deployment-proc-mount-default"],
    fail: {
      "deployment-proc-mount-unmasked": [
        'Deployment "api": container "api" sets securityContext.procMount: Unmasked: remove it (or set Default) so /proc keeps the runtime\'s masked paths; the restricted profile allows no other value, even with hostUsers: false',
      ],
    },
  },
  "safe-sysctls-only": {
    pass: ["deployment-safe-sysctls"],
    fail: {
      "deployment-unsafe-sysctls": [
        'Deployment "api": the pod sets the sysctls kernel.msgmax and net.core.somaxconn: remove them from securityContext.sysctls (a node-wide setting belongs to the node\'s configuration); only kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_local_reserved_ports, net.ipv4.ip_unprivileged_port_start, net.ipv4.ping_group_range, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_rmem, net.ipv4.tcp_syncookies and net.ipv4.tcp_wmem are allowed',
      ],
    },
  },
  "selinux-allowed-options": {
    pass: ["deployment-selinux-allowed"],
    fail: {
      "deployment-selinux": [
        'Deployment "api": the pod sets securityContext.seLinuxOptions type "spc_t": set no user or role, and leave type unset or use one of container_t, container_init_t, container_kvm_t, container_engine_t',
        'Deployment "api": container "api" sets securityContext.seLinuxOptions user "system_u" and role "system_r": set no user or role, and leave type unset or use one of container_t, container_init_t, container_kvm_t, container_engine_t',
      ],
    },
  },
  "apparmor-allowed-profiles": {
    pass: ["deployment-apparmor-localhost"],
    fail: {
      "deployment-apparmor-unconfined": [
        'Deployment "api": container "api" sets AppArmor profile Unconfined: set securityContext.appArmorProfile.type to RuntimeDefault (or Localhost with a profile loaded on the nodes)',
      ],
      "deployment-apparmor-annotation": [
        'Deployment "api": the pod annotation container.apparmor.security.beta.kubernetes.io/api is "unconfined": remove it and set securityContext.appArmorProfile.type: RuntimeDefault on the container instead (the annotation is deprecated)',
      ],
    },
  },
  "read-only-root-filesystem": {
    pass: ["deployment-restricted"],
    fail: {
      "deployment-writable-root": [
        'Deployment "api": container "api" has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write (e.g. /tmp)',
      ],
    },
  },
  "resources-required": {
    pass: ["job-init-escalates"],
    fail: {
      "deployment-no-limits": [
        'Deployment "api": container "api" has no requests.memory, limits.cpu and limits.memory: set resources.requests and resources.limits for cpu and memory (the registry entry\'s resources)',
      ],
    },
  },
  "probes-required": {
    pass: ["deployment-restricted", "cronjob-restricted"],
    fail: {
      "deployment-no-probes": [
        'Deployment "api": container "api" has no livenessProbe and readinessProbe: declare probes.liveness and probes.readiness for it in the registry',
      ],
    },
  },
  "allowed-image-registries": {
    pass: ["cronjob-restricted"],
    fail: {
      "deployment-foreign-registry": [
        'Deployment "api": container "api" image "quay.io/evil/miner:1.0" is not from an allowed registry: use an image from one of ghcr.io/nexus-platform and docker.io/library, or add its registry to imageRegistries in registries/security.yaml',
      ],
    },
    configured: [
      {
        config: { allowedRegistries: ["quay.io/evil", "docker.io/library"] },
        pass: ["deployment-foreign-registry"],
      },
    ],
  },
  "pinned-image-tags": {
    pass: ["deployment-digest-image"],
    fail: {
      "deployment-latest-image": [
        'Deployment "api": container "api" image "ghcr.io/nexus-platform/api:latest" uses the mutable tag latest: pin it to a version tag or a digest',
      ],
      "deployment-untagged-image": [
        'Deployment "api": container "api" image "ghcr.io/nexus-platform/api" has no tag: pin it to a version tag or a digest, e.g. ghcr.io/nexus-platform/api:1.2.3',
      ],
    },
  },
  "no-default-service-account": {
    pass: ["deployment-restricted"],
    fail: {
      "deployment-default-sa": [
        "Deployment \"api\": the pod runs as the namespace's default ServiceAccount: set serviceAccountName to the workload's own ServiceAccount",
      ],
    },
  },
  "token-automount-declared": {
    pass: ["serviceaccount-no-automount", "serviceaccount-declared-automount"],
    fail: {
      "serviceaccount-automount-unset": [
        'ServiceAccount "api" mounts its API token (automountServiceAccountToken is unset, which means true): set automountServiceAccountToken: false, or declare automountServiceAccountToken: true (a service) or clusterAccess (a task) for "api" in the registry if it calls the Kubernetes API (it then carries the nexus.platform/token-automount annotation)',
      ],
      "deployment-automount": [
        'Deployment "api": the pod sets automountServiceAccountToken: true: set it to false, or declare automountServiceAccountToken: true (a service) or clusterAccess (a task) for "api" in the registry if it calls the Kubernetes API (it then carries the nexus.platform/token-automount annotation)',
      ],
    },
    configured: [
      {
        config: { tokenAutomountServices: ["api"] },
        pass: ["deployment-automount"],
      },
    ],
  },
  "no-literal-secret-env": {
    // The look-alikes are values the detector of contract/secrets.ts must let through.
    pass: ["deployment-restricted", "deployment-secret-look-alikes", "configmap-secret-look-alikes"],
    fail: {
      "deployment-literal-secret": envSecrets("DATABASE_PASSWORD", "DATABASE_URL"),
      "configmap-literal-secret": configMapSecrets("SMTP_PASSWORD"),
      // Names a plain word list misses, and webhook URLs carrying a token.
      "deployment-literal-secret-names": envSecrets("DB_PASS", "DB_PWD", "SESSION_KEY", "JWT_SIGNING_KEY_B64", "ALERT_WEBHOOK_URL"),
      "configmap-webhook-token": configMapSecrets("ALERT_WEBHOOK", "alertmanager.yml"),
    },
  },
  "namespace-default-deny": {
    pass: ["namespace-default-deny"],
    fail: {
      "namespace-allow-all": [
        'Namespace "data" has no default-deny NetworkPolicy: add one in it with podSelector: {}, policyTypes: [Ingress, Egress] and no ingress or egress rules (SecurityBaseline does so for every registry namespace), then allow traffic with narrower policies',
      ],
    },
  },
  "namespace-pod-security-labels": {
    pass: ["namespace-restricted"],
    fail: {
      "namespace-unlabelled": [
        'Namespace "core" has no pod-security.kubernetes.io/enforce label: label it pod-security.kubernetes.io/enforce: restricted (the registry\'s podSecurity.level) so the API server rejects non-compliant pods',
      ],
      "namespace-baseline": [
        'Namespace "web" enforces Pod Security level "baseline", weaker than the registry\'s "restricted": set pod-security.kubernetes.io/enforce: restricted',
      ],
    },
  },
  "no-public-service-types": {
    pass: ["service-cluster-ip", "service-load-balancer-public"],
    fail: {
      "service-node-port-internal": [
        'Service "backend-api" has type NodePort but "backend-api" is not declared exposure: public in registries/orchestration.yaml: use type ClusterIP, or declare the service public',
      ],
    },
    configured: [
      {
        config: { publicServices: ["backend-api"] },
        pass: ["service-node-port-internal"],
      },
    ],
  },
  "no-wildcard-rbac": {
    pass: ["role-scoped"],
    fail: {
      "clusterrole-wildcard": [
        'ClusterRole "ops-everything" rule 2 grants "*" in apiGroups and resources: list the exact apiGroups and resources it needs (rbac rules in registries/security.yaml)',
        'ClusterRole "ops-everything" rule 3 grants "*" in verbs: list the exact verbs it needs (rbac rules in registries/security.yaml)',
      ],
    },
  },
  "no-cluster-admin-bindings": {
    pass: ["rolebinding-scoped"],
    fail: {
      "clusterrolebinding-cluster-admin": [
        'ClusterRoleBinding "platform-admins-root" binds ClusterRole cluster-admin to Group "nexus-platform:platform-admins": bind a Role with only the rules needed instead (rbac in registries/security.yaml)',
      ],
    },
  },
  "traceability-labels": {
    pass: ["deployment-restricted", "kms-key-rotating"],
    fail: {
      "configmap-untraced": [
        'ConfigMap "api-config" has no label nexus.platform/owner and no annotation nexus.platform/source: build its metadata with components/labels.ts (metadata) so it names its owner team and the registry FILE:LINE it came from',
      ],
      "configmap-bad-source": [
        'ConfigMap "api-config" has nexus.platform/source "orchestration", which is not a registry FILE:LINE: take it from the model entry\'s source, e.g. "registries/orchestration.yaml:12"',
      ],
      "bucket-untagged": [
        'Bucket "scratch" has no tag nexus.platform/owner and no tag nexus.platform/source: build its tags with components/labels.ts (awsTags) so it names its owner team and the registry FILE:LINE it came from',
      ],
    },
  },
  "stateful-workload-backup": {
    pass: ["statefulset-with-backup"],
    fail: {
      "statefulset-without-backup": [
        'StatefulSet "redis" has no backup CronJob labelled nexus.platform/backup-of=redis: add a backup task with target: redis to registries/automation.yaml (its BackupJob carries that label)',
      ],
    },
  },
  "cronjob-concurrency-forbid": {
    pass: ["cronjob-restricted"],
    fail: {
      "cronjob-allow-concurrency": [
        'CronJob "postgres-backup" has concurrencyPolicy unset (Allow): set spec.concurrencyPolicy: Forbid so two runs never overlap',
      ],
    },
  },
  "cronjob-deadlines": {
    pass: ["cronjob-restricted"],
    fail: {
      "cronjob-no-deadlines": [
        'CronJob "postgres-backup" has no spec.startingDeadlineSeconds and spec.jobTemplate.spec.activeDeadlineSeconds: set both (a missed run starts at most that late; a hung run is stopped after the task\'s timeoutSeconds)',
      ],
    },
  },
  "s3-block-public-access": {
    pass: ["bucket-hardened", "bucket-hardened-preview"],
    fail: {
      "bucket-bare": [
        'Bucket "nexus-backups-prod" has no public access block: add an aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true',
      ],
      "bucket-public": [
        'Bucket "nexus-backups-prod" has the public ACL "public-read": remove acl (buckets are private by default) and serve objects through signed URLs if needed',
        'Bucket "nexus-backups-prod" has a public access block that leaves blockPublicPolicy and restrictPublicBuckets off: set all four of blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true',
      ],
    },
  },
  "s3-sse-kms": {
    pass: ["bucket-hardened", "bucket-hardened-preview", "bucket-hardened-by-name"],
    fail: {
      "bucket-bare": [
        'Bucket "nexus-backups-prod" has no server-side encryption configuration: add an aws.s3.BucketServerSideEncryptionConfiguration for it with sseAlgorithm "aws:kms" and the backup KMS key as kmsMasterKeyId',
      ],
      "bucket-aes256": [
        'Bucket "nexus-backups-prod" encrypts with AES256 instead of SSE-KMS: set applyServerSideEncryptionByDefault.sseAlgorithm to "aws:kms" with kmsMasterKeyId set to the backup KMS key',
      ],
      "bucket-kms-managed-key": [
        'Bucket "nexus-backups-prod" uses SSE-KMS without kmsMasterKeyId, i.e. the AWS-managed key: set kmsMasterKeyId to the dedicated backup KMS key, which rotates',
      ],
    },
  },
  "s3-versioning": {
    pass: ["bucket-hardened", "bucket-hardened-by-name"],
    fail: {
      "bucket-bare": ['Bucket "nexus-backups-prod" has no versioning: add an aws.s3.BucketVersioning for it with versioningConfiguration.status "Enabled"'],
      "bucket-versioning-suspended": ['Bucket "nexus-backups-prod" has versioning Suspended: set versioningConfiguration.status to "Enabled"'],
    },
  },
  "s3-tls-only": {
    pass: ["bucket-hardened", "bucket-hardened-preview"],
    fail: {
      "bucket-bare": [
        'Bucket "nexus-backups-prod" has no bucket policy: add an aws.s3.BucketPolicy for it that denies "s3:*" to Principal "*" when aws:SecureTransport is "false", on the bucket and its objects',
      ],
      "bucket-policy-allows-http": [
        'Bucket "nexus-backups-prod" has a bucket policy that does not deny plain-HTTP requests: add a statement that denies "s3:*" to Principal "*" when aws:SecureTransport is "false", on the bucket and its objects',
      ],
    },
  },
  "s3-lifecycle-within-gdpr": {
    pass: ["bucket-hardened", "bucket-hardened-preview"],
    fail: {
      "bucket-bare": [
        'Bucket "nexus-backups-prod" has no enabled lifecycle rule that expires objects, so backups are kept forever: add an aws.s3.BucketLifecycleConfiguration with expiration.days from each backup task\'s retention',
      ],
      "bucket-lifecycle-beyond-gdpr": [
        'Bucket "nexus-backups-prod" keeps objects under "postgres/" for 45 days, beyond the GDPR maximum of 30 days: set expiration.days of the rule for "postgres/" to at most 30 (registries/automation.yaml retention)',
      ],
      "bucket-lifecycle-noncurrent-forever": [
        'Bucket "nexus-backups-prod" is versioned but never expires noncurrent versions under "postgres/", so deleted personal data stays: add noncurrentVersionExpiration with noncurrentDays at most 10 to the bucket-wide rule',
      ],
      "bucket-lifecycle-none": [
        'Bucket "nexus-backups-prod" has no enabled lifecycle rule that expires objects, so backups are kept forever: add an aws.s3.BucketLifecycleConfiguration with expiration.days from each backup task\'s retention',
      ],
    },
    configured: [
      {
        config: { gdprMaxDays: { "postgres/": 20, "users/": 30 } },
        fail: {
          "bucket-hardened": [
            'Bucket "nexus-backups-prod" keeps personal data under "postgres/" up to 21 days (expiration 14 + noncurrent 7), beyond the GDPR maximum of 20 days: lower noncurrentVersionExpiration.noncurrentDays to at most 6',
            'Bucket "nexus-backups-prod" has no lifecycle rule expiring objects under "users/", which hold personal data: add a rule with filter.prefix "users/" and expiration.days at most 30 (the task\'s gdpr.maxRetentionDays)',
          ],
        },
      },
    ],
  },
  "kms-key-rotation": {
    pass: ["kms-key-rotating", "kms-key-asymmetric"],
    fail: {
      "kms-key-static": ['Key "backups-key" does not rotate: set enableKeyRotation: true (yearly by default; rotationPeriodInDays to shorten it)'],
    },
  },
  "iam-no-wildcards": {
    pass: ["role-policy-scoped"],
    fail: {
      "policy-wildcards": [
        'Policy "backup-admin" statement 1 (Everything) allows Action "*": list the actions it needs, e.g. "s3:PutObject"',
        'Policy "backup-admin" statement 1 (Everything) allows Resource "*": scope it to ARNs, e.g. "arn:aws:s3:::BUCKET/PREFIX/*"',
        'Policy "backup-admin" statement 2 allows Action "s3:*": list the actions it needs, e.g. "s3:PutObject"',
        'Policy "backup-admin" statement 3 uses NotAction, which allows every other action: list the allowed actions with Action',
      ],
    },
  },
  "slo-alerts-present": {
    pass: ["monitoring-with-alerts", "prometheusrule-with-alerts"],
    fail: {
      "monitoring-without-alerts": [
        'SLO "frontend-availability" of service "frontend" has no burn-rate alert in the rules of ConfigMap "prometheus-rules": generate its multi-window burn-rate alerts (alerting rules labelled slo: frontend-availability) from registries/monitoring.yaml',
      ],
    },
    configured: [
      {
        config: { slos: [{ name: "frontend-availability", service: "frontend" }], ruleResources: ["prometheus-rules", "prometheus-slo-rules"] },
        fail: {
          "monitoring-with-alerts": [
            'rule resource "prometheus-slo-rules" is not in the stack: the MonitoringStack must create it, or correct ruleResources in the policy config',
          ],
        },
      },
    ],
  },
  "backup-alerts-present": {
    pass: ["monitoring-with-alerts", "prometheusrule-with-alerts"],
    fail: {
      "monitoring-without-alerts": [
        'backup task "postgres-backup" (backing up "postgres") has no alert in the rules of ConfigMap "prometheus-rules": add its "backup failed or missed" alert, labelled task: postgres-backup, to the MonitoringStack rules',
      ],
    },
  },
  "prod-ha-user-facing": {
    pass: ["prod-frontend-ha", "prod-frontend-autoscaled"],
    fail: {
      "prod-frontend-single": [
        'Deployment "frontend" of user-facing service "frontend" runs 1 replica in prod: set replicas to at least 2 in its prod override in registries/orchestration.yaml',
        'Deployment "frontend" of user-facing service "frontend" has no PodDisruptionBudget: run at least 2 replicas in prod so ServiceDeployment adds one, or add a PodDisruptionBudget selecting its pods',
      ],
    },
    configured: [
      {
        config: { environment: "dev", userFacingServices: ["frontend"] },
        pass: ["prod-frontend-single"],
      },
      {
        config: { environment: "prod", userFacingServices: ["frontend", "backend-api"] },
        fail: {
          "prod-frontend-ha": [
            'user-facing service "backend-api" has no Deployment or StatefulSet in this stack: deploy it from registries/orchestration.yaml, or drop userFacing',
          ],
        },
      },
    ],
  },
};

interface Row {
  policy: PolicyId;
  resource: FixtureName;
  expected: "pass" | "fail";
  /** Exact messages of a failure, in report order. */
  messages?: string[];
  /** Config properties replacing the table's defaults for this row. */
  config?: Record<string, unknown> | undefined;
}

const rowsOf = (policy: PolicyId, cases: Cases, config?: Record<string, unknown>): Row[] => [
  ...(cases.pass ?? []).map((resource): Row => ({ policy, resource, expected: "pass", config })),
  ...(Object.entries(cases.fail ?? {}) as [FixtureName, string[]][]).map(([resource, messages]): Row => ({
    policy,
    resource,
    expected: "fail",
    messages,
    config,
  })),
];

const ROWS: Row[] = (Object.entries(TABLE) as [PolicyId, PolicyCases][]).flatMap(([policy, cases]) => [
  ...rowsOf(policy, cases),
  ...(cases.configured ?? []).flatMap((c) => rowsOf(policy, c, c.config)),
]);

describe("policy table", () => {
  it.each(ROWS.map((row) => [`${row.policy} ${row.expected === "pass" ? "passes" : "fails"} ${row.resource}${row.config ? " (config)" : ""}`, row] as const))(
    "%s",
    async (_title, row) => {
      const result = await runPolicy(row.policy, FIXTURES[row.resource], { today: TODAY, ...TEST_CONFIG[row.policy], ...row.config });
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
      (["pass", "fail"] as const).filter((v) => !ROWS.some((r) => r.policy === id && r.expected === v)).map((v) => `${id}: no ${v} row`),
    );
    expect(missing).toEqual([]);
  });

  it("has messages for every failing row and none for passing rows", () => {
    expect(ROWS.filter((r) => (r.expected === "fail") !== (r.messages !== undefined && r.messages.length > 0))).toEqual([]);
  });
});
