import { describe, expect, it } from "vitest";
import { ANNOTATION, LABEL, MANAGED_BY, PART_OF, annotations, awsTags, labels, metadata, selectorLabels, type Traceable } from "../../components/labels";

const T: Traceable = {
  name: "backend-api",
  owner: "backend",
  source: "registries/orchestration.yaml:212",
  environment: "prod",
  component: "service",
};

const LABELS = {
  "app.kubernetes.io/name": "backend-api",
  "app.kubernetes.io/instance": "backend-api-prod",
  "app.kubernetes.io/component": "service",
  "app.kubernetes.io/part-of": "nexus-platform",
  "app.kubernetes.io/managed-by": "pulumi",
  "nexus.platform/owner": "backend",
  "nexus.platform/environment": "prod",
};

describe("labels", () => {
  it("are the fixed keys with the entry's values", () => {
    expect(labels(T)).toEqual(LABELS);
    expect(labels({ ...T, name: "x", environment: "dev", component: "backup", owner: "data" })).toEqual({
      "app.kubernetes.io/name": "x",
      "app.kubernetes.io/instance": "x-dev",
      "app.kubernetes.io/component": "backup",
      "app.kubernetes.io/part-of": "nexus-platform",
      "app.kubernetes.io/managed-by": "pulumi",
      "nexus.platform/owner": "data",
      "nexus.platform/environment": "dev",
    });
  });

  it("select pods by name and part-of only", () => {
    expect(selectorLabels("frontend")).toEqual({
      "app.kubernetes.io/name": "frontend",
      "app.kubernetes.io/part-of": "nexus-platform",
    });
  });

  it("exports the constants the policy pack relies on", () => {
    expect([PART_OF, MANAGED_BY, LABEL.owner, LABEL.environment, LABEL.backupOf]).toEqual([
      "nexus-platform",
      "pulumi",
      "nexus.platform/owner",
      "nexus.platform/environment",
      "nexus.platform/backup-of",
    ]);
    expect([ANNOTATION.source, ANNOTATION.skipAwait, ANNOTATION.deletionPropagation]).toEqual([
      "nexus.platform/source",
      "pulumi.com/skipAwait",
      "pulumi.com/deletionPropagationPolicy",
    ]);
  });
});

describe("annotations", () => {
  it("carry only the source when the stack awaits", () => {
    expect(annotations(T, { skipAwait: false })).toEqual({ "nexus.platform/source": "registries/orchestration.yaml:212", "pulumi.com/patchForce": "true" });
  });

  it("add skipAwait and background deletion when asked", () => {
    expect(annotations(T, { skipAwait: true })).toEqual({
      "nexus.platform/source": "registries/orchestration.yaml:212",
      "pulumi.com/patchForce": "true",
      "pulumi.com/skipAwait": "true",
      "pulumi.com/deletionPropagationPolicy": "background",
    });
  });

  it("keep extra annotations", () => {
    expect(annotations(T, { skipAwait: false }, { "nexus.platform/exposure": "public" })).toEqual({
      "nexus.platform/source": "registries/orchestration.yaml:212",
      "pulumi.com/patchForce": "true",
      "nexus.platform/exposure": "public",
    });
  });
});

describe("metadata", () => {
  it("names, namespaces, labels and annotates an object", () => {
    expect(metadata(T, { skipAwait: true }, "backend-api-env", "core", { a: "b" })).toEqual({
      name: "backend-api-env",
      namespace: "core",
      labels: LABELS,
      annotations: {
        "nexus.platform/source": "registries/orchestration.yaml:212",
        "pulumi.com/patchForce": "true",
        "pulumi.com/skipAwait": "true",
        "pulumi.com/deletionPropagationPolicy": "background",
        a: "b",
      },
    });
  });

  it("has no namespace key for a cluster-scoped object", () => {
    const m = metadata(T, { skipAwait: false }, "core");
    expect(m).toEqual({
      name: "core",
      labels: LABELS,
      annotations: { "nexus.platform/source": "registries/orchestration.yaml:212", "pulumi.com/patchForce": "true" },
    });
    expect("namespace" in m).toBe(false);
  });
});

describe("awsTags", () => {
  it("are the labels plus the source", () => {
    expect(awsTags(T)).toEqual({ ...LABELS, "nexus.platform/source": "registries/orchestration.yaml:212" });
  });
});
