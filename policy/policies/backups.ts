/** Backups: every stateful workload is backed up, and backup/automation CronJobs behave. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configSchema, type BaseConfig } from "../lib/config";
import { reporter, subjectOf } from "../lib/exceptions";
import { K8S, LABEL, describe, entryName, labelsOf } from "../lib/kube";
import { checked } from "../lib/policy";
import { list, path } from "../lib/props";

export const statefulWorkloadBackup: StackValidationPolicy = {
  name: "stateful-workload-backup",
  description: `Checks whether every StatefulSet has a backup CronJob labelled ${LABEL.backupOf}=<its ${LABEL.name} label>.`,
  configSchema: configSchema(),
  validateStack: (args, reportViolation) => {
    const report = reporter(args.getConfig<BaseConfig>(), reportViolation);
    const backedUp = new Set(
      args.resources
        .filter((r) => r.type === K8S.CronJob)
        .map((r) => labelsOf(r.props)[LABEL.backupOf])
        .filter((v): v is string => typeof v === "string" && v.length > 0),
    );
    for (const sts of args.resources.filter((r) => r.type === K8S.StatefulSet)) {
      const name = entryName(sts.name, sts.props);
      if (backedUp.has(name)) continue;
      report(
        `${describe(sts.type, sts.name, sts.props)} has no backup CronJob labelled ${LABEL.backupOf}=${name}: add a backup task with target: ${name} to registries/automation.yaml (its BackupJob carries that label)`,
        subjectOf(sts),
      );
    }
  },
};

export const cronjobConcurrencyForbid: ResourceValidationPolicy = {
  name: "cronjob-concurrency-forbid",
  description: "Checks whether every CronJob sets concurrencyPolicy: Forbid, so a slow run is never overlapped by the next.",
  configSchema: configSchema(),
  validateResource: checked([K8S.CronJob], (args, say) => {
    const policy = path(args.props, "spec", "concurrencyPolicy");
    if (policy !== "Forbid") {
      say(
        `${describe(args.type, args.name, args.props)} has concurrencyPolicy ${typeof policy === "string" ? policy : "unset (Allow)"}: set spec.concurrencyPolicy: Forbid so two runs never overlap`,
      );
    }
  }),
};

const positive = (v: unknown) => typeof v === "number" && v > 0;

export const cronjobDeadlines: ResourceValidationPolicy = {
  name: "cronjob-deadlines",
  description: "Checks whether every CronJob has a starting deadline and its jobs an active deadline, so missed and hung runs end.",
  configSchema: configSchema(),
  validateResource: checked([K8S.CronJob], (args, say) => {
    const missing: string[] = [];
    if (!positive(path(args.props, "spec", "startingDeadlineSeconds"))) missing.push("spec.startingDeadlineSeconds");
    if (!positive(path(args.props, "spec", "jobTemplate", "spec", "activeDeadlineSeconds"))) missing.push("spec.jobTemplate.spec.activeDeadlineSeconds");
    if (missing.length > 0) {
      say(
        `${describe(args.type, args.name, args.props)} has no ${list(missing)}: set ${missing.length > 1 ? "both" : "it"} (a missed run starts at most that late; a hung run is stopped after the task's timeoutSeconds)`,
      );
    }
  }),
};

export const backupPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [statefulWorkloadBackup, cronjobConcurrencyForbid, cronjobDeadlines];
