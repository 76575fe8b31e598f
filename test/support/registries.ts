import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const REAL_REGISTRIES = path.join(ROOT, "registries");
export const MINIMAL_REGISTRIES = path.join(ROOT, "test", "registries", "minimal");

/** Copies a registry folder into a fresh temporary folder named `registries`, as problems name it. */
export function copyRegistries(from: string = MINIMAL_REGISTRIES): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nexus-test-")), "registries");
  fs.mkdirSync(dir);
  for (const file of fs.readdirSync(from)) {
    if (file.endsWith(".yaml")) fs.copyFileSync(path.join(from, file), path.join(dir, file));
  }
  return dir;
}

export function removeRegistries(dir: string): void {
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
}

/** Replaces exactly one occurrence of `from` in a registry file; fails loudly when it is absent. */
export function replaceIn(dir: string, file: string, from: string, to: string): void {
  const target = path.join(dir, file);
  const text = fs.readFileSync(target, "utf8");
  const at = text.indexOf(from);
  if (at < 0) throw new Error(`fixture: "${from}" not found in ${file}`);
  if (text.indexOf(from, at + from.length) >= 0) throw new Error(`fixture: "${from}" occurs more than once in ${file}`);
  fs.writeFileSync(target, text.slice(0, at) + to + text.slice(at + from.length));
}
