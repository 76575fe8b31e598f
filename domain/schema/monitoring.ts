import { z } from "zod";
import { Description, EnvironmentOverrides, Image, Name, Resources, SecretRef, header } from "./common";

const Duration = z.string().regex(/^\d+[smhdwy]$/, { message: 'must be a duration such as "30s", "5m", "1h" or "30d"' });

export const SEVERITIES = ["critical", "warning", "info"] as const;
export const Severity = z.enum(SEVERITIES);

export const Channel = z.discriminatedUnion("type", [
  z.strictObject({
    name: Name,
    type: z.literal("slack"),
    slackChannel: z.string().regex(/^#[a-z0-9_-]+$/, { message: 'must be a Slack channel such as "#nexus-alerts"' }),
    webhookSecret: SecretRef.describe("Pulumi config secret with the Slack webhook URL"),
    environments: EnvironmentOverrides,
  }),
  z.strictObject({
    name: Name,
    type: z.literal("email"),
    to: z.email({ message: "must be an e-mail address" }),
    smarthost: z.string().regex(/^[a-z0-9.-]+:\d+$/, { message: 'must be "host:port"' }),
    from: z.email({ message: "must be an e-mail address" }),
    passwordSecret: SecretRef.optional(),
    requireTls: z
      .boolean()
      .default(true)
      .describe(
        "Whether the SMTP connection must be upgraded with STARTTLS (Alertmanager's require_tls); false only for a relay without TLS, such as dev's local receiver",
      ),
    environments: EnvironmentOverrides,
  }),
  z.strictObject({
    name: Name,
    type: z.literal("pagerduty"),
    routingKeySecret: SecretRef.describe("Pulumi config secret with the PagerDuty routing key"),
    url: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
      .optional()
      .describe("Events API v2 endpoint the notifications are posted to; PagerDuty's own when absent. Set per environment, e.g. dev's local receiver"),
    environments: EnvironmentOverrides,
  }),
  z.strictObject({
    name: Name,
    type: z.literal("webhook"),
    urlSecret: SecretRef.describe("Pulumi config secret with the webhook URL"),
    environments: EnvironmentOverrides,
  }),
]);

/** The channel types Alertmanager sends over HTTP, so through an HTTP proxy where one is declared. */
export const HTTP_CHANNEL_TYPES = ["slack", "pagerduty", "webhook"] as const;
export type HttpChannelType = (typeof HTTP_CHANNEL_TYPES)[number];
export type Channel = z.infer<typeof Channel>;

export const Alert = z.strictObject({
  name: Name,
  expr: z.string().min(1).describe("PromQL expression; the alert fires while it returns series"),
  for: Duration.default("5m"),
  severity: Severity,
  service: Name.optional(),
  channels: z.array(Name).optional().describe("Defaults to the routing of the severity"),
  summary: z.string().min(1),
  description: z.string().optional(),
  runbook: z.url().optional(),
  enabled: z.boolean().default(true),
  environments: EnvironmentOverrides,
});
export type Alert = z.infer<typeof Alert>;

export const Slo = z.strictObject({
  name: Name,
  service: Name,
  description: Description.optional(),
  objective: z.number().gt(0).lt(100).describe("Target percentage of good events, e.g. 99.9"),
  window: Duration.default("30d"),
  sli: z.strictObject({
    errorQuery: z.string().min(1).describe("PromQL rate of bad events; use [{{window}}] for the range"),
    totalQuery: z.string().min(1).describe("PromQL rate of all events; use [{{window}}] for the range"),
  }),
  channels: z.array(Name).optional(),
  environments: EnvironmentOverrides,
});
export type Slo = z.infer<typeof Slo>;

export const Panel = z.strictObject({
  title: z.string().min(1),
  type: z.enum(["timeseries", "stat", "gauge", "table"]).default("timeseries"),
  expr: z.string().min(1),
  unit: z.string().optional(),
});

export const Dashboard = z.strictObject({
  name: Name,
  title: z.string().min(1),
  services: z.array(Name).default([]),
  panels: z.array(Panel).min(1),
});
export type Dashboard = z.infer<typeof Dashboard>;

const Component = z.strictObject({
  image: Image,
  resources: Resources,
  replicas: z.number().int().min(1).default(1),
});

const PrometheusStorage = z
  .strictObject({
    size: z.string().describe('Size of the volume, a Kubernetes quantity such as "50Gi"; it must hold the retention'),
    storageClass: z.string().optional().describe("StorageClass of the volume claims; the cluster's default class when absent"),
  })
  .describe("A persistent volume claim for Prometheus (one replica), so a restart keeps the series; absent, the series live on an emptyDir");

export const MonitoringRegistry = z.strictObject({
  ...header("Monitoring"),
  stack: z.strictObject({
    mode: z.enum(["standalone", "operator"]).default("standalone"),
    owner: Name.describe("Team that owns the monitoring stack; a team declared in orchestration.yaml"),
    namespace: Name.describe("Namespace declared in orchestration.yaml"),
    scrapeInterval: Duration.default("30s"),
    retention: Duration.default("15d"),
    prometheus: Component.extend({
      storage: PrometheusStorage.optional(),
      nodes: z
        .array(z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, { message: "must be a Kubernetes node name" }))
        .min(1)
        .optional()
        .describe(
          "Names of the nodes whose kubelet and cAdvisor metrics are scraped, for a Prometheus built without Kubernetes service discovery (Debian's); absent, every node is discovered through the API",
        ),
    }),
    alertmanager: Component,
    kubeStateMetrics: z
      .strictObject({ image: Image, resources: Resources })
      .describe("kube-state-metrics, whose kube_* series of CronJobs, Jobs and Pods the task, backup and restart alerts read; one replica"),
    grafana: Component.extend({
      enabled: z
        .boolean()
        .default(true)
        .describe("Whether Grafana runs; false leaves out its workload, Service and provisioning, while dashboards are still validated"),
    }),
    environments: EnvironmentOverrides,
  }),
  routing: z.strictObject({
    critical: z.array(Name).min(1),
    warning: z.array(Name).min(1),
    info: z.array(Name).default([]),
    groupWait: Duration.default("30s"),
    groupInterval: Duration.default("5m").describe(
      "How long Alertmanager waits before it notifies a group's changes (new or resolved alerts) after its last notification",
    ),
    repeatInterval: Duration.default("4h"),
    environments: EnvironmentOverrides,
  }),
  channels: z.array(Channel).min(1),
  alerts: z.array(Alert).default([]),
  slos: z.array(Slo).default([]),
  dashboards: z.array(Dashboard).default([]),
});
export type MonitoringRegistry = z.infer<typeof MonitoringRegistry>;
