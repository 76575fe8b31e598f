import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { REGISTRY_FILES, type RegistryKey } from "../domain/schema";

/** The JSON Schema of one registry file, as editors and `yaml-language-server` read it. */
export function jsonSchemaFor(key: RegistryKey): object {
  const { schema, kind } = REGISTRY_FILES[key];
  const generated = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return {
    $schema: generated.$schema,
    $id: `https://nexus.platform/schemas/${key}.schema.json`,
    title: `NEXUS ${kind} registry`,
    ...Object.fromEntries(Object.entries(generated).filter(([k]) => k !== "$schema")),
  };
}

export function schemaText(key: RegistryKey): string {
  return `${JSON.stringify(jsonSchemaFor(key), null, 2)}\n`;
}

/** Writes every registry's JSON Schema into `dir`; returns the files written. */
export function writeSchemas(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return (Object.keys(REGISTRY_FILES) as RegistryKey[]).map((key) => {
    const file = path.join(dir, `${key}.schema.json`);
    fs.writeFileSync(file, schemaText(key));
    return file;
  });
}
