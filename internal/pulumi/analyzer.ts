/**
 * Runs a CrossGuard policy pack in this process with the policy server's own code.
 *
 * `pulumi preview --policy-pack DIR` starts the pack, which calls `serve()` of @pulumi/policy:
 * a gRPC Analyzer service whose handlers `configure`, `analyze` and `analyzeStack` turn the
 * engine's protobuf requests into `ResourceValidationArgs` / `StackValidationArgs` (deserialized
 * properties behind the unknown-checking proxy, `isType`, `asType`, `getConfig`, `notApplicable`,
 * `opts`, `provider`, parents and dependencies) and collect `reportViolation` calls into
 * diagnostics. Here `serve()` is called once with the gRPC server's `addService` and `bindAsync`
 * intercepted, so no port is opened and we keep the very handler functions the engine would call;
 * we then send them the protobuf messages the engine sends (ConfigureAnalyzerRequest,
 * AnalyzeRequest per resource, AnalyzeStackRequest) and read back the AnalyzeResponse.
 *
 * What stays the engine's: it fills each policy's config with its schema's defaults and validates
 * it (mirrored by `reconcileConfig`), it sends the provider-checked inputs to `analyze` and the
 * outputs to `analyzeStack`, and it turns mandatory diagnostics into a failed preview.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { createRequire } from "node:module";
import type * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";
import { WIRE } from "./sdk";

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";

/** The `--policy-pack-config` file: per policy (or "all") a level or a level with properties. */
export type PolicyPackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

/** The parts of a policy the analyzer needs (structurally, any @pulumi/policy copy's Policy). */
export interface PackPolicy {
  name: string;
  description: string;
  enforcementLevel?: EnforcementLevel;
  configSchema?: { properties: Record<string, unknown>; required?: string[] };
}

/** A resource as the engine describes it to an analyzer. */
export interface AnalyzedResource {
  urn: string;
  type: string;
  name: string;
  /** Inputs (analyze) or outputs (analyzeStack); use `unknownValue` and `secretValue` for preview values. */
  props: Record<string, unknown>;
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  provider?: { urn: string; type: string; name: string; props?: Record<string, unknown> };
  options?: {
    protect?: boolean;
    ignoreChanges?: string[];
    deleteBeforeReplace?: boolean;
    aliases?: string[];
    additionalSecretOutputs?: string[];
    customTimeouts?: { create?: number; update?: number; delete?: number };
  };
}

export interface Diagnostic {
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  description: string;
  /** As the server builds it: the description, a newline, then the policy's message. */
  message: string;
  enforcementLevel: EnforcementLevel;
  /** The resource the violation is about; stack violations without a resource have none. */
  urn?: string;
  /** analyze (one resource) or analyzeStack. */
  phase: "resource" | "stack";
}

export interface NotApplicable {
  policyName: string;
  reason: string;
  urn?: string;
}

export interface Evaluation {
  diagnostics: Diagnostic[];
  notApplicable: NotApplicable[];
}

// ---------------------------------------------------------------------------------------------
// Values the engine marshals specially (plugin.MarshalProperties with KeepUnknowns, KeepSecrets).

const UNKNOWN_STRING = WIRE.unknown;
const SIG_KEY = WIRE.sigKey;
const SECRET_SIG = WIRE.secret;

class UnknownValue {}
class SecretValue {
  constructor(readonly value: unknown) {}
}

/** A value not known during preview (an output of a resource not created yet). */
export function unknownValue(): unknown {
  return new UnknownValue();
}

/** A secret value, as `pulumi.secret()` marks it. */
export function secretValue(value: unknown): unknown {
  return new SecretValue(value);
}

function marshal(value: unknown): unknown {
  if (value instanceof UnknownValue) return UNKNOWN_STRING;
  if (value instanceof SecretValue) return { [SIG_KEY]: SECRET_SIG, value: marshal(value.value) };
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : marshal(v)));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = marshal(v);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// The policy server's modules, loaded from the @pulumi/policy installation.

type Handler = (call: { request: unknown }, callback: (error: Error | null | undefined, response?: unknown) => void) => void;
interface Handlers {
  configure: Handler;
  analyze: Handler;
  analyzeStack: Handler;
}

interface Served {
  packName: string;
  version: string;
  policyNames: string[];
  handlers: Handlers;
}

const SERVED = Symbol.for("nexus.policy.analyzer.served");

function policyRequire(): NodeRequire {
  const main = require.resolve("@pulumi/policy");
  return createRequire(path.join(path.dirname(main), "server.js"));
}

