import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Model } from "../domain/model";
import type { Probe } from "../domain/schema";
import {
  alertmanagerConfig,
  alertRuleGroups,
  assertUniqueAlertNames,
  backupAlertRules,
  channelSecretKeys,
  grafanaDashboard,
  grafanaDashboardProvider,
  grafanaDatasources,
  prometheusConfig,
  ruleCount,
  sloRuleGroups,
  type BackupTask,
  type RuleFile,
  type ScrapeTarget,
  toYaml,
} from "./builders/monitoring";
import { probe, resourceRequirements, restrictedContainerSecurityContext, restrictedPodSecurityContext, tmpVolume } from "./builders/pod";
import type { PlatformContext } from "./context";
import { LABEL, PART_OF, annotations, labels, metadata, selectorLabels, type Traceable } from "./labels";

type Stack = Model["monitoring"]["stack"];
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;
type EnvVar = k8s.types.input.core.v1.EnvVar;

export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
const ALERTMANAGER_CLUSTER_PORT = 9094;
export const GRAFANA_PORT = 3000;

const PROMETHEUS_CONFIG_DIR = "/etc/prometheus";
const ALERTMANAGER_CONFIG_DIR = "/etc/alertmanager";
const GRAFANA_DASHBOARDS_DIR = "/var/lib/grafana-dashboards";

/** Rule files by kind; the same names key the ConfigMap and name the PrometheusRule objects. */
const RULE_FILES = ["alerts", "slos", "backups"] as const;

export interface MonitoringStackArgs {
  context: PlatformContext;
  /** Kubernetes namespace, already created. */
  namespace: string;
  /** Team answerable for the monitoring stack itself (labels), and for alerts nobody else owns. */
  owner: string;
  stack: Model["monitoring"]["stack"];
  routing: Model["monitoring"]["routing"];
  channels: Model["monitoring"]["channels"];
  alerts: Model["monitoring"]["alerts"];
  slos: Model["monitoring"]["slos"];
  dashboards: Model["monitoring"]["dashboards"];
  /** Services exporting metrics; `port` is the metrics port. */
  scrapeTargets: readonly ScrapeTarget[];
  /** Backup CronJobs; `name` is the CronJob's name in Kubernetes. */
  backupTasks: readonly BackupTask[];
  teams: Model["teams"];
  /** Channel secrets by Pulumi config key: secret outputs, never plain values. */
  secrets: Readonly<Record<string, pulumi.Input<string>>>;
  /** Owning team per service, for alert labels; services of `scrapeTargets` are known already. */
  serviceOwners?: Readonly<Record<string, string>>;
  /** "host:port" of kube-state-metrics for standalone mode; the backup alerts read its series. */
  kubeStateMetrics?: string;
}

/**
 * Prometheus, Alertmanager and Grafana, configured entirely from the monitoring registry.
 *
 * `standalone` runs Prometheus from a ConfigMap of generated configuration and rule files.
 * `operator` leaves Prometheus to the Prometheus Operator: a Prometheus resource plus
 * PrometheusRule and ServiceMonitor resources. In both modes Alertmanager is a Deployment of our
 * own reading its configuration from a Secret, because that configuration holds channel secrets
 * and an AlertmanagerConfig resource would only reach an operator-managed Alertmanager.
 */
export class MonitoringStack extends pulumi.ComponentResource {
  public readonly prometheusUrl: pulumi.Output<string>;
  public readonly alertmanagerUrl: pulumi.Output<string>;
  public readonly grafanaUrl: pulumi.Output<string>;
  /** Alerting and recording rules generated, across every rule file. */
  public readonly ruleCount: number;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    // Everything that can be wrong in the arguments is found before anything is registered.
    const rules = ruleFilesFor(args);
    const secretKeys = requiredSecretKeys(args);
    // Hashed with placeholders for the secrets: a plain hash of the real file would let anyone
    // reading the Deployment test guesses of a weak password offline, and a secret hash would
    // hide the whole pod spec from previews. Rotating only a secret needs a rollout restart.
    const alertmanagerChecksum = sha256(renderAlertmanager(args, Object.fromEntries(secretKeys.map((k) => [k, `<secret:${k}>`]))));
    super("nexus:monitoring:MonitoringStack", name, {}, opts);
    const { context, namespace, stack } = args;
    const parent = { parent: this };
    const traceable = (part: string): Traceable => ({
      name: part,
      owner: args.owner,
      source: stack.source,
      environment: context.environment,
      component: "monitoring",
    });
    const meta = (part: string, objectName: string, ns: string | undefined = namespace) => metadata(traceable(part), context, objectName, ns);
    const names = {
      prometheus: `${name}-prometheus`,
      alertmanager: `${name}-alertmanager`,
      grafana: `${name}-grafana`,
    };
    const svcHost = (n: string) => `${n}.${namespace}.svc`;
    const ruleFiles = RULE_FILES.filter((kind) => rules[kind].groups.length > 0);
    this.ruleCount = ruleCount(Object.values(rules));

