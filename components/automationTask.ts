import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedTask } from "../domain/model";
import { CHECK_WORKLOADS_ENV, DEPENDENCIES_ENV } from "../domain/schema";
import { checkWorkloadsValue, readRules, type CheckedWorkload } from "./builders/access";
import { containerEnv, cronJobSpec, jobSpec, stableHash, taskPodTemplate, type SecretEnvRef } from "./builders/backup";
import { apiServerEgressSpec, dependencyAddresses, workloadEgressSpec, type ApiServerEndpoint, type Edge } from "./builders/network";
import { dependenciesEnv } from "./builders/pod";
import type { PlatformContext } from "./context";
import { ANNOTATION, labels, metadata, traceableEntry, type Traceable } from "./labels";

/**
 * A finished Job is kept a week so its pods and logs can be read, then the cluster removes it.
 * Note: a `pulumi refresh` after that drops it from the state and the next `up` runs it again.
 */
export const JOB_TTL_SECONDS = 7 * 24 * 3600;

/** Time Pulumi waits beyond the task's own deadline for a Job to be scheduled and finish. */
const JOB_AWAIT_MARGIN_SECONDS = 300;

/** Kubernetes appends 11 characters to a CronJob's name for its Jobs, which must fit 63. */
const MAX_CRONJOB_NAME = 52;

type Runner = ResolvedTask["runner"];

/** What runs a task of each runner: the Kubernetes object, or a command beside Pulumi. */
export const OBJECT_KIND = { "k8s-cronjob": "CronJob", "k8s-job": "Job", "local-command": "Command" } as const satisfies Record<Runner, string>;
export type ObjectKind = (typeof OBJECT_KIND)[Runner];

export interface AutomationTaskArgs {
  context: PlatformContext;
  /** Any task but a backup (BackupJob runs those). */
  task: ResolvedTask;
  /** Kubernetes namespace of the k8s runners; absent for a local command, which runs beside Pulumi. */
  namespace?: string;
  /**
   * The platform's network graph; the pods of a k8s runner may open the edges leaving the task
   * and are told their addresses. A local command has no pods: it uses none.
   */
  edges: readonly Edge[];
  /**
   * Environment name -> secret value of the task's own secrets, marked secret before any use:
   * the environment of a local command, or a Secret of the task's own for the k8s runners.
   */
  localSecrets: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * For a task whose entry declares clusterAccess, and only for it: the namespaces its read-only
   * Roles go in (the entry's own list, else every namespace of the platform) and the API server's
   * addresses, to which its pods get egress.
   */
  clusterAccess?: { namespaces: readonly string[]; apiServer: pulumi.Input<readonly ApiServerEndpoint[]> };
  /**
   * For a deployment-check task, and only for it: the workloads it checks, in start order, and a
   * hash of their registry entries; a new hash runs the check again.
   */
  checks?: { workloads: readonly CheckedWorkload[]; revision: string };
}

/** Throws on an entry the component cannot build, naming it. */
function check(name: string, { task, namespace, localSecrets, clusterAccess, checks }: AutomationTaskArgs): void {
  const entry = `task "${task.name}" (${task.source})`;
  if (task.kind === "backup") throw new Error(`${entry} is a backup: use BackupJob`);
  if (!task.command) throw new Error(`${entry} has no command`);
  const local = task.runner === "local-command";
  if (local && namespace !== undefined) throw new Error(`${entry} runs beside Pulumi: it takes no namespace`);
  if (!local && namespace === undefined) throw new Error(`${entry} runs in the cluster: it needs a namespace`);
  if (!local && !task.image) throw new Error(`${entry} has no image`);
  if (!local && (DEPENDENCIES_ENV in task.env || task.secrets.some((s) => s.env === DEPENDENCIES_ENV))) {
    throw new Error(`${entry} sets ${DEPENDENCIES_ENV}, which the platform sets to the addresses of its targets: rename it`);
  }
  if (local && task.clusterAccess) throw new Error(`${entry} runs beside Pulumi: clusterAccess is for in-cluster tasks`);
  if ((task.clusterAccess !== undefined) !== (clusterAccess !== undefined)) {
    throw new Error(`${entry}: the component gets the namespaces and API server of clusterAccess exactly when the entry declares it`);
  }
  if (!local && (CHECK_WORKLOADS_ENV in task.env || task.secrets.some((s) => s.env === CHECK_WORKLOADS_ENV))) {
    throw new Error(`${entry} sets ${CHECK_WORKLOADS_ENV}, which the platform sets to the workloads a deployment check checks: rename it`);
  }
  if ((task.kind === "deployment-check" && !local) !== (checks !== undefined)) {
    throw new Error(`${entry}: an in-cluster deployment check, and only it, gets the workloads it checks`);
  }
  if (task.runner === "k8s-cronjob" && !task.schedule) throw new Error(`${entry} has no schedule`);
  if (task.runner === "k8s-cronjob" && name.length > MAX_CRONJOB_NAME) {
    throw new Error(`task name "${name}" is longer than ${MAX_CRONJOB_NAME} characters`);
  }
  const missing = task.secrets.filter((s) => !(s.env in localSecrets)).map((s) => s.env);
  if (missing.length > 0) throw new Error(`${entry} lacks secret values for ${missing.join(", ")}`);
}

/** One argument quoted for POSIX sh: safe words stay readable, anything else is single-quoted. */
export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'"'"'`)}'`;
}

