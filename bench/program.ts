/**
 * Evaluates the whole program under Pulumi mocks for synthetic registries of N services and
 * reports resources per second: what `nexus audit` and the mocked test tier cost as the platform
 * grows. Baseline, run side by side: the same number of bare ConfigMaps registered under the same
 * mocks, so the ratio shows what the components add over the engine's own registration cost.
 *
 *   npx tsx bench/program.ts [--sizes 100,1000]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { loadModel } from "../domain/loader";
import { buildPlatform } from "../stacks/platform";
import { fakeSecrets, DEV_SETTINGS } from "../test/stacks/support";
import { runMocked } from "../internal/pulumi/mocks";
import { generateRegistries } from "./generate";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const sizes = arg("sizes", "100,1000").split(",").map(Number);
  const rows: string[] = [];
  for (const n of sizes) {
    const dir = path.join(__dirname, "out", `program-${n}`, "registries");
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    generateRegistries(dir, { services: n });
    const model = loadModel({ registriesDir: dir, env: "dev" });

    let t0 = process.hrtime.bigint();
    const run = await runMocked(() => buildPlatform(model, { ...DEV_SETTINGS, localCommands: false }, fakeSecrets(model)) as never);
    const programMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const count = run.resources.length;

    t0 = process.hrtime.bigint();
    await runMocked(() => {
      for (let i = 0; i < count; i++) new k8s.core.v1.ConfigMap(`baseline-${i}`, { metadata: { name: `baseline-${i}` }, data: { i: String(i) } });
    });
    const baselineMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const perSecond = (count / programMs) * 1000;
    rows.push(`| ${n} | ${count} | ${programMs.toFixed(0)} | ${perSecond.toFixed(0)} | ${baselineMs.toFixed(0)} | ${(programMs / baselineMs).toFixed(2)} |`);
    console.error(`N=${n}: ${count} resources in ${programMs.toFixed(0)} ms (${perSecond.toFixed(0)}/s); baseline ${baselineMs.toFixed(0)} ms`);
  }
  console.log("| N services | resources | program under mocks (ms) | resources/s | bare ConfigMaps, same count (ms) | ratio |");
  console.log("|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(r);
}

void main();
