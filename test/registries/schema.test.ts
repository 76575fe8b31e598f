import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { schemaText } from "../../cmd/schema";
import { loadRegistries } from "../../domain/loader";
import { REGISTRY_FILES, type RegistryKey } from "../../domain/schema";
import { REAL_REGISTRIES } from "../support/registries";

const KEYS = Object.keys(REGISTRY_FILES) as RegistryKey[];

describe("committed JSON Schemas", () => {
  it.each(KEYS)("%s.schema.json equals what the zod schema generates", (key) => {
    const committed = fs.readFileSync(path.join(REAL_REGISTRIES, "schema", `${key}.schema.json`), "utf8");
    // Regenerate with `npx nexus schema` when this fails.
    expect(committed).toBe(schemaText(key));
  });

  it.each(KEYS)("%s.yaml points editors at its schema on the first line", (key) => {
    const first = fs.readFileSync(path.join(REAL_REGISTRIES, REGISTRY_FILES[key].file), "utf8").split("\n")[0];
    expect(first).toBe(`# yaml-language-server: $schema=./schema/${key}.schema.json`);
  });

  it("rejects unknown fields in the generated schema as the loader does", () => {
    const schema = JSON.parse(schemaText("orchestration")) as { additionalProperties: boolean };
    expect(schema.additionalProperties).toBe(false);
  });
});

describe("the real registries", () => {
  it.each(["dev", "prod"])("validate for %s with no problem", (env) => {
    const result = loadRegistries({ registriesDir: REAL_REGISTRIES, env });
    expect(result.problems).toEqual([]);
    expect(result.model?.environment.name).toBe(env);
  });

  it("describe the platform of the analysis, not a toy", () => {
    const model = loadRegistries({ registriesDir: REAL_REGISTRIES, env: "prod" }).model!;
    expect(model.services.length).toBeGreaterThanOrEqual(6);
    expect(model.tasks.length).toBeGreaterThanOrEqual(10);
    expect(model.monitoring.alerts.length).toBeGreaterThanOrEqual(8);
    expect(model.monitoring.channels.length).toBeGreaterThanOrEqual(2);
    const userFacing = model.services.filter((s) => s.userFacing).map((s) => s.name);
    expect(new Set(model.monitoring.slos.map((s) => s.service))).toEqual(new Set(userFacing));
  });
});