/** The registry's argv as one sh command line: no argument is ever re-split or expanded. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/**
 * What makes a local command run again: the task entry itself. Its source line is left out, so
 * editing another entry above it in automation.yaml does not re-run it.
 */
export function taskFingerprint(task: ResolvedTask): string {
  const { source: _source, ...entry } = task;
  return stableHash(entry);
}

/**
 * One automation task from the registry, run by its runner: a CronJob (`k8s-cronjob`), a one-shot
 * Job re-created whenever its entry changes (`k8s-job`; a deployment check also when a service it
 * checks changes), or a command on the machine running Pulumi (`local-command`), re-run when its
 * entry changes. The pods of the k8s runners get egress to what the task targets or depends on,
 * and to the API server when it reads the cluster, and nowhere else beside the namespace's baseline.
 */
export class AutomationTask extends pulumi.ComponentResource {
  public readonly kind: ObjectKind;
  public readonly objectName: pulumi.Output<string>;

  constructor(name: string, args: AutomationTaskArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering anything, so a bad entry leaves no half-made component behind.
    check(name, args);
    super("nexus:automation:AutomationTask", name, {}, opts);
    const { task, namespace } = args;
    this.kind = OBJECT_KIND[task.runner];
    if (namespace === undefined) {
      const cmd = this.localCommand(name, task, args.localSecrets);
      this.objectName = cmd.urn.apply(() => `${name}-command`);
    } else {
      this.objectName = this.inCluster(name, args, namespace);
    }
    this.registerOutputs({ kind: this.kind, objectName: this.objectName });
  }

