/**
 * A mock monitor that records every registration the way the engine describes resources to a
 * policy pack: URN, type, name, inputs in their wire form, parent, dependencies, property
 * dependencies, provider and options. It reads the protobuf requests of the SDK's mock monitor,
 * which is why it lives with the other SDK internals.
 */
import type { RegisterResourceRequest, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";
import type { AnalyzedResource } from "./analyzer";
import { mockRead } from "./reads";
import { MockMonitor, WIRE } from "./sdk";

/** A resource of the evaluated program, as an analyzer receives it, plus whether it is custom. */
export interface ProgramResource extends AnalyzedResource {
  /** false for component resources (and the stack). */
  custom: boolean;
}

const SIG_KEY = WIRE.sigKey;
const RESOURCE_SIG = WIRE.resource;

/**
 * Inputs as the engine marshals them for an analyzer: secrets and unknowns kept in their wire
 * form, resource references replaced by the resource's id (custom) or URN (component), internal
 * "__" keys dropped.
 */
function engineValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(engineValue);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === RESOURCE_SIG) {
      const id = obj.id;
      return typeof id === "string" && id.length > 0 ? id : obj.urn;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (!k.startsWith("__") || k === SIG_KEY) out[k] = engineValue(v);
    return out;
  }
  return value;
}

interface Registration {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  props: Record<string, unknown>;
  parent: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  /** "URN::ID" of the provider, "" for the default provider. */
  providerRef: string;
  version: string;
  options: NonNullable<AnalyzedResource["options"]>;
}

function propertyDependencies(req: RegisterResourceRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, key) => {
    out[key] = deps.getUrnsList();
  });
  return out;
}

export class RecordingMonitor extends MockMonitor {
  readonly registrations: Registration[] = [];

  constructor() {
    super({
      newResource: (args) => {
        const read = mockRead(args.type, args.id);
        if (read !== undefined) return { id: args.id!, state: read };
        const inputs = args.inputs as Record<string, unknown>;
        const id = args.type === "aws:s3/bucket:Bucket" && typeof inputs.bucket === "string" ? inputs.bucket : `${args.name}-id`;
        const aws = args.type.startsWith("aws:") ? { arn: `arn:aws:mock:::${args.name}` } : {};
        return { id: args.custom === false ? undefined : id, state: { ...inputs, ...aws } };
      },
      call: (args) => args.inputs,
    });
  }

  override async registerResource(
    req: RegisterResourceRequest,
    callback: (err: unknown, response: RegisterResourceResponse | undefined) => void,
  ): Promise<void> {
    const timeouts = req.getCustomtimeouts?.();
    const seconds = (s: string | undefined) => {
      if (!s) return 0;
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
      if (!m) return 0;
      const n = Number(m[1]);
      return m[2] === "ms" ? n / 1000 : m[2] === "s" ? n : m[2] === "m" ? n * 60 : n * 3600;
    };
    const entry: Omit<Registration, "urn"> = {
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      props: engineValue(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      propertyDependencies: propertyDependencies(req),
      providerRef: req.getProvider(),
      version: req.getVersion(),
      options: {
        protect: req.getProtect?.() ?? false,
        ignoreChanges: req.getIgnorechangesList(),
        ...(req.getDeletebeforereplacedefined() ? { deleteBeforeReplace: req.getDeletebeforereplace() } : {}),
        aliases: req.getAliasurnsList?.() ?? [],
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        ...(timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())
          ? { customTimeouts: { create: seconds(timeouts.getCreate()), update: seconds(timeouts.getUpdate()), delete: seconds(timeouts.getDelete()) } }
          : {}),
      },
    };
    return super.registerResource(req, (err: unknown, response: RegisterResourceResponse | undefined) => {
      if (!err && response) this.registrations.push({ urn: response.getUrn(), ...entry });
      callback(err, response);
    });
  }
}

/** "urn:...::ID" → the URN. */
function urnOfRef(ref: string): string {
  const at = ref.lastIndexOf("::");
  return at < 0 ? ref : ref.slice(0, at);
}

/** The resources as the engine describes them, with each custom resource's provider. */
export function toResources(registrations: readonly Registration[], project: string, stack: string, config: Record<string, string>): ProgramResource[] {
  const byUrn = new Map(registrations.map((r) => [r.urn, r]));
  const providerOf = (r: Registration): AnalyzedResource["provider"] => {
    if (!r.custom || r.type.startsWith("pulumi:providers:")) return undefined;
    if (r.providerRef) {
      const urn = urnOfRef(r.providerRef);
      const p = byUrn.get(urn);
      const parts = urn.split("::");
      return { urn, type: p?.type ?? `pulumi:providers:${parts[2]?.split(":").pop() ?? ""}`, name: p?.name ?? parts[3] ?? "", props: p?.props ?? {} };
    }
    // The engine's default provider for the package: its stack config and version.
    const pkg = r.type.split(":")[0]!;
    const name = r.version ? `default_${r.version.replace(/[.+-]/g, "_")}` : "default";
    const props: Record<string, unknown> = Object.fromEntries(
      Object.entries(config)
        .filter(([k]) => k.startsWith(`${pkg}:`))
        .map(([k, v]) => [k.slice(pkg.length + 1), v]),
    );
    if (r.version) props.version = r.version;
    return { urn: `urn:pulumi:${stack}::${project}::pulumi:providers:${pkg}::${name}`, type: `pulumi:providers:${pkg}`, name, props };
  };
  return registrations.map((r) => {
    const provider = providerOf(r);
    return {
      urn: r.urn,
      type: r.type,
      name: r.name,
      custom: r.custom,
      props: r.props,
      ...(r.parent ? { parent: r.parent } : {}),
      dependencies: [...r.dependencies],
      propertyDependencies: r.propertyDependencies,
      ...(provider ? { provider } : {}),
      options: r.options,
    };
  });
}
