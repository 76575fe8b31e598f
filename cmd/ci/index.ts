import * as fs from "node:fs";
import * as path from "node:path";
import { loadRegistries, type Problem } from "../../domain/loader";
import type { Model } from "../../domain/model";
import { REGISTRY_FILES } from "../../domain/schema";
import type { CiAdapter, GeneratedFile, PipelineModel } from "./adapter";
import { githubActions } from "./github";
import { gateOwners } from "./owners";

export type { CiAdapter, GeneratedFile, PipelineModel } from "./adapter";

/** The CI systems `nexus ci generate --target` knows. Add an adapter here to support another. */
export const ADAPTERS: Readonly<Record<string, CiAdapter>> = { github: githubActions };

export const DEFAULT_TARGET = "github";

export interface GenerateResult {
  /** Located registry problems; when there are any, no file is generated. */
  problems: Problem[];
  files: GeneratedFile[];
}

/**
 * Loads and checks every registry (all environments) and returns the model of the first one:
 * pipelines, teams and the audit task do not differ per environment, so it carries them.
 */
function loadFirstModel(registriesDir: string): { problems: Problem[]; model?: Model } {
  const all = loadRegistries({ registriesDir });
  if (all.problems.length > 0) return { problems: all.problems };
  const first = all.environments[0];
  const one = first === undefined ? undefined : loadRegistries({ registriesDir, env: first });
  if (!one || one.problems.length > 0 || !one.model) return { problems: one?.problems ?? all.problems };
  return { problems: [], model: one.model };
}

function pipelineModelOf(model: Model, registriesDir: string): PipelineModel {
  const { environments, promotion, pipelines } = model;
  const sourceFile = `${path.basename(path.resolve(registriesDir))}/${REGISTRY_FILES.pipelines.file}`;
  return { environments, promotion, pipelines, sourceFile };
}

/** Loads and checks every registry (all environments) and returns the pipeline part of the model. */
export function loadPipelineModel(registriesDir: string): { problems: Problem[]; model?: PipelineModel } {
  const { problems, model } = loadFirstModel(registriesDir);
  return model ? { problems: [], model: pipelineModelOf(model, registriesDir) } : { problems };
}

/** The CI files of `target` generated from the registries in `registriesDir`. */
export function generateWorkflows(registriesDir: string, target: string = DEFAULT_TARGET): GenerateResult {
  const adapter = ADAPTERS[target];
  if (!adapter) throw new Error(`unknown CI target "${target}": use one of ${Object.keys(ADAPTERS).join(", ")}`);
  const { problems, model } = loadPipelineModel(registriesDir);
  if (!model) return { problems, files: [] };
  return { problems: [], files: adapter.generate(model) };
}

/**
 * Everything `nexus ci generate` writes for `target`: the workflows and, where the CI system has
 * one, the CODEOWNERS file that makes the security gate's owners review changes to it.
 */
export function generateCiFiles(registriesDir: string, target: string = DEFAULT_TARGET): GenerateResult {
  const adapter = ADAPTERS[target];
  if (!adapter) throw new Error(`unknown CI target "${target}": use one of ${Object.keys(ADAPTERS).join(", ")}`);
  const { problems, model } = loadFirstModel(registriesDir);
  if (!model) return { problems, files: [] };
  const files = adapter.generate(pipelineModelOf(model, registriesDir));
  if (!adapter.codeowners) return { problems: [], files };
  const owned = gateOwners(model, registriesDir);
  if (owned.problems.length > 0) return { problems: owned.problems, files: [] };
  return { problems: [], files: owned.owners ? [...files, adapter.codeowners(owned.owners)] : files };
}

export interface Difference {
  path: string;
  /** missing: not written yet; changed: differs; stale: generated earlier, no longer produced. */
  kind: "missing" | "changed" | "stale";
}

/** Files under `outDir` that differ from `files`, plus generated files no pipeline produces any more. */
export function compareWithDisk(adapter: CiAdapter, files: readonly GeneratedFile[], outDir: string): Difference[] {
  const out: Difference[] = [];
  for (const f of files) {
    const onDisk = readIfFile(path.join(outDir, f.path));
    if (onDisk === undefined) out.push({ path: f.path, kind: "missing" });
    else if (onDisk !== f.content) out.push({ path: f.path, kind: "changed" });
  }
  for (const p of staleFiles(adapter, files, outDir)) out.push({ path: p, kind: "stale" });
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Writes the files under `outDir` and removes stale generated ones; returns what changed. */
export function writeGenerated(adapter: CiAdapter, files: readonly GeneratedFile[], outDir: string): Difference[] {
  const differences = compareWithDisk(adapter, files, outDir);
  for (const d of differences) {
    const full = path.join(outDir, d.path);
    if (d.kind === "stale") {
      fs.rmSync(full);
      continue;
    }
    const file = files.find((f) => f.path === d.path)!;
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, file.content);
  }
  return differences;
}

function readIfFile(file: string): string | undefined {
  try {
    return fs.statSync(file).isFile() ? fs.readFileSync(file, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

/** Files in the adapter's folder whose first lines carry its marker but that are not generated now. */
function staleFiles(adapter: CiAdapter, files: readonly GeneratedFile[], outDir: string): string[] {
  const dir = path.join(outDir, adapter.outputDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const wanted = new Set(files.map((f) => f.path));
  return names
    .map((name) => `${adapter.outputDir}/${name}`)
    .filter((p) => !wanted.has(p))
    .filter((p) => {
      const text = readIfFile(path.join(outDir, p));
      return text !== undefined && text.split("\n", 5).some((line) => line.includes(adapter.marker));
    })
    .sort();
}