function modules() {
  const req = policyRequire();
  return {
    server: req("./server.js") as { serve: (...args: unknown[]) => void },
    protoutil: req("./protoutil.js") as {
      convertEnforcementLevel: (el: analyzerPb.EnforcementLevel) => EnforcementLevel;
      mapEnforcementLevel: (el: EnforcementLevel) => analyzerPb.EnforcementLevel;
    },
    grpc: req("@grpc/grpc-js") as { Server: { prototype: Record<string, unknown> } },
    analyzer: req("@pulumi/pulumi/proto/analyzer_pb") as typeof analyzerPb,
    struct: req("google-protobuf/google/protobuf/struct_pb") as typeof structPb,
  };
}

/**
 * Calls the policy server's `serve()` once per process (it refuses a second pack) and keeps its
 * handlers. A later call with a pack of the same name and policy names reuses them.
 */
function serveInProcess(packName: string, version: string, enforcementLevel: EnforcementLevel, policies: readonly PackPolicy[]): Served {
  const names = policies.map((p) => p.name);
  const existing = (globalThis as Record<symbol, Served | undefined>)[SERVED];
  if (existing) {
    if (existing.packName !== packName || existing.policyNames.join("\n") !== names.join("\n")) {
      throw new Error(`policy pack "${existing.packName}" is already served in this process; the policy server serves one pack per process`);
    }
    return existing;
  }
  const { server, grpc } = modules();
  const proto = grpc.Server.prototype;
  const { addService, bindAsync } = proto;
  let handlers: Handlers | undefined;
  proto.addService = function (_service: unknown, implementation: Handlers) {
    handlers = implementation;
  };
  proto.bindAsync = function () {
    /* no port: the handlers are called directly */
  };
  try {
    server.serve(packName, version, enforcementLevel, { policies }, undefined);
  } finally {
    proto.addService = addService;
    proto.bindAsync = bindAsync;
  }
  if (!handlers) throw new Error("@pulumi/policy serve() registered no Analyzer service: the in-process analyzer does not support this version");
  const served: Served = { packName, version, policyNames: names, handlers };
  (globalThis as Record<symbol, Served | undefined>)[SERVED] = served;
  return served;
}

/** Calls a handler with a request message; `Response` is the message type the method answers with. */
function call<Response>(handler: Handler, request: unknown): Promise<Response> {
  return new Promise((resolve, reject) => {
    handler({ request }, (error, response) => (error ? reject(error) : resolve(response as Response)));
  });
}

// ---------------------------------------------------------------------------------------------
// Config as the engine reconciles it.

function normalize(value: PolicyPackConfig[string] | undefined): { enforcementLevel?: EnforcementLevel; properties: Record<string, unknown> } {
  if (value === undefined) return { properties: {} };
  if (typeof value === "string") return { enforcementLevel: value, properties: {} };
  const { enforcementLevel, ...properties } = value;
  return { ...(enforcementLevel !== undefined ? { enforcementLevel } : {}), properties };
}

const TYPE_CHECKS: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === "string",
  number: (v) => typeof v === "number",
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === "boolean",
  array: (v) => Array.isArray(v),
  object: (v) => typeof v === "object" && v !== null && !Array.isArray(v),
  null: (v) => v === null,
};

