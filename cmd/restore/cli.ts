/**
 * `nexus restore TASK`: restores a backup task's newest backup (or the newest at or before
 * `--at`) into its target, through a one-off Job made from the task's CronJob (job.ts) running
 * the restore script (components/builders/restore.ts). Waits for the Job, prints its log and its
 * outcome. Everything that can go wrong on the way is one line, never a trace.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { serviceHost } from "../../components/builders/backup";
import { RESTORABLE_METHODS, restoreScript } from "../../components/builders/restore";
import type { Model } from "../../domain/model";
import { parseCommand, usageError } from "../args";
import { StackConfigError, prepareStack } from "../audit/stack";
import { kubectlConnection, kubectlError, kubectlFromPath, type Kubectl } from "../kubectl";
import { backupDestination, jobOutcome, restoreAt, restoreJob, restoreJobName, type CronJobObject, type JobState, type PodState } from "./job";

export const RESTORE_USAGE = `Usage: nexus restore TASK [--at TIME] [--stack NAME] [--dry-run]

Restores the newest backup of the backup task TASK (registries/automation.yaml) into its target,
or the newest taken at or before --at. It creates a one-off Job from the task's CronJob in the
target's namespace (same image, service account, labels, network policies, environment and
secrets as the backup), which downloads the backup, checks it and restores it:
  postgres-dump    the dump is replayed with psql in one transaction; it drops and recreates
                   each object it holds, objects created after the backup stay
  redis-snapshot   the target is flushed and receives every key of the snapshot (MIGRATE)
The command waits for the Job, prints its log and its outcome; the Job is kept for a day.
It reads the cluster with kubectl, through the stack's kubeconfig and kubeContext settings, else
KUBECONFIG or ~/.kube/config.
Exit status: 0 restored (or, with --dry-run, the backup was found and is complete), 1 the restore
failed or the cluster cannot be read, 2 usage error.

Options:
  --at TIME     restore the newest backup taken at or before TIME: ISO 8601 with its zone
                (2026-12-01T10:30:00Z, 2026-12-01T12:30+02:00) or a backup's timestamp
                (20261201T103000Z); default: the newest backup
  --stack NAME  the stack whose task to restore (default: dev)
  --dry-run     run the Job without touching the target: it picks, downloads and checks the backup
  -h, --help    show this help

Example: npx nexus restore postgres-backup --stack dev --at 2026-12-01T03:00:00Z`;

/** Between two reads of the Job's state. */
const POLL_MS = 2000;
/** What the wait allows beyond the Job's own deadline, after which Kubernetes fails it. */
const DEADLINE_MARGIN_SECONDS = 120;

