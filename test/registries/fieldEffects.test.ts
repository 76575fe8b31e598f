/**
 * Every registry field has an effect a test shows, or it is not in the schema. This table maps
 * each field of the five registries, as the zod schemas define them (walked through their JSON
 * Schema: nested objects, union variants and array items), to the test that would fail if the
 * field were ignored. A field added to a schema fails here until it gets a row; a row whose field
 * is gone, or whose test is not in its file, fails too.
 *
 * A row names a test file and a test title, or a bad-input case (test/registries/cases/NAME.yaml)
 * and its description. Objects and lists of objects have no row of their own: their fields do.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonSchemaFor } from "../../cmd/schema";
import { REGISTRY_FILES, type RegistryKey } from "../../domain/schema";
import { ROOT } from "../support/registries";

interface Effect {
  /** A test file, or a bad-input case, relative to the project root. */
  file: string;
  /** The test's title, or the case's description. */
  test: string;
}

// ----------------------------------------------------------------------------------- the tests

const SERVICE = "test/components/serviceDeployment.test.ts";
const TASK = "test/components/automationTask.test.ts";
const BACKUP_JOB = "test/components/backupJob.test.ts";
const BACKUP = "test/components/builders/backup.test.ts";
const BASELINE = "test/components/securityBaseline.test.ts";
const FIELDS = "test/components/entryFields.test.ts";
const MONITORING = "test/components/builders/monitoring.test.ts";
const MONITORING_FIELDS = "test/components/builders/monitoringFields.test.ts";
const MONITORING_STACK = "test/components/monitoringStack.test.ts";
const MONITORING_TOOLS = "test/components/monitoring-tools.test.ts";
const NETWORK = "test/components/builders/network.test.ts";
const PLATFORM = "test/stacks/platform.test.ts";
const DISABLED = "test/stacks/disabledTasks.test.ts";
const LOADER = "test/registries/loader.test.ts";
const OVERRIDES = "test/registries/overrides.test.ts";
const POLICY_CONFIG = "test/policy/config.test.ts";
const SECURITY_DIFF = "test/audit/securityDiff.test.ts";
const GENERATE = "test/ci/generate.test.ts";
const STACK_NAME = "test/ci/stackName.test.ts";
const CI_COMMANDS = "test/ci/commands.test.ts";
const SECURITY_REVIEW = "test/ci/security-review.test.ts";
const ALERTING = "test/components/alerting.test.ts";
const AWS_EGRESS = "test/components/builders/awsEgress.test.ts";
const STACK_ALERTING = "test/stacks/alerting.test.ts";

const at = (file: string, test: string): Effect => ({ file, test });
const badInput = (name: string, description: string): Effect => ({ file: `test/registries/cases/${name}.yaml`, test: description });

