import { describe, expect, it } from "vitest";
import {
  apiServerEgress,
  apiServerEgressSpec,
  apiServerEndpoints,
  cidrEgressSpec,
  defaultDenySpec,
  dependencyAddresses,
  dnsEgressSpec,
  networkEdges,
  serviceAddress,
  workloadEgressSpec,
  workloadRules,
  type Edge,
  type GraphInput,
} from "../../../components/builders/network";

const NS = "kubernetes.io/metadata.name";
const PART = "app.kubernetes.io/part-of";
const NAME = "app.kubernetes.io/name";

/** The peer a rule names for one workload's pods. */
function pods(namespace: string, name: string) {
  return {
    namespaceSelector: { matchLabels: { [NS]: namespace } },
    podSelector: { matchLabels: { [NAME]: name, [PART]: "nexus-platform" } },
  };
}

const GRAPH: GraphInput = {
  services: [
    { name: "db", namespace: "data", port: 5432, dependsOn: [] },
    { name: "cache", namespace: "data", port: 6379, dependsOn: [], metricsPort: 9121 },
    { name: "api", namespace: "core", port: 8000, dependsOn: ["db", "cache", "ghost"], metricsPort: 8000 },
    { name: "web", namespace: "web", port: 8080, dependsOn: ["api"] },
  ],
  tasks: [
    // target first, then dependsOn without repeating the target, unknown names ignored
    { name: "backup", namespace: "data", target: "db", dependsOn: ["db", "cache", "nowhere"] },
    { name: "report", namespace: "ops", dependsOn: ["api"] },
    { name: "lonely", namespace: "ops", target: "missing", dependsOn: [] },
  ],
  scraper: { namespace: "observability", name: "prometheus" },
};
const PROMETHEUS = { namespace: "observability", name: "prometheus" };

describe("networkEdges", () => {
  it("derives exactly the declared paths, with their reasons", () => {
    expect(networkEdges(GRAPH)).toEqual([
      { from: { namespace: "core", name: "api" }, to: { namespace: "data", name: "db" }, port: 5432, reason: "api dependsOn db" },
      { from: { namespace: "core", name: "api" }, to: { namespace: "data", name: "cache" }, port: 6379, reason: "api dependsOn cache" },
      { from: { namespace: "web", name: "web" }, to: { namespace: "core", name: "api" }, port: 8000, reason: "web dependsOn api" },
      { from: { namespace: "data", name: "backup" }, to: { namespace: "data", name: "db" }, port: 5432, reason: "task backup targets db" },
      { from: { namespace: "data", name: "backup" }, to: { namespace: "data", name: "cache" }, port: 6379, reason: "task backup dependsOn cache" },
      { from: { namespace: "ops", name: "report" }, to: { namespace: "core", name: "api" }, port: 8000, reason: "task report dependsOn api" },
      { from: PROMETHEUS, to: { namespace: "data", name: "cache" }, port: 9121, reason: "prometheus scrapes cache" },
      { from: PROMETHEUS, to: { namespace: "core", name: "api" }, port: 8000, reason: "prometheus scrapes api" },
    ]);
  });

  it("opens no metrics path without a scraper, and nothing for an empty graph", () => {
    const { scraper: _, ...noMonitoring } = GRAPH;
    const edges = networkEdges(noMonitoring);
    expect(edges.map((e) => e.reason)).toEqual([
      "api dependsOn db",
      "api dependsOn cache",
      "web dependsOn api",
      "task backup targets db",
      "task backup dependsOn cache",
      "task report dependsOn api",
    ]);
    expect(networkEdges({ services: [], tasks: [], scraper: PROMETHEUS })).toEqual([]);
  });
});