    const serviceAccount = (part: string, objectName: string) =>
      new k8s.core.v1.ServiceAccount(
        objectName,
        // No token by default; only operator-mode Prometheus reads the API, and asks for it.
        { metadata: meta(part, objectName), automountServiceAccountToken: false },
        parent,
      );

    const service = (part: string, objectName: string, port: number, selector = podSelector(part, context.environment), targetPort = "http") =>
      new k8s.core.v1.Service(
        objectName,
        {
          metadata: meta(part, objectName),
          spec: {
            type: "ClusterIP",
            selector,
            ports: [{ name: "http", port, targetPort, protocol: "TCP" }],
          },
        },
        parent,
      );

    const deployment = (part: string, objectName: string, w: Workload) =>
      new k8s.apps.v1.Deployment(
        objectName,
        {
          metadata: meta(part, objectName),
          spec: {
            replicas: w.component.replicas,
            selector: { matchLabels: podSelector(part, context.environment) },
            template: {
              metadata: {
                labels: labels(traceable(part)),
                // Await hints belong on the Deployment, not on its pods.
                annotations: {
                  ...annotations(traceable(part), { skipAwait: false }),
                  "checksum/config": w.checksum,
                },
              },
              spec: {
                serviceAccountName: w.serviceAccount.metadata.name,
                automountServiceAccountToken: false,
                securityContext: restrictedPodSecurityContext(),
                containers: [
                  {
                    name: part,
                    image: w.component.image,
                    args: w.args,
                    env: w.env,
                    ports: [{ name: "http", containerPort: w.port, protocol: "TCP" }, ...(w.extraPorts ?? [])],
                    readinessProbe: probe(httpProbe(w.readyPath), w.port),
                    livenessProbe: probe({ ...httpProbe(w.livePath), initialDelaySeconds: 30 }, w.port),
                    resources: resourceRequirements(w.component.resources),
                    securityContext: restrictedContainerSecurityContext(),
                    volumeMounts: [...w.mounts, tmpVolume().mount],
                  },
                ],
                volumes: [...w.volumes, tmpVolume().volume],
              },
            },
          },
        },
        parent,
      );

    // --- Alertmanager (both modes) -----------------------------------------------------------
    const alertmanagerYaml = pulumi.secret(
      pulumi
        .all(secretKeys.map((key) => args.secrets[key]!))
        .apply((values) => renderAlertmanager(args, Object.fromEntries(secretKeys.map((k, i) => [k, values[i]!])))),
    );
    const amSecret = new k8s.core.v1.Secret(
      names.alertmanager,
      {
        metadata: meta("alertmanager", names.alertmanager),
        type: "Opaque",
        stringData: { "alertmanager.yml": alertmanagerYaml },
      },
      parent,
    );
    const amClustered = stack.alertmanager.replicas > 1;
    const amPeers = `${names.alertmanager}-peers`;
    if (amClustered) {
      // Replicas gossip so one notification goes out, not one per replica; a headless Service
      // resolves to every replica's address.
      new k8s.core.v1.Service(
        amPeers,
        {
          metadata: meta("alertmanager", amPeers),
          spec: {
            clusterIP: "None",
            publishNotReadyAddresses: true,
            selector: podSelector("alertmanager", context.environment),
            ports: [{ name: "cluster", port: ALERTMANAGER_CLUSTER_PORT, protocol: "TCP" }],
          },
        },
        parent,
      );
    }
    deployment("alertmanager", names.alertmanager, {
      component: stack.alertmanager,
      serviceAccount: serviceAccount("alertmanager", names.alertmanager),
      port: ALERTMANAGER_PORT,
      readyPath: "/-/ready",
      livePath: "/-/healthy",
      args: [
        `--config.file=${ALERTMANAGER_CONFIG_DIR}/alertmanager.yml`,
        "--storage.path=/alertmanager",
        ...(amClustered
          ? [`--cluster.listen-address=0.0.0.0:${ALERTMANAGER_CLUSTER_PORT}`, `--cluster.peer=${svcHost(amPeers)}:${ALERTMANAGER_CLUSTER_PORT}`]
          : ["--cluster.listen-address="]),
      ],
      extraPorts: amClustered ? [{ name: "cluster", containerPort: ALERTMANAGER_CLUSTER_PORT, protocol: "TCP" }] : [],
      checksum: alertmanagerChecksum,
      volumes: [
        { name: "config", secret: { secretName: amSecret.metadata.name } },
        { name: "data", emptyDir: { sizeLimit: "1Gi" } },
      ],
      mounts: [
        { name: "config", mountPath: ALERTMANAGER_CONFIG_DIR, readOnly: true },
        { name: "data", mountPath: "/alertmanager" },
      ],
    });
    const amService = service("alertmanager", names.alertmanager, ALERTMANAGER_PORT);

