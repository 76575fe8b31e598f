/**
 * The SDK internals the project relies on (internal/pulumi/sdk.ts): each test names what an SDK
 * upgrade changed, so the upgrade fails here and not silently in the audit or the mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "node:module";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runMocked } from "../../internal/pulumi/mocks";
import { WIRE, waitForRPCs } from "../../internal/pulumi/sdk";

class Thing extends pulumi.CustomResource {
  constructor(name: string, props: pulumi.Inputs) {
    super("test:index:Thing", name, props);
  }
}

describe("Pulumi SDK internals", () => {
  it("marks secrets in the wire form WIRE names", async () => {
    const run = await runMocked(() => {
      new Thing("thing", { value: pulumi.secret("hidden") });
    });
    const inputs = run.one("test:index:Thing", "thing").inputs;
    expect(inputs.value, "the mock monitor no longer receives secrets as { [WIRE.sigKey]: WIRE.secret, value }").toEqual({
      [WIRE.sigKey]: WIRE.secret,
      value: "hidden",
    });
  });

  it("still has waitForRPCs in runtime/settings", async () => {
    await expect(waitForRPCs()).resolves.toBeUndefined();
  });

  it("serves the policy pack through grpc.Server addService and bindAsync, which the in-process analyzer intercepts", () => {
    const policyRequire = createRequire(path.join(path.dirname(require.resolve("@pulumi/policy")), "server.js"));
    const grpc = policyRequire("@grpc/grpc-js") as { Server: { prototype: Record<string, unknown> } };
    expect(typeof grpc.Server.prototype.addService, "@grpc/grpc-js Server.addService is gone").toBe("function");
    expect(typeof grpc.Server.prototype.bindAsync, "@grpc/grpc-js Server.bindAsync is gone").toBe("function");
    const server = policyRequire("./server.js") as { serve?: unknown };
    expect(typeof server.serve, "@pulumi/policy server.js no longer exports serve()").toBe("function");
  });
});
