import * as pulumi from "@pulumi/pulumi";
import { mockRead } from "./reads";
import { MockMonitor, WIRE, runInPulumiStack, setMockOptions, waitForRPCs } from "./sdk";

/** The key beside `value` by which the mock monitor marks a secret value. */
export const SECRET_SIG = WIRE.sigKey;

/** One resource the program registered, as a test sees it. */
export interface Recorded {
  urn: string;
  type: string;
  name: string;
  /** Type of the parent component ("" for the stack). */
  parentType: string;
  inputs: Record<string, unknown>;
}

export interface MockRun {
  resources: Recorded[];
  outputs: Record<string, unknown>;
  byType(type: string): Recorded[];
  one(type: string, name: string): Recorded;
}

/**
 * Runs a program against Pulumi's mock monitor inside a real stack resource, waits for every
 * registration, and returns what was registered with its parent, as the engine would see it.
 */
export async function runMocked(
  program: () => Record<string, unknown> | void | Promise<Record<string, unknown> | void>,
  options: { project?: string; stack?: string; preview?: boolean; config?: Record<string, string> } = {},
): Promise<MockRun> {
  const stack = options.stack ?? "dev";
  const project = options.project ?? "nexus-platform";
  const inputs = new Map<string, Record<string, unknown>>();
  const monitor = new MockMonitor({
    newResource: (args) => {
      inputs.set(`${args.type}::${args.name}`, args.inputs);
      const read = mockRead(args.type, args.id);
      if (read !== undefined) return { id: args.id!, state: read };
      return { id: `${args.name}-id`, state: { ...args.inputs, arn: `arn:aws:mock:::${args.name}` } };
    },
    call: (args) => args.inputs,
  });
  setMockOptions(monitor, project, stack, options.preview ?? false);
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [k.includes(":") ? k : `${project}:${k}`, v])));
  const outputs = (await runInPulumiStack(async () => (await program()) ?? {})) as Record<string, unknown>;
  await waitForRPCs();
  const resources: Recorded[] = [];
  for (const [urn] of monitor.getRegisteredResources()) {
    const [, , qualifiedType, name] = urn.split("::") as [string, string, string, string];
    const chain = qualifiedType.split("$");
    const type = chain[chain.length - 1]!;
    if (type === "pulumi:pulumi:Stack") continue;
    const parent = chain.length > 1 ? chain[chain.length - 2]! : "";
    resources.push({
      urn,
      type,
      name,
      parentType: parent === "pulumi:pulumi:Stack" ? "" : parent,
      inputs: inputs.get(`${type}::${name}`) ?? {},
    });
  }
  return {
    resources,
    outputs: outputs ?? {},
    byType: (type) => resources.filter((r) => r.type === type),
    one: (type, name) => {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) {
        throw new Error(
          `expected one ${type} named ${name}, found ${found.length}: ${resources
            .filter((r) => r.type === type)
            .map((r) => r.name)
            .join(", ")}`,
        );
      }
      return found[0]!;
    },
  };
}
