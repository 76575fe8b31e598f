import { beforeAll, describe, expect, it } from "vitest";
import type { Edge } from "../../components/builders/network";
import { SecurityBaseline, limitRangeSpec, podSecurityLabels, type SecurityBaselineArgs } from "../../components/securityBaseline";
import { K8S } from "../../contract/types";
import { runMocked, type MockRun } from "../../internal/pulumi/mocks";
import { expectComponentTree, kubeInputs } from "../support/inputs";

const PARENT = "nexus:security:SecurityBaseline";
const { Namespace: NAMESPACE, NetworkPolicy: NETPOL, ResourceQuota: QUOTA, LimitRange: LIMITS, Role: ROLE, RoleBinding: BINDING } = K8S;

const PROMETHEUS = { namespace: "mon", name: "prometheus" };
const EDGES: Edge[] = [
  // Prometheus in "mon" scrapes api: a platform source, whose egress the baseline opens.
  { from: PROMETHEUS, to: { namespace: "apps", name: "api" }, port: 9100, reason: "prometheus scrapes api" },
  // Workload-to-workload edges, one of them from another workload of "mon": opened by the workloads themselves, not here.
  { from: { namespace: "apps", name: "web" }, to: { namespace: "apps", name: "api" }, port: 8000, reason: "web dependsOn api" },
  { from: { namespace: "mon", name: "monitor" }, to: { namespace: "apps", name: "api" }, port: 8000, reason: "monitor dependsOn api" },
];
const SELECTOR = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "nexus-platform" });

const ARGS: SecurityBaselineArgs = {
  context: { environment: "prod", skipAwait: false },
  namespaces: [
    { name: "apps", owner: "backend", source: "registries/orchestration.yaml:40", quota: { cpu: "8", memory: "16Gi", pods: 50 } },
    { name: "mon", owner: "sre", source: "registries/orchestration.yaml:52", quota: { cpu: "4", memory: "8Gi", pods: 30 } },
  ],
  podSecurity: { level: "restricted", source: "registries/security.yaml:10" },
  network: {
    defaultDeny: true,
    allowDns: true,
    source: "registries/security.yaml:14",
    egress: [{ name: "smtp", cidrs: ["203.0.113.25/32"], ports: [587], namespaces: ["mon"] }],
    edges: EDGES,
    platformSources: [PROMETHEUS],
    openNamespaces: ["mon"],
  },
  rbac: [
    {
      name: "deployers",
      owner: "platform",
      namespaces: ["apps"],
      subjects: [
        { kind: "ServiceAccount", name: "ci" },
        { kind: "Group", name: "devs" },
      ],
      rules: [
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "patch"] },
        { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get"] },
      ],
      source: "registries/security.yaml:30",
    },
  ],
};

function deploy(a: SecurityBaselineArgs): Promise<MockRun> {
  return runMocked(() => {
    const b = new SecurityBaseline("baseline", a);
    return { count: b.networkPolicyCount, namespaces: Object.keys(b.namespaces) };
  });
}

const inputs = kubeInputs;

const labelsFor = (name: string, owner: string, env = "prod") => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/instance": `${name}-${env}`,
  "app.kubernetes.io/component": "security",
  "app.kubernetes.io/part-of": "nexus-platform",
  "app.kubernetes.io/managed-by": "pulumi",
  "nexus.platform/owner": owner,
  "nexus.platform/environment": env,
});

/** The kind, name and metadata of an object the baseline writes in `namespace`, traced to `source`. */
const written = (apiVersion: string, kind: string, name: string, namespace: string, labels: Record<string, string>, source: string) => ({
  apiVersion,
  kind,
  metadata: { name, namespace, labels, annotations: { "nexus.platform/source": source, "pulumi.com/patchForce": "true" } },
});

