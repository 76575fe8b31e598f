import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { API_SERVER_SLICE, apiServerEndpoints, type ApiServerEndpoint } from "./builders/network";

/**
 * The Kubernetes API server's addresses as the cluster itself lists them: a read of the
 * `kubernetes` EndpointSlice (namespace default) when the stack is deployed; nothing is created.
 * The addresses differ per cluster (a node's bridge address and a free port locally, control-plane
 * interfaces on EKS), so no code and no registry names them. A stack reads them once, here, and
 * hands `endpoints` to every workload needing egress to the API (`apiServerEgress`). The read
 * goes through the component's provider, that of the stack's cluster.
 */
export class KubernetesApiServer extends pulumi.ComponentResource {
  public readonly endpoints: pulumi.Output<ApiServerEndpoint[]>;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("nexus:cluster:KubernetesApiServer", name, {}, opts);
    const slice = k8s.discovery.v1.EndpointSlice.get(`${name}-endpoints`, `${API_SERVER_SLICE.namespace}/${API_SERVER_SLICE.name}`, { parent: this });
    this.endpoints = pulumi.all([slice.endpoints, slice.ports]).apply(([endpoints, ports]) => apiServerEndpoints({ endpoints, ports }));
    this.registerOutputs({ endpoints: this.endpoints });
  }
}
