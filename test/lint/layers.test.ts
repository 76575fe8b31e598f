/**
 * The import direction between the layers: domain < contract < (internal, components, stacks,
 * policy) < cmd. Every relative import (import/export … from, import "…", require(), import(),
 * import types) of every source file of the layers is parsed with the TypeScript parser and its
 * target's top-level folder checked against the layer rule.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/registries";

const LAYERS = ["domain", "contract", "internal", "components", "stacks", "policy", "cmd"] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer may import (its own folder included); cmd may import any layer. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  domain: ["domain"],
  contract: ["domain", "contract"],
  internal: ["domain", "contract", "internal"],
  components: ["domain", "contract", "components"],
  stacks: ["domain", "contract", "components", "stacks"],
  policy: ["contract", "policy"],
  cmd: LAYERS,
};

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/**
 * Plain JavaScript launchers that sit above every layer, like bin/: they start the compiled code
 * (bin/build.js). The policy pack's one lives in policy/ because its package.json names it.
 */
const LAUNCHERS = ["policy/main.js"];

interface Violation {
  file: string;
  specifier: string;
  message: string;
}

/** The module specifiers a source file imports, in every form a module can be loaded. */
function moduleSpecifiers(file: string, text: string): string[] {
  const kind = /\.[mc]?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) found.push(e.text);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require")) found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The layer rule for one file (a path relative to the repository root, with "/"). */
function checkImports(file: string, text: string): Violation[] {
  const layer = file.split("/")[0] as Layer;
  if (!LAYERS.includes(layer)) throw new Error(`${file} is in no layer`);
  const violations: Violation[] = [];
  for (const specifier of moduleSpecifiers(file, text)) {
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    const targetLayer = target.split("/")[0] as Layer;
    if (ALLOWED[layer].includes(targetLayer)) continue;
    const rule = `${layer} may import only ${ALLOWED[layer].join(", ")}`;
    const where = LAYERS.includes(targetLayer) ? `the ${targetLayer} layer` : "outside the layers";
    violations.push({ file, specifier, message: `${file} imports "${specifier}" (${target}, ${where}): ${rule}` });
  }
  return violations;
}

/** Source files of a layer folder, relative to the repository root. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      // Not installed packages, nor compiled output (.build).
      if (entry.name !== "node_modules" && !entry.name.startsWith(".")) out.push(...sourceFiles(rel));
    } else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") && !LAUNCHERS.includes(rel)) {
      out.push(rel);
    }
  }
  return out;
}

describe("layer rule", () => {
  const files = LAYERS.flatMap((layer) => sourceFiles(layer));

  it("finds the source files of every layer", () => {
    for (const layer of LAYERS) expect(files.filter((f) => f.startsWith(`${layer}/`)).length, layer).toBeGreaterThan(0);
  });

  it("holds for every relative import of every layer", () => {
    const violations = files.flatMap((file) => checkImports(file, fs.readFileSync(path.join(ROOT, file), "utf8")));
    expect(violations.map((v) => v.message)).toEqual([]);
    // The parse sees the imports: layers do import each other.
    const crossLayer = files.flatMap((file) =>
      moduleSpecifiers(file, fs.readFileSync(path.join(ROOT, file), "utf8")).filter((s) => s.startsWith("../") && !s.startsWith(`../${file.split("/")[0]}`)),
    );
    expect(crossLayer.length).toBeGreaterThan(10);
  });

  it("reports an import against the direction, naming the file, the import and the rule", () => {
    expect(checkImports("domain/loader/x.ts", 'import { buildProgram } from "../../stacks/program";\n')).toEqual([
      {
        file: "domain/loader/x.ts",
        specifier: "../../stacks/program",
        message: 'domain/loader/x.ts imports "../../stacks/program" (stacks/program, the stacks layer): domain may import only domain',
      },
    ]);
  });

  it("sees every form of import, and only imports", () => {
    const text = [
      'import type { Model } from "../domain/model";',
      'export { K8S } from "../contract/types";',
      'import "../stacks/side-effect";',
      'const sdk = require("../internal/pulumi/sdk");',
      'const later = () => import("../cmd/nexus");',
      'type Report = typeof import("../cmd/audit/report");',
      'import fs = require("../test/support/registries");',
      '// import { x } from "../cmd/commented";',
      "const text = \"require('../cmd/in-a-string')\";",
      'import * as yaml from "yaml";',
    ].join("\n");
    expect(checkImports("policy/x.ts", text).map((v) => v.specifier)).toEqual([
      "../domain/model",
      "../stacks/side-effect",
      "../internal/pulumi/sdk",
      "../cmd/nexus",
      "../cmd/audit/report",
      "../test/support/registries",
    ]);
    expect(checkImports("cmd/x.ts", text)).toHaveLength(1);
    expect(checkImports("cmd/x.ts", text)[0]!.message).toContain("outside the layers");
  });

  it("keeps components off the SDK internals and everything but cmd off cmd", () => {
    expect(checkImports("components/a.ts", 'import { WIRE } from "../internal/pulumi/sdk";')).toHaveLength(1);
    expect(checkImports("stacks/a.ts", 'import { main } from "../cmd/nexus";')).toHaveLength(1);
    expect(checkImports("cmd/a.ts", 'import { buildProgram } from "../stacks/program";')).toEqual([]);
    expect(checkImports("internal/pulumi/a.js", 'const m = require("../../components/x");')).toHaveLength(1);
  });
});