    // --- Prometheus ------------------------------------------------------------------------------
    const promAccount = serviceAccount("prometheus", names.prometheus);
    if (stack.mode === "standalone") {
      const data: Record<string, string> = {
        "prometheus.yml": toYaml(
          prometheusConfig({
            scrapeInterval: stack.scrapeInterval,
            environment: context.environment,
            ruleFiles: ruleFiles.map(ruleFileName),
            alertmanagers: [`${svcHost(names.alertmanager)}:${ALERTMANAGER_PORT}`],
            targets: args.scrapeTargets,
            ...(args.kubeStateMetrics !== undefined ? { kubeStateMetrics: args.kubeStateMetrics } : {}),
          }),
        ),
        ...Object.fromEntries(ruleFiles.map((kind) => [ruleFileName(kind), toYaml(rules[kind])])),
      };
      const config = new k8s.core.v1.ConfigMap(names.prometheus, { metadata: meta("prometheus", names.prometheus), data }, parent);
      deployment("prometheus", names.prometheus, {
        component: stack.prometheus,
        serviceAccount: promAccount,
        port: PROMETHEUS_PORT,
        readyPath: "/-/ready",
        livePath: "/-/healthy",
        args: [`--config.file=${PROMETHEUS_CONFIG_DIR}/prometheus.yml`, "--storage.tsdb.path=/prometheus", `--storage.tsdb.retention.time=${stack.retention}`],
        checksum: sha256(JSON.stringify(data)),
        volumes: [
          { name: "config", configMap: { name: config.metadata.name } },
          // Metrics are rebuilt from the targets after a restart; retention bounds the loss.
          { name: "data", emptyDir: {} },
        ],
        mounts: [
          { name: "config", mountPath: PROMETHEUS_CONFIG_DIR, readOnly: true },
          { name: "data", mountPath: "/prometheus" },
        ],
      });
    } else {
      this.operatorPrometheus(name, args, {
        meta,
        traceable,
        account: promAccount,
        alertmanagerService: amService,
        rules,
        ruleFiles,
        parent,
      });
    }
    // The operator labels its pods itself (overwriting name and instance) and names the port "web".
    const promService =
      stack.mode === "standalone"
        ? service("prometheus", names.prometheus, PROMETHEUS_PORT)
        : service("prometheus", names.prometheus, PROMETHEUS_PORT, { [LABEL.name]: "prometheus", "operator.prometheus.io/name": names.prometheus }, "web");

    // --- Grafana ---------------------------------------------------------------------------------
    const prometheusUrl = `http://${svcHost(names.prometheus)}:${PROMETHEUS_PORT}`;
    const grafanaFiles = {
      datasources: {
        "datasources.yaml": toYaml(grafanaDatasources({ prometheusUrl, scrapeInterval: stack.scrapeInterval })),
      },
      provider: {
        "dashboards.yaml": toYaml(grafanaDashboardProvider({ path: GRAFANA_DASHBOARDS_DIR })),
      },
      dashboards: Object.fromEntries(args.dashboards.map((d) => [`${d.name}.json`, JSON.stringify(grafanaDashboard(d), null, 2)])),
    };
    const grafanaConfigMap = (suffix: string, data: Record<string, string>) =>
      new k8s.core.v1.ConfigMap(`${names.grafana}-${suffix}`, { metadata: meta("grafana", `${names.grafana}-${suffix}`), data }, parent);
    const datasources = grafanaConfigMap("datasources", grafanaFiles.datasources);
    const provider = grafanaConfigMap("dashboard-provider", grafanaFiles.provider);
    const dashboards = grafanaConfigMap("dashboards", grafanaFiles.dashboards);
    deployment("grafana", names.grafana, {
      component: stack.grafana,
      serviceAccount: serviceAccount("grafana", names.grafana),
      port: GRAFANA_PORT,
      readyPath: "/api/health",
      livePath: "/api/health",
      args: [],
      env: grafanaEnv(),
      checksum: sha256(JSON.stringify(grafanaFiles)),
      volumes: [
        { name: "datasources", configMap: { name: datasources.metadata.name } },
        { name: "dashboard-provider", configMap: { name: provider.metadata.name } },
        { name: "dashboards", configMap: { name: dashboards.metadata.name } },
        { name: "data", emptyDir: { sizeLimit: "1Gi" } },
      ],
      mounts: [
        { name: "datasources", mountPath: "/etc/grafana/provisioning/datasources", readOnly: true },
        {
          name: "dashboard-provider",
          mountPath: "/etc/grafana/provisioning/dashboards",
          readOnly: true,
        },
        { name: "dashboards", mountPath: GRAFANA_DASHBOARDS_DIR, readOnly: true },
        { name: "data", mountPath: "/var/lib/grafana" },
      ],
    });
    const grafanaService = service("grafana", names.grafana, GRAFANA_PORT);

