/**
 * The deploy-check image's program (images/deploy-check): its Go tests run it against an
 * httptest API server with a CA and token laid out as in a pod, for ready, rolling, missing and
 * forbidden workloads, the bounded wait and the exit codes.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/registries";

const MODULE = path.join(ROOT, "images", "deploy-check");

describe("images/deploy-check", () => {
  it("passes go test", () => {
    // The module's own toolchain only, and no module download: it uses the standard library alone.
    const r = spawnSync("go", ["test", "-count=1", "./..."], {
      cwd: MODULE,
      encoding: "utf8",
      env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod", GOWORK: "off", GOPROXY: "off" },
    });
    expect(r.error, "go is not on PATH").toBeUndefined();
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 120_000);
});
