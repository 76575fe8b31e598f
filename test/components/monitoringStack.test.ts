import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { alertRuleGroups, backupAlertRules, sloRuleGroups, type BackupTask, type ScrapeTarget } from "../../components/builders/monitoring";
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

describe("MonitoringStack (standalone)", () => {
  it("creates exactly these children, named from the component name", async () => {
    const run = await deploy();
    expectComponentTree(run, COMPONENT, "mon", {
      [K8S.ServiceAccount]: ["mon-prometheus", "mon-alertmanager", "mon-grafana"],
      [K8S.ConfigMap]: ["mon-prometheus", "mon-grafana-datasources", "mon-grafana-dashboard-provider", "mon-grafana-dashboards"],
      [K8S.Secret]: ["mon-alertmanager"],
      [K8S.Deployment]: ["mon-prometheus", "mon-alertmanager", "mon-grafana"],
      [K8S.Service]: ["mon-prometheus", "mon-alertmanager", "mon-grafana"],
    });
  });

  it("puts every child in the namespace with the platform labels and the source annotation", async () => {
    const run = await deploy();
    for (const r of children(run)) {
      const meta = kubeObject(r).metadata;
      expect(meta.name, r.name).toBe(r.name);
      expect(meta.namespace, r.name).toBe(NS);
      expect(meta.annotations["nexus.platform/source"], r.name).toBe(model.monitoring.stack.source);
      expect(meta.labels, r.name).toMatchObject({
        "app.kubernetes.io/component": "monitoring",
        "app.kubernetes.io/part-of": "nexus-platform",
        "app.kubernetes.io/managed-by": "pulumi",
        "nexus.platform/owner": "platform",
        "nexus.platform/environment": "dev",
      });
      expect(meta.labels["app.kubernetes.io/name"], r.name).toBe(r.name.replace(/^mon-/, "").replace(/-(datasources|dashboard-provider|dashboards)$/, ""));
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
      expect(pod.automountServiceAccountToken).toBe(false);
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
    expect(Object.keys(data).sort()).toEqual(["alerts.rules.yml", "backups.rules.yml", "prometheus.yml", "slos.rules.yml"]);
    const config = parse(data["prometheus.yml"]!);
    expect(config.rule_files).toEqual(["alerts.rules.yml", "slos.rules.yml", "backups.rules.yml"]);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(["mon-alertmanager.observability.svc:9093"]);
    expect(config.scrape_configs.map((j: { job_name: string }) => j.job_name)).toEqual(["prometheus", "api"]);
    expect(config.scrape_configs[1].static_configs[0].targets).toEqual(["api.core.svc:9102"]);
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
      [K8S.ServiceAccount]: ["mon-prometheus", "mon-alertmanager", "mon-grafana"],
      [K8S.ConfigMap]: ["mon-grafana-datasources", "mon-grafana-dashboard-provider", "mon-grafana-dashboards"],
      [K8S.Secret]: ["mon-alertmanager"],
      [K8S.Deployment]: ["mon-alertmanager", "mon-grafana"],
      [K8S.Service]: ["mon-prometheus", "mon-alertmanager", "mon-grafana"],
      [K8S.PrometheusRule]: ["mon-alerts", "mon-slos", "mon-backups"],
      [OPERATOR.ServiceMonitor]: ["mon-api"],
      [OPERATOR.Prometheus]: ["mon-prometheus"],
      [K8S.Role]: ["mon-prometheus", "mon-prometheus-core"],
      [K8S.RoleBinding]: ["mon-prometheus", "mon-prometheus-core"],
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
      [K8S.ServiceAccount]: ["mon-prometheus", "mon-alertmanager"],
      [K8S.ConfigMap]: ["mon-prometheus"],
      [K8S.Secret]: ["mon-alertmanager"],
      [K8S.Deployment]: ["mon-prometheus", "mon-alertmanager"],
      [K8S.Service]: ["mon-prometheus", "mon-alertmanager"],
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