describe("SecurityBaseline", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await deploy(ARGS);
  });

  it("creates exactly the namespace floor, the platform source's egress, the open namespace and the RBAC", () => {
    expectComponentTree(run, PARENT, "baseline", {
      [NAMESPACE]: ["baseline-apps", "baseline-mon"],
      [NETPOL]: [
        "baseline-apps-default-deny",
        "baseline-apps-allow-dns",
        "baseline-mon-default-deny",
        "baseline-mon-allow-dns",
        "baseline-mon-egress-smtp",
        "baseline-mon-prometheus-egress",
        "baseline-mon-allow-same-namespace",
      ],
      [QUOTA]: ["baseline-apps-quota", "baseline-mon-quota"],
      [LIMITS]: ["baseline-apps-limits", "baseline-mon-limits"],
      [ROLE]: ["baseline-apps-deployers"],
      [BINDING]: ["baseline-apps-deployers-binding"],
    });
    expect(run.outputs).toEqual({ count: 7, namespaces: ["apps", "mon"] });
  });

  it("labels namespaces for Pod Security Admission at the registry's level", () => {
    expect(inputs(run, NAMESPACE, "baseline-apps").metadata).toEqual({
      name: "apps",
      labels: {
        ...labelsFor("apps", "backend"),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      },
      annotations: { "nexus.platform/source": "registries/orchestration.yaml:40", "pulumi.com/patchForce": "true" },
    });
    expect(inputs(run, NAMESPACE, "baseline-mon").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(podSecurityLabels("baseline")).toEqual({
      "pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/warn": "baseline",
      "pod-security.kubernetes.io/audit": "baseline",
    });
  });

  it("denies by default and allows DNS, traced to the network entry", () => {
    const deny = inputs(run, NETPOL, "baseline-apps-default-deny");
    expect(deny).toEqual({
      ...written("networking.k8s.io/v1", "NetworkPolicy", "apps-default-deny", "apps", labelsFor("apps", "backend"), "registries/security.yaml:14"),
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    const dns = inputs(run, NETPOL, "baseline-mon-allow-dns");
    expect(dns.metadata.name).toBe("mon-allow-dns");
    expect(dns.spec.policyTypes).toEqual(["Egress"]);
    expect(dns.spec.egress[0]!.ports).toEqual([
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ]);
  });

  it("opens the CIDR egress, the platform source's egress and the same-namespace traffic where declared", () => {
    expect(inputs(run, NETPOL, "baseline-mon-egress-smtp").spec).toEqual({
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "203.0.113.25/32" } }], ports: [{ protocol: "TCP", port: 587 }] }],
    });
    // Prometheus's pods only, out to what it scrapes: not monitor's dependsOn, not every pod of "mon".
    expect(inputs(run, NETPOL, "baseline-mon-prometheus-egress")).toEqual({
      ...written("networking.k8s.io/v1", "NetworkPolicy", "mon-prometheus-egress", "mon", labelsFor("mon", "sre"), "registries/security.yaml:14"),
      spec: {
        podSelector: { matchLabels: SELECTOR("prometheus") },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } },
                podSelector: { matchLabels: SELECTOR("api") },
              },
            ],
            ports: [{ protocol: "TCP", port: 9100 }],
          },
        ],
      },
    });
    expect(inputs(run, NETPOL, "baseline-mon-allow-same-namespace").spec).toEqual({
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    });
  });

  it("lets no namespace-wide policy out to a workload", () => {
    for (const r of run.byType(NETPOL)) {
      const spec = kubeInputs(run, NETPOL, r.name).spec;
      if (Object.keys(spec.podSelector).length > 0) continue;
      const peers = (spec.egress ?? []).flatMap((rule) => rule.to ?? []);
      for (const p of peers) expect(p.podSelector?.matchLabels?.["app.kubernetes.io/name"], r.name).toBeUndefined();
    }
  });

  it("sets the namespace's quota and default container limits", () => {
    expect(inputs(run, QUOTA, "baseline-apps-quota")).toEqual({
      ...written("v1", "ResourceQuota", "apps-quota", "apps", labelsFor("apps", "backend"), "registries/orchestration.yaml:40"),
      spec: { hard: { "limits.cpu": "8", "limits.memory": "16Gi", pods: "50" } },
    });
    expect(inputs(run, QUOTA, "baseline-mon-quota").spec).toEqual({
      hard: { "limits.cpu": "4", "limits.memory": "8Gi", pods: "30" },
    });
    expect(inputs(run, LIMITS, "baseline-mon-limits").spec).toEqual(limitRangeSpec());
    expect(limitRangeSpec()).toEqual({
      limits: [
        {
          type: "Container",
          default: { cpu: "500m", memory: "512Mi" },
          defaultRequest: { cpu: "100m", memory: "128Mi" },
        },
      ],
    });
  });

  it("grants the registry's rules to exactly its subjects", () => {
    const role = inputs(run, ROLE, "baseline-apps-deployers");
    expect(role).toEqual({
      ...written("rbac.authorization.k8s.io/v1", "Role", "deployers", "apps", labelsFor("deployers", "platform"), "registries/security.yaml:30"),
      rules: [
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "patch"] },
        { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get"] },
      ],
    });
    const binding = inputs(run, BINDING, "baseline-apps-deployers-binding");
    expect(binding.metadata).toEqual(role.metadata);
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "deployers" });
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "ci", namespace: "apps" },
      { kind: "Group", name: "devs", apiGroup: "rbac.authorization.k8s.io" },
    ]);
  });
});

describe("SecurityBaseline switches", () => {
  it("creates no network policy when default-deny, DNS, egress, platform sources and open namespaces are all off", async () => {
    const run = await deploy({
      ...ARGS,
      context: { environment: "dev", skipAwait: true },
      network: { ...ARGS.network, defaultDeny: false, allowDns: false, egress: [], edges: [], platformSources: [], openNamespaces: [] },
      rbac: [],
    });
    expect(run.byType(NETPOL)).toEqual([]);
    expect(run.outputs).toEqual({ count: 0, namespaces: ["apps", "mon"] });
    expect(inputs(run, NAMESPACE, "baseline-apps").metadata.annotations).toEqual({
      "nexus.platform/source": "registries/orchestration.yaml:40",
      "pulumi.com/patchForce": "true",
      "pulumi.com/skipAwait": "true",
      "pulumi.com/deletionPropagationPolicy": "background",
    });
  });

  it("gives a platform source no policy when no edge leaves it", async () => {
    const run = await deploy({ ...ARGS, network: { ...ARGS.network, edges: EDGES.filter((e) => e.from !== PROMETHEUS) } });
    expect(run.byType(NETPOL).filter((r) => r.name.endsWith("-prometheus-egress"))).toEqual([]);
    expect(run.outputs).toEqual({ count: 6, namespaces: ["apps", "mon"] });
  });

  it("applies an egress rule without namespaces to every namespace", async () => {
    const run = await deploy({
      ...ARGS,
      network: { ...ARGS.network, egress: [{ name: "proxy", cidrs: ["10.0.0.1/32"], ports: [3128], namespaces: [] }] },
    });
    expect(
      run
        .byType(NETPOL)
        .map((r) => r.name)
        .filter((n) => n.includes("egress-proxy"))
        .sort(),
    ).toEqual(["baseline-apps-egress-proxy", "baseline-mon-egress-proxy"]);
  });
});
