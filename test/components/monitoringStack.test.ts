import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  alertRuleGroups,
  backupAlertRules,
  sloRuleGroups,
  taskAlertRules,
  taskRunRecords,
  type BackupTask,
  type ScrapeTarget,
} from "../../components/builders/monitoring";
import { MonitoringStack, type MonitoringStackArgs } from "../../components/monitoringStack";
import { K8S } from "../../contract/types";
import { loadModel } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { SECRET_SIG, runMocked, type MockRun } from "../../internal/pulumi/mocks";
import { RESTRICTED_CONTAINER } from "../support/expectations";
import { expectComponentTree, kubeInputs, kubeObject, secretInside } from "../support/inputs";
import { MINIMAL_REGISTRIES } from "../support/registries";
import { expectNoPlaintextSecret } from "../support/secrets";

const COMPONENT = "nexus:monitoring:MonitoringStack";
const NS = "observability";

/** The operator's own resources; contract/types.ts lists only what the policy pack inspects. */
const OPERATOR = {
  ServiceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  Prometheus: "kubernetes:monitoring.coreos.com/v1:Prometheus",
} as const;

const model: Model = loadModel({ registriesDir: MINIMAL_REGISTRIES, env: "dev" });

const scrapeTargets: ScrapeTarget[] = [{ name: "api", namespace: "core", port: 9102, metricsPath: "/metrics", owner: "platform" }];
const backupTasks: BackupTask[] = [
  {
    name: "db-backup",
    namespace: "data",
    owner: "data",
    schedule: "0 2 * * *",
    source: "minimal/automation.yaml:4",
  },
];

/** The minimal model, with a pager channel added so more than one secret is in play. */
function args(overrides: Partial<MonitoringStackArgs> = {}): MonitoringStackArgs {
  const m = model.monitoring;
  return {
    context: { environment: "dev", skipAwait: false },
    namespace: NS,
    owner: "platform",
    stack: {
      ...m.stack,
      prometheus: { ...m.stack.prometheus, replicas: 2 },
      grafana: {
        ...m.stack.grafana,
        replicas: 3,
        resources: {
          requests: { cpu: "77m", memory: "99Mi" },
          limits: { cpu: "333m", memory: "444Mi" },
        },
      },
    },
    routing: { ...m.routing, critical: ["pager", "ops-slack"] },
    channels: [...m.channels, { name: "pager", type: "pagerduty", routingKeySecret: "pagerdutyKey", source: "x:1" }],
    alerts: m.alerts,
    slos: m.slos,
    dashboards: [
      {
        name: "overview",
        title: "Overview",
        services: ["api"],
        panels: [{ title: "Up", type: "stat", expr: "up" }],
        source: "minimal/monitoring.yaml:50",
      },
    ],
    scrapeTargets,
    backupTasks,
    tasks: [
      {
        name: "report",
        namespace: "core",
        owner: "platform",
        kind: "report",
        runner: "k8s-cronjob",
        schedule: "0 7 * * 1",
        source: "minimal/automation.yaml:20",
      },
      { name: "migrate", namespace: "core", owner: "platform", kind: "migration", runner: "k8s-job", source: "minimal/automation.yaml:30" },
    ],
    watchedNamespaces: ["core", "data", NS],
    apiServer: [{ ip: "10.244.0.1", port: 6443 }],
    teams: model.teams,
    secrets: {
      slackWebhookUrl: pulumi.secret("https://hooks.slack.example/s3cr3t-slack"),
      pagerdutyKey: pulumi.secret("s3cr3t-pagerduty"),
    },
    ...overrides,
  };
}

function deploy(a: MonitoringStackArgs = args()): Promise<MockRun> {
  return runMocked(() => {
    const stack = new MonitoringStack("mon", a);
    return {
      prometheusUrl: stack.prometheusUrl,
      alertmanagerUrl: stack.alertmanagerUrl,
      grafanaUrl: stack.grafanaUrl,
      ruleCount: stack.ruleCount,
    };
  });
}

