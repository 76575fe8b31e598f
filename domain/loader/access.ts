/**
 * Checks of what reaches the Kubernetes API and AWS: a task's `clusterAccess` (automation.yaml)
 * and the AWS egress rules (security.yaml `network.awsEgress`). Every finding is located.
 */
import { CHECK_WORKLOADS_ENV, CLUSTER_SCOPED_RESOURCES, DEPLOYMENT_CHECK_READS } from "../schema";
import type { Registries } from "./checks";
import { suggest } from "./issues";
import type { Locator } from "./locator";

/** A namespace that orchestration.yaml does not declare, as the other reference checks say it. */
function unknownNamespace(name: string, known: ReadonlySet<string>): string {
  const guess = suggest(name, [...known]);
  return `namespace "${name}" does not exist: ${guess ? `did you mean "${guess}"? ` : ""}use one declared in orchestration.yaml namespaces${known.size <= 12 ? ` (${[...known].join(", ")})` : ""}`;
}

export function checkAccess(r: Registries, at: Locator): void {
  clusterAccess(r, at);
  awsEgress(r, at);
}

function clusterAccess(r: Registries, at: Locator): void {
  const namespaces = new Set(r.orchestration.namespaces.map((n) => n.name));
  r.automation.tasks.forEach((t, i) => {
    const path = ["tasks", i];
    if (t.kind === "deployment-check" && CHECK_WORKLOADS_ENV in t.env) {
      at.report(
        "automation",
        [...path, "env", CHECK_WORKLOADS_ENV],
        `${CHECK_WORKLOADS_ENV} is set by the platform to the workloads of orchestration.yaml the check reads: remove it`,
        "reserved-env",
        true,
      );
    }
    const access = t.clusterAccess;
    if (t.kind === "deployment-check" && t.runner !== "local-command") deploymentCheck(r, at, i);
    if (!access) return;
    if (t.runner === "local-command") {
      at.report(
        "automation",
        [...path, "clusterAccess"],
        `a local-command task runs beside Pulumi with the deployer's credentials, not with a token of its own: remove clusterAccess or run it in the cluster`,
        "cluster-access",
        true,
      );
    }
    const seen = new Map<string, number>();
    access.read.forEach((resource, j) => {
      const at_ = [...path, "clusterAccess", "read", j];
      if (CLUSTER_SCOPED_RESOURCES.includes(resource)) {
        at.report(
          "automation",
          at_,
          `"${resource}" is cluster-wide: a task reads only namespaced resources, through a Role in each namespace`,
          "cluster-access",
        );
      }
      const earlier = seen.get(resource);
      if (earlier !== undefined) at.report("automation", at_, `"${resource}" is already listed at read[${earlier}]: remove one`, "cluster-access");
      else seen.set(resource, j);
    });
    access.namespaces?.forEach((ns, j) => {
      if (!namespaces.has(ns)) {
        at.report("automation", [...path, "clusterAccess", "namespaces", j], unknownNamespace(ns, namespaces), "unknown-reference");
      }
    });
  });
}

/**
 * An in-cluster deployment check reads every service's Deployment or StatefulSet: its
 * clusterAccess must grant that in every namespace holding a service, or it fails on its first read.
 */
function deploymentCheck(r: Registries, at: Locator, i: number): void {
  const t = r.automation.tasks[i]!;
  const access = t.clusterAccess;
  if (!access) {
    at.report(
      "automation",
      ["tasks", i],
      `an in-cluster deployment check reads the services' rollout through the API: add clusterAccess: { read: [${DEPLOYMENT_CHECK_READS.join(", ")}] }`,
      "missing-field",
    );
    return;
  }
  const missing = DEPLOYMENT_CHECK_READS.filter((res) => !access.read.includes(res));
  if (missing.length > 0) {
    at.report(
      "automation",
      ["tasks", i, "clusterAccess", "read"],
      `a deployment check reads the services' workloads: add ${missing.join(", ")}`,
      "cluster-access",
    );
  }
  if (access.namespaces) {
    const uncovered = [...new Set(r.orchestration.services.map((s) => s.namespace))].filter((ns) => !access.namespaces!.includes(ns));
    if (uncovered.length > 0) {
      at.report(
        "automation",
        ["tasks", i, "clusterAccess", "namespaces"],
        `a deployment check reads every service: add ${uncovered.join(", ")}, or leave namespaces out for every namespace`,
        "cluster-access",
      );
    }
  }
}

function awsEgress(r: Registries, at: Locator): void {
  const namespaces = new Set(r.orchestration.namespaces.map((n) => n.name));
  const cidrRules = new Map(r.security.network.egress.map((e, i) => [e.name, i]));
  r.security.network.awsEgress.forEach((rule, i) => {
    const other = cidrRules.get(rule.name);
    if (other !== undefined) {
      at.report(
        "security",
        ["network", "awsEgress", i, "name"],
        `duplicate name "${rule.name}": network.egress[${other}] already uses it; egress and awsEgress rules become NetworkPolicies of one namespace, rename one`,
        "duplicate-name",
      );
    }
    rule.namespaces.forEach((ns, j) => {
      if (!namespaces.has(ns)) {
        at.report("security", ["network", "awsEgress", i, "namespaces", j], unknownNamespace(ns, namespaces), "unknown-reference");
      }
    });
  });
}
