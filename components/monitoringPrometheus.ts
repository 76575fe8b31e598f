import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Model } from "../domain/model";
import { nodeScrapeConfigs, prometheusConfig, prometheusNodeRules, toYaml, type RuleFile, type ScrapeTarget } from "./builders/monitoring";
import type { ApiServerEndpoint } from "./builders/network";
import { resourceRequirements, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./builders/pod";
import { LABEL, PART_OF, labels, selectorLabels } from "./labels";
import { sha256, type Endpoint, type MonitoringScope } from "./monitoringScope";

export const PROMETHEUS_PORT = 9090;
const CONFIG_DIR = "/etc/prometheus";

/** Rule files by kind; the same names key the ConfigMap and name the PrometheusRule objects. */
export const RULE_FILES = ["alerts", "slos", "backups", "tasks", "runs"] as const;
export type RuleFiles = Record<(typeof RULE_FILES)[number], RuleFile>;

export interface PrometheusPart {
  component: Model["monitoring"]["stack"]["prometheus"];
  scrapeInterval: string;
  retention: string;
  rules: RuleFiles;
  /** Services exporting metrics; `port` is the metrics port. */
  scrapeTargets: readonly ScrapeTarget[];
  alertmanager: Endpoint;
  /** kube-state-metrics, whose series the task, backup and restart alerts read. */
  kubeStateMetrics: Endpoint;
  /** Where the API server answers: node discovery and the kubelet scrapes go through it. */
  apiServer: pulumi.Input<readonly ApiServerEndpoint[]>;
}

/** The claim's spec: the registry's size and class; none where the registry asks for no storage. */
function claimSpec(part: PrometheusPart): k8s.types.input.core.v1.PersistentVolumeClaimSpec | undefined {
  const storage = part.component.storage;
  if (storage === undefined) return undefined;
  return {
    accessModes: ["ReadWriteOnce"],
    ...(storage.storageClass !== undefined ? { storageClassName: storage.storageClass } : {}),
    resources: { requests: { storage: storage.size } },
  };
}

/** The rule kinds that have rules: an empty rule file is left out rather than shipped. */
function ruleKinds(rules: RuleFiles) {
  return RULE_FILES.filter((kind) => rules[kind].groups.length > 0);
}

/** Prometheus as a Deployment of our own, configured by a ConfigMap of generated files. */
export function standalonePrometheus(scope: MonitoringScope, part: PrometheusPart): Endpoint {
  const objectName = scope.child("prometheus");
  const kinds = ruleKinds(part.rules);
  const ruleFileName = (kind: string) => `${kind}.rules.yml`;
  const data: Record<string, string> = {
    "prometheus.yml": toYaml(
      prometheusConfig({
        scrapeInterval: part.scrapeInterval,
        environment: scope.environment,
        ruleFiles: kinds.map(ruleFileName),
        alertmanagers: [part.alertmanager.address],
        targets: part.scrapeTargets,
        kubeStateMetrics: part.kubeStateMetrics.address,
        ...(part.component.nodes !== undefined ? { nodes: part.component.nodes } : {}),
      }),
    ),
    ...Object.fromEntries(kinds.map((kind) => [ruleFileName(kind), toYaml(part.rules[kind])])),
  };
  const config = new k8s.core.v1.ConfigMap(objectName, { metadata: scope.meta("prometheus", objectName), data }, scope.opts);
  const account = scope.serviceAccount("prometheus", objectName, true);
  nodeAccess(scope, account, part);
  const spec = claimSpec(part);
  // The claim's name, not its output: the Deployment must not wait for a claim that binds only
  // once the Deployment's pod is scheduled.
  const claim = `${objectName}-data`;
  if (spec !== undefined) scope.claim("prometheus", claim, spec);
  scope.deployment(
    "prometheus",
    objectName,
    {
      component: part.component,
      serviceAccount: account,
      // Node discovery reads the API with the pod's token.
      readsApi: true,
      port: PROMETHEUS_PORT,
      readyPath: "/-/ready",
      livePath: "/-/healthy",
      args: [`--config.file=${CONFIG_DIR}/prometheus.yml`, "--storage.tsdb.path=/prometheus", `--storage.tsdb.retention.time=${part.retention}`],
      checksum: sha256(JSON.stringify(data)),
      volumes: [
        { name: "config", configMap: { name: config.metadata.name } },
        // Without a claim the series live as long as the pod; retention bounds the loss.
        spec !== undefined ? { name: "data", persistentVolumeClaim: { claimName: claim } } : { name: "data", emptyDir: {} },
      ],
      mounts: [
        { name: "config", mountPath: CONFIG_DIR, readOnly: true },
        { name: "data", mountPath: "/prometheus" },
      ],
    },
    spec !== undefined,
  );
  return scope.endpoint("prometheus", PROMETHEUS_PORT);
}

/** Nodes found and their kubelets read through the API server: the role, and egress to the API server. */
function nodeAccess(scope: MonitoringScope, account: k8s.core.v1.ServiceAccount, part: PrometheusPart): void {
  scope.clusterAccess("prometheus", account, prometheusNodeRules());
  scope.apiServerEgress("prometheus", part.apiServer);
}

/**
 * The Prometheus Operator runs Prometheus and loads rules and scrape targets from custom
 * resources selected by our labels; it needs read access to Services and Endpoints where it
 * scrapes.
 */
export function operatorPrometheus(scope: MonitoringScope, part: PrometheusPart): Endpoint {
  const account = scope.serviceAccount("prometheus", scope.child("prometheus"), true);
  for (const kind of ruleKinds(part.rules)) prometheusRule(scope, kind, part.rules[kind]);
  for (const target of part.scrapeTargets) serviceMonitor(scope, target, part.scrapeInterval);
  kubeStateMetricsMonitor(scope, part.kubeStateMetrics, part.scrapeInterval);
  discoveryAccess(scope, account, part.scrapeTargets);
  nodeAccess(scope, account, part);
  const nodeJobs = nodeJobsSecret(scope, part.component.nodes);
  prometheusResource(scope, part, account, nodeJobs);
  // The operator labels its pods itself (overwriting name and instance) and names the port "web".
  return scope.endpoint("prometheus", PROMETHEUS_PORT, { [LABEL.name]: "prometheus", "operator.prometheus.io/name": scope.child("prometheus") }, "web");
}

function prometheusRule(scope: MonitoringScope, kind: string, rules: RuleFile): void {
  const objectName = scope.child(kind);
  new k8s.apiextensions.CustomResource(
    objectName,
    { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: scope.meta(kind, objectName), spec: rules },
    scope.opts,
  );
}

function serviceMonitor(scope: MonitoringScope, target: ScrapeTarget, interval: string): void {
  const objectName = scope.child(target.name);
  new k8s.apiextensions.CustomResource(
    objectName,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: scope.meta(target.name, objectName),
      spec: {
        // job="<service>" as in standalone mode, so registry alerts work in both.
        jobLabel: LABEL.name,
        namespaceSelector: { matchNames: [target.namespace] },
        selector: { matchLabels: selectorLabels(target.name) },
        endpoints: [
          {
            // By number: the port's name is the workload's business, its number is registered.
            targetPort: target.port,
            path: target.metricsPath,
            interval,
            relabelings: [{ action: "replace", targetLabel: "owner", replacement: target.owner }],
          },
        ],
      },
    },
    scope.opts,
  );
}