// Tests used by several rows.
const API_VERSION = badInput("wrong-api-version", "an apiVersion other than nexus/v1");
const KIND = badInput("wrong-kind", "a file whose kind does not match its file name");
const SERVICE_POD = at(SERVICE, "runs a hardened pod with the registry's probes, resources, config and secrets");
const PROBES = at(FIELDS, "builds each probe from its own type, path, port, command and timing");
const SERVICE_CONFIG = at(SERVICE, "puts plain config in the ConfigMap and secrets, marked secret, in the Secret");
const AUTOSCALER = at(SERVICE, "leaves the replica count to the autoscaler");
const STORAGE = at(SERVICE, "claims storage of the registry's size and class and mounts it");
const CRONJOB_SPEC = at(BACKUP, "carries the task's schedule, limits and deadlines and forbids overlapping runs");
const TASK_CRONJOB = at(TASK, "runs a hardened, non-overlapping CronJob with the task's config and secrets");
const TASK_RESOURCES = at(FIELDS, "gives the task's container the registry's resources instead of the default");
const LIFECYCLE = at(BACKUP, "expires each prefix after min(retention, GDPR maximum) plus the keepLast grace, old versions a day later");
const MONITORING_CONTAINERS = at(MONITORING_STACK, "runs every container restricted, with images, resources and replicas from the registry");
const ROUTES = at(MONITORING, "routes backups and tasks by owning team, overrides by alert name and SLO, then by severity");
const RECEIVERS = at(MONITORING, "has one receiver per channel, secrets in place, and a receiver for what no route claims");
const ALERT_RULES = at(MONITORING, "labels severity, service, owner and team and annotates the registry source");
const BURN_RATE = at(MONITORING, "pages on 14.4x over 1h and 5m or 6x over 6h and 30m, tickets on 3x and 1x");
const SLO_TEXT = at(MONITORING_FIELDS, "name the SLO's objective and window in their summary and open their description with the SLO's");
const DASHBOARD = at(MONITORING_FIELDS, "carry the registry's title, a tag per service, and each panel's title, type and expression");
const CIDR_EGRESS = at(BASELINE, "opens the CIDR egress, the platform source's egress and the same-namespace traffic where declared");
const RBAC = at(BASELINE, "grants the registry's rules to exactly its subjects");
const DESCRIBED_SECURITY = at(
  FIELDS,
  "annotates a namespace, its egress rule's policy and an RBAC binding's objects with their descriptions, and nothing else",
);
const ENFORCEMENT = at(POLICY_CONFIG, "follows the security registry: changing it changes the gate");
const EXCEPTIONS = at(POLICY_CONFIG, "gives every catalog policy its dev enforcement, today and its exceptions");
const SCOPED_REGISTRY = at(LOADER, "allows a registry scoped to environments only there, and a plain one everywhere, in their order");
const PULL_REQUEST = at(GENERATE, "check every preview target behind the policy gate and post one comment per stack on pull requests");
const COMMITTED_WORKFLOWS = at(GENERATE, "are exactly what `nexus ci generate` produces from registries/");
const STAGING_SECRETS = at(GENERATE, "uses the staging secret names of the registry for staging");
const PROTECTION = at(CI_COMMANDS, "fails on a missing reviewer, a shorter wait or a missing environment");
const AWS_RULES = at(AWS_EGRESS, "turns each rule into the ranges of its services in the region, each once, keeping ports and namespaces");
const PROMETHEUS_STORAGE = at(
  MONITORING_STACK,
  "keeps Prometheus's series on a claim of its own where the registry gives storage, recreating the pod rather than rolling it",
);
const KUBE_STATE_METRICS = at(
  MONITORING_STACK,
  "runs kube-state-metrics restricted, reporting only what it may list and watch, only in the watched namespaces",
);
const PROMETHEUS_CONFIG = at(MONITORING, "scrapes each ready pod of every target, found through its headless Service, and sends alerts to Alertmanager");

