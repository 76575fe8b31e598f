import * as k8s from "@pulumi/kubernetes";
import type { Model } from "../domain/model";
import { grafanaDashboard, grafanaDashboardProvider, grafanaDatasources, toYaml } from "./builders/monitoring";
import { sha256, type Endpoint, type MonitoringScope, type StackComponent } from "./monitoringScope";

export const GRAFANA_PORT = 3000;
const DASHBOARDS_DIR = "/var/lib/grafana-dashboards";

export interface GrafanaPart {
  component: StackComponent;
  /** "http://host:port" of Prometheus, Grafana's one datasource. */
  prometheusUrl: string;
  scrapeInterval: string;
  dashboards: Model["monitoring"]["dashboards"];
}

/** Grafana with its datasource, dashboard provider and the registry's dashboards provisioned. */
export function grafana(scope: MonitoringScope, part: GrafanaPart): Endpoint {
  const objectName = scope.child("grafana");
  const files = {
    datasources: {
      "datasources.yaml": toYaml(grafanaDatasources({ prometheusUrl: part.prometheusUrl, scrapeInterval: part.scrapeInterval })),
    },
    provider: {
      "dashboards.yaml": toYaml(grafanaDashboardProvider({ path: DASHBOARDS_DIR })),
    },
    dashboards: Object.fromEntries(part.dashboards.map((d) => [`${d.name}.json`, JSON.stringify(grafanaDashboard(d), null, 2)])),
  };
  const configMap = (suffix: string, data: Record<string, string>) =>
    new k8s.core.v1.ConfigMap(`${objectName}-${suffix}`, { metadata: scope.meta("grafana", `${objectName}-${suffix}`), data }, scope.opts);
  const datasources = configMap("datasources", files.datasources);
  const provider = configMap("dashboard-provider", files.provider);
  const dashboards = configMap("dashboards", files.dashboards);
  scope.deployment("grafana", objectName, {
    component: part.component,
    serviceAccount: scope.serviceAccount("grafana", objectName),
    port: GRAFANA_PORT,
    readyPath: "/api/health",
    livePath: "/api/health",
    args: [],
    env: grafanaEnv(),
    checksum: sha256(JSON.stringify(files)),
    volumes: [
      { name: "datasources", configMap: { name: datasources.metadata.name } },
      { name: "dashboard-provider", configMap: { name: provider.metadata.name } },
      { name: "dashboards", configMap: { name: dashboards.metadata.name } },
      { name: "data", emptyDir: { sizeLimit: "1Gi" } },
    ],
    mounts: [
      { name: "datasources", mountPath: "/etc/grafana/provisioning/datasources", readOnly: true },
      { name: "dashboard-provider", mountPath: "/etc/grafana/provisioning/dashboards", readOnly: true },
      { name: "dashboards", mountPath: DASHBOARDS_DIR, readOnly: true },
      { name: "data", mountPath: "/var/lib/grafana" },
    ],
  });
  return scope.endpoint("grafana", GRAFANA_PORT);
}

/**
 * Grafana writes only below its data directory. No admin user is created (there would be a
 * default password): dashboards are provisioned from the registry and open read-only.
 */
function grafanaEnv(): k8s.types.input.core.v1.EnvVar[] {
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
