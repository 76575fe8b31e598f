import * as fs from "node:fs";
import * as path from "node:path";
import { POLICY_IDS, REGISTRY_FILES, type Enforcement, type PolicyId, type RegistryKey } from "../schema";
import type { Model } from "../model";
import { checkDeployable, checkPromql, type PromtoolRuns } from "./deployable";
import { checkProductionFloor } from "./floors";
import { checkFreeText } from "./freeText";
import { crossCheck, type Registries } from "./checks";
import { describeIssues, suggest } from "./issues";
import { Locator, NeedPositions } from "./locator";
import { parseRegistryFile, parseRegistryFileFast, type ParsedFile } from "./parse";
import { RegistryError, sortProblems, type PathSegment, type Problem } from "./problems";
import { isPlainObject, registriesIn, resolveEnvironment } from "./resolve";

export { RegistryError, formatProblem, type Problem } from "./problems";

export interface LoadOptions {
  /** Folder holding the five registry files. */
  registriesDir: string;
  /** Environment to resolve; when omitted every declared environment is validated and no model is built. */
  env?: string;
  /** The day exceptions are judged against (YYYY-MM-DD); today by default. */
  today?: string;
  maxFileBytes?: number;
  /** Parse alert PromQL and templates with promtool where it is installed (`nexus validate`). */
  promql?: boolean;
  /**
   * "fast" (the default) reads the files without positions first and parses them again with
   * positions only when a problem must be located; "positions" parses with positions from the
   * start. Both give the same result; the option is for tests and benchmarks.
   */
  parse?: "fast" | "positions";
}

export interface LoadResult {
  problems: Problem[];
  /** Present when there are no problems and an environment was chosen. */
  model?: Model;
  /** Names of the environments that were validated. */
  environments: string[];
  /** Whether promtool parsed the alerts (asked for, installed, and the registries got that far). */
  promqlChecked: boolean;
  /** Entries per registry, for the summary line. */
  counts: Record<string, number>;
}

const KEYS = Object.keys(REGISTRY_FILES) as RegistryKey[];

/**
 * Loads, validates, cross-checks and resolves the registries. Never throws on bad input.
 *
 * Positions cost: the yaml package's parse with source ranges takes 20 times as long as reading
 * the data. So the files are first read without them (fastParse.ts), and the whole load runs on
 * that; only when it finds a problem, or a file is outside what the fast path reads, does it run
 * again on files parsed with positions, which locates every problem exactly.
 */
export function loadRegistries(options: LoadOptions): LoadResult {
  // Shared by both loads: a load that falls back to positions does not run promtool again.
  const run: LoadRun = { folder: path.basename(path.resolve(options.registriesDir)), promtoolRuns: new Map() };
  if (options.parse !== "positions") {
    const fast = loadFast(options, run);
    if (fast) return fast;
  }
  return load(options, run, readWithPositions(options, run));
}

/** What the fast load and the load with positions share. */
interface LoadRun {
  /** The registries folder's name, as problems and sources show it. */
  folder: string;
  promtoolRuns: PromtoolRuns;
}

/** The load on files read without positions; undefined when it cannot or found a problem. */
function loadFast(options: LoadOptions, run: LoadRun): LoadResult | undefined {
  const { folder } = run;
  const files = {} as Record<RegistryKey, ParsedFile>;
  for (const key of KEYS) {
    const { file } = REGISTRY_FILES[key];
    const parsed = parseRegistryFileFast(path.join(options.registriesDir, file), `${folder}/${file}`, options.maxFileBytes);
    if (!parsed) return undefined;
    files[key] = parsed;
  }
  try {
    const result = load(options, run, { files, problems: [] });
    return result.problems.length === 0 ? result : undefined;
  } catch (error) {
    if (error instanceof NeedPositions) return undefined;
    throw error;
  }
}

function readWithPositions(options: LoadOptions, { folder }: LoadRun): { files: Record<RegistryKey, ParsedFile>; problems: Problem[] } {
  const problems: Problem[] = [];
  const files = {} as Record<RegistryKey, ParsedFile>;
  for (const key of KEYS) {
    const { file } = REGISTRY_FILES[key];
    files[key] = parseRegistryFile(path.join(options.registriesDir, file), `${folder}/${file}`, problems, options.maxFileBytes);
  }
  return { files, problems };
}

