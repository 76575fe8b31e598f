/**
 * `nexus` loads only what a command uses: the commands that read registries start without the
 * Pulumi SDK, the Kubernetes SDK or TypeScript, which would cost them most of their start
 * (bench/README.md, `nexus validate`). One import of a component from a command's path is
 * enough to pull them all in.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.join(__dirname, "..", "..");
const HEAVY = /node_modules[\\/](@pulumi[\\/][^\\/]+|typescript|glob)[\\/]/;

/** The packages a `nexus` command loaded, run in a process of its own. */
function packagesLoadedBy(args: string[]): string[] {
  const script = [
    `process.argv = [process.argv[0], "bin/nexus.js", ...${JSON.stringify(args)}];`,
    `process.on("exit", () => process.stderr.write("\\nLOADED " + JSON.stringify(Object.keys(require.cache)) + "\\n"));`,
    `require("./bin/nexus.js");`,
  ].join("\n");
  const r = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
  const line = r.stderr.split("\n").find((l) => l.startsWith("LOADED "));
  expect(line, r.stderr).toBeDefined();
  const files = JSON.parse(line!.slice("LOADED ".length)) as string[];
  return [...new Set(files.flatMap((f) => HEAVY.exec(f)?.[1] ?? []))].sort();
}

describe("nexus start-up", () => {
  it.each([[["validate"]], [["policy-config", "--env", "dev"]]])("%j loads no Pulumi SDK, Kubernetes SDK or TypeScript", (args) => {
    expect(packagesLoadedBy(args)).toEqual([]);
  });
});