const children = (run: MockRun) => run.resources.filter((r) => r.type !== COMPONENT);

/** The cluster access of kube-state-metrics (per watched namespace) and Prometheus (nodes), and their API egress. */
const ACCESS = {
  [K8S.ClusterRole]: ["mon-kube-state-metrics", "mon-prometheus"],
  [K8S.ClusterRoleBinding]: ["mon-prometheus"],
  [K8S.RoleBinding]: ["mon-kube-state-metrics-core", "mon-kube-state-metrics-data", "mon-kube-state-metrics-observability"],
  [K8S.NetworkPolicy]: ["mon-kube-state-metrics-api-egress", "mon-prometheus-api-egress"],
};

describe("MonitoringStack (standalone)", () => {
  it("creates exactly these children, named from the component name", async () => {
    const run = await deploy();
    expectComponentTree(run, COMPONENT, "mon", {
      [K8S.ServiceAccount]: ["mon-prometheus", "mon-alertmanager", "mon-grafana", "mon-kube-state-metrics"],
      [K8S.ConfigMap]: ["mon-prometheus", "mon-grafana-datasources", "mon-grafana-dashboard-provider", "mon-grafana-dashboards"],
      [K8S.Secret]: ["mon-alertmanager"],
      [K8S.Deployment]: ["mon-prometheus", "mon-alertmanager", "mon-grafana", "mon-kube-state-metrics"],
      [K8S.Service]: ["mon-prometheus", "mon-alertmanager", "mon-grafana", "mon-kube-state-metrics"],
      ...ACCESS,
    });
  });

  it("puts every child in the namespace with the platform labels and the source annotation", async () => {
    const run = await deploy();
    for (const r of children(run)) {
      const meta = kubeObject(r).metadata;
      const clusterWide = r.type === K8S.ClusterRole || r.type === K8S.ClusterRoleBinding;
      // Cluster-wide names carry the namespace; a RoleBinding lies in the namespace it grants.
      expect(meta.name, r.name).toBe(clusterWide ? `${NS}-${r.name}` : r.type === K8S.RoleBinding ? r.name.replace(/-[a-z]+$/, "") : r.name);
      expect(meta.namespace, r.name).toBe(clusterWide ? undefined : r.type === K8S.RoleBinding ? r.name.replace(/^.*-/, "") : NS);
      expect(meta.annotations["nexus.platform/source"], r.name).toBe(model.monitoring.stack.source);
      expect(meta.labels, r.name).toMatchObject({
        "app.kubernetes.io/component": "monitoring",
        "app.kubernetes.io/part-of": "nexus-platform",
        "app.kubernetes.io/managed-by": "pulumi",
        "nexus.platform/owner": "platform",
        "nexus.platform/environment": "dev",
      });
      expect(meta.labels["app.kubernetes.io/name"], r.name).toBe(
        r.name
          .replace(/^mon-/, "")
          .replace(/-(datasources|dashboard-provider|dashboards|api-egress)$/, "")
          .replace(/^(kube-state-metrics)-[a-z]+$/, "$1"),
      );
    }
  });

  it("runs every container restricted, with images, resources and replicas from the registry", async () => {
    const run = await deploy();
    const a = args();
    const expected = {
      "mon-prometheus": {
        c: a.stack.prometheus,
        ready: "/-/ready",
        live: "/-/healthy",
        port: 9090,
      },
      "mon-alertmanager": {
        c: a.stack.alertmanager,
        ready: "/-/ready",
        live: "/-/healthy",
        port: 9093,
      },
      "mon-grafana": { c: a.stack.grafana, ready: "/api/health", live: "/api/health", port: 3000 },
    };
    for (const [name, e] of Object.entries(expected)) {
      const spec = kubeInputs(run, K8S.Deployment, name).spec;
      expect(spec.replicas).toBe(e.c.replicas);
      const pod = spec.template.spec;
      expect(pod.serviceAccountName).toBe(name);
      // Prometheus discovers and scrapes nodes through the API: the only one here with a token.
      expect(pod.automountServiceAccountToken).toBe(name === "mon-prometheus");
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.containers).toHaveLength(1);
      const c = pod.containers[0]!;
      expect(c.image).toBe(e.c.image);
      expect(c.resources).toEqual(e.c.resources);
      expect(c.securityContext).toEqual(RESTRICTED_CONTAINER);
      expect(c.readinessProbe.httpGet).toEqual({ path: e.ready, port: e.port });
      expect(c.livenessProbe.httpGet).toEqual({ path: e.live, port: e.port });
      expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
      expect(spec.template.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
      expect(spec.selector.matchLabels).toEqual(
        Object.fromEntries(
          Object.entries(spec.template.metadata.labels).filter(([k]) =>
            ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of"].includes(k),
          ),
        ),
      );
    }
    const mounts = (name: string) => kubeInputs(run, K8S.Deployment, name).spec.template.spec.containers[0]!.volumeMounts;
    expect(mounts("mon-prometheus")).toContainEqual({ name: "data", mountPath: "/prometheus" });
    expect(mounts("mon-alertmanager")).toContainEqual({ name: "data", mountPath: "/alertmanager" });
    expect(mounts("mon-grafana")).toContainEqual({ name: "data", mountPath: "/var/lib/grafana" });
    const promArgs = kubeInputs(run, K8S.Deployment, "mon-prometheus").spec.template.spec.containers[0]!.args;
    expect(promArgs).toContain(`--storage.tsdb.retention.time=${args().stack.retention}`);
    // One replica: no gossip, so no peer lookups that would never answer.
    expect(kubeInputs(run, K8S.Deployment, "mon-alertmanager").spec.template.spec.containers[0]!.args).toContain("--cluster.listen-address=");
  });

  it("writes prometheus.yml and the rule files into the Prometheus ConfigMap", async () => {
    const run = await deploy();
    const data = kubeInputs(run, K8S.ConfigMap, "mon-prometheus").data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual([
      "alerts.rules.yml",
      "backups.rules.yml",
      "prometheus.yml",
      "runs.rules.yml",
      "slos.rules.yml",
      "tasks.rules.yml",
    ]);
    const config = parse(data["prometheus.yml"]!);
    expect(config.rule_files).toEqual(["alerts.rules.yml", "slos.rules.yml", "backups.rules.yml", "tasks.rules.yml", "runs.rules.yml"]);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(["mon-alertmanager.observability.svc:9093"]);
    expect(config.scrape_configs.map((j: { job_name: string }) => j.job_name)).toEqual(["prometheus", "api", "kube-state-metrics", "kubelet", "cadvisor"]);
    expect(config.scrape_configs[2].static_configs[0].targets).toEqual(["mon-kube-state-metrics.observability.svc:8080"]);
    expect(parse(data["tasks.rules.yml"]!)).toEqual(taskAlertRules(args().tasks));
    expect(config.scrape_configs[1].dns_sd_configs[0]).toMatchObject({ names: ["api-pods.core.svc.cluster.local"], port: 9102 });
    const ownership = { services: { api: "platform" }, fallback: "platform" };
    expect(parse(data["alerts.rules.yml"]!)).toEqual(alertRuleGroups({ alerts: model.monitoring.alerts, ownership }));
    expect(parse(data["slos.rules.yml"]!)).toEqual(sloRuleGroups(model.monitoring.slos, ownership));
    expect(parse(data["backups.rules.yml"]!)).toEqual(backupAlertRules(backupTasks));
  });

  it("provisions Grafana's datasource, dashboard provider and dashboards", async () => {
    const run = await deploy();
    const ds = parse(kubeInputs(run, K8S.ConfigMap, "mon-grafana-datasources").data["datasources.yaml"]!);
    expect(ds.datasources[0].url).toBe("http://mon-prometheus.observability.svc:9090");
    const provider = parse(kubeInputs(run, K8S.ConfigMap, "mon-grafana-dashboard-provider").data["dashboards.yaml"]!);
    const dashboards = kubeInputs(run, K8S.ConfigMap, "mon-grafana-dashboards").data;
    expect(Object.keys(dashboards)).toEqual(["overview.json"]);
    expect(JSON.parse(dashboards["overview.json"]!).uid).toBe("overview");
    const grafana = kubeInputs(run, K8S.Deployment, "mon-grafana").spec.template.spec.containers[0]!;
    expect(grafana.volumeMounts).toContainEqual({
      name: "dashboards",
      mountPath: provider.providers[0].options.path,
      readOnly: true,
    });
    // No admin user means no default password to leave in place.
    expect(grafana.env).toContainEqual({
      name: "GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION",
      value: "true",
    });
  });

  it("keeps every secret value inside the Alertmanager Secret's secret wrapper", async () => {
    const run = await deploy();
    expectNoPlaintextSecret(run);
    const stringData = kubeInputs(run, K8S.Secret, "mon-alertmanager").stringData;
    expect(stringData[SECRET_SIG]).toBeDefined();
    const config = parse(secretInside<Record<string, string>>(stringData)["alertmanager.yml"]!);
    expect(config.receivers).toContainEqual({
      name: "pager",
      pagerduty_configs: [{ routing_key: "s3cr3t-pagerduty", send_resolved: true }],
    });
    expect(config.receivers.find((r: { name: string }) => r.name === "ops-slack").slack_configs[0].api_url).toBe("https://hooks.slack.example/s3cr3t-slack");
    const am = kubeInputs(run, K8S.Deployment, "mon-alertmanager").spec.template.spec;
    expect(am.volumes).toContainEqual({
      name: "config",
      secret: { secretName: "mon-alertmanager" },
    });
  });

  it("exports in-cluster URLs and the rule count", async () => {
    const run = await deploy();
    const rules = [
      alertRuleGroups({
        alerts: model.monitoring.alerts,
        ownership: { services: {}, fallback: "x" },
      }),
      sloRuleGroups(model.monitoring.slos),
      backupAlertRules(backupTasks),
      taskAlertRules(args().tasks),
      taskRunRecords([{ ...backupTasks[0]!, kind: "backup", runner: "k8s-cronjob" }, ...args().tasks]),
    ];
    expect(run.outputs).toEqual({
      prometheusUrl: "http://mon-prometheus.observability.svc:9090",
      alertmanagerUrl: "http://mon-alertmanager.observability.svc:9093",
      grafanaUrl: "http://mon-grafana.observability.svc:3000",
      ruleCount: rules.reduce((n, f) => n + f.groups.reduce((m, g) => m + g.rules.length, 0), 0),
    });
  });

  it("clusters Alertmanager replicas through a headless Service", async () => {
    const a = args();
    const run = await deploy({
      ...a,
      stack: { ...a.stack, alertmanager: { ...a.stack.alertmanager, replicas: 2 } },
    });
    const peers = kubeInputs(run, K8S.Service, "mon-alertmanager-peers");
    expect(peers.spec.clusterIP).toBe("None");
    expect(kubeInputs(run, K8S.Deployment, "mon-alertmanager").spec.template.spec.containers[0]!.args).toContain(
      "--cluster.peer=mon-alertmanager-peers.observability.svc:9094",
    );
  });

  it("puts await hints on the Deployments, never on their pods", async () => {
    const run = await deploy(args({ context: { environment: "dev", skipAwait: true } }));
    const d = kubeInputs(run, K8S.Deployment, "mon-grafana");
    expect(d.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
    expect(d.spec.template.metadata.annotations).not.toHaveProperty("pulumi.com/skipAwait");
  });

  it("names a missing channel secret and how to set it, before registering anything", () => {
    // Thrown before the component registers, so no engine is needed to see it.
    expect(() => new MonitoringStack("mon", args({ secrets: { slackWebhookUrl: pulumi.secret("x") } }))).toThrow(
      /need the secrets pagerdutyKey: pulumi config set --secret/,
    );
  });
});

describe("MonitoringStack (operator)", () => {
  const operator = () => {
    const a = args();
    return deploy({ ...a, stack: { ...a.stack, mode: "operator" } });
  };

  it("replaces the Prometheus config and rule files by Prometheus, PrometheusRule and ServiceMonitor resources", async () => {
    const run = await operator();
    expectComponentTree(run, COMPONENT, "mon", {
      [K8S.ServiceAccount]: ["mon-prometheus", "mon-alertmanager", "mon-grafana", "mon-kube-state-metrics"],
      [K8S.ConfigMap]: ["mon-grafana-datasources", "mon-grafana-dashboard-provider", "mon-grafana-dashboards"],
      [K8S.Secret]: ["mon-alertmanager", "mon-prometheus-nodes"],
      [K8S.Deployment]: ["mon-alertmanager", "mon-grafana", "mon-kube-state-metrics"],
      [K8S.Service]: ["mon-prometheus", "mon-alertmanager", "mon-grafana", "mon-kube-state-metrics"],
      [K8S.PrometheusRule]: ["mon-alerts", "mon-slos", "mon-backups", "mon-tasks", "mon-runs"],
      [OPERATOR.ServiceMonitor]: ["mon-api", "mon-kube-state-metrics"],
      [OPERATOR.Prometheus]: ["mon-prometheus"],
      [K8S.Role]: ["mon-prometheus", "mon-prometheus-core"],
      ...ACCESS,
      [K8S.RoleBinding]: ["mon-prometheus", "mon-prometheus-core", ...ACCESS[K8S.RoleBinding]],
    });
    expect(run.byType(K8S.ConfigMap).map((r) => r.name)).not.toContain("mon-prometheus");
    for (const r of children(run)) {
      expect(kubeObject(r).metadata.annotations["nexus.platform/source"], r.name).toBe(model.monitoring.stack.source);
      expect(kubeObject(r).metadata.labels["nexus.platform/owner"], r.name).toBe("platform");
    }
  });

  it("selects its rules and monitors by labels they carry, and scrapes each target by port", async () => {
    const run = await operator();
    const prom = kubeInputs(run, OPERATOR.Prometheus, "mon-prometheus");
    expect(prom.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(prom.spec.image).toBe(model.monitoring.stack.prometheus.image);
    expect(prom.spec.replicas).toBe(2);
    expect(prom.spec.resources).toEqual(model.monitoring.stack.prometheus.resources);
    for (const r of [...run.byType(K8S.PrometheusRule), ...run.byType(OPERATOR.ServiceMonitor)]) {
      expect(kubeObject(r).metadata.labels, r.name).toMatchObject(prom.spec.ruleSelector.matchLabels);
      expect(kubeObject(r).metadata.labels, r.name).toMatchObject(prom.spec.serviceMonitorSelector.matchLabels);
    }
    expect(kubeInputs(run, K8S.PrometheusRule, "mon-backups").spec).toEqual(backupAlertRules(backupTasks));
    expect(kubeInputs(run, OPERATOR.ServiceMonitor, "mon-api").spec).toMatchObject({
      jobLabel: "app.kubernetes.io/name",
      namespaceSelector: { matchNames: ["core"] },
      selector: { matchLabels: { "app.kubernetes.io/name": "api" } },
      endpoints: [{ targetPort: 9102, path: "/metrics" }],
    });
    const binding = kubeInputs(run, K8S.RoleBinding, "mon-prometheus-core");
    expect(binding.metadata.namespace).toBe("core");
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "mon-prometheus", namespace: NS }]);
    const svc = kubeInputs(run, K8S.Service, "mon-prometheus").spec;
    expect(svc.selector["operator.prometheus.io/name"]).toBe("mon-prometheus");
  });
});

