import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EgressRule, RbacBinding } from "../domain/schema";
import { cidrEgressSpec, defaultDenySpec, dnsEgressSpec, workloadEgressSpec, type Edge, type Endpoint } from "./builders/network";
import type { PlatformContext } from "./context";
import { metadata, type Traceable } from "./labels";

export interface BaselineNamespace {
  /** Kubernetes namespace name. */
  name: string;
  /** The registry entry's description, annotated on the Namespace. */
  description?: string;
  owner: string;
  source: string;
  quota: { cpu: string; memory: string; pods: number };
}

export interface SecurityBaselineArgs {
  context: PlatformContext;
  namespaces: readonly BaselineNamespace[];
  podSecurity: { level: "privileged" | "baseline" | "restricted"; source: string };
  network: {
    defaultDeny: boolean;
    allowDns: boolean;
    source: string;
    /** Egress rules whose `namespaces` are already Kubernetes namespace names. */
    egress: readonly EgressRule[];
    /** The platform's network graph. */
    edges: readonly Edge[];
    /**
     * The platform's own workloads that start edges of the graph but have no allow policy of their
     * own (the monitoring stack's Prometheus): each gets the egress of its edges here, for its pods only.
     */
    platformSources: readonly Endpoint[];
    /** Namespaces whose pods may reach each other freely (the monitoring stack's own parts). */
    openNamespaces: readonly string[];
  };
  rbac: readonly (Omit<RbacBinding, "environments"> & { source: string })[];
}

const PSA = "pod-security.kubernetes.io";

/** Pod Security Admission labels: enforce, and warn/audit at the same level so nothing is silent. */
export function podSecurityLabels(level: string): Record<string, string> {
  return { [`${PSA}/enforce`]: level, [`${PSA}/enforce-version`]: "latest", [`${PSA}/warn`]: level, [`${PSA}/audit`]: level };
}

/** Per-container defaults so a pod that forgets its resources still fits the quota. */
export function limitRangeSpec(): k8s.types.input.core.v1.LimitRangeSpec {
  return {
    limits: [
      {
        type: "Container",
        default: { cpu: "500m", memory: "512Mi" },
        defaultRequest: { cpu: "100m", memory: "128Mi" },
      },
    ],
  };
}

/**
 * The security floor of every namespace: Pod Security Admission at the registry's level, a
 * default-deny NetworkPolicy with DNS and the registry's egress allowed, a quota and a limit
 * range, and the registry's RBAC. Workload allow-rules live with each workload; the platform's
 * own sources (Prometheus) get their egress along the graph here.
 */
export class SecurityBaseline extends pulumi.ComponentResource {
  /** Kubernetes namespace names by name, for components that deploy into them. */
  public readonly namespaces: Readonly<Record<string, k8s.core.v1.Namespace>>;
  /**
   * Per namespace, what must be in place before a pod is admitted there: the namespace with its
   * Pod Security labels, default-deny and DNS policies, quota and limit range. Workloads wait for
   * these and not for the whole baseline (RBAC, allow rules), which would hold every deploy back.
   * Allow rules may come later: until then a pod is denied more, never less.
   */
  public readonly admission: Readonly<Record<string, readonly pulumi.Resource[]>>;
  public readonly networkPolicyCount: number;

