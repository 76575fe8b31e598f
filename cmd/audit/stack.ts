/**
 * The stack side of `nexus audit`, without the Pulumi program: the stack's settings read from
 * Pulumi.yaml and Pulumi.<stack>.yaml (with the defaults and checks of stacks/settings.ts) and
 * the registries' model for its environment. Light to load, so registry problems and unknown
 * stacks are reported before the SDKs and components are.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { settingsFromConfig, type ConfigValues, type StackSettings } from "../../stacks/settings";
import { loadRegistries, type Problem } from "../../domain/loader";
import type { Model } from "../../domain/model";

/**
 * The project folder: the one holding Pulumi.yaml and the stack files, the nearest above this
 * module, which runs from cmd/audit/ under the tests and from the compiled build (.build/<hash>/
 * cmd/audit/, bin/build.js) under bin/nexus.js.
 */
export const PROJECT_DIR = projectDir(__dirname);

function projectDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, "..", "..");
  }
}

export interface EvaluateOptions {
  /** Stack name: its settings come from Pulumi.<stack>.yaml. */
  stack: string;
  /** The day exceptions are judged against (YYYY-MM-DD). */
  today: string;
  /** Registry folder; default: the stack's `registries` setting, relative to the project. */
  registriesDir?: string;
  /** Project folder (Pulumi.yaml, Pulumi.<stack>.yaml); default: this repository. */
  projectDir?: string;
}

/** The stack file is missing or its configuration is invalid. */
export class StackConfigError extends Error {
  constructor(
    message: string,
    /** True when the stack does not exist (a usage error of the caller). */
    readonly unknownStack = false,
  ) {
    super(message);
    this.name = "StackConfigError";
  }
}

// ---------------------------------------------------------------------------------------------
// Stack configuration, read from the YAML files the Pulumi CLI reads.

export interface StackConfig {
  project: string;
  /** Fully qualified keys ("nexus-platform:awsEnabled", "aws:region") → values as Pulumi stores them. */
  config: Record<string, string>;
  /** The same values with the project's namespace stripped, as settingsFromConfig takes them. */
  values: ConfigValues;
}

function configString(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "object" && !Array.isArray(value) && "secure" in value) return undefined; // ciphertext: never used here
  return JSON.stringify(value);
}

function readYaml(file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new StackConfigError(`${file}: ${(error as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) throw new StackConfigError(`${file}: expected a mapping`);
  return data as Record<string, unknown>;
}

/** Pulumi.yaml's config defaults overlaid with Pulumi.<stack>.yaml's config, as the CLI merges them. */
export function readStackConfig(projectDir: string, stack: string): StackConfig {
  const projectFile = path.join(projectDir, "Pulumi.yaml");
  const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(projectFile)) throw new StackConfigError(`no Pulumi.yaml in ${projectDir}`, true);
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(stackFile)) {
    const known = fs
      .readdirSync(projectDir)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .sort();
    throw new StackConfigError(`unknown stack "${stack}": there is no Pulumi.${stack}.yaml; stacks of this project: ${known.join(", ") || "none"}`, true);
  }
  const projectYaml = readYaml(projectFile);
  const project = typeof projectYaml.name === "string" ? projectYaml.name : "project";
  const qualify = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
  const config: Record<string, string> = {};
  const projectConfig = projectYaml.config;
  if (projectConfig && typeof projectConfig === "object") {
    for (const [key, spec] of Object.entries(projectConfig as Record<string, unknown>)) {
      const value =
        spec && typeof spec === "object" && !Array.isArray(spec) && "default" in spec ? configString((spec as { default: unknown }).default) : undefined;
      if (value !== undefined) config[qualify(key)] = value;
    }
  }
  const stackConfig = readYaml(stackFile).config;
  if (stackConfig && typeof stackConfig === "object") {
    for (const [key, raw] of Object.entries(stackConfig as Record<string, unknown>)) {
      const value = configString(raw);
      if (value !== undefined) config[qualify(key)] = value;
    }
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) values[key.startsWith(`${project}:`) ? key.slice(project.length + 1) : key] = value;
  return { project, config, values };
}

/** The stack's settings from its YAML files, with the defaults and checks of readSettings. */
export function stackSettings(projectDir: string, stack: string): { stackConfig: StackConfig; settings: StackSettings } {
  const stackConfig = readStackConfig(projectDir, stack);
  try {
    return { stackConfig, settings: settingsFromConfig(stack, stackConfig.values, stackConfig.project) };
  } catch (error) {
    throw new StackConfigError(`Pulumi.${stack}.yaml: ${(error as Error).message}`);
  }
}

/** A stack ready to evaluate: its config, settings and model. */
export interface PreparedStack {
  project: string;
  stack: string;
  today: string;
  /** The registry folder as given or configured (for messages), relative to the project when inside it. */
  registriesDir: string;
  /** Pulumi config the program runs with (fully qualified keys). */
  config: Record<string, string>;
  settings: StackSettings;
  model: Model;
}

export type PrepareResult = { ok: true; stack: PreparedStack } | { ok: false; registriesDir: string; problems: Problem[] };

/**
 * Reads the stack's settings and loads the model of its environment; registry problems are
 * returned, located. Throws StackConfigError for an unknown stack or invalid stack config.
 */
export function prepareStack(options: EvaluateOptions): PrepareResult {
  const projectDir = options.projectDir ?? PROJECT_DIR;
  const { stackConfig, settings: configured } = stackSettings(projectDir, options.stack);
  const registriesDir = options.registriesDir ?? configured.registriesDir;
  const settings: StackSettings = { ...configured, registriesDir };
  const loaded = loadRegistries({ registriesDir: path.resolve(projectDir, registriesDir), env: settings.environment, today: options.today });
  if (loaded.problems.length > 0 || !loaded.model) return { ok: false, registriesDir, problems: loaded.problems };
  return {
    ok: true,
    stack: {
      project: stackConfig.project,
      stack: options.stack,
      today: options.today,
      registriesDir,
      config: stackConfig.config,
      settings,
      model: loaded.model,
    },
  };
}
