import type * as k8s from "@pulumi/kubernetes";
import type { EgressRule } from "../../domain/schema";
import { selectorLabels } from "../labels";

type Ingress = k8s.types.input.networking.v1.NetworkPolicyIngressRule;
type Egress = k8s.types.input.networking.v1.NetworkPolicyEgressRule;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

const NAMESPACE_NAME = "kubernetes.io/metadata.name";

/** One workload's pods: those of its namespace carrying `selectorLabels(name)`. */
export interface Endpoint {
  namespace: string;
  name: string;
}

/** One allowed connection. The network graph is exactly the set of these edges. */
export interface Edge {
  from: Endpoint;
  to: Endpoint;
  port: number;
  /** Why the path is open, e.g. "backend-api dependsOn postgres": kept for review. */
  reason: string;
}

export interface GraphInput {
  services: readonly { name: string; namespace: string; port: number; dependsOn: readonly string[]; metricsPort?: number }[];
  tasks: readonly { name: string; namespace: string; target?: string; dependsOn: readonly string[] }[];
  /** The workload that scrapes every service exporting metrics: the monitoring stack's Prometheus. */
  scraper?: Endpoint;
}

/**
 * Derives every allowed path from the registries: a service reaches what it depends on, a task
 * reaches its target, Prometheus reaches metrics ports. Nothing else is open.
 */
export function networkEdges(input: GraphInput): Edge[] {
  const byName = new Map(input.services.map((s) => [s.name, s]));
  const edges: Edge[] = [];
  for (const s of input.services) {
    for (const dep of s.dependsOn) {
      const target = byName.get(dep);
      if (target) edges.push({ from: workload(s), to: workload(target), port: target.port, reason: `${s.name} dependsOn ${target.name}` });
    }
  }
  for (const t of input.tasks) {
    const called = [...(t.target ? [t.target] : []), ...t.dependsOn.filter((d) => d !== t.target)];
    for (const name of called) {
      const target = byName.get(name);
      const verb = name === t.target ? "targets" : "dependsOn";
      if (target) edges.push({ from: workload(t), to: workload(target), port: target.port, reason: `task ${t.name} ${verb} ${target.name}` });
    }
  }
  if (input.scraper !== undefined) {
    const scraper = workload(input.scraper);
    for (const s of input.services) {
      if (s.metricsPort === undefined) continue;
      edges.push({ from: scraper, to: workload(s), port: s.metricsPort, reason: `${scraper.name} scrapes ${s.name}` });
    }
  }
  return edges;
}

/** "HOST:PORT" of a service in the cluster: its Service's DNS name and port. */
export function serviceAddress(name: string, namespace: string, port: number): string {
  return `${name}.${namespace}.svc.cluster.local:${port}`;
}

/**
 * The addresses a workload may call: the Service of each workload its egress edges reach, with
 * the edge's port, in the order of the edges, each once. For a service these are its dependsOn.
 */
export function dependencyAddresses(workload: Endpoint, edges: readonly Edge[]): string[] {
  const from = edges.filter((e) => e.from.namespace === workload.namespace && e.from.name === workload.name);
  return [...new Set(from.map((e) => serviceAddress(e.to.name, e.to.namespace, e.port)))];
}

/** A workload's pods as an edge's endpoint: its namespace and name, none of its other fields. */
function workload(w: Endpoint): Endpoint {
  return { namespace: w.namespace, name: w.name };
}

function peer(e: Endpoint): Peer {
  return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: e.namespace } }, podSelector: { matchLabels: selectorLabels(e.name) } };
}

/** Ingress and egress rules of one workload's allow policy; public workloads accept any source. */
export function workloadRules(workload: Endpoint, edges: readonly Edge[], publicPort?: number): { ingress: Ingress[]; egress: Egress[] } {
  const same = (a: Endpoint, b: Endpoint) => a.namespace === b.namespace && a.name === b.name;
  const ingress: Ingress[] = edges.filter((e) => same(e.to, workload)).map((e) => ({ from: [peer(e.from)], ports: [{ protocol: "TCP", port: e.port }] }));
  if (publicPort !== undefined) ingress.push({ ports: [{ protocol: "TCP", port: publicPort }] });
  const egress: Egress[] = edges.filter((e) => same(e.from, workload)).map((e) => ({ to: [peer(e.to)], ports: [{ protocol: "TCP", port: e.port }] }));
  return { ingress: dedupe(ingress), egress: dedupe(egress) };
}

/**
 * The egress-only policy of a workload whose pods have no allow policy of their own: out along
 * the edges leaving it, for its pods only. None when no edge leaves it.
 */