describe("MonitoringStack without Grafana", () => {
  const withoutGrafana = (mode: "standalone" | "operator" = "standalone") => {
    const a = args();
    return deploy({ ...a, stack: { ...a.stack, mode, grafana: { ...a.stack.grafana, enabled: false } } });
  };

  it("leaves out Grafana's ServiceAccount, provisioning, Deployment and Service, and nothing else", async () => {
    expect(model.monitoring.stack.grafana.enabled).toBe(true);
    const run = await withoutGrafana();
    expectComponentTree(run, COMPONENT, "mon", {
      [K8S.ServiceAccount]: ["mon-prometheus", "mon-alertmanager", "mon-kube-state-metrics"],
      [K8S.ConfigMap]: ["mon-prometheus"],
      [K8S.Secret]: ["mon-alertmanager"],
      [K8S.Deployment]: ["mon-prometheus", "mon-alertmanager", "mon-kube-state-metrics"],
      [K8S.Service]: ["mon-prometheus", "mon-alertmanager", "mon-kube-state-metrics"],
      ...ACCESS,
    });
    const operator = await withoutGrafana("operator");
    expect(operator.resources.filter((r) => r.name.includes("grafana"))).toEqual([]);
  });

  it("keeps the rules and the URLs of the rest, and exports no Grafana URL", async () => {
    // One mocked run at a time: the mocks are global to the process.
    const without = await withoutGrafana();
    const withGrafana = await deploy();
    const { grafanaUrl, ...others } = withGrafana.outputs;
    expect(grafanaUrl).toBe("http://mon-grafana.observability.svc:3000");
    expect(without.outputs).toEqual(others);
    expect(kubeInputs(without, K8S.ConfigMap, "mon-prometheus").data).toEqual(kubeInputs(withGrafana, K8S.ConfigMap, "mon-prometheus").data);
  });
});

