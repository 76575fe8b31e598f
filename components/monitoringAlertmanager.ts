import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { podSelector, type Endpoint, type MonitoringScope, type StackComponent } from "./monitoringScope";

export const ALERTMANAGER_PORT = 9093;
const CLUSTER_PORT = 9094;
const CONFIG_DIR = "/etc/alertmanager";

export interface AlertmanagerPart {
  component: StackComponent;
  /** alertmanager.yml with the channel secrets in it: a secret output. */
  config: pulumi.Input<string>;
  /** Hash of alertmanager.yml with placeholders for the secrets. */
  checksum: string;
}

/**
 * Alertmanager as a Deployment of our own in both modes, reading its configuration from a
 * Secret because that configuration holds the channel secrets.
 */
export function alertmanager(scope: MonitoringScope, part: AlertmanagerPart): Endpoint {
  const objectName = scope.child("alertmanager");
  const secret = new k8s.core.v1.Secret(
    objectName,
    { metadata: scope.meta("alertmanager", objectName), type: "Opaque", stringData: { "alertmanager.yml": part.config } },
    scope.opts,
  );
  const peers = part.component.replicas > 1 ? peersService(scope) : undefined;
  scope.deployment("alertmanager", objectName, {
    component: part.component,
    serviceAccount: scope.serviceAccount("alertmanager", objectName),
    port: ALERTMANAGER_PORT,
    readyPath: "/-/ready",
    livePath: "/-/healthy",
    args: [
      `--config.file=${CONFIG_DIR}/alertmanager.yml`,
      "--storage.path=/alertmanager",
      ...(peers !== undefined
        ? [`--cluster.listen-address=0.0.0.0:${CLUSTER_PORT}`, `--cluster.peer=${scope.host(peers)}:${CLUSTER_PORT}`]
        : ["--cluster.listen-address="]),
    ],
    extraPorts: peers !== undefined ? [{ name: "cluster", containerPort: CLUSTER_PORT, protocol: "TCP" }] : [],
    checksum: part.checksum,
    volumes: [
      { name: "config", secret: { secretName: secret.metadata.name } },
      { name: "data", emptyDir: { sizeLimit: "1Gi" } },
    ],
    mounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      { name: "data", mountPath: "/alertmanager" },
    ],
  });
  return scope.endpoint("alertmanager", ALERTMANAGER_PORT);
}

/**
 * Replicas gossip so one notification goes out, not one per replica; a headless Service resolves
 * to every replica's address. Returns the Service's name.
 */
function peersService(scope: MonitoringScope): string {
  const objectName = scope.child("alertmanager-peers");
  new k8s.core.v1.Service(
    objectName,
    {
      metadata: scope.meta("alertmanager", objectName),
      spec: {
        clusterIP: "None",
        publishNotReadyAddresses: true,
        selector: podSelector("alertmanager", scope.environment),
        ports: [{ name: "cluster", port: CLUSTER_PORT, protocol: "TCP" }],
      },
    },
    scope.opts,
  );
  return objectName;
}