describe("workloadRules", () => {
  const edges = networkEdges(GRAPH);

  it("lets in exactly what reaches the workload and out exactly what it reaches", () => {
    expect(workloadRules({ namespace: "core", name: "api" }, edges)).toEqual({
      ingress: [
        { from: [pods("web", "web")], ports: [{ protocol: "TCP", port: 8000 }] },
        { from: [pods("ops", "report")], ports: [{ protocol: "TCP", port: 8000 }] },
        { from: [pods("observability", "prometheus")], ports: [{ protocol: "TCP", port: 8000 }] },
      ],
      egress: [
        { to: [pods("data", "db")], ports: [{ protocol: "TCP", port: 5432 }] },
        { to: [pods("data", "cache")], ports: [{ protocol: "TCP", port: 6379 }] },
      ],
    });
  });

  it("adds a source-less ingress rule for a public port", () => {
    expect(workloadRules({ namespace: "web", name: "web" }, edges, 8080)).toEqual({
      ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }],
      egress: [{ to: [pods("core", "api")], ports: [{ protocol: "TCP", port: 8000 }] }],
    });
  });

  it("matches the namespace as well as the name", () => {
    expect(workloadRules({ namespace: "other", name: "api" }, edges)).toEqual({ ingress: [], egress: [] });
  });

  it("keeps one rule per identical path", () => {
    const twice: Edge[] = [
      { from: { namespace: "core", name: "a" }, to: { namespace: "data", name: "b" }, port: 1, reason: "a dependsOn b" },
      { from: { namespace: "core", name: "a" }, to: { namespace: "data", name: "b" }, port: 1, reason: "task a targets b" },
      { from: { namespace: "core", name: "a" }, to: { namespace: "data", name: "b" }, port: 2, reason: "other port" },
    ];
    expect(workloadRules({ namespace: "core", name: "a" }, twice)).toEqual({
      ingress: [],
      egress: [
        { to: [pods("data", "b")], ports: [{ protocol: "TCP", port: 1 }] },
        { to: [pods("data", "b")], ports: [{ protocol: "TCP", port: 2 }] },
      ],
    });
    expect(workloadRules({ namespace: "data", name: "b" }, twice, 1)).toEqual({
      ingress: [
        { from: [pods("core", "a")], ports: [{ protocol: "TCP", port: 1 }] },
        { from: [pods("core", "a")], ports: [{ protocol: "TCP", port: 2 }] },
        { ports: [{ protocol: "TCP", port: 1 }] },
      ],
      egress: [],
    });
  });
});

describe("dependencyAddresses", () => {
  const edges = networkEdges(GRAPH);

  it("gives a service the address of each service it depends on, in dependsOn order, at the service port", () => {
    expect(dependencyAddresses({ namespace: "core", name: "api" }, edges)).toEqual(["db.data.svc.cluster.local:5432", "cache.data.svc.cluster.local:6379"]);
    expect(dependencyAddresses({ namespace: "web", name: "web" }, edges)).toEqual(["api.core.svc.cluster.local:8000"]);
  });

  it("gives nothing to a workload that calls nothing, and only the workload's own paths", () => {
    expect(dependencyAddresses({ namespace: "data", name: "db" }, edges)).toEqual([]);
    expect(dependencyAddresses({ namespace: "other", name: "api" }, edges)).toEqual([]);
    // Another workload of the scraper's namespace reaches nothing through the scraper's edges.
    expect(dependencyAddresses({ namespace: "observability", name: "monitor" }, edges)).toEqual([]);
  });

  it("names each address once, whatever opened its path", () => {
    const twice: Edge[] = [
      { from: { namespace: "core", name: "a" }, to: { namespace: "data", name: "b" }, port: 1, reason: "a dependsOn b" },
      { from: { namespace: "core", name: "a" }, to: { namespace: "data", name: "b" }, port: 1, reason: "a dependsOn b" },
      { from: { namespace: "core", name: "a" }, to: { namespace: "data", name: "b" }, port: 2, reason: "other port" },
    ];
    expect(dependencyAddresses({ namespace: "core", name: "a" }, twice)).toEqual(["b.data.svc.cluster.local:1", "b.data.svc.cluster.local:2"]);
  });

  it("writes an address as the Service's cluster DNS name and port", () => {
    expect(serviceAddress("postgres", "data", 5432)).toBe("postgres.data.svc.cluster.local:5432");
  });
});

