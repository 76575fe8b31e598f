/**
 * `enabled: false` on a task: a Job or a local command would run at the deploy that creates it,
 * so a disabled one is not created at all; a disabled CronJob (a backup's too) stays, suspended,
 * so its history survives.
 */
import { describe, expect, it } from "vitest";
import { K8S } from "../../contract/types";
import type { Model } from "../../domain/model";
import { runMocked } from "../../internal/pulumi/mocks";
import { buildPlatform, type TaskStatus } from "../../stacks/platform";
import { kubeInputs } from "../support/inputs";
import { DEV_SETTINGS, fakeSecrets, realModel } from "./support";

const COMMAND = "command:local:Command";

/** The dev model with every task disabled, or enabled, whatever the registries say. */
function withTasks(model: Model, enabled: boolean): Model {
  return { ...model, tasks: model.tasks.map((t) => ({ ...t, enabled })) };
}

async function deployed(model: Model) {
  const run = await runMocked(() => buildPlatform(model, DEV_SETTINGS, fakeSecrets(model)) as unknown as Record<string, unknown>, { stack: "dev" });
  return { run, tasks: (run.outputs as unknown as { tasks: Record<string, TaskStatus> }).tasks };
}

describe("a disabled task", () => {
  it("creates no Job and no local command, suspends every CronJob, and says why in the outputs", async () => {
    const dev = realModel("dev");
    const byRunner = (runner: string) => dev.tasks.filter((t) => t.runner === runner);
    // The dev registries hold every runner: the test means something only if they do.
    for (const runner of ["k8s-cronjob", "k8s-job", "local-command"]) expect(byRunner(runner).length, runner).toBeGreaterThan(0);

    const on = await deployed(withTasks(dev, true));
    expect(
      on.run
        .byType(K8S.Job)
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      byRunner("k8s-job")
        .map((t) => `${t.name}-job`)
        .sort(),
    );
    expect(
      on.run
        .byType(COMMAND)
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      byRunner("local-command")
        .map((t) => `${t.name}-command`)
        .sort(),
    );
    for (const t of byRunner("k8s-cronjob")) expect(kubeInputs(on.run, K8S.CronJob, `${t.name}-cronjob`).spec.suspend, t.name).toBe(false);

    const off = await deployed(withTasks(dev, false));
    expect(off.run.byType(K8S.Job)).toEqual([]);
    expect(off.run.byType(COMMAND)).toEqual([]);
    for (const t of byRunner("k8s-cronjob")) expect(kubeInputs(off.run, K8S.CronJob, `${t.name}-cronjob`).spec.suspend, t.name).toBe(true);
    for (const t of [...byRunner("k8s-job"), ...byRunner("local-command")]) {
      expect(off.tasks[t.name], t.name).toMatchObject({ status: "skipped", reason: "disabled in dev" });
    }
  });
});
