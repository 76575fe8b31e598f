/** Traceability: every resource names its owner team and the registry entry it came from. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configSchema } from "../lib/config";
import { resourceReporter } from "../lib/exceptions";
import { ANNOTATION, LABEL, describe } from "../lib/kube";
import { list, path, q, stringMap } from "../lib/props";

/** Kubernetes types that are not API objects (component resources of the SDK). */
const K8S_COMPONENT_MODULES = /^kubernetes:(yaml|helm\.sh|kustomize)[/:]/;

/** AWS types that take tags, checked even when no tags are set. */
export const TAGGABLE_AWS_TYPES: readonly string[] = [
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:kms/key:Key",
  "aws:iam/role:Role",
  "aws:iam/policy:Policy",
];

/** "registries/orchestration.yaml:12" */
const SOURCE = /^[^\s:]+:\d+$/;

export const traceabilityLabels: ResourceValidationPolicy = {
  name: "traceability-labels",
  description: `Checks whether every Kubernetes object carries the ${LABEL.owner} label and the ${ANNOTATION.source} annotation (FILE:LINE of its registry entry), and every taggable AWS resource the same keys as tags.`,
  configSchema: configSchema(),
  validateResource: (args, reportViolation) => {
    let kv: { labels: Record<string, string>; annotations: Record<string, string>; where: string } | undefined;
    if (args.type.startsWith("kubernetes:") && !K8S_COMPONENT_MODULES.test(args.type)) {
      kv = {
        labels: stringMap(path(args.props, "metadata", "labels")),
        annotations: stringMap(path(args.props, "metadata", "annotations")),
        where: "metadata",
      };
    } else if (args.type.startsWith("aws:") && (TAGGABLE_AWS_TYPES.includes(args.type) || Object.keys(args.props).includes("tags"))) {
      const tags = stringMap(args.props.tags);
      kv = { labels: tags, annotations: tags, where: "tags" };
    } else {
      return args.notApplicable("Policy only applies to Kubernetes objects and taggable AWS resources");
    }
    const report = resourceReporter(args, reportViolation);
    const what = describe(args.type, args.name, args.props);
    const missing: string[] = [];
    if (!kv.labels[LABEL.owner]) missing.push(`${kv.where === "tags" ? "tag" : "label"} ${LABEL.owner}`);
    const source = kv.annotations[ANNOTATION.source];
    if (!source) missing.push(`${kv.where === "tags" ? "tag" : "annotation"} ${ANNOTATION.source}`);
    if (missing.length > 0) {
      report(
        `${what} has ${list(missing.map((m) => `no ${m}`))}: build its ${kv.where} with components/labels.ts (${kv.where === "tags" ? "awsTags" : "metadata"}) so it names its owner team and the registry FILE:LINE it came from`,
      );
    } else if (source !== undefined && !SOURCE.test(source)) {
      report(
        `${what} has ${ANNOTATION.source} ${q(source)}, which is not a registry FILE:LINE: take it from the model entry's source, e.g. "registries/orchestration.yaml:12"`,
      );
    }
  },
};

export const traceabilityPolicies: ResourceValidationPolicy[] = [traceabilityLabels];