  constructor(name: string, args: SecurityBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nexus:security:SecurityBaseline", name, {}, opts);
    const { context } = args;
    const child = { parent: this };
    const namespaces: Record<string, k8s.core.v1.Namespace> = {};
    const admission: Record<string, pulumi.Resource[]> = {};
    let policies = 0;

    for (const ns of args.namespaces) {
      const trace = (source: string): Traceable => ({
        name: ns.name,
        owner: ns.owner,
        source,
        environment: context.environment,
        component: "security",
      });
      const meta = metadata({ ...trace(ns.source), description: ns.description }, context, ns.name);
      const namespace = new k8s.core.v1.Namespace(
        `${name}-${ns.name}`,
        { metadata: { ...meta, labels: { ...meta.labels, ...podSecurityLabels(args.podSecurity.level) } } },
        child,
      );
      namespaces[ns.name] = namespace;
      const admitted: pulumi.Resource[] = [namespace];
      admission[ns.name] = admitted;
      const inNs = { parent: this, dependsOn: [namespace] };
      const netMeta = (suffix: string) => metadata(trace(args.network.source), context, `${ns.name}-${suffix}`, ns.name);

      if (args.network.defaultDeny) {
        admitted.push(
          new k8s.networking.v1.NetworkPolicy(`${name}-${ns.name}-default-deny`, { metadata: netMeta("default-deny"), spec: defaultDenySpec() }, inNs),
        );
        policies++;
      }
      if (args.network.allowDns) {
        admitted.push(new k8s.networking.v1.NetworkPolicy(`${name}-${ns.name}-allow-dns`, { metadata: netMeta("allow-dns"), spec: dnsEgressSpec() }, inNs));
        policies++;
      }
      for (const rule of args.network.egress) {
        if (rule.namespaces.length > 0 && !rule.namespaces.includes(ns.name)) continue;
        new k8s.networking.v1.NetworkPolicy(
          `${name}-${ns.name}-egress-${rule.name}`,
          {
            metadata: metadata({ ...trace(args.network.source), description: rule.description }, context, `${ns.name}-egress-${rule.name}`, ns.name),
            spec: cidrEgressSpec(rule),
          },
          inNs,
        );
        policies++;
      }
      for (const source of args.network.platformSources.filter((w) => w.namespace === ns.name)) {
        const spec = workloadEgressSpec(source, args.network.edges);
        if (!spec) continue;
        new k8s.networking.v1.NetworkPolicy(`${name}-${ns.name}-${source.name}-egress`, { metadata: netMeta(`${source.name}-egress`), spec }, inNs);
        policies++;
      }
      if (args.network.openNamespaces.includes(ns.name)) {
        const sameNamespace = [{ podSelector: {} }];
        new k8s.networking.v1.NetworkPolicy(
          `${name}-${ns.name}-allow-same-namespace`,
          {
            metadata: netMeta("allow-same-namespace"),
            spec: {
              podSelector: {},
              policyTypes: ["Ingress", "Egress"],
              ingress: [{ from: sameNamespace }],
              egress: [{ to: sameNamespace }],
            },
          },
          inNs,
        );
        policies++;
      }
      const quota = new k8s.core.v1.ResourceQuota(
        `${name}-${ns.name}-quota`,
        {
          metadata: metadata(trace(ns.source), context, `${ns.name}-quota`, ns.name),
          spec: { hard: { "limits.cpu": ns.quota.cpu, "limits.memory": ns.quota.memory, pods: String(ns.quota.pods) } },
        },
        inNs,
      );
      const limits = new k8s.core.v1.LimitRange(
        `${name}-${ns.name}-limits`,
        { metadata: metadata(trace(ns.source), context, `${ns.name}-limits`, ns.name), spec: limitRangeSpec() },
        inNs,
      );
      admitted.push(quota, limits);
    }

    for (const binding of args.rbac) {
      const trace: Traceable = {
        name: binding.name,
        description: binding.description,
        owner: binding.owner,
        source: binding.source,
        environment: context.environment,
        component: "security",
      };
      for (const nsName of binding.namespaces) {
        const namespace = namespaces[nsName];
        const inNs = { parent: this, dependsOn: namespace ? [namespace] : [] };
        const role = new k8s.rbac.v1.Role(
          `${name}-${nsName}-${binding.name}`,
          {
            metadata: metadata(trace, context, binding.name, nsName),
            rules: binding.rules.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
          },
          inNs,
        );
        new k8s.rbac.v1.RoleBinding(
          `${name}-${nsName}-${binding.name}-binding`,
          {
            metadata: metadata(trace, context, binding.name, nsName),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: binding.subjects.map((s) =>
              s.kind === "ServiceAccount"
                ? { kind: s.kind, name: s.name, namespace: nsName }
                : { kind: s.kind, name: s.name, apiGroup: "rbac.authorization.k8s.io" },
            ),
          },
          inNs,
        );
      }
    }

    this.namespaces = namespaces;
    this.admission = admission;
    this.networkPolicyCount = policies;
    this.registerOutputs({ namespaces: Object.keys(namespaces), networkPolicyCount: policies });
  }
}