describe("MonitoringStack: kube-state-metrics, node scraping and storage", () => {
  it("runs kube-state-metrics restricted, reporting only what it may list and watch, only in the watched namespaces", async () => {
    const run = await deploy();
    const a = args();
    const pod = kubeInputs(run, K8S.Deployment, "mon-kube-state-metrics").spec.template.spec;
    expect(kubeInputs(run, K8S.Deployment, "mon-kube-state-metrics").spec.replicas).toBe(1);
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    const c = pod.containers[0]!;
    expect(c.image).toBe(a.stack.kubeStateMetrics.image);
    expect(c.resources).toEqual(a.stack.kubeStateMetrics.resources);
    expect(c.securityContext).toEqual(RESTRICTED_CONTAINER);
    expect(c.args).toEqual(["--port=8080", "--telemetry-port=8081", "--resources=cronjobs,jobs,pods", "--namespaces=core,data,observability"]);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: 8081 });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/livez", port: 8080 });
    expect(kubeInputs(run, K8S.ClusterRole, "mon-kube-state-metrics").rules).toEqual([
      { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
    ]);
    // Granted per namespace, never cluster-wide.
    for (const ns of ["core", "data", NS]) {
      const binding = kubeInputs(run, K8S.RoleBinding, `mon-kube-state-metrics-${ns}`);
      expect(binding.metadata.namespace).toBe(ns);
      expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${NS}-mon-kube-state-metrics` });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "mon-kube-state-metrics", namespace: NS }]);
    }
    expect(run.byType(K8S.ClusterRoleBinding).map((r) => r.name)).toEqual(["mon-prometheus"]);
  });

  it("lets Prometheus find nodes and read their kubelets through the API server, and nothing more", async () => {
    const run = await deploy();
    expect(kubeInputs(run, K8S.ClusterRole, "mon-prometheus").rules).toEqual([
      { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
      { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] },
    ]);
    const binding = kubeInputs(run, K8S.ClusterRoleBinding, "mon-prometheus");
    expect(binding.roleRef.name).toBe(`${NS}-mon-prometheus`);
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "mon-prometheus", namespace: NS }]);
  });

  it("opens egress to the API server's endpoints for kube-state-metrics and Prometheus pods only", async () => {
    const run = await deploy();
    for (const part of ["kube-state-metrics", "prometheus"]) {
      const spec = kubeInputs(run, K8S.NetworkPolicy, `mon-${part}-api-egress`).spec;
      expect(spec).toEqual({
        podSelector: { matchLabels: { "app.kubernetes.io/name": part, "app.kubernetes.io/part-of": "nexus-platform" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: "10.244.0.1/32" } }], ports: [{ protocol: "TCP", port: 6443 }] }],
      });
    }
  });

  it("scrapes named nodes statically when the registry lists them", async () => {
    const a = args();
    const run = await deploy({ ...a, stack: { ...a.stack, prometheus: { ...a.stack.prometheus, nodes: ["node-b", "node-a"] } } });
    const config = parse(kubeInputs(run, K8S.ConfigMap, "mon-prometheus").data["prometheus.yml"]!);
    const kubelet = config.scrape_configs.find((j: { job_name: string }) => j.job_name === "kubelet");
    expect(kubelet.kubernetes_sd_configs).toBeUndefined();
    expect(kubelet.static_configs).toEqual([
      { targets: ["kubernetes.default.svc:443"], labels: { node: "node-a" } },
      { targets: ["kubernetes.default.svc:443"], labels: { node: "node-b" } },
    ]);
  });

  it("keeps Prometheus's series on a claim of its own where the registry gives storage, recreating the pod rather than rolling it", async () => {
    const a = args();
    const storage = { size: "50Gi", storageClass: "gp3" };
    const run = await deploy({ ...a, stack: { ...a.stack, prometheus: { ...a.stack.prometheus, replicas: 1, storage } } });
    const claim = kubeInputs(run, K8S.PersistentVolumeClaim, "mon-prometheus-data");
    expect(claim.spec).toEqual({ accessModes: ["ReadWriteOnce"], storageClassName: "gp3", resources: { requests: { storage: "50Gi" } } });
    // A claim of a WaitForFirstConsumer class binds only once the pod is scheduled: not awaited.
    expect(claim.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
    const deployment = kubeInputs(run, K8S.Deployment, "mon-prometheus").spec;
    expect(deployment.strategy).toEqual({ type: "Recreate" });
    expect(deployment.template.spec.volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: "mon-prometheus-data" } });
    expect(deployment.template.spec.containers[0]!.volumeMounts).toContainEqual({ name: "data", mountPath: "/prometheus" });
    // Without storage: rolled, on an emptyDir, no claim.
    const plain = await deploy();
    expect(plain.byType(K8S.PersistentVolumeClaim)).toEqual([]);
    expect(kubeInputs(plain, K8S.Deployment, "mon-prometheus").spec.strategy).toBeUndefined();
    expect(kubeInputs(plain, K8S.Deployment, "mon-prometheus").spec.template.spec.volumes).toContainEqual({ name: "data", emptyDir: {} });
  });

  it("gives the operator's Prometheus the claim template, the node jobs and a monitor of kube-state-metrics", async () => {
    const a = args();
    const storage = { size: "50Gi" };
    const run = await deploy({ ...a, stack: { ...a.stack, mode: "operator", prometheus: { ...a.stack.prometheus, storage } } });
    const prom = kubeInputs(run, "kubernetes:monitoring.coreos.com/v1:Prometheus", "mon-prometheus").spec;
    expect(prom.storage).toEqual({ volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "50Gi" } } } } });
    expect(prom.additionalScrapeConfigs).toEqual({ name: "mon-prometheus-nodes", key: "nodes.yml" });
    const jobs = parse(secretInside<Record<string, string>>(kubeInputs(run, K8S.Secret, "mon-prometheus-nodes").stringData)["nodes.yml"]!);
    expect(jobs.map((j: { job_name: string }) => j.job_name)).toEqual(["kubelet", "cadvisor"]);
    expect(kubeInputs(run, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "mon-kube-state-metrics").spec.endpoints).toEqual([
      { port: "http", interval: a.stack.scrapeInterval, honorLabels: true },
    ]);
  });
});
