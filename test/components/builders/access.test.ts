import { describe, expect, it } from "vitest";
import { apiResource, checkWorkloadsValue, readRules } from "../../../components/builders/access";

describe("apiResource", () => {
  it("splits a kubectl resource name into resource and API group; the core group is empty", () => {
    expect(apiResource("pods")).toEqual({ apiGroup: "", resource: "pods" });
    expect(apiResource("deployments.apps")).toEqual({ apiGroup: "apps", resource: "deployments" });
    expect(apiResource("networkpolicies.networking.k8s.io")).toEqual({ apiGroup: "networking.k8s.io", resource: "networkpolicies" });
  });
});

describe("readRules", () => {
  it("grants get, list and watch only, one rule per API group, resources sorted and each once", () => {
    const rules = readRules(["statefulsets.apps", "pods", "deployments.apps", "roles.rbac.authorization.k8s.io", "services", "deployments.apps"]);
    expect(rules).toEqual([
      { apiGroups: [""], resources: ["pods", "services"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["get", "list", "watch"] },
    ]);
  });

  it("never grants secrets unless they are listed, nor any wildcard", () => {
    const flat = (read: string[]) => readRules(read).flatMap((r) => [...(r.resources as string[]), ...(r.verbs as string[]), ...(r.apiGroups as string[])]);
    expect(flat(["pods", "deployments.apps"])).not.toContain("secrets");
    expect(flat(["pods", "deployments.apps"])).not.toContain("*");
    expect(flat(["secrets"])).toContain("secrets");
  });
});

describe("checkWorkloadsValue", () => {
  it("lists NAMESPACE/KIND/NAME in the order given", () => {
    expect(
      checkWorkloadsValue([
        { namespace: "data", kind: "StatefulSet", name: "postgres" },
        { namespace: "core", kind: "Deployment", name: "api" },
      ]),
    ).toBe("data/StatefulSet/postgres,core/Deployment/api");
  });

  it("refuses an empty list, which would pass whatever the cluster looks like", () => {
    expect(() => checkWorkloadsValue([])).toThrow(/at least one workload/);
  });
});