    const url = (svc: k8s.core.v1.Service, port: number) => pulumi.interpolate`http://${svc.metadata.name}.${namespace}.svc:${port}`;
    this.prometheusUrl = url(promService, PROMETHEUS_PORT);
    this.alertmanagerUrl = url(amService, ALERTMANAGER_PORT);
    this.grafanaUrl = url(grafanaService, GRAFANA_PORT);
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      alertmanagerUrl: this.alertmanagerUrl,
      grafanaUrl: this.grafanaUrl,
      ruleCount: this.ruleCount,
    });
  }

  /**
   * The operator runs Prometheus and loads rules and scrape targets from custom resources
   * selected by our labels; it needs read access to Services and Endpoints where it scrapes.
   */
  private operatorPrometheus(
    name: string,
    args: MonitoringStackArgs,
    x: {
      meta: (part: string, objectName: string, ns?: string) => ReturnType<typeof metadata>;
      traceable: (part: string) => Traceable;
      account: k8s.core.v1.ServiceAccount;
      alertmanagerService: k8s.core.v1.Service;
      rules: Record<(typeof RULE_FILES)[number], RuleFile>;
      ruleFiles: readonly (typeof RULE_FILES)[number][];
      parent: pulumi.CustomResourceOptions;
    },
  ): void {
    const { context, namespace, stack } = args;
    const promName = `${name}-prometheus`;
    // Our monitoring objects of this environment, and nothing another stack labelled.
    const selected = {
      [LABEL.component]: "monitoring",
      [LABEL.partOf]: PART_OF,
      [LABEL.environment]: context.environment,
    };

    for (const kind of x.ruleFiles) {
      new k8s.apiextensions.CustomResource(
        `${name}-${kind}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PrometheusRule",
          metadata: x.meta(kind, `${name}-${kind}`),
          spec: x.rules[kind],
        },
        x.parent,
      );
    }

    for (const target of args.scrapeTargets) {
      new k8s.apiextensions.CustomResource(
        `${name}-${target.name}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "ServiceMonitor",
          metadata: x.meta(target.name, `${name}-${target.name}`),
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
                interval: stack.scrapeInterval,
                relabelings: [{ action: "replace", targetLabel: "owner", replacement: target.owner }],
              },
            ],
          },
        },
        x.parent,
      );
    }

    // Discovery: read-only, namespaced, only where targets (or the Alertmanager) live.
    const discovery = [
      {
        apiGroups: [""],
        resources: ["services", "endpoints", "pods"],
        verbs: ["get", "list", "watch"],
      },
      {
        apiGroups: ["discovery.k8s.io"],
        resources: ["endpointslices"],
        verbs: ["get", "list", "watch"],
      },
    ];
    for (const ns of new Set([namespace, ...args.scrapeTargets.map((t) => t.namespace)])) {
      const resourceName = ns === namespace ? promName : `${promName}-${ns}`;
      const role = new k8s.rbac.v1.Role(resourceName, { metadata: x.meta("prometheus", promName, ns), rules: discovery }, x.parent);
      new k8s.rbac.v1.RoleBinding(
        resourceName,
        {
          metadata: x.meta("prometheus", promName, ns),
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Role",
            name: role.metadata.name,
          },
          subjects: [{ kind: "ServiceAccount", name: x.account.metadata.name, namespace }],
        },
        x.parent,
      );
    }

    const restricted = restrictedContainerSecurityContext();
    new k8s.apiextensions.CustomResource(
      promName,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "Prometheus",
        metadata: x.meta("prometheus", promName),
        spec: {
          image: stack.prometheus.image,
          replicas: stack.prometheus.replicas,
          resources: resourceRequirements(stack.prometheus.resources),
          retention: stack.retention,
          scrapeInterval: stack.scrapeInterval,
          evaluationInterval: stack.scrapeInterval,
          externalLabels: { environment: context.environment },
          serviceAccountName: x.account.metadata.name,
          // Service discovery reads the API: the one pod here that needs a token.
          automountServiceAccountToken: true,
          podMetadata: { labels: labels(x.traceable("prometheus")) },
          securityContext: restrictedPodSecurityContext(),
          // Merged by name into the operator's containers.
          containers: [
            { name: "prometheus", securityContext: restricted },
            { name: "config-reloader", securityContext: restricted },
          ],
          serviceMonitorSelector: { matchLabels: selected },
          ruleSelector: { matchLabels: selected },
          alerting: {
            alertmanagers: [{ namespace, name: x.alertmanagerService.metadata.name, port: "http" }],
          },
        },
      },
      x.parent,
    );
  }
}