/** Field path ("registry:a.b[].c") → the test that shows its effect. */
export const FIELD_EFFECTS: Readonly<Record<string, Effect>> = {
  // --------------------------------------------------------------------------- orchestration
  "orchestration:apiVersion": API_VERSION,
  "orchestration:kind": KIND,
  "orchestration:teams[].name": ROUTES,
  "orchestration:teams[].channel": ROUTES,
  "orchestration:teams[].githubTeam": at(SECURITY_REVIEW, "follows the audit task's owner and that team's githubTeam"),
  "orchestration:namespaces[].name": at(BASELINE, "labels namespaces for Pod Security Admission at the registry's level"),
  "orchestration:namespaces[].description": DESCRIBED_SECURITY,
  "orchestration:namespaces[].owner": at(BASELINE, "sets the namespace's quota and default container limits"),
  "orchestration:namespaces[].quota.cpu": at(BASELINE, "sets the namespace's quota and default container limits"),
  "orchestration:namespaces[].quota.memory": at(BASELINE, "sets the namespace's quota and default container limits"),
  "orchestration:namespaces[].quota.pods": at(BASELINE, "sets the namespace's quota and default container limits"),
  "orchestration:namespaces[].environments": badInput(
    "quota-too-small-in-one-environment",
    "a namespace quota too small in dev only, reported at the dev override that set it",
  ),
  "orchestration:services[].name": at(SERVICE, "creates exactly these children under the component"),
  "orchestration:services[].description": at(FIELDS, "annotates every object of a service with its description, and none without one"),
  "orchestration:services[].owner": at(SERVICE, "labels and traces every resource"),
  "orchestration:services[].namespace": at(PLATFORM, "deploys services after their namespace's admission objects and the workloads they call, in startOrder"),
  "orchestration:services[].image": SERVICE_POD,
  "orchestration:services[].args": at(FIELDS, "passes the registry's args to the container, and none without them"),
  "orchestration:services[].port": at(SERVICE, "exposes a ClusterIP Service annotated with its exposure, metrics port included"),
  "orchestration:services[].protocol": at(FIELDS, "names the service port after the registry's protocol"),
  "orchestration:services[].replicas": at(SERVICE, "sets replicas, has no HPA, no PDB, no public ingress and no ConfigMap or Secret"),
  "orchestration:services[].autoscaling.minReplicas": AUTOSCALER,
  "orchestration:services[].autoscaling.maxReplicas": AUTOSCALER,
  "orchestration:services[].autoscaling.targetCPUUtilization": AUTOSCALER,
  "orchestration:services[].resources.requests.cpu": SERVICE_POD,
  "orchestration:services[].resources.requests.memory": SERVICE_POD,
  "orchestration:services[].resources.limits.cpu": SERVICE_POD,
  "orchestration:services[].resources.limits.memory": SERVICE_POD,
  "orchestration:services[].probes.liveness.type": PROBES,
  "orchestration:services[].probes.liveness.path": SERVICE_POD,
  "orchestration:services[].probes.liveness.port": PROBES,
  "orchestration:services[].probes.liveness.command": PROBES,
  "orchestration:services[].probes.liveness.initialDelaySeconds": PROBES,
  "orchestration:services[].probes.liveness.periodSeconds": PROBES,
  "orchestration:services[].probes.liveness.timeoutSeconds": PROBES,
  "orchestration:services[].probes.liveness.failureThreshold": PROBES,
  "orchestration:services[].probes.readiness.type": PROBES,
  "orchestration:services[].probes.readiness.path": PROBES,
  "orchestration:services[].probes.readiness.port": PROBES,
  "orchestration:services[].probes.readiness.command": PROBES,
  "orchestration:services[].probes.readiness.initialDelaySeconds": PROBES,
  "orchestration:services[].probes.readiness.periodSeconds": PROBES,
  "orchestration:services[].probes.readiness.timeoutSeconds": PROBES,
  "orchestration:services[].probes.readiness.failureThreshold": PROBES,
  "orchestration:services[].dependsOn": at(NETWORK, "derives exactly the declared paths, with their reasons"),
  "orchestration:services[].env": SERVICE_CONFIG,
  "orchestration:services[].secrets[].env": SERVICE_CONFIG,
  "orchestration:services[].secrets[].configKey": SERVICE_CONFIG,
  "orchestration:services[].stateful": at(SERVICE, "creates a StatefulSet behind a headless Service, and no Deployment"),
  "orchestration:services[].storage.size": STORAGE,
  "orchestration:services[].storage.storageClass": STORAGE,
  "orchestration:services[].storage.mountPath": STORAGE,
  "orchestration:services[].writablePaths": at(SERVICE, "mounts an emptyDir at each writable path, beside /tmp and the storage, under a read-only root"),
  "orchestration:services[].personalData": badInput("personal-data-backup-without-gdpr", "a backup of a personal-data service without a gdpr section"),
  "orchestration:services[].exposure": at(SERVICE, "exposes a ClusterIP Service annotated with its exposure, metrics port included"),
  "orchestration:services[].userFacing": at(POLICY_CONFIG, "compiles the facts each policy checks against from the registries"),
  "orchestration:services[].metrics.path": PROMETHEUS_CONFIG,
  "orchestration:services[].metrics.port": at(SERVICE, "exposes a ClusterIP Service annotated with its exposure, metrics port included"),
  "orchestration:services[].automountServiceAccountToken": at(FIELDS, "mounts the API token only where the registry declares it, and says so on the account"),
  "orchestration:services[].topologySpread": SERVICE_POD,
  "orchestration:services[].environments": at(LOADER, "applies the prod override of the api replicas and fills in every default"),

  // ------------------------------------------------------------------------------ automation
  "automation:apiVersion": API_VERSION,
  "automation:kind": KIND,
  "automation:tasks[].name": at(TASK, "$t.runner: creates a token-less service account, the secrets and one $kind"),
  "automation:tasks[].description": at(FIELDS, "annotates every object of an automation task with its description, and none without one"),
  "automation:tasks[].kind": at(PLATFORM, "builds one component per service and task, under the stack"),
  "automation:tasks[].owner": TASK_CRONJOB,
  "automation:tasks[].runner": at(TASK, "$t.runner: creates a token-less service account, the secrets and one $kind"),
  "automation:tasks[].schedule": CRONJOB_SPEC,
  "automation:tasks[].timeZone": at(BACKUP, "suspends a disabled task and keeps its time zone"),
  "automation:tasks[].image": TASK_CRONJOB,
  "automation:tasks[].command": TASK_CRONJOB,
  "automation:tasks[].target": at(PLATFORM, "lets each task in the cluster reach what it targets and depends on, and tells an automation task where"),
  "automation:tasks[].namespace": at(PLATFORM, "is the task's own namespace first, else its target's"),
  "automation:tasks[].dependsOn": at(PLATFORM, "lets each task in the cluster reach what it targets and depends on, and tells an automation task where"),
  "automation:tasks[].env": TASK_CRONJOB,
  "automation:tasks[].secrets[].env": TASK_CRONJOB,
  "automation:tasks[].secrets[].configKey": at(PLATFORM, "reads each secret from the target's own Secret under the target's key"),
  "automation:tasks[].resources.requests.cpu": TASK_RESOURCES,
  "automation:tasks[].resources.requests.memory": TASK_RESOURCES,
  "automation:tasks[].resources.limits.cpu": TASK_RESOURCES,
  "automation:tasks[].resources.limits.memory": TASK_RESOURCES,
  "automation:tasks[].timeoutSeconds": CRONJOB_SPEC,
  "automation:tasks[].retries": CRONJOB_SPEC,
  "automation:tasks[].successfulJobsHistory": CRONJOB_SPEC,
  "automation:tasks[].failedJobsHistory": CRONJOB_SPEC,
  "automation:tasks[].backup.method": at(BACKUP_JOB, "mounts the target's claim read-only for a volume archive, and needs it"),
  "automation:tasks[].backup.destination.prefix": at(BACKUP_JOB, "schedules a non-overlapping, hardened run of the script to its prefix"),
  "automation:tasks[].backup.destination.objectLock": at(BACKUP, "locks the bucket when any backup asks for it"),
  "automation:tasks[].backup.retention.days": LIFECYCLE,
  "automation:tasks[].backup.retention.keepLast": at(FIELDS, "keeps the newest keepLast backups in the claim whatever their age"),
  "automation:tasks[].backup.gdpr.personalData": at(BACKUP, "expires personal data a noncurrent-version period early, so no copy outlives the GDPR maximum"),
  "automation:tasks[].backup.gdpr.maxRetentionDays": LIFECYCLE,
  "automation:tasks[].backup.gdpr.legalBasis": at(FIELDS, "labels every object of a backup with its personal data and legal basis"),
  "automation:tasks[].clusterAccess.read": at(
    TASK,
    "gives the task a token, a read-only Role and binding in each namespace, and egress to the API server only",
  ),
  "automation:tasks[].clusterAccess.namespaces": at(
    PLATFORM,
    "reads in the namespaces a task's clusterAccess lists, else in every namespace, and nowhere without clusterAccess",
  ),
  "automation:tasks[].enabled": at(DISABLED, "creates no Job and no local command, suspends every CronJob, and says why in the outputs"),
  "automation:tasks[].environments": at(LOADER, "applies the dev override of the audit schedule only in dev"),

  // ------------------------------------------------------------------------------- pipelines
  "pipelines:apiVersion": API_VERSION,
  "pipelines:kind": KIND,
  "pipelines:environments[].name": at(LOADER, "resolves the chosen environment"),
  "pipelines:environments[].stack": at(STACK_NAME, "previews and deploys the stack the registry names, never the environment's name"),
  "pipelines:environments[].production": badInput(
    "floor-production-flag",
    "an environment marked production gets the production floor though it is not last in the promotion order",
  ),
  "pipelines:environments[].approval.required": badInput("floor-deploy-without-gate", "the prod deploy switches off the policy gate and the approval"),
  "pipelines:environments[].approval.reviewers": PROTECTION,
  "pipelines:environments[].approval.waitMinutes": PROTECTION,
  "pipelines:environments[].secrets.passphrase": STAGING_SECRETS,
  "pipelines:environments[].secrets.backendUrl": STAGING_SECRETS,
  "pipelines:environments[].secrets.kubeconfig": STAGING_SECRETS,
  "pipelines:environments[].secrets.awsRoleArn": COMMITTED_WORKFLOWS,
  "pipelines:promotion": at(GENERATE, "chains the deploy jobs dev → staging → prod with their environments"),
  "pipelines:pipelines[].name": PULL_REQUEST,
  "pipelines:pipelines[].description": at(GENERATE, "keeps the workflows valid YAML: descriptions and reviewers with YAML and shell characters"),
  "pipelines:pipelines[].trigger": PULL_REQUEST,
  "pipelines:pipelines[].schedule": at(GENERATE, "tell drift from failure by the exit status and open one issue per stack"),
  "pipelines:pipelines[].stages[].name": COMMITTED_WORKFLOWS,
  "pipelines:pipelines[].stages[].type": PULL_REQUEST,
  "pipelines:pipelines[].stages[].targets": PULL_REQUEST,
  "pipelines:pipelines[].stages[].policyGate": badInput("floor-deploy-without-gate", "the prod deploy switches off the policy gate and the approval"),

  // ------------------------------------------------------------------------------ monitoring
  "monitoring:apiVersion": API_VERSION,
  "monitoring:kind": KIND,
  "monitoring:stack.mode": at(MONITORING_STACK, "replaces the Prometheus config and rule files by Prometheus, PrometheusRule and ServiceMonitor resources"),
  "monitoring:stack.owner": at(MONITORING_STACK, "puts every child in the namespace with the platform labels and the source annotation"),
  "monitoring:stack.namespace": at(MONITORING_STACK, "puts every child in the namespace with the platform labels and the source annotation"),
  "monitoring:stack.scrapeInterval": PROMETHEUS_CONFIG,
  "monitoring:stack.retention": MONITORING_CONTAINERS,
  "monitoring:stack.prometheus.image": MONITORING_CONTAINERS,
  "monitoring:stack.prometheus.resources.requests.cpu": MONITORING_CONTAINERS,
  "monitoring:stack.prometheus.resources.requests.memory": MONITORING_CONTAINERS,
  "monitoring:stack.prometheus.resources.limits.cpu": MONITORING_CONTAINERS,
  "monitoring:stack.prometheus.resources.limits.memory": MONITORING_CONTAINERS,
  "monitoring:stack.prometheus.replicas": MONITORING_CONTAINERS,
  "monitoring:stack.alertmanager.image": MONITORING_CONTAINERS,
  "monitoring:stack.alertmanager.resources.requests.cpu": MONITORING_CONTAINERS,
  "monitoring:stack.alertmanager.resources.requests.memory": MONITORING_CONTAINERS,
  "monitoring:stack.alertmanager.resources.limits.cpu": MONITORING_CONTAINERS,
  "monitoring:stack.alertmanager.resources.limits.memory": MONITORING_CONTAINERS,
  "monitoring:stack.alertmanager.replicas": MONITORING_CONTAINERS,
  "monitoring:stack.prometheus.storage.size": PROMETHEUS_STORAGE,
  "monitoring:stack.prometheus.storage.storageClass": PROMETHEUS_STORAGE,
  "monitoring:stack.prometheus.nodes": at(MONITORING_STACK, "scrapes named nodes statically when the registry lists them"),
  "monitoring:stack.kubeStateMetrics.image": KUBE_STATE_METRICS,
  "monitoring:stack.kubeStateMetrics.resources.requests.cpu": KUBE_STATE_METRICS,
  "monitoring:stack.kubeStateMetrics.resources.requests.memory": KUBE_STATE_METRICS,
  "monitoring:stack.kubeStateMetrics.resources.limits.cpu": KUBE_STATE_METRICS,
  "monitoring:stack.kubeStateMetrics.resources.limits.memory": KUBE_STATE_METRICS,
  "monitoring:stack.grafana.image": MONITORING_CONTAINERS,
  "monitoring:stack.grafana.resources.requests.cpu": MONITORING_CONTAINERS,
  "monitoring:stack.grafana.resources.requests.memory": MONITORING_CONTAINERS,
  "monitoring:stack.grafana.resources.limits.cpu": MONITORING_CONTAINERS,
  "monitoring:stack.grafana.resources.limits.memory": MONITORING_CONTAINERS,
  "monitoring:stack.grafana.replicas": MONITORING_CONTAINERS,
  "monitoring:stack.grafana.enabled": at(MONITORING_STACK, "leaves out Grafana's ServiceAccount, provisioning, Deployment and Service, and nothing else"),
  "monitoring:stack.environments": at(LOADER, "runs Grafana unless an environment turns it off"),
  "monitoring:routing.critical": ROUTES,
  "monitoring:routing.warning": ROUTES,
  "monitoring:routing.info": at(
    MONITORING_TOOLS,
    "the real registries (${env}): every alert, SLO and backup rule passes promtool, and amtool routes each alert to its channels",
  ),
  "monitoring:routing.groupWait": ROUTES,
  "monitoring:routing.groupInterval": at(ALERTING, "waits groupInterval before notifying a group's changes"),
  "monitoring:routing.repeatInterval": ROUTES,
  "monitoring:routing.environments": at(OVERRIDES, "apply the routing's overrides in their environment only"),
  "monitoring:channels[].name": RECEIVERS,
  "monitoring:channels[].type": RECEIVERS,
  "monitoring:channels[].slackChannel": RECEIVERS,
  "monitoring:channels[].webhookSecret": RECEIVERS,
  "monitoring:channels[].to": RECEIVERS,
  "monitoring:channels[].smarthost": RECEIVERS,
  "monitoring:channels[].from": RECEIVERS,
  "monitoring:channels[].passwordSecret": RECEIVERS,
  "monitoring:channels[].routingKeySecret": RECEIVERS,
  "monitoring:channels[].urlSecret": RECEIVERS,
  "monitoring:channels[].environments": at(STACK_ALERTING, "dev: Alertmanager reaches the local receiver's HTTP and SMTP ports (and the relay), no proxy"),
  "monitoring:channels[].requireTls": at(
    ALERTING,
    "posts PagerDuty events to the channel's URL where one is set, and relaxes STARTTLS only where the channel says",
  ),
  "monitoring:channels[].url": at(ALERTING, "posts PagerDuty events to the channel's URL where one is set, and relaxes STARTTLS only where the channel says"),
  "monitoring:alerts[].name": at(MONITORING, "turns kebab-case registry names into CamelCase alert names"),
  "monitoring:alerts[].expr": ALERT_RULES,
  "monitoring:alerts[].for": ALERT_RULES,
  "monitoring:alerts[].severity": ALERT_RULES,
  "monitoring:alerts[].service": ALERT_RULES,
  "monitoring:alerts[].channels": ROUTES,
  "monitoring:alerts[].summary": ALERT_RULES,
  "monitoring:alerts[].description": ALERT_RULES,
  "monitoring:alerts[].runbook": ALERT_RULES,
  "monitoring:alerts[].enabled": at(MONITORING, "groups enabled alerts per service, the rest under platform, and drops disabled ones"),
  "monitoring:alerts[].environments": at(OVERRIDES, "apply an alert's and an SLO's overrides in their environment only"),
  "monitoring:slos[].name": BURN_RATE,
  "monitoring:slos[].service": BURN_RATE,
  "monitoring:slos[].description": SLO_TEXT,
  "monitoring:slos[].objective": BURN_RATE,
  "monitoring:slos[].window": SLO_TEXT,
  "monitoring:slos[].sli.errorQuery": at(MONITORING, "records the error ratio for every window, substituting {{window}}"),
  "monitoring:slos[].sli.totalQuery": at(MONITORING, "records the error ratio for every window, substituting {{window}}"),
  "monitoring:slos[].channels": ROUTES,
  "monitoring:slos[].environments": at(OVERRIDES, "apply an alert's and an SLO's overrides in their environment only"),
  "monitoring:dashboards[].name": at(MONITORING, "builds a dashboard with unique panel ids, a grid layout and the provisioned datasource"),
  "monitoring:dashboards[].title": DASHBOARD,
  "monitoring:dashboards[].services": DASHBOARD,
  "monitoring:dashboards[].panels[].title": DASHBOARD,
  "monitoring:dashboards[].panels[].type": DASHBOARD,
  "monitoring:dashboards[].panels[].expr": DASHBOARD,
  "monitoring:dashboards[].panels[].unit": at(MONITORING, "builds a dashboard with unique panel ids, a grid layout and the provisioned datasource"),

  // -------------------------------------------------------------------------------- security
  "security:apiVersion": API_VERSION,
  "security:kind": KIND,
  "security:podSecurity.level": at(BASELINE, "labels namespaces for Pod Security Admission at the registry's level"),
  "security:podSecurity.environments": at(SECURITY_DIFF, "pod security: restricted → baseline in dev loosens, located in the override"),
  "security:network.defaultDeny": at(BASELINE, "creates no network policy when default-deny, DNS, egress, platform sources and open namespaces are all off"),
  "security:network.allowDns": at(BASELINE, "creates no network policy when default-deny, DNS, egress, platform sources and open namespaces are all off"),
  "security:network.egress[].name": CIDR_EGRESS,
  "security:network.egress[].description": DESCRIBED_SECURITY,
  "security:network.egress[].cidrs": CIDR_EGRESS,
  "security:network.egress[].ports": CIDR_EGRESS,
  "security:network.egress[].namespaces": at(BASELINE, "applies an egress rule without namespaces to every namespace"),
  "security:network.egress[].proxyFor": at(ALERTING, "turns a rule of one /32 CIDR and one port into the proxy of the types it names"),
  "security:network.awsEgress[].name": AWS_RULES,
  "security:network.awsEgress[].services": AWS_RULES,
  "security:network.awsEgress[].ports": AWS_RULES,
  "security:network.awsEgress[].namespaces": AWS_RULES,
  "security:network.awsEgress[].description": at(AWS_EGRESS, "describes the rule by its services, region and snapshot date, then the registry's description"),
  "security:network.environments": at(SECURITY_DIFF, "egress: rules, CIDRs, ports and namespaces added or removed"),
  "security:imageRegistries": badInput("image-registry-not-allowed", "an image from a registry not listed in security.yaml imageRegistries"),
  "security:imageRegistries[].registry": SCOPED_REGISTRY,
  "security:imageRegistries[].environments": SCOPED_REGISTRY,
  "security:imageRegistries[].reason": badInput(
    "image-registry-scoped-incomplete",
    "environment-scoped registries with a misspelt field, without a reason, with a short reason, and not a registry at all",
  ),
  "security:rbac[].name": RBAC,
  "security:rbac[].description": DESCRIBED_SECURITY,
  "security:rbac[].owner": RBAC,
  "security:rbac[].namespaces": RBAC,
  "security:rbac[].subjects[].kind": RBAC,
  "security:rbac[].subjects[].name": RBAC,
  "security:rbac[].rules[].apiGroups": RBAC,
  "security:rbac[].rules[].resources": RBAC,
  "security:rbac[].rules[].verbs": RBAC,
  "security:policies[].id": ENFORCEMENT,
  "security:policies[].enforcement": ENFORCEMENT,
  "security:policies[].environments": at(POLICY_CONFIG, "uses the prod enforcement in prod"),
  "security:exceptions[].policy": EXCEPTIONS,
  "security:exceptions[].resource": EXCEPTIONS,
  "security:exceptions[].owner": EXCEPTIONS,
  "security:exceptions[].reason": EXCEPTIONS,
  "security:exceptions[].appliesTo": badInput("exception-unknown-environment", "an exception limited to an environment that does not exist"),
  "security:exceptions[].granted": badInput("floor-exception-too-long", "a production exception that lasts until 9999"),
  "security:exceptions[].expires": at(POLICY_CONFIG, "lets an exception stop applying once its day has passed, and the pack says so"),
  "security:audit.task": at(SECURITY_REVIEW, "follows the audit task's owner and that team's githubTeam"),
};

