/**
 * The faster starts of internal/pulumi/startup.ts. The program's: V8's own stack traces, which the
 * SDK still parses. The policy pack's, in a process of its own with the pack's own packages, as
 * the engine starts it: @pulumi/policy loads without the whole of @pulumi/pulumi, assets still
 * deserialize, and anything else still reaches the whole package.
 */
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { plainStackTraces, POLICY_READS, SOURCE_MAP_SUPPORT_HOOK } from "../../internal/pulumi/startup";

const ROOT = path.join(__dirname, "..", "..");
const PACK = path.join(ROOT, "policy");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { compiled } = require("../../bin/build") as { compiled: () => string };

/** Runs a few lines in a new node process in the pack's folder, after lightPolicySdk(); returns its JSON. */
function inPack(lines: string[]): Record<string, unknown> {
  const startup = path.join(compiled(), "internal", "pulumi", "startup.js");
  const script = [`require(${JSON.stringify(startup)}).lightPolicySdk(process.cwd());`, ...lines].join("\n");
  const r = spawnSync(process.execPath, ["-e", script], { cwd: PACK, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

// The real index loads these, the stand-in none of them.
const LOADED = `Object.keys(require.cache).filter((f) => /@pulumi[\\\\/]pulumi[\\\\/](automation|dynamic|provider)[\\\\/]index\\.js$/.test(f)).map((f) => f.split("@pulumi")[1])`;

describe("the program's start", () => {
  it("drops the stack-trace hook of source-map-support, which the SDK's runner installs, and the SDK still finds source positions", () => {
    const runner = require.resolve("@pulumi/pulumi/cmd/run/index.js");
    expect(fs.readFileSync(runner, "utf8"), "the SDK's program runner no longer registers source-map-support").toContain(
      'require("source-map-support/register")',
    );
    const callsites = (pulumi.Resource as unknown as { callsites?: () => { file?: string; line?: number }[] }).callsites;
    expect(typeof callsites, "Resource.callsites() (the SDK's source positions) is gone").toBe("function");
    const before = Error.prepareStackTrace;
    try {
      const support = createRequire(runner)("source-map-support") as { install(o: object): void };
      support.install({ environment: "node", handleUncaughtExceptions: false });
      expect(Error.prepareStackTrace?.name, "source-map-support's hook has another name").toBe(SOURCE_MAP_SUPPORT_HOOK);
      plainStackTraces();
      expect(Error.prepareStackTrace).toBeUndefined();
      // A named function: its frame has the "at NAME (FILE:LINE:COLUMN)" form the SDK parses.
      const positionsHere = () => callsites!.call(pulumi.Resource);
      const here = positionsHere().find((site) => site.file?.endsWith("startup.test.ts"));
      expect(here?.line, "the SDK no longer finds this file's position in V8's own stack trace format").toBeGreaterThan(0);
    } finally {
      Error.prepareStackTrace = before;
    }
  });
});

describe("the policy pack's start", () => {
  it("loads @pulumi/policy without @pulumi/pulumi's index, and assets still deserialize", () => {
    const out = inPack([
      `const { deserializeProperties } = require("@pulumi/policy/deserialize");`,
      `const { Struct } = require("google-protobuf/google/protobuf/struct_pb");`,
      `const rpc = require("@pulumi/pulumi/runtime/rpc");`,
      `const props = deserializeProperties(Struct.fromJavaScript({ a: { [rpc.specialSigKey]: rpc.specialAssetSig, text: "hi" } }), false);`,
      `const loaded = ${LOADED};`,
      `console.log(JSON.stringify({ loaded, asset: props.a.constructor.name, text: props.a.text }));`,
    ]);
    expect(out.loaded, "the pack loaded the whole of @pulumi/pulumi").toEqual([]);
    expect(out.asset).toBe("StringAsset");
  });

  it("gives code that reads more of @pulumi/pulumi the whole package", () => {
    const out = inPack([
      `const pulumi = require("@pulumi/pulumi");`,
      `const kinds = [typeof pulumi.asset.FileAsset, typeof pulumi.Config, typeof pulumi.automation.LocalWorkspace];`,
      `console.log(JSON.stringify({ kinds, loaded: ${LOADED} }));`,
    ]);
    expect(out.kinds).toEqual(["function", "function", "function"]);
    expect(out.loaded).toContain("/pulumi/automation/index.js");
  });

  it("relies on @pulumi/policy reading nothing of @pulumi/pulumi's index but asset", () => {
    const source = fs.readFileSync(path.join(PACK, "node_modules", "@pulumi", "policy", "deserialize.js"), "utf8");
    const binding = /const (\w+) = require\("@pulumi\/pulumi"\);/.exec(source)?.[1];
    expect(binding, "@pulumi/policy's deserialize no longer requires @pulumi/pulumi's index this way").toBeDefined();
    const members = new Set([...source.matchAll(new RegExp(`\\b${binding}\\.(\\w+)`, "g"))].map((m) => m[1]));
    expect([...members].sort(), "@pulumi/policy's deserialize reads other members of @pulumi/pulumi").toEqual(Object.keys(POLICY_READS).sort());
    const others = fs
      .readdirSync(path.join(PACK, "node_modules", "@pulumi", "policy"))
      .filter((f) => f.endsWith(".js") && f !== "deserialize.js")
      .filter((f) => /require\("@pulumi\/pulumi"\)/.test(fs.readFileSync(path.join(PACK, "node_modules", "@pulumi", "policy", f), "utf8")));
    expect(others, "another @pulumi/policy module requires @pulumi/pulumi's index").toEqual([]);
  });
});
