/** Namespaces and network: default-deny, Pod Security labels, exposure, RBAC. */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configSchema, stringList, type BaseConfig } from "../lib/config";
import { reporter, subjectNames, subjectOf } from "../lib/exceptions";
import { K8S, describe, isEmptySelector, objectName, refersTo } from "../lib/kube";
import { checked } from "../lib/policy";
import { UNKNOWN, asArray, asObject, asString, known, list, path, q, stringMap } from "../lib/props";

/** A NetworkPolicy that denies all ingress and egress of every pod in its namespace. */
export function isDefaultDeny(props: Record<string, unknown>): boolean {
  const spec = asObject(props.spec);
  const types = asArray(spec.policyTypes);
  return (
    isEmptySelector(spec.podSelector ?? {}) &&
    types.includes("Ingress") &&
    types.includes("Egress") &&
    asArray(spec.ingress).length === 0 &&
    asArray(spec.egress).length === 0
  );
}

export const namespaceDefaultDeny: StackValidationPolicy = {
  name: "namespace-default-deny",
  description: "Checks whether every namespace has a default-deny NetworkPolicy: podSelector {}, policyTypes Ingress and Egress, no allow rules (CIS 5.3.2).",
  configSchema: configSchema(),
  validateStack: (args, reportViolation) => {
    const report = reporter(args.getConfig<BaseConfig>(), reportViolation);
    const policies = args.resources.filter((r) => r.type === K8S.NetworkPolicy);
    for (const ns of args.resources.filter((r) => r.type === K8S.Namespace)) {
      const name = known(() => asString(path(ns.props, "metadata", "name")));
      const inNamespace = (np: PolicyResource) => {
        const npNamespace = known(() => asString(path(np.props, "metadata", "namespace")));
        if (name !== UNKNOWN && name !== undefined && npNamespace !== UNKNOWN) return npNamespace === name;
        return refersTo(np, ns, "metadata");
      };
      const denies = policies.filter(inNamespace).some((np) => known(() => isDefaultDeny(np.props)) === true);
      if (!denies) {
        report(
          `Namespace ${q(objectName(ns.name, ns.props))} has no default-deny NetworkPolicy: add one in it with podSelector: {}, policyTypes: [Ingress, Egress] and no ingress or egress rules (SecurityBaseline does so for every registry namespace), then allow traffic with narrower policies`,
          subjectOf(ns),
        );
      }
    }
  },
};

const LEVELS = ["privileged", "baseline", "restricted"] as const;
type Level = (typeof LEVELS)[number];
const ENFORCE = "pod-security.kubernetes.io/enforce";

interface PodSecurityConfig extends BaseConfig {
  level?: Level;
}

export const namespacePodSecurityLabels: ResourceValidationPolicy = {
  name: "namespace-pod-security-labels",
  description: "Checks whether every namespace enforces the registry's Pod Security level with the pod-security.kubernetes.io/enforce label.",
  configSchema: configSchema({
    level: { type: "string", enum: [...LEVELS], default: "restricted", description: "podSecurity.level of registries/security.yaml" },
  }),
  validateResource: checked<PodSecurityConfig>([K8S.Namespace], (args, say, config) => {
    const want: Level = config.level ?? "restricted";
    const labels = stringMap(path(args.props, "metadata", "labels"));
    const have = labels[ENFORCE];
    const what = describe(args.type, args.name, args.props);
    if (have === undefined) {
      say(`${what} has no ${ENFORCE} label: label it ${ENFORCE}: ${want} (the registry's podSecurity.level) so the API server rejects non-compliant pods`);
    } else if (!LEVELS.includes(have as Level) || LEVELS.indexOf(have as Level) < LEVELS.indexOf(want)) {
      say(`${what} enforces Pod Security level ${q(have)}, weaker than the registry's ${q(want)}: set ${ENFORCE}: ${want}`);
    }
  }),
};

interface PublicConfig extends BaseConfig {
  publicServices?: string[];
}

const EXPOSED_TYPES = ["LoadBalancer", "NodePort"];

export const noPublicServiceTypes: ResourceValidationPolicy = {
  name: "no-public-service-types",
  description: "Checks whether a Service of type LoadBalancer or NodePort belongs to a service the registry declares exposure: public.",
  configSchema: configSchema({ publicServices: stringList("Registry entries with exposure: public") }),
  validateResource: checked<PublicConfig>([K8S.Service], (args, say, config) => {
    const type = asString(path(args.props, "spec", "type"));
    if (type === undefined || !EXPOSED_TYPES.includes(type)) return;
    const names = subjectNames(args.name, args.props);
    if (names.some((n) => (config.publicServices ?? []).includes(n))) return;
    say(
      `${describe(args.type, args.name, args.props)} has type ${type} but ${q(names[0] ?? args.name)} is not declared exposure: public in registries/orchestration.yaml: use type ClusterIP, or declare the service public`,
    );
  }),
};

export const noWildcardRbac: ResourceValidationPolicy = {
  name: "no-wildcard-rbac",
  description: 'Checks whether a Role or ClusterRole grants "*" in apiGroups, resources, verbs or nonResourceURLs (CIS 5.1.3).',
  configSchema: configSchema(),
  validateResource: checked([K8S.Role, K8S.ClusterRole], (args, say) => {
    asArray(args.props.rules).forEach((r, i) => {
      const rule = asObject(r);
      const fields = (["apiGroups", "resources", "verbs", "nonResourceURLs"] as const).filter((f) => asArray(rule[f]).includes("*"));
      if (fields.length > 0) {
        say(
          `${describe(args.type, args.name, args.props)} rule ${i + 1} grants "*" in ${list(fields)}: list the exact ${list(fields)} it needs (rbac rules in registries/security.yaml)`,
        );
      }
    });
  }),
};

export const noClusterAdminBindings: ResourceValidationPolicy = {
  name: "no-cluster-admin-bindings",
  description: "Checks whether a RoleBinding or ClusterRoleBinding grants the cluster-admin ClusterRole (CIS 5.1.1).",
  configSchema: configSchema(),
  validateResource: checked([K8S.RoleBinding, K8S.ClusterRoleBinding], (args, say) => {
    const roleRef = asObject(args.props.roleRef);
    if (roleRef.kind !== "ClusterRole" || roleRef.name !== "cluster-admin") return;
    const subjects = asArray(args.props.subjects).map((s) => `${asString(asObject(s).kind) ?? "?"} ${q(asString(asObject(s).name) ?? "?")}`);
    say(
      `${describe(args.type, args.name, args.props)} binds ClusterRole cluster-admin${subjects.length > 0 ? ` to ${list(subjects)}` : ""}: bind a Role with only the rules needed instead (rbac in registries/security.yaml)`,
    );
  }),
};

export const networkPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  namespaceDefaultDeny,
  namespacePodSecurityLabels,
  noPublicServiceTypes,
  noWildcardRbac,
  noClusterAdminBindings,
];