/** kube-state-metrics through its Service, its labels (the namespace of the object described) kept. */
function kubeStateMetricsMonitor(scope: MonitoringScope, ksm: Endpoint, interval: string): void {
  const objectName = scope.child("kube-state-metrics");
  new k8s.apiextensions.CustomResource(
    objectName,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: scope.meta("kube-state-metrics", objectName),
      spec: {
        jobLabel: LABEL.name,
        namespaceSelector: { matchNames: [scope.namespace] },
        selector: { matchLabels: selectorLabels("kube-state-metrics") },
        endpoints: [{ port: "http", interval, honorLabels: true }],
      },
    },
    { ...scope.opts, dependsOn: [ksm.service] },
  );
}

/**
 * The node jobs (kubelet, cAdvisor) as the operator takes scrape configuration it has no resource
 * for: a Secret of additional scrape configs.
 */
function nodeJobsSecret(scope: MonitoringScope, nodes: readonly string[] | undefined): { name: pulumi.Output<string>; key: string } {
  const objectName = scope.child("prometheus-nodes");
  const key = "nodes.yml";
  const secret = new k8s.core.v1.Secret(
    objectName,
    { metadata: scope.meta("prometheus", objectName), type: "Opaque", stringData: { [key]: toYaml(nodeScrapeConfigs(nodes)) } },
    scope.opts,
  );
  return { name: secret.metadata.name, key };
}

