import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { explain, ROOT, type Result } from "./support";

/**
 * The Node.js language host the bootstrap builds where the upstream one cannot be had
 * (scripts/lib/pulumi-language-nodejs, a Go module of its own): formatted, vetted, and its Go
 * tests, which start the host and run a tiny program through it with the tool cache's Node.js.
 * Read-only module mode: the pinned go.mod and go.sum must be complete, and stay untouched.
 */
describe("the Node.js language host module", () => {
  const dir = path.join(ROOT, "scripts", "lib", "pulumi-language-nodejs");
  const env = {
    ...process.env,
    PATH: `${path.join(ROOT, ".tools", "bin")}:${process.env.PATH}`,
    GOFLAGS: "-mod=readonly -buildvcs=false",
    CGO_ENABLED: "0",
  };
  const run = (command: string, args: readonly string[]): Result => {
    const r = spawnSync(command, args, { cwd: dir, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
  };

  it("runs its programs on the tool cache's Node.js 24", () => {
    const r = run("node", ["--version"]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout.trim()).toMatch(/^v24\./);
  });

  it("is gofmt-formatted and go vet finds nothing", () => {
    const fmt = run("gofmt", ["-l", "."]);
    expect(fmt.code, explain(fmt)).toBe(0);
    expect(fmt.stdout.trim(), "files gofmt would change").toBe("");
    const vet = run("go", ["vet", "./..."]);
    expect(vet.code, explain(vet)).toBe(0);
  });

  it("passes go test: the host serves GetRequiredPlugins, Run and RunPlugin for a tiny program", () => {
    const r = run("go", ["test", "-count=1", "./..."]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toMatch(/^ok\s/m);
  });
});