export interface RestoreDeps {
  kubectl: Kubectl;
  env: NodeJS.ProcessEnv;
  /** Waits between polls; tests pass one that returns at once. */
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

const defaultDeps = (): RestoreDeps => ({
  kubectl: kubectlFromPath(),
  env: process.env,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => new Date(),
});

/** The backup task TASK of the model, its target's namespace, host and port; or why not. */
function backupTaskOf(model: Model, name: string) {
  const backups = model.tasks.filter((t) => t.kind === "backup");
  const task = backups.find((t) => t.name === name);
  if (!task || !task.backup) {
    return {
      usage: `"${name}" is not a backup task of environment ${model.environment.name}; backup tasks: ${backups.map((t) => t.name).join(", ") || "none"}`,
    };
  }
  const target = model.services.find((s) => s.name === task.target);
  if (!target) return { error: `backup task ${name} (${task.source}) has no target service` };
  if (!RESTORABLE_METHODS.includes(task.backup.method)) {
    return {
      error: `backup task ${name} (${task.source}) is a ${task.backup.method}: its claim is held by the StatefulSet, so it is restored by hand (README, restore runbook)`,
    };
  }
  return { task, method: task.backup.method, target };
}

export async function restoreCommand(args: string[], deps: RestoreDeps = defaultDeps()): Promise<number> {
  // TASK first: parseCommand takes flags only.
  const taskName = args[0] !== undefined && !args[0].startsWith("-") ? args[0] : undefined;
  const parsed = parseCommand(
    taskName ? args.slice(1) : args,
    { stack: { type: "string" }, at: { type: "string" }, "dry-run": { type: "boolean" } },
    RESTORE_USAGE,
  );
  if ("exit" in parsed) return parsed.exit;
  if (!taskName) return usageError("name the backup task to restore", RESTORE_USAGE);
  const v = parsed.values;
  const stack = (v.stack as string | undefined) ?? "dev";
  const at = v.at === undefined ? undefined : restoreAt(v.at as string);
  if (at === null) return usageError(`--at "${String(v.at)}" is not a time with its zone: give e.g. 2026-12-01T10:30:00Z or 20261201T103000Z`, RESTORE_USAGE);
  const dryRun = v["dry-run"] === true;

  let prepared;
  try {
    prepared = prepareStack({ stack, today: deps.now().toISOString().slice(0, 10) });
  } catch (error) {
    if (error instanceof StackConfigError && error.unknownStack) return usageError(error.message, RESTORE_USAGE);
    console.error(`nexus: ${(error as Error).message.split("\n")[0]}`);
    return 1;
  }
  if (!prepared.ok) {
    console.error(`nexus: the registries of stack ${stack} have ${prepared.problems.length} problem(s): run npx nexus validate`);
    return 1;
  }
  const { settings, model } = prepared.stack;
  const found = backupTaskOf(model, taskName);
  if ("usage" in found) return usageError(found.usage!, RESTORE_USAGE);
  if ("error" in found) {
    console.error(`nexus: ${found.error}`);
    return 1;
  }
  const { task, method, target } = found;
  const namespace = target.namespace;

  const temp: string[] = [];
  try {
    const connection = kubectlConnection(settings.kubernetes, deps.env, temp);
    if ("error" in connection) {
      console.error(`nexus: ${connection.error}`);
      return 1;
    }
    const call = (...a: string[]) => deps.kubectl([...connection.args, "--request-timeout=20s", "--namespace", namespace, ...a]);

    const got = await call("get", "cronjob", task.name, "-o", "json");
    if (got.notFound) {
      console.error("nexus: kubectl is not on PATH: run `. .tools/env` first (scripts/bootstrap installs it)");
      return 1;
    }
    if (got.code !== 0) {
      console.error(`nexus: cannot read the CronJob ${namespace}/${task.name} of stack ${stack}: ${kubectlError(got.stderr)} (is the stack deployed?)`);
      return 1;
    }
    const cronJob = JSON.parse(got.stdout) as CronJobObject;
    const destination = backupDestination(cronJob);
    const script = restoreScript(method, { task: task.name, host: serviceHost(target.name, namespace), port: target.port, destination });
    const name = restoreJobName(task.name, deps.now());
    const manifest = restoreJob(cronJob, { name, script, ...(at !== undefined ? { at } : {}), dryRun });

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-restore-"));
    temp.push(dir);
    const file = path.join(dir, "job.json");
    fs.writeFileSync(file, JSON.stringify(manifest));
    const created = await call("create", "-f", file);
    if (created.code !== 0) {
      console.error(`nexus: cannot create the restore Job ${namespace}/${name}: ${kubectlError(created.stderr)}`);
      return 1;
    }
    const what = `${dryRun ? "dry run of the restore" : "restore"} of ${task.name} (${destination === "s3" ? "S3" : "claim"} backups${at ? `, at or before ${v.at as string}` : ", newest"})`;
    console.error(`nexus: started Job ${namespace}/${name}: ${what} into ${target.name}`);

    const deadline = ((manifest.spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds ?? task.timeoutSeconds) + DEADLINE_MARGIN_SECONDS;
    const outcome = await waitFor(call, name, deadline, deps);
    const logs = await call("logs", `job/${name}`, "--all-containers");
    if (logs.code === 0 && logs.stdout.trim()) process.stdout.write(logs.stdout.endsWith("\n") ? logs.stdout : `${logs.stdout}\n`);
    else if (logs.code !== 0) console.error(`nexus: note: the Job's log could not be read: ${kubectlError(logs.stderr)}`);
    if (outcome.ok) {
      console.error(`nexus: Job ${namespace}/${name} succeeded: ${dryRun ? "the backup is complete, the target was not changed" : `${target.name} restored`}`);
      return 0;
    }
    console.error(`nexus: Job ${namespace}/${name} failed: ${outcome.why}; ${target.name} may be partly restored (see the runbook)`);
    return 1;
  } finally {
    for (const d of temp) fs.rmSync(d, { recursive: true, force: true });
  }
}

type Call = (...a: string[]) => ReturnType<Kubectl>;

/** Polls the Job (and its pods, for a reason that never resolves) until it finishes or the wait runs out. */
async function waitFor(call: Call, name: string, seconds: number, deps: RestoreDeps): Promise<{ ok: true } | { ok: false; why: string }> {
  const until = deps.now().getTime() + seconds * 1000;
  for (;;) {
    const job = await call("get", "job", name, "-o", "json");
    const pods = await call("get", "pods", "-l", `job-name=${name}`, "-o", "json");
    if (job.code === 0) {
      let outcome;
      try {
        const items = pods.code === 0 ? ((JSON.parse(pods.stdout) as { items?: PodState[] }).items ?? []) : [];
        outcome = jobOutcome(JSON.parse(job.stdout) as JobState, items);
      } catch {
        return { ok: false, why: "kubectl printed something other than JSON" };
      }
      if (outcome.done) return outcome.ok ? { ok: true } : { ok: false, why: outcome.why };
    }
    if (deps.now().getTime() >= until) {
      const why = job.code === 0 ? `not finished after ${seconds} s` : `cannot read the Job: ${kubectlError(job.stderr)}`;
      return { ok: false, why };
    }
    await deps.sleep(POLL_MS);
  }
}
