import type * as pulumi from "@pulumi/pulumi";
import { KUBE_STATE_METRICS_PORT, KUBE_STATE_METRICS_TELEMETRY_PORT, kubeStateMetricsArgs, kubeStateMetricsRules } from "./builders/monitoring";
import type { ApiServerEndpoint } from "./builders/network";
import type { Endpoint, MonitoringScope } from "./monitoringScope";
import type { Model } from "../domain/model";

const PART = "kube-state-metrics";

export interface KubeStateMetricsPart {
  component: Model["monitoring"]["stack"]["kubeStateMetrics"];
  /** Namespaces whose CronJobs, Jobs and Pods it reports: it may read there and nowhere else. */
  namespaces: readonly string[];
  /** Where the API server answers, for the part's egress policy. */
  apiServer: pulumi.Input<readonly ApiServerEndpoint[]>;
}

/**
 * kube-state-metrics: the kube_* series of CronJobs, Jobs and Pods that the task, backup and
 * restart alerts and the record of runs read. One replica (two would report every series twice),
 * allowed to list and watch only what it reports, only in the platform's namespaces, and to reach
 * the API server and nothing else outside its namespace; Prometheus scrapes it through its Service.
 */
export function kubeStateMetrics(scope: MonitoringScope, part: KubeStateMetricsPart): Endpoint {
  const objectName = scope.child(PART);
  const account = scope.serviceAccount(PART, objectName, true);
  scope.clusterAccess(PART, account, kubeStateMetricsRules(), part.namespaces);
  scope.apiServerEgress(PART, part.apiServer);
  const args = kubeStateMetricsArgs(part.namespaces);
  scope.deployment(PART, objectName, {
    component: { ...part.component, replicas: 1 },
    serviceAccount: account,
    readsApi: true,
    port: KUBE_STATE_METRICS_PORT,
    // /readyz answers once the first lists are in; /livez asks the API server whether it is live.
    readyPath: "/readyz",
    readyPort: KUBE_STATE_METRICS_TELEMETRY_PORT,
    livePath: "/livez",
    args,
    extraPorts: [{ name: "telemetry", containerPort: KUBE_STATE_METRICS_TELEMETRY_PORT, protocol: "TCP" }],
    volumes: [],
    mounts: [],
  });
  return scope.endpoint(PART, KUBE_STATE_METRICS_PORT);
}