describe("the scraper's rules", () => {
  const edges = networkEdges(GRAPH);

  it("let the scraper out to exactly the metrics ports it scrapes, once each", () => {
    expect(workloadRules(PROMETHEUS, [...edges, ...edges])).toEqual({
      ingress: [],
      egress: [
        { to: [pods("data", "cache")], ports: [{ protocol: "TCP", port: 9121 }] },
        { to: [pods("core", "api")], ports: [{ protocol: "TCP", port: 8000 }] },
      ],
    });
  });

  it("make an egress policy for the scraper's pods only, and none for a workload no edge leaves", () => {
    expect(workloadEgressSpec(PROMETHEUS, edges)).toEqual({
      podSelector: { matchLabels: { [NAME]: "prometheus", [PART]: "nexus-platform" } },
      policyTypes: ["Egress"],
      egress: workloadRules(PROMETHEUS, edges).egress,
    });
    expect(workloadEgressSpec({ namespace: "data", name: "db" }, edges)).toBeUndefined();
  });

  it("open nothing to another workload of the scraper's namespace", () => {
    expect(workloadRules({ namespace: "observability", name: "monitor" }, edges)).toEqual({ ingress: [], egress: [] });
    // Every peer of every rule names one workload's pods: no rule admits a whole namespace.
    for (const s of GRAPH.services) {
      const { ingress, egress } = workloadRules(s, edges);
      const peers = [...ingress.flatMap((r) => (r.from ?? []) as object[]), ...egress.flatMap((r) => (r.to ?? []) as object[])];
      for (const p of peers) expect(p, s.name).toHaveProperty("podSelector");
    }
  });
});

describe("namespace-wide specs", () => {
  it("denies everything by default", () => {
    expect(defaultDenySpec()).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("allows DNS to kube-dns only", () => {
    expect(dnsEgressSpec()).toEqual({
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { [NS]: "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
  });

  it("allows the rule's CIDRs on the rule's ports", () => {
    expect(cidrEgressSpec({ name: "smtp", cidrs: ["203.0.113.25/32", "10.0.0.0/8"], ports: [587, 465], namespaces: [] })).toEqual({
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "203.0.113.25/32" } }, { ipBlock: { cidr: "10.0.0.0/8" } }],
          ports: [
            { protocol: "TCP", port: 587 },
            { protocol: "TCP", port: 465 },
          ],
        },
      ],
    });
  });
});

describe("the Kubernetes API server", () => {
  it("reads every ready address and TCP port of the kubernetes EndpointSlice", () => {
    expect(
      apiServerEndpoints({
        endpoints: [
          { addresses: ["10.0.1.5"], conditions: { ready: true } },
          { addresses: ["10.0.2.7"] },
          { addresses: ["10.0.3.9"], conditions: { ready: false } },
        ],
        ports: [
          { port: 443, protocol: "TCP" },
          { port: 9999, protocol: "UDP" },
        ],
      }),
    ).toEqual([
      { ip: "10.0.1.5", port: 443 },
      { ip: "10.0.2.7", port: 443 },
    ]);
    expect(() => apiServerEndpoints({ endpoints: [], ports: [{ port: 6443 }] })).toThrow(/no ready address/);
    expect(() => apiServerEndpoints({ endpoints: [{ addresses: ["10.0.1.5"] }] })).toThrow(/no ready address/);
  });

  it("allows egress to exactly those addresses and ports, and refuses a rule without peers", () => {
    const endpoints = [
      { ip: "10.244.0.1", port: 6443 },
      { ip: "fd00::1", port: 6443 },
    ];
    expect(apiServerEgress(endpoints)).toEqual({
      to: [{ ipBlock: { cidr: "10.244.0.1/32" } }, { ipBlock: { cidr: "fd00::1/128" } }],
      ports: [{ protocol: "TCP", port: 6443 }],
    });
    // An egress rule without `to` would allow every destination.
    expect(() => apiServerEgress([])).toThrow(/every destination/);
    expect(apiServerEgressSpec("kube-state-metrics", endpoints)).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/part-of": "nexus-platform" } },
      policyTypes: ["Egress"],
      egress: [apiServerEgress(endpoints)],
    });
  });
});