// ------------------------------------------------------------------------- the schemas' fields

/** The parts of a JSON Schema node the walk reads. */
interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
}

/** The alternatives of a node, unions flattened: a plain node is its own one variant. */
function variants(node: SchemaNode): SchemaNode[] {
  const alternatives = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  return alternatives.length === 0 ? [node] : alternatives.flatMap(variants);
}

/**
 * Every field under an object node: a field holding an object (or a list of objects) is walked
 * into, one holding anything else (a value, a list of values, a free-form mapping) is a field. A
 * union of both, like an image registry written as a string or as a mapping, is both.
 */
function fieldsOf(node: SchemaNode, prefix: string, out: Set<string>): void {
  for (const v of variants(node)) {
    for (const [key, child] of Object.entries(v.properties ?? {})) visit(child, prefix ? `${prefix}.${key}` : key, out);
  }
}

function visit(node: SchemaNode, path: string, out: Set<string>): void {
  for (const v of variants(node)) {
    if (v.properties) fieldsOf(v, path, out);
    else if (v.items) {
      for (const item of variants(v.items)) {
        if (item.properties) fieldsOf(item, `${path}[]`, out);
        else out.add(path);
      }
    } else out.add(path);
  }
}

/** Every field of every registry, "registry:path", from the zod schemas as `nexus schema` writes them. */
export function registryFields(): string[] {
  const out = new Set<string>();
  for (const key of Object.keys(REGISTRY_FILES) as RegistryKey[]) {
    const fields = new Set<string>();
    fieldsOf(jsonSchemaFor(key) as SchemaNode, "", fields);
    for (const f of fields) out.add(`${key}:${f}`);
  }
  return [...out].sort();
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether the file holds the test: an it/test title in a test file, a case's description. */
function holds(effect: Effect): boolean {
  const text = fs.readFileSync(path.join(ROOT, effect.file), "utf8");
  const title = escape(effect.test);
  if (effect.file.endsWith(".yaml")) return new RegExp(`^description: (["']?)${title}\\1$`, "m").test(text);
  // The title as a test's first argument: it("..."), it.each([...])("..."), test(`...`).
  return new RegExp(`(?:\\bit|\\btest|\\))\\(\\s*(["'\`])${title}\\1`).test(text);
}

// --------------------------------------------------------------------------------- the checks

describe("every registry field has an effect a test shows", () => {
  const fields = registryFields();

  it("walks the schemas into nested objects, union variants and list items", () => {
    expect(fields).toContain("orchestration:services[].probes.liveness.failureThreshold");
    expect(fields).toContain("monitoring:channels[].routingKeySecret");
    expect(fields).toContain("security:imageRegistries");
    expect(fields).toContain("security:imageRegistries[].reason");
    expect(fields).toContain("automation:tasks[].env");
    expect(fields).not.toContain("automation:tasks[].backup");
  });

  it("names a test for every field of the five schemas", () => {
    const missing = fields.filter((f) => !(f in FIELD_EFFECTS));
    // A new field: add a row naming the test that would fail if the field were ignored.
    expect(missing).toEqual([]);
  });

  it("names no field the schemas do not have", () => {
    const known = new Set(fields);
    expect(Object.keys(FIELD_EFFECTS).filter((f) => !known.has(f))).toEqual([]);
  });

  it("names tests that exist, each in its file", () => {
    const absent = Object.entries(FIELD_EFFECTS)
      .filter(([, effect]) => !fs.existsSync(path.join(ROOT, effect.file)) || !holds(effect))
      .map(([field, effect]) => `${field}: "${effect.test}" not in ${effect.file}`);
    expect(absent).toEqual([]);
  });

  it("finds a title only where a test is named by it", () => {
    expect(holds(at(FIELDS, "passes the registry's args to the container, and none without them"))).toBe(true);
    expect(holds(at(FIELDS, "passes the registry's args to the container"))).toBe(false);
    expect(holds(API_VERSION)).toBe(true);
    expect(holds(badInput("wrong-api-version", "an apiVersion other than"))).toBe(false);
  });
});
