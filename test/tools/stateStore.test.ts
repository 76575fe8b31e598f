/**
 * The state store's server (scripts/lib/state-store): its Go tests run it on a temporary database
 * and check that data survives a restart, copies and reads stay correct while the database grows
 * (the bolt backend's memory-mapped reads), checksums, a second store on one file, the stop on a
 * signal and on its TTL. The integration tier runs Pulumi's s3:// backend against it.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/registries";

describe("scripts/lib/state-store", () => {
  it("passes go test", () => {
    // Read-only: the committed go.sum pins the modules the proxy serves.
    const r = spawnSync("go", ["test", "-count=1", "-mod=readonly", "./..."], {
      cwd: path.join(ROOT, "scripts", "lib", "state-store"),
      encoding: "utf8",
      env: { ...process.env, GOTOOLCHAIN: "local", GOWORK: "off" },
    });
    expect(r.error, "go is not on PATH").toBeUndefined();
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 300_000);
});
