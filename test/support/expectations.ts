/**
 * What the platform promises about the objects it writes, written out once for the tests of every
 * component that writes them. Plain literals, not the builders' own values, so that a builder that
 * drifts fails these tests.
 */
import type { ResolvedTask } from "../../domain/model";

/** The Pod Security "restricted" profile of a container: what every NEXUS container runs with. */
export const RESTRICTED_CONTAINER = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/**
 * The CronJob spec fields an enabled task's registry entry sets, whichever component runs it: its
 * schedule, history limits, deadline and retries, and never two runs at once.
 */
export function taskCronJobSpec(t: ResolvedTask) {
  return {
    schedule: t.schedule,
    concurrencyPolicy: "Forbid",
    suspend: false,
    successfulJobsHistoryLimit: t.successfulJobsHistory,
    failedJobsHistoryLimit: t.failedJobsHistory,
    jobTemplate: { spec: { activeDeadlineSeconds: t.timeoutSeconds, backoffLimit: t.retries } },
  };
}