function load(
  options: LoadOptions,
  { folder, promtoolRuns }: LoadRun,
  { files, problems }: { files: Record<RegistryKey, ParsedFile>; problems: Problem[] },
): LoadResult {
  const base = new Locator(files, undefined, problems);
  problems.push(...unknownFiles(options.registriesDir, folder));

  // Base validation of each file as written; overrides are checked once merged, below.
  const valid = new Set<RegistryKey>();
  for (const key of KEYS) {
    const data = files[key].data;
    if (data === undefined) continue;
    const { schema, kind } = REGISTRY_FILES[key];
    if (isPlainObject(data) && data.kind !== undefined && data.kind !== kind) {
      base.report(
        key,
        ["kind"],
        `this file must have kind "${kind}", got ${JSON.stringify(data.kind)}: ${REGISTRY_FILES[key].file} holds the ${kind} registry`,
        "wrong-kind",
      );
      continue;
    }
    const result = schema.safeParse(data);
    if (result.success) valid.add(key);
    else reportIssues(base, key, schema, result.error.issues, data);
  }

  const declared = declaredEnvironments(files.pipelines.data);
  checkOverrideNames(files, declared, base);
  let environments = options.env === undefined ? declared : [options.env];
  if (options.env !== undefined && declared.length > 0 && !declared.includes(options.env)) {
    base.report(
      "pipelines",
      ["environments"],
      `environment "${options.env}" is not declared: use one of ${declared.join(", ")} or add it to pipelines.yaml environments`,
      "unknown-environment",
    );
    environments = [];
  }

  let model: Model | undefined;
  let promqlChecked = options.promql === true;
  const counts: Record<string, number> = {};
  if (valid.size === KEYS.length) {
    const perEnvironment = new Map<string, Problem[]>();
    for (const env of environments) {
      const found: Problem[] = [];
      perEnvironment.set(env, found);
      const at = new Locator(files, env, found);
      const resolved = {} as Record<RegistryKey, unknown>;
      for (const key of KEYS) {
        const data = resolveEnvironment(files[key].data, env);
        const result = REGISTRY_FILES[key].schema.safeParse(data);
        if (result.success) resolved[key] = result.data;
        else reportIssues(at, key, REGISTRY_FILES[key].schema, result.error.issues, data);
      }
      if (found.length > 0) continue;
      const registries = resolved as unknown as Registries;
      crossCheck(registries, env, at);
      checkFreeText(registries, at);
      checkProductionFloor(registries, env, at);
      checkDeployable(registries, env, at);
      if (options.promql) promqlChecked = checkPromql(registries, at, promtoolRuns) && promqlChecked;
      if (found.length === 0 && env === options.env) {
        model = buildModel(registries, env, at, options.today ?? new Date().toISOString().slice(0, 10));
      }
      Object.assign(counts, countEntries(registries));
    }
    problems.push(...nameEnvironments(perEnvironment, options.env === undefined));
  }
  const sorted = sortProblems(problems);
  return { problems: sorted, model: sorted.length === 0 ? model : undefined, environments, counts, promqlChecked };
}

/** The model for one environment; throws a RegistryError listing every problem. */
export function loadModel(options: LoadOptions & { env: string }): Model {
  const result = loadRegistries(options);
  if (result.problems.length > 0 || !result.model) throw new RegistryError(result.problems);
  return result.model;
}

/**
 * When several environments are validated, a problem that only some of them have says which,
 * since the fix is often in that environment's override.
 */
function nameEnvironments(perEnvironment: Map<string, Problem[]>, several: boolean): Problem[] {
  const envs = [...perEnvironment.keys()];
  if (!several || envs.length < 2) return [...perEnvironment.values()].flat();
  const key = (p: Problem) => `${p.file}:${p.line}:${p.column}:${p.path}:${p.message}`;
  const seenIn = new Map<string, { problem: Problem; envs: string[] }>();
  for (const [env, found] of perEnvironment) {
    for (const p of found) {
      const entry = seenIn.get(key(p)) ?? { problem: p, envs: [] };
      if (!entry.envs.includes(env)) entry.envs.push(env);
      seenIn.set(key(p), entry);
    }
  }
  return [...seenIn.values()].map(({ problem, envs: where }) =>
    where.length === envs.length || where.every((env) => problem.path.includes(`environments.${env}`))
      ? problem
      : { ...problem, message: `in ${where.join(", ")}: ${problem.message}` },
  );
}

function reportIssues(
  at: Locator,
  key: RegistryKey,
  schema: (typeof REGISTRY_FILES)[RegistryKey]["schema"],
  issues: Parameters<typeof describeIssues>[1],
  data: unknown,
): void {
  for (const finding of describeIssues(schema, issues, data)) {
    at.report(key, finding.path, finding.message, finding.code, finding.atKey);
  }
}

function declaredEnvironments(data: unknown): string[] {
  if (!isPlainObject(data) || !Array.isArray(data.environments)) return [];
  return data.environments.flatMap((e) => (isPlainObject(e) && typeof e.name === "string" ? [e.name] : []));
}

/**
 * A registry file under another name (a typo, an old copy) would be silently ignored while its
 * author believes it is in force: every YAML file in the folder must be one of the five.
 */
