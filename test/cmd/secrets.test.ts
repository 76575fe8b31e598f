import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadModel } from "../../domain/loader";
import { referencedSecrets } from "../../stacks/settings";
import { ROOT } from "../support/registries";

describe("nexus secrets", () => {
  it("lists each referenced secret once with its kind: webhook addresses are urls, the rest tokens", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "nexus.js"), "secrets", "--env", "dev"], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    const model = loadModel({ registriesDir: path.join(ROOT, "registries"), env: "dev" });
    expect(rows.map((row) => row[0])).toEqual([...referencedSecrets(model).keys()]);
    for (const [key, kind, by] of rows) {
      expect(by, key).toMatch(/^(service|task|channel) \S+ \(registries\/\w+\.yaml:\d+\)$/);
      const slack = model.monitoring.channels.find((c) => c.type === "slack" && c.webhookSecret === key);
      expect(kind, key).toBe(slack ? "url" : "token");
    }
    expect(rows.some(([, kind]) => kind === "url")).toBe(true);
  });
});