export function workloadEgressSpec(workload: Endpoint, edges: readonly Edge[]): k8s.types.input.networking.v1.NetworkPolicySpec | undefined {
  const { egress } = workloadRules(workload, edges);
  return egress.length === 0 ? undefined : { podSelector: { matchLabels: selectorLabels(workload.name) }, policyTypes: ["Egress"], egress };
}

function dedupe<T>(rules: T[]): T[] {
  const seen = new Set<string>();
  return rules.filter((r) => {
    const key = JSON.stringify(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Deny everything in and out of a namespace; allow policies then open declared paths only. */
export function defaultDenySpec(): k8s.types.input.networking.v1.NetworkPolicySpec {
  return { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
}

/** Name resolution must keep working under default-deny egress. */
export function dnsEgressSpec(): k8s.types.input.networking.v1.NetworkPolicySpec {
  const kubeDns: Peer = { namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } };
  return namespaceEgressSpec(
    [kubeDns],
    [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  );
}

/** Egress to the CIDRs the security registry allows, for every pod of the namespace. */
export function cidrEgressSpec(rule: EgressRule): k8s.types.input.networking.v1.NetworkPolicySpec {
  return namespaceEgressSpec(
    rule.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
    rule.ports.map((port) => ({ protocol: "TCP", port })),
  );
}

/** One egress rule, to `to` on `ports`, for every pod of the namespace. */
function namespaceEgressSpec(to: Peer[], ports: k8s.types.input.networking.v1.NetworkPolicyPort[]): k8s.types.input.networking.v1.NetworkPolicySpec {
  return { podSelector: {}, policyTypes: ["Egress"], egress: [{ to, ports }] };
}

// ---------------------------------------------------------------------------------------------
// The Kubernetes API server
// ---------------------------------------------------------------------------------------------

/** Where the API server's `kubernetes` Service and the EndpointSlice mirroring it live. */
export const API_SERVER_SLICE = { namespace: "default", name: "kubernetes" } as const;

/** One address the API server answers on: what the `kubernetes` Service forwards to. */
export interface ApiServerEndpoint {
  ip: string;
  port: number;
}

/** The parts of a discovery.k8s.io/v1 EndpointSlice the API server's addresses are read from. */
export interface EndpointSliceView {
  endpoints?: readonly { addresses?: readonly string[]; conditions?: { ready?: boolean } }[];
  ports?: readonly { port?: number; protocol?: string }[];
}

/**
 * The API server's addresses from the `kubernetes` EndpointSlice: every address of every endpoint
 * not reported unready, with every TCP port. The Service's cluster IP would be of no use: policy
 * engines (kube-router, the VPC CNI agent) evaluate egress after the Service's DNAT, so a rule
 * must name the endpoints. The addresses differ per cluster and are read from it at deploy time.
 */
export function apiServerEndpoints(slice: EndpointSliceView): ApiServerEndpoint[] {
  const ports = (slice.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP" && p.port !== undefined).map((p) => p.port!);
  const ips = (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? []);
  const found = [...new Set(ips)].flatMap((ip) => [...new Set(ports)].map((port) => ({ ip, port })));
  if (found.length === 0) {
    throw new Error(
      `EndpointSlice ${API_SERVER_SLICE.namespace}/${API_SERVER_SLICE.name} lists no ready address and TCP port of the API server:` +
        " no egress to it can be allowed",
    );
  }
  return found;
}

/**
 * The egress rule that lets a workload's pods call the Kubernetes API server (kube-state-metrics,
 * Prometheus's discovery and kubelet proxy, tasks that read the cluster): to exactly its
 * endpoints' addresses and ports. Refuses an empty list, since a rule without peers would allow
 * every destination.
 */
export function apiServerEgress(endpoints: readonly ApiServerEndpoint[]): Egress {
  if (endpoints.length === 0) throw new Error("no API server endpoint: an egress rule without peers would allow every destination");
  const ips = [...new Set(endpoints.map((e) => e.ip))];
  const ports = [...new Set(endpoints.map((e) => e.port))];
  return {
    to: ips.map((ip) => ({ ipBlock: { cidr: ip.includes(":") ? `${ip}/128` : `${ip}/32` } })),
    ports: ports.map((port) => ({ protocol: "TCP", port })),
  };
}

/** An egress-only policy for one workload's pods (`selectorLabels(name)`): the API server, nothing else. */
export function apiServerEgressSpec(name: string, endpoints: readonly ApiServerEndpoint[]): k8s.types.input.networking.v1.NetworkPolicySpec {
  return { podSelector: { matchLabels: selectorLabels(name) }, policyTypes: ["Egress"], egress: [apiServerEgress(endpoints)] };
}