function ruleFilesFor(args: MonitoringStackArgs): Record<(typeof RULE_FILES)[number], RuleFile> {
  const ownership = {
    services: {
      ...Object.fromEntries(args.scrapeTargets.map((t) => [t.name, t.owner])),
      ...args.serviceOwners,
    },
    fallback: args.owner,
  };
  const rules = {
    alerts: alertRuleGroups({ alerts: args.alerts, ownership }),
    slos: sloRuleGroups(args.slos, ownership),
    backups: backupAlertRules(args.backupTasks),
  };
  assertUniqueAlertNames(Object.values(rules));
  return rules;
}

function requiredSecretKeys(args: MonitoringStackArgs): string[] {
  const keys = channelSecretKeys(args.channels);
  const missing = keys.filter((key) => args.secrets[key] === undefined);
  if (missing.length > 0) {
    throw new Error(`monitoring channels need the secrets ${missing.join(", ")}: ` + `pulumi config set --secret KEY VALUE (${args.stack.source})`);
  }
  return keys;
}

/** alertmanager.yml with the given secret values; the caller decides whether they are real. */
function renderAlertmanager(args: MonitoringStackArgs, secrets: Record<string, string>): string {
  return toYaml(
    alertmanagerConfig({
      channels: args.channels,
      routing: args.routing,
      alerts: args.alerts,
      slos: args.slos,
      teams: args.teams,
      backupTasks: args.backupTasks,
      secrets,
    }),
  );
}

interface Workload {
  component: Stack["prometheus"];
  serviceAccount: k8s.core.v1.ServiceAccount;
  port: number;
  readyPath: string;
  livePath: string;
  args: string[];
  env?: EnvVar[];
  extraPorts?: k8s.types.input.core.v1.ContainerPort[];
  checksum: string;
  volumes: Volume[];
  mounts: VolumeMount[];
}

/** Stable across releases; the instance label keeps two environments' pods apart. */
function podSelector(part: string, environment: string): Record<string, string> {
  return { ...selectorLabels(part), [LABEL.instance]: `${part}-${environment}` };
}

function httpProbe(path: string): Probe {
  return {
    type: "http",
    path,
    initialDelaySeconds: 5,
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold: 3,
  };
}

function ruleFileName(kind: string): string {
  return `${kind}.rules.yml`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Grafana writes only below its data directory. No admin user is created (there would be a
 * default password): dashboards are provisioned from the registry and open read-only.
 */
function grafanaEnv(): EnvVar[] {
  const env: Record<string, string> = {
    GF_PATHS_DATA: "/var/lib/grafana",
    GF_PATHS_LOGS: "/var/lib/grafana/log",
    GF_PATHS_PLUGINS: "/var/lib/grafana/plugins",
    GF_PATHS_PROVISIONING: "/etc/grafana/provisioning",
    GF_LOG_MODE: "console",
    GF_SERVER_HTTP_PORT: String(GRAFANA_PORT),
    GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION: "true",
    GF_AUTH_ANONYMOUS_ENABLED: "true",
    GF_AUTH_ANONYMOUS_ORG_ROLE: "Viewer",
    GF_AUTH_DISABLE_LOGIN_FORM: "true",
    GF_USERS_ALLOW_SIGN_UP: "false",
    // Offline clusters: no calls home.
    GF_ANALYTICS_REPORTING_ENABLED: "false",
    GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
  };
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}