/** Discovery: read-only, namespaced, only where targets (or the Alertmanager) live. */
function discoveryAccess(scope: MonitoringScope, account: k8s.core.v1.ServiceAccount, targets: readonly ScrapeTarget[]): void {
  const rules = [
    { apiGroups: [""], resources: ["services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
  ];
  const promName = scope.child("prometheus");
  for (const ns of new Set([scope.namespace, ...targets.map((t) => t.namespace)])) {
    const resourceName = ns === scope.namespace ? promName : `${promName}-${ns}`;
    const role = new k8s.rbac.v1.Role(resourceName, { metadata: scope.meta("prometheus", promName, ns), rules }, scope.opts);
    new k8s.rbac.v1.RoleBinding(
      resourceName,
      {
        metadata: scope.meta("prometheus", promName, ns),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: scope.namespace }],
      },
      scope.opts,
    );
  }
}

function prometheusResource(
  scope: MonitoringScope,
  part: PrometheusPart,
  account: k8s.core.v1.ServiceAccount,
  nodeJobs: { name: pulumi.Output<string>; key: string },
): void {
  const claim = claimSpec(part);
  const objectName = scope.child("prometheus");
  // Our monitoring objects of this environment, and nothing another stack labelled.
  const selected = { [LABEL.component]: "monitoring", [LABEL.partOf]: PART_OF, [LABEL.environment]: scope.environment };
  const restricted = restrictedContainerSecurityContext();
  new k8s.apiextensions.CustomResource(
    objectName,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Prometheus",
      metadata: scope.meta("prometheus", objectName),
      spec: {
        image: part.component.image,
        replicas: part.component.replicas,
        resources: resourceRequirements(part.component.resources),
        retention: part.retention,
        ...(claim !== undefined ? { storage: { volumeClaimTemplate: { spec: claim } } } : {}),
        additionalScrapeConfigs: { name: nodeJobs.name, key: nodeJobs.key },
        scrapeInterval: part.scrapeInterval,
        evaluationInterval: part.scrapeInterval,
        externalLabels: { environment: scope.environment },
        serviceAccountName: account.metadata.name,
        // Service discovery reads the API: the one pod here that needs a token.
        automountServiceAccountToken: true,
        podMetadata: { labels: labels(scope.traceable("prometheus")) },
        securityContext: restrictedPodSecurityContext(),
        // Merged by name into the operator's containers.
        containers: [
          { name: "prometheus", securityContext: restricted },
          { name: "config-reloader", securityContext: restricted },
        ],
        serviceMonitorSelector: { matchLabels: selected },
        ruleSelector: { matchLabels: selected },
        alerting: { alertmanagers: [{ namespace: scope.namespace, name: part.alertmanager.service.metadata.name, port: "http" }] },
      },
    },
    scope.opts,
  );
}
