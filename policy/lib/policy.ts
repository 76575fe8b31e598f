import type { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import type { BaseConfig } from "./config";
import { resourceReporter } from "./exceptions";
import { workloadOf, WORKLOAD_TYPES, type Workload } from "./kube";

/**
 * Like `validateResourceOfType` from @pulumi/policy, for type tokens instead of SDK classes (so the
 * pack does not need the Kubernetes and AWS SDKs): other types are "not applicable", and a single
 * type is attached as `__pulumiType` so the policy server skips other resources without a call.
 */
export function ofTypes(types: readonly string[], validate: ResourceValidation): ResourceValidation {
  const fn: ResourceValidation & { __pulumiType?: string } = (args, reportViolation) => {
    if (!types.includes(args.type)) {
      return args.notApplicable(`Policy only applies to resources of type ${types.map((t) => `'${t}'`).join(", ")}`);
    }
    return validate(args, reportViolation);
  };
  if (types.length === 1) fn.__pulumiType = types[0];
  return fn;
}

/** Reports one violation of the resource being validated (after exceptions). */
export type Say = (message: string) => void;

/** A resource validation with the pack's exception handling. */
export function checked<C extends BaseConfig>(
  types: readonly string[],
  check: (args: ResourceValidationArgs, say: Say, config: C) => void,
): ResourceValidation {
  return ofTypes(types, (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const report = resourceReporter(args, reportViolation);
    check(args, (message) => report(message), args.getConfig<C>());
  });
}

/** A validation of the pod template of every workload type, including init containers. */
export function workloadCheck<C extends BaseConfig>(check: (workload: Workload, say: Say, config: C) => void): ResourceValidation {
  return checked<C>(WORKLOAD_TYPES, (args, say, config) => {
    const workload = workloadOf(args.type, args.name, args.props);
    if (workload) check(workload, say, config);
  });
}
