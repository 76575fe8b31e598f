/**
 * Stack-wide checks (validateStack): the alerts the monitoring registry promises exist in the
 * generated Prometheus rules, and user-facing services are highly available in prod.
 */
import type { PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { parse } from "yaml";
import { configSchema, stringList, type BaseConfig } from "../lib/config";
import { reporter, subjectNames, subjectOf, type Report } from "../lib/exceptions";
import { K8S, LABEL, describe, entryName, labelsOf, namespaceOf, objectName, refersTo, selects } from "../lib/kube";
import { UNKNOWN, asArray, asObject, asString, known, list, path, q, stringMap } from "../lib/props";

export interface AlertRule {
  alert: string;
  labels: Record<string, string>;
}

const RULE_TYPES: readonly string[] = [K8S.ConfigMap, K8S.PrometheusRule];

function rulesOfGroups(groups: unknown): AlertRule[] {
  return asArray(groups).flatMap((g) =>
    asArray(asObject(g).rules).flatMap((r) => {
      const rule = asObject(r);
      const alert = asString(rule.alert);
      return alert ? [{ alert, labels: stringMap(rule.labels) }] : [];
    }),
  );
}

/** Alerting rules of a rule ConfigMap (YAML rule files in data) or a PrometheusRule. */
export function alertRulesOf(resource: PolicyResource): AlertRule[] {
  const rules = known((): AlertRule[] => {
    if (resource.type === K8S.PrometheusRule) return rulesOfGroups(path(resource.props, "spec", "groups"));
    return Object.values(stringMap(resource.props.data)).flatMap((text) => {
      try {
        return rulesOfGroups(asObject(parse(text)).groups);
      } catch {
        return [];
      }
    });
  });
  return rules === UNKNOWN ? [] : rules;
}

interface RuleSearch {
  rules: AlertRule[];
  /** What was searched, for messages. */
  where: string;
  /** Named rule resources that are not in the stack. */
  missing: string[];
}

/**
 * The alerting rules of the stack: of the named rule ConfigMaps/PrometheusRules when the config
 * names them, else of every ConfigMap holding rule groups and every PrometheusRule.
 */
export function findAlertRules(resources: readonly PolicyResource[], ruleResources: readonly string[]): RuleSearch {
  const candidates = resources.filter((r) => RULE_TYPES.includes(r.type));
  if (ruleResources.length > 0) {
    const named = candidates.filter((r) => subjectNames(r.name, r.props).some((n) => ruleResources.includes(n)));
    const found = new Set(named.flatMap((r) => subjectNames(r.name, r.props)));
    return {
      rules: named.flatMap(alertRulesOf),
      where: named.length > 0 ? `the rules of ${list(named.map((r) => describe(r.type, r.name, r.props)))}` : "the configured rule resources",
      missing: ruleResources.filter((n) => !found.has(n)),
    };
  }
  const withRules = candidates.map((r) => ({ r, rules: alertRulesOf(r) })).filter((x) => x.rules.length > 0);
  return {
    rules: withRules.flatMap((x) => x.rules),
    where:
      withRules.length > 0
        ? `the rules of ${list(withRules.map((x) => describe(x.r.type, x.r.name, x.r.props)))}`
        : "the stack (it has no Prometheus rule ConfigMap or PrometheusRule)",
    missing: [],
  };
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

interface RulesConfig extends BaseConfig {
  ruleResources?: string[];
}

/** The config schema of a policy that looks for alerts: its own properties, then where to look. */
const alertsSchema = (properties: Record<string, PolicyConfigJSONSchema>) =>
  configSchema({
    ...properties,
    ruleResources: stringList("Names of the rule ConfigMaps or PrometheusRules to look in; empty: every one in the stack"),
  });

/** A config property listing objects of string fields: the SLOs or the backup tasks of the environment. */
const objectList = (description: string, fields: string[], required: string[]): PolicyConfigJSONSchema => ({
  type: "array",
  description,
  items: { type: "object", properties: Object.fromEntries(fields.map((f) => [f, { type: "string" }])), required },
});

/**
 * A stack validation that looks for alerts: it searches the rules the config points at, reports
 * every named rule resource the stack lacks, and hands the rules found to `check`.
 */
function alertsCheck<C extends RulesConfig>(check: (search: RuleSearch, ctx: { args: StackValidationArgs; config: C; report: Report }) => void) {
  return (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const config = args.getConfig<C>();
    const report = reporter(config, reportViolation);
    const search = findAlertRules(args.resources, config.ruleResources ?? []);
    for (const name of search.missing) {
      report(`rule resource ${q(name)} is not in the stack: the MonitoringStack must create it, or correct ruleResources in the policy config`, {
        names: [name],
      });
    }
    check(search, { args, config, report });
  };
}

interface SloConfig extends RulesConfig {
  slos?: { name: string; service: string }[];
}

/** A burn-rate alert of an SLO: labelled slo: <name>, or named after the SLO with "burn" in it. */
export function isSloAlert(rule: AlertRule, slo: string): boolean {
  return rule.labels.slo === slo || (norm(rule.alert).includes(norm(slo)) && /burn/i.test(rule.alert));
}

export const sloAlertsPresent: StackValidationPolicy = {
  name: "slo-alerts-present",
  description: "Checks whether every SLO of registries/monitoring.yaml has burn-rate alerts in the generated Prometheus rules.",
  configSchema: alertsSchema({ slos: objectList("SLOs of the environment and the service each one measures", ["name", "service"], ["name", "service"]) }),
  validateStack: alertsCheck<SloConfig>((search, { config, report }) => {
    for (const slo of config.slos ?? []) {
      if (search.rules.some((r) => isSloAlert(r, slo.name))) continue;
      report(
        `SLO ${q(slo.name)} of service ${q(slo.service)} has no burn-rate alert in ${search.where}: generate its multi-window burn-rate alerts (alerting rules labelled slo: ${slo.name}) from registries/monitoring.yaml`,
        { names: [slo.name, slo.service] },
      );
    }
  }),
};

interface BackupAlertConfig extends RulesConfig {
  backupTasks?: { name: string; target?: string }[];
}

/** The alert of a backup task: labelled task: <name>, or named after the task. */
export function isBackupAlert(rule: AlertRule, task: string): boolean {
  return rule.labels.task === task || rule.labels.backup_task === task || norm(rule.alert).includes(norm(task));
}

export const backupAlertsPresent: StackValidationPolicy = {
  name: "backup-alerts-present",
  description: `Checks whether every backup task, and every CronJob labelled ${LABEL.backupOf}, has its "backup failed or missed" alert in the generated Prometheus rules.`,
  configSchema: alertsSchema({
    backupTasks: objectList("Enabled backup tasks of the environment and the service each one backs up", ["name", "target"], ["name"]),
  }),
  validateStack: alertsCheck<BackupAlertConfig>((search, { args, config, report }) => {
    const cronJobs = args.resources.filter((r) => r.type === K8S.CronJob && labelsOf(r.props)[LABEL.backupOf] !== undefined);
    const tasks = new Map<string, { target?: string; resource?: PolicyResource }>();
    for (const t of config.backupTasks ?? []) tasks.set(t.name, { ...(t.target !== undefined ? { target: t.target } : {}) });
    for (const cj of cronJobs) {
      const name = entryName(cj.name, cj.props);
      tasks.set(name, { ...tasks.get(name), target: labelsOf(cj.props)[LABEL.backupOf], resource: cj });
    }
    for (const [name, task] of [...tasks.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (search.rules.some((r) => isBackupAlert(r, name))) continue;
      const subject = task.resource ? subjectOf(task.resource) : { names: [name] };
      report(
        `backup task ${q(name)}${task.target ? ` (backing up ${q(task.target)})` : ""} has no alert in ${search.where}: add its "backup failed or missed" alert, labelled task: ${name}, to the MonitoringStack rules`,
        { ...subject, names: [...new Set([name, ...subject.names])] },
      );
    }
  }),
};

interface HaConfig extends BaseConfig {
  environment?: string;
  userFacingServices?: string[];
  minReplicas?: number;
}

const HPA_TYPES: readonly string[] = [K8S.HorizontalPodAutoscaler, "kubernetes:autoscaling/v1:HorizontalPodAutoscaler"];

function knownNumber(read: () => unknown): number | undefined | typeof UNKNOWN {
  const v = known(read);
  return v === UNKNOWN ? UNKNOWN : typeof v === "number" ? v : undefined;
}

export const prodHaUserFacing: StackValidationPolicy = {
  name: "prod-ha-user-facing",
  description: "Checks whether every user-facing service runs at least 2 replicas (or an autoscaler minimum of 2) and has a PodDisruptionBudget in prod.",
  configSchema: configSchema({
    environment: { type: "string", description: "Environment the stack deploys; the policy applies to prod" },
    userFacingServices: stringList("Registry services with userFacing: true"),
    minReplicas: { type: "integer", minimum: 2, default: 2, description: "Fewest replicas a user-facing service may run in prod" },
  }),
  validateStack: (args, reportViolation) => {
    const config = args.getConfig<HaConfig>();
    if (config.environment !== "prod") {
      return args.notApplicable(`applies to prod only; this stack deploys ${config.environment ?? "an unnamed environment"}`);
    }
    const report = reporter(config, reportViolation);
    const min = config.minReplicas ?? 2;
    const workloads = args.resources.filter((r) => r.type === K8S.Deployment || r.type === K8S.StatefulSet);
    const hpas = args.resources.filter((r) => HPA_TYPES.includes(r.type));
    const pdbs = args.resources.filter((r) => r.type === K8S.PodDisruptionBudget);
    for (const service of config.userFacingServices ?? []) {
      const own = workloads.filter((w) => entryName(w.name, w.props) === service);
      if (own.length === 0) {
        report(
          `user-facing service ${q(service)} has no Deployment or StatefulSet in this stack: deploy it from registries/orchestration.yaml, or drop userFacing`,
          { names: [service] },
        );
        continue;
      }
      for (const w of own) {
        const what = describe(w.type, w.name, w.props);
        const subject = subjectOf(w);
        const hpa = hpas.find((h) => known(() => path(h.props, "spec", "scaleTargetRef", "name")) === objectName(w.name, w.props) || refersTo(h, w, "spec"));
        const replicas = hpa ? knownNumber(() => path(hpa.props, "spec", "minReplicas")) : knownNumber(() => path(w.props, "spec", "replicas"));
        const effective = replicas === UNKNOWN ? UNKNOWN : (replicas ?? 1);
        if (effective !== UNKNOWN && effective < min) {
          report(
            `${what} of user-facing service ${q(service)} runs ${hpa ? `an autoscaler minimum of ${effective}` : `${effective} replica${effective === 1 ? "" : "s"}`} in prod: set ${hpa ? "autoscaling.minReplicas" : "replicas"} to at least ${min} in its prod override in registries/orchestration.yaml`,
            subject,
          );
        }
        const podLabels = stringMap(known(() => path(w.props, "spec", "template", "metadata", "labels")));
        const namespace = namespaceOf(w.props);
        const covered = pdbs.some((p) => {
          const pdbNamespace = namespaceOf(p.props);
          if (namespace !== undefined && pdbNamespace !== undefined && namespace !== pdbNamespace) return false;
          const selector = known(() => path(p.props, "spec", "selector"));
          if (selector !== UNKNOWN && Object.keys(stringMap(path(selector, "matchLabels"))).length > 0) return selects(selector, podLabels);
          return entryName(p.name, p.props) === service;
        });
        if (!covered) {
          report(
            `${what} of user-facing service ${q(service)} has no PodDisruptionBudget: run at least ${min} replicas in prod so ServiceDeployment adds one, or add a PodDisruptionBudget selecting its pods`,
            subject,
          );
        }
      }
    }
  },
};

export const stackPolicies: StackValidationPolicy[] = [sloAlertsPresent, backupAlertsPresent, prodHaUserFacing];