function unknownFiles(registriesDir: string, folder: string): Problem[] {
  const known: string[] = KEYS.map((k) => REGISTRY_FILES[k].file);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(registriesDir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => !e.isDirectory() && /\.ya?ml$/i.test(e.name) && !known.includes(e.name))
    .map((e) => {
      const guess = suggest(e.name, known);
      return {
        file: `${folder}/${e.name}`,
        line: 1,
        column: 1,
        path: "(file)",
        message: `not a registry file: the folder holds only ${known.join(", ")}${guess ? `; did you mean ${guess}?` : ""} Rename or remove it`,
        code: "unknown-file",
      };
    });
}

/** Fields that identify an entry (what it is called, where it lives, which policy it is). */
const IDENTITY_FIELDS = ["name", "id", "namespace", "kind"];

/** Every override must name a declared environment; a typo would otherwise silently never apply. */
function checkOverrideNames(files: Record<RegistryKey, ParsedFile>, declared: string[], at: Locator): void {
  if (declared.length === 0) return;
  const walk = (key: RegistryKey, value: unknown, path: PathSegment[]): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(key, v, [...path, i]));
      return;
    }
    if (!isPlainObject(value)) return;
    for (const [k, child] of Object.entries(value)) {
      if (k === "environments" && isPlainObject(child)) {
        for (const [env, override] of Object.entries(child)) {
          if (isPlainObject(override)) {
            for (const field of IDENTITY_FIELDS.filter((f) => f in override)) {
              at.report(
                key,
                [...path, k, env, field],
                `"${field}" identifies the entry and cannot differ per environment: the file must show what every environment gets; change it for all or declare a separate entry`,
                "identity-override",
                true,
              );
            }
          }
          if (!declared.includes(env)) {
            at.report(
              key,
              [...path, k, env],
              `environment "${env}" is not declared in pipelines.yaml: use one of ${declared.join(", ")} or declare it there`,
              "unknown-environment",
              true,
            );
          }
        }
      } else {
        walk(key, child, [...path, k]);
      }
    }
  };
  for (const key of KEYS) if (key !== "pipelines") walk(key, files[key].data, []);
}

function countEntries(r: Registries): Record<string, number> {
  return {
    services: r.orchestration.services.length,
    tasks: r.automation.tasks.length,
    pipelines: r.pipelines.pipelines.length,
    alerts: r.monitoring.alerts.length,
    policies: r.security.policies.length,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function buildModel(r: Registries, env: string, at: Locator, today: string): Model {
  const sourced = <T extends object>(key: RegistryKey, section: PathSegment[], items: readonly T[]) =>
    items.map((item, i) => ({ ...item, source: at.source(key, [...section, i]) }));
  const enforcement = Object.fromEntries(POLICY_IDS.map((id) => [id, "mandatory"])) as Record<PolicyId, Enforcement>;
  for (const p of r.security.policies) enforcement[p.id as PolicyId] = p.enforcement;
  const environments = sourced("pipelines", ["environments"], r.pipelines.environments);
  const { environments: _stack, ...stack } = r.monitoring.stack;
  const { environments: _pod, ...podSecurity } = r.security.podSecurity;
  const { environments: _net, ...network } = r.security.network;
  return deepFreeze({
    environment: environments.find((e) => e.name === env)!,
    promotion: r.pipelines.promotion,
    environments,
    pipelines: sourced("pipelines", ["pipelines"], r.pipelines.pipelines),
    teams: sourced("orchestration", ["teams"], r.orchestration.teams),
    namespaces: sourced("orchestration", ["namespaces"], r.orchestration.namespaces),
    services: sourced("orchestration", ["services"], r.orchestration.services),
    tasks: sourced("automation", ["tasks"], r.automation.tasks),
    monitoring: {
      stack: { ...stack, source: at.source("monitoring", ["stack"]) },
      routing: r.monitoring.routing,
      channels: sourced("monitoring", ["channels"], r.monitoring.channels),
      alerts: sourced("monitoring", ["alerts"], r.monitoring.alerts),
      slos: sourced("monitoring", ["slos"], r.monitoring.slos),
      dashboards: sourced("monitoring", ["dashboards"], r.monitoring.dashboards),
    },
    security: {
      podSecurity: { ...podSecurity, source: at.source("security", ["podSecurity"]) },
      network: { ...network, source: at.source("security", ["network"]) },
      imageRegistries: registriesIn(r.security.imageRegistries, env),
      rbac: sourced("security", ["rbac"], r.security.rbac),
      enforcement,
      exceptions: sourced("security", ["exceptions"], r.security.exceptions)
        .filter((e) => e.appliesTo.includes(env))
        .map((e) => ({ ...e, expired: e.expires < today, pending: e.granted > today })),
      audit: r.security.audit,
    },
  }) as Model;
}
