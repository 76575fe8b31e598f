import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedTask } from "../domain/model";
import { DEPENDENCIES_ENV } from "../domain/schema";
import { containerEnv, cronJobSpec, jobSpec, stableHash, taskPodTemplate, type SecretEnvRef } from "./builders/backup";
import { dependencyAddresses, workloadEgressSpec, type Edge } from "./builders/network";
import { dependenciesEnv } from "./builders/pod";
import type { PlatformContext } from "./context";
import { ANNOTATION, labels, metadata, type Traceable } from "./labels";

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
}

/** Throws on an entry the component cannot build, naming it. */
function check(name: string, { task, namespace, localSecrets }: AutomationTaskArgs): void {
  const entry = `task "${task.name}" (${task.source})`;
  if (task.kind === "backup") throw new Error(`${entry} is a backup: use BackupJob`);
  const local = task.runner === "local-command";
  if (local && namespace !== undefined) throw new Error(`${entry} runs beside Pulumi: it takes no namespace`);
  if (!local && namespace === undefined) throw new Error(`${entry} runs in the cluster: it needs a namespace`);
  if (!local && !task.image) throw new Error(`${entry} has no image`);
  if (!local && (DEPENDENCIES_ENV in task.env || task.secrets.some((s) => s.env === DEPENDENCIES_ENV))) {
    throw new Error(`${entry} sets ${DEPENDENCIES_ENV}, which the platform sets to the addresses of its targets: rename it`);
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
 * Job re-created whenever its entry changes (`k8s-job`), or a command on the machine running
 * Pulumi (`local-command`), re-run when its entry changes. The pods of the k8s runners get egress
 * to what the task targets or depends on, and nowhere else beside the namespace's baseline.
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
   * A k8s runner: a token-less service account, a Secret of the task's own secrets, the egress
   * policy of its pods when edges leave the task, and its CronJob or Job.
   */
  private inCluster(name: string, { context, task, localSecrets, edges }: AutomationTaskArgs, namespace: string): pulumi.Output<string> {
    const traceable: Traceable = { name: task.name, owner: task.owner, source: task.source, environment: context.environment, component: "automation" };
    const meta = (objectName: string) => metadata(traceable, context, objectName, namespace);
    // The task never calls the Kubernetes API: no token in its pods.
    const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: meta(name), automountServiceAccountToken: false }, { parent: this });
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
      annotations: { [ANNOTATION.source]: task.source },
      serviceAccountName: sa.metadata.name,
      containerName: "task",
      image: task.image!,
      command: task.command,
      // The addresses of exactly the paths its egress policy opens.
      env: [...containerEnv([task.env], ownRefs), ...dependenciesEnv(dependencyAddresses(self, edges))],
      resources: task.resources,
    });

    if (task.runner === "k8s-cronjob") {
      return new k8s.batch.v1.CronJob(`${name}-cronjob`, { metadata: meta(name), spec: cronJobSpec(task, template) }, { parent: this }).metadata.name;
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

  private localCommand(name: string, task: ResolvedTask, localSecrets: Readonly<Record<string, pulumi.Input<string>>>): command.local.Command {
    const secretEnv = Object.fromEntries(Object.entries(localSecrets).map(([env, value]) => [env, pulumi.secret(value)]));
    const hasSecrets = Object.keys(secretEnv).length > 0;
    return new command.local.Command(
      `${name}-command`,
      {
        create: shellJoin(task.command),
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