/** Problems of one policy's properties against its schema (top-level type, enum, required). */
export function configProblems(policy: PackPolicy, properties: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const schema = policy.configSchema;
  if (!schema) return problems;
  for (const key of schema.required ?? []) if (!(key in properties)) problems.push(`${policy.name}: ${key} is required`);
  for (const [key, value] of Object.entries(properties)) {
    const prop = schema.properties[key] as { type?: string | string[]; enum?: unknown[] } | undefined;
    if (!prop) continue;
    const types = prop.type === undefined ? [] : Array.isArray(prop.type) ? prop.type : [prop.type];
    if (types.length > 0 && !types.some((t) => TYPE_CHECKS[t]?.(value))) problems.push(`${policy.name}: ${key} must be of type ${types.join(" or ")}`);
    if (prop.enum && !prop.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
      problems.push(`${policy.name}: ${key} must be one of ${prop.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  return problems;
}

/**
 * Each policy's enforcement level and properties as the engine sends them in Configure: the
 * level from the config (the policy's own entry, else "all"), else the policy's, else the pack's;
 * properties from the schema's defaults overlaid with the config's. Throws on schema problems and
 * on config for policies the pack does not have, as the engine refuses to run then.
 */
export function reconcileConfig(
  policies: readonly PackPolicy[],
  packLevel: EnforcementLevel,
  config: PolicyPackConfig,
): Record<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }> {
  const known = new Set(policies.map((p) => p.name));
  const unknownNames = Object.keys(config).filter((k) => k !== "all" && !known.has(k));
  if (unknownNames.length > 0) throw new Error(`policy pack config names policies the pack does not have: ${unknownNames.join(", ")}`);
  const all = normalize(config.all);
  const result: Record<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }> = {};
  const problems: string[] = [];
  for (const p of policies) {
    const own = normalize(config[p.name]);
    const defaults: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(p.configSchema?.properties ?? {})) {
      if (prop && typeof prop === "object" && "default" in prop) defaults[key] = (prop as { default: unknown }).default;
    }
    const properties = { ...defaults, ...own.properties };
    problems.push(...configProblems(p, properties));
    result[p.name] = { enforcementLevel: own.enforcementLevel ?? all.enforcementLevel ?? p.enforcementLevel ?? packLevel, properties };
  }
  if (problems.length > 0) throw new Error(`invalid policy pack config:\n  ${problems.join("\n  ")}`);
  return result;
}

// ---------------------------------------------------------------------------------------------

export interface AnalyzerOptions {
  packName: string;
  packVersion: string;
  enforcementLevel: EnforcementLevel;
  policies: readonly PackPolicy[];
}

/**
 * Drives a policy pack's Analyzer service the way the engine does: configure it, then analyze
 * each resource and the stack. `inProcess` calls the policy server's handlers in this process;
 * `connect` talks gRPC to a pack the Pulumi runner started (`spawnPolicyPack`), which is exactly
 * what `pulumi preview --policy-pack` talks to. Both get the same requests.
 */
export class PackAnalyzer {
  private readonly m = modules();

  private constructor(
    private readonly options: AnalyzerOptions,
    private readonly handlers: Handlers,
    private readonly onClose: () => void = () => undefined,
  ) {}

  /** The pack's policies served in this process (one pack per process, as the policy server allows). */
  static inProcess(options: AnalyzerOptions): PackAnalyzer {
    return new PackAnalyzer(options, serveInProcess(options.packName, options.packVersion, options.enforcementLevel, options.policies).handlers);
  }

  /** A pack serving at `address` ("127.0.0.1:PORT"); `options.policies` are used to reconcile the config. */
  static connect(address: string, options: AnalyzerOptions): PackAnalyzer {
    const req = policyRequire();
    const grpc = req("@grpc/grpc-js") as { credentials: { createInsecure(): unknown } };
    const { AnalyzerClient } = req("@pulumi/pulumi/proto/analyzer_grpc_pb") as {
      AnalyzerClient: new (
        address: string,
        credentials: unknown,
        options: Record<string, unknown>,
      ) => Record<"configure" | "analyze" | "analyzeStack", (request: unknown, callback: Parameters<Handler>[1]) => void> & {
        close(): void;
      };
    };
    const client = new AnalyzerClient(address, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 1024 * 1024 * 400 });
    const remote =
      (method: "configure" | "analyze" | "analyzeStack"): Handler =>
      (c, callback) =>
        client[method](c.request, callback);
    return new PackAnalyzer(options, { configure: remote("configure"), analyze: remote("analyze"), analyzeStack: remote("analyzeStack") }, () =>
      client.close(),
    );
  }

  close(): void {
    this.onClose();
  }

  /** Sends ConfigureAnalyzerRequest with the reconciled config of every policy. */
  async configure(config: PolicyPackConfig): Promise<void> {
    const reconciled = reconcileConfig(this.options.policies, this.options.enforcementLevel, config);
    const request = new this.m.analyzer.ConfigureAnalyzerRequest();
    const map = request.getPolicyconfigMap();
    for (const [name, c] of Object.entries(reconciled)) {
      const pc = new this.m.analyzer.PolicyConfig();
      pc.setEnforcementlevel(this.m.protoutil.mapEnforcementLevel(c.enforcementLevel));
      pc.setProperties(this.m.struct.Struct.fromJavaScript(JSON.parse(JSON.stringify(c.properties))));
      map.set(name, pc);
    }
    await call(this.handlers.configure, request);
  }

  private options_(o: AnalyzedResource["options"], parent: string | undefined) {
    const opts = new this.m.analyzer.AnalyzerResourceOptions();
    opts.setProtect(o?.protect ?? false);
    opts.setIgnorechangesList(o?.ignoreChanges ?? []);
    if (o?.deleteBeforeReplace !== undefined) {
      opts.setDeletebeforereplacedefined(true);
      opts.setDeletebeforereplace(o.deleteBeforeReplace);
    }
    opts.setAliasesList(o?.aliases ?? []);
    opts.setAdditionalsecretoutputsList(o?.additionalSecretOutputs ?? []);
    if (o?.customTimeouts) {
      const t = new this.m.analyzer.AnalyzerResourceOptions.CustomTimeouts();
      t.setCreate(o.customTimeouts.create ?? 0);
      t.setUpdate(o.customTimeouts.update ?? 0);
      t.setDelete(o.customTimeouts.delete ?? 0);
      opts.setCustomtimeouts(t);
    }
    if (parent) opts.setParent(parent);
    return opts;
  }

  private struct(props: Record<string, unknown>) {
    return this.m.struct.Struct.fromJavaScript(marshal(props) as Record<string, structPb.JavaScriptValue>);
  }

  private provider(p: AnalyzedResource["provider"]) {
    if (!p) return undefined;
    const provider = new this.m.analyzer.AnalyzerProviderResource();
    provider.setType(p.type);
    provider.setUrn(p.urn);
    provider.setName(p.name);
    provider.setProperties(this.struct(p.props ?? {}));
    return provider;
  }

  /** What Analyze and AnalyzeStack both say of a resource: its type, URN, name, inputs, options and provider. */
  private describe<M extends analyzerPb.AnalyzeRequest | analyzerPb.AnalyzerResource>(message: M, resource: AnalyzedResource): M {
    message.setType(resource.type);
    message.setUrn(resource.urn);
    message.setName(resource.name);
    message.setProperties(this.struct(resource.props));
    message.setOptions(this.options_(resource.options, resource.parent));
    const provider = this.provider(resource.provider);
    if (provider) message.setProvider(provider);
    return message;
  }

  private read(response: analyzerPb.AnalyzeResponse, phase: Diagnostic["phase"], urn?: string): Evaluation {
    const diagnostics: Diagnostic[] = response.getDiagnosticsList().map((d) => ({
      policyName: d.getPolicyname(),
      policyPackName: d.getPolicypackname(),
      policyPackVersion: d.getPolicypackversion(),
      description: d.getDescription(),
      message: d.getMessage(),
      enforcementLevel: this.m.protoutil.convertEnforcementLevel(d.getEnforcementlevel()),
      ...(d.getUrn() || urn ? { urn: d.getUrn() || urn } : {}),
      phase,
    }));
    const notApplicable: NotApplicable[] = response.getNotApplicableList().map((n) => ({
      policyName: n.getPolicyName(),
      reason: n.getReason(),
      ...(urn ? { urn } : {}),
    }));
    return { diagnostics, notApplicable };
  }

  /** AnalyzeRequest for one resource; diagnostics without a URN are the resource's. */
  async analyze(resource: AnalyzedResource): Promise<Evaluation> {
    const request = this.describe(new this.m.analyzer.AnalyzeRequest(), resource);
    return this.read(await call<analyzerPb.AnalyzeResponse>(this.handlers.analyze, request), "resource", resource.urn);
  }

  /** AnalyzeStackRequest with every resource. */
  async analyzeStack(resources: readonly AnalyzedResource[]): Promise<Evaluation> {
    const request = new this.m.analyzer.AnalyzeStackRequest();
    request.setResourcesList(
      resources.map((r) => {
        const ar = this.describe(new this.m.analyzer.AnalyzerResource(), r);
        if (r.parent) ar.setParent(r.parent);
        ar.setDependenciesList(r.dependencies ?? []);
        const deps = ar.getPropertydependenciesMap();
        for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
          const pd = new this.m.analyzer.AnalyzerPropertyDependencies();
          pd.setUrnsList(urns);
          deps.set(key, pd);
        }
        return ar;
      }),
    );
    return this.read(await call<analyzerPb.AnalyzeResponse>(this.handlers.analyzeStack, request), "stack");
  }

  /** What a preview with the pack does: Configure, Analyze for each resource, then AnalyzeStack. */
  async evaluate(resources: readonly AnalyzedResource[], config: PolicyPackConfig): Promise<Evaluation> {
    await this.configure(config);
    const results: Evaluation[] = [];
    for (const r of resources) results.push(await this.analyze(r));
    results.push(await this.analyzeStack(resources));
    return {
      diagnostics: results.flatMap((r) => r.diagnostics),
      notApplicable: results.flatMap((r) => r.notApplicable),
    };
  }
}

/**
 * Starts a policy pack the way the Pulumi CLI does (the Node.js language host runs
 * `@pulumi/pulumi/cmd/run-policy-pack` from the pack's own node_modules, with the pack folder as
 * working directory) and resolves with the address it serves on.
 */
export function spawnPolicyPack(packDir: string, timeoutMs = 60_000): Promise<{ address: string; stop: () => void }> {
  const runner = path.join(packDir, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
  const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`policy pack in ${packDir} did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const port = /^(\d+)\s*$/m.exec(stdout)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({ address: `127.0.0.1:${port}`, stop: () => void child.kill() });
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`policy pack in ${packDir} exited with ${code}: ${stderr}`));
    });
  });
}

/** The message a policy passed to reportViolation, without the description the server prepends. */
export function violationText(d: Pick<Diagnostic, "description" | "message">): string {
  return d.message.startsWith(`${d.description}\n`) ? d.message.slice(d.description.length + 1) : d.message;
}