  /**
   * A k8s runner: a service account (with an API token only when the entry declares clusterAccess,
   * then also its read-only Roles and egress to the API server), a Secret of the task's own
   * secrets, the egress policy of its pods when edges leave the task, and its CronJob or Job.
   */
  private inCluster(name: string, args: AutomationTaskArgs, namespace: string): pulumi.Output<string> {
    const { context, task, localSecrets, edges } = args;
    const traceable = traceableEntry(task, context.environment, "automation");
    const meta = (objectName: string) => metadata(traceable, context, objectName, namespace);
    // A token only for a task that declares it reads the cluster; the annotation tells the policy pack it is declared.
    const reads = args.clusterAccess !== undefined;
    const saMeta = metadata(traceable, context, name, namespace, reads ? { [ANNOTATION.tokenAutomount]: "declared" } : {});
    const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: saMeta, automountServiceAccountToken: reads }, { parent: this });
    // The pods start once they may read: their Roles, bindings and API egress exist.
    const access = args.clusterAccess ? this.clusterRead(name, traceable, namespace, task.clusterAccess!.read, args.clusterAccess, context) : [];
    const declared = new Set(task.secrets.map((s) => s.env));
    const ownSecrets = Object.entries(localSecrets).filter(([env]) => declared.has(env));
    const ownRefs: SecretEnvRef[] = ownSecrets.map(([env]) => ({ env, secretName: `${name}-secrets`, key: env }));
    if (ownSecrets.length > 0) {
      const stringData = Object.fromEntries(ownSecrets.map(([env, value]) => [env, pulumi.secret(value)]));
      new k8s.core.v1.Secret(`${name}-secrets`, { metadata: meta(`${name}-secrets`), type: "Opaque", stringData }, { parent: this });
    }
    // The pods carry selectorLabels(task.name) through labels(traceable): the policy selects them.
    const self = { namespace, name: task.name };
    const egress = workloadEgressSpec(self, edges);
    if (egress) new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, { metadata: meta(`${name}-allow`), spec: egress }, { parent: this });
    const template = taskPodTemplate({
      labels: labels(traceable),
      annotations: { [ANNOTATION.source]: task.source, ...(args.checks ? { [ANNOTATION.checkRevision]: args.checks.revision } : {}) },
      serviceAccountName: sa.metadata.name,
      containerName: "task",
      image: task.image!,
      command: task.command!,
      // The addresses of exactly the paths its egress policy opens, and what a deployment check checks.
      env: [
        ...containerEnv([task.env], ownRefs),
        ...dependenciesEnv(dependencyAddresses(self, edges)),
        ...(args.checks ? [{ name: CHECK_WORKLOADS_ENV, value: checkWorkloadsValue(args.checks.workloads) }] : []),
      ],
      resources: task.resources,
      apiToken: reads,
    });

    if (task.runner === "k8s-cronjob") {
      const spec = cronJobSpec(task, template);
      return new k8s.batch.v1.CronJob(`${name}-cronjob`, { metadata: meta(name), spec }, { parent: this, dependsOn: access }).metadata.name;
    }
    const wait = `${task.timeoutSeconds + JOB_AWAIT_MARGIN_SECONDS}s`;
    const job = new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: meta(name),
        spec: { ...jobSpec(task, template), ttlSecondsAfterFinished: JOB_TTL_SECONDS },
      },
      {
        parent: this,
        dependsOn: access,
        // A Job's spec is immutable: any change to the entry replaces it, which runs it
        // again; the old one goes first because both carry the same name.
        replaceOnChanges: ["spec"],
        deleteBeforeReplace: true,
        // Pulumi waits for the Job to finish: its own deadline decides, not Pulumi's default.
        customTimeouts: { create: wait, update: wait },
      },
    );
    return job.metadata.name;
  }

  /**
   * What a task declaring clusterAccess reads with: in each namespace a Role with the read verbs on
   * exactly the listed resources, bound to the task's service account, and an egress policy of the
   * task's pods to the API server's addresses. Returns them, for the pods to wait for.
   */
  private clusterRead(
    name: string,
    traceable: Traceable,
    namespace: string,
    read: readonly string[],
    access: NonNullable<AutomationTaskArgs["clusterAccess"]>,
    context: PlatformContext,
  ): pulumi.Resource[] {
    const rules = readRules(read);
    const made: pulumi.Resource[] = [];
    for (const ns of access.namespaces) {
      const meta = metadata(traceable, context, `${traceable.name}-read`, ns);
      const role = new k8s.rbac.v1.Role(`${name}-read-${ns}`, { metadata: meta, rules }, { parent: this });
      const subjects = [{ kind: "ServiceAccount", name: traceable.name, namespace }];
      const roleRef = { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name };
      made.push(role, new k8s.rbac.v1.RoleBinding(`${name}-read-${ns}-binding`, { metadata: meta, roleRef, subjects }, { parent: this }));
    }
    const spec = pulumi.output(access.apiServer).apply((endpoints) => apiServerEgressSpec(traceable.name, endpoints));
    const apiMeta = metadata(traceable, context, `${traceable.name}-api-server`, namespace);
    made.push(new k8s.networking.v1.NetworkPolicy(`${name}-api-server`, { metadata: apiMeta, spec }, { parent: this }));
    return made;
  }

  private localCommand(name: string, task: ResolvedTask, localSecrets: Readonly<Record<string, pulumi.Input<string>>>): command.local.Command {
    const secretEnv = Object.fromEntries(Object.entries(localSecrets).map(([env, value]) => [env, pulumi.secret(value)]));
    const hasSecrets = Object.keys(secretEnv).length > 0;
    return new command.local.Command(
      `${name}-command`,
      {
        create: shellJoin(task.command!),
        environment: { ...task.env, ...secretEnv },
        triggers: [taskFingerprint(task)],
        // A command may print what it was given: with secrets, nothing reaches the engine's log
        // and its captured output is stored as secret.
        logging: hasSecrets ? "none" : "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      { parent: this, ...(hasSecrets ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}) },
    );
  }
}
