/**
 * Plain-text secrets in the stack config files, Pulumi.<stack>.yaml: a secret must be stored with
 * `pulumi config set --secret`, which writes a `secure:` ciphertext; a plain value that looks like
 * a secret (by its key or its value, the detector of contract/secrets.ts) is a located problem.
 * `nexus validate` runs this on the Pulumi project holding the registries folder.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from "yaml";
import { secretFinding } from "../contract/secrets";
import type { Problem } from "../domain/loader";

/** A stack config file is a few dozen lines; anything near this is not one (and would slow the parse). */
export const MAX_STACK_CONFIG_BYTES = 1024 * 1024;

/** The Pulumi project folder of a registries folder: its parent, when that holds the project file. */
export function projectDirOf(registriesDir: string): string | undefined {
  const dir = path.dirname(path.normalize(registriesDir));
  return ["Pulumi.yaml", "Pulumi.yml"].some((f) => fs.existsSync(path.join(dir, f))) ? dir : undefined;
}

/** The stack config files of a project folder, Pulumi.<stack>.yaml or .yml, by name. */
export function stackConfigFiles(projectDir: string): string[] {
  return fs
    .readdirSync(projectDir)
    .filter((f) => /^Pulumi\.[^/\\]+\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(projectDir, f));
}

/**
 * The stack config problems of the project holding `registriesDir`, or none when it is not in a
 * Pulumi project (a copy of the registries alone, as the tests make).
 */
export function projectStackConfigProblems(registriesDir: string): Problem[] {
  const projectDir = projectDirOf(registriesDir);
  if (projectDir === undefined) return [];
  return stackConfigFiles(projectDir).flatMap((file) => stackConfigProblems(file, file));
}

/** The problems of one stack config file; `display` is how problems name it. Never throws. */
export function stackConfigProblems(filePath: string, display: string): Problem[] {
  const lineCounter = new LineCounter();
  const at = (offset: number | undefined, where: string, message: string, code: string): Problem => {
    const pos = offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
    return { file: display, line: pos.line, column: pos.col, path: where, message, code };
  };
  let text: string;
  try {
    const stat = fs.statSync(filePath);
    if (!stat.isFile()) return [at(undefined, "(file)", "is not a regular file: a stack config file holds YAML text", "stack-config-unreadable")];
    if (stat.size > MAX_STACK_CONFIG_BYTES) {
      return [
        at(undefined, "(file)", `file is ${stat.size} bytes, over the ${MAX_STACK_CONFIG_BYTES}-byte limit for a stack config file`, "stack-config-too-large"),
      ];
    }
    text = new TextDecoder("utf-8", { fatal: true }).decode(fs.readFileSync(filePath));
  } catch (error) {
    const why = error instanceof TypeError ? "it is not UTF-8 text" : ((error as NodeJS.ErrnoException).code ?? "unreadable");
    return [at(undefined, "(file)", `cannot read the stack config file (${why})`, "stack-config-unreadable")];
  }

  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter });
  } catch (error) {
    // The composer recurses: a hostile file nested thousands of levels deep overflows the stack.
    return [at(undefined, "(file)", `cannot parse the stack config file (${(error as Error).message.split("\n")[0]})`, "stack-config-yaml")];
  }
  const error = doc.errors[0];
  if (error) {
    const first = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    // The yaml package reports its own stack overflow on deeply nested collections as an error here.
    const message = /call stack/i.test(first)
      ? "values are nested too deeply to read: a stack config value nests a few levels at most"
      : `YAML syntax: ${first}: fix the YAML so Pulumi can read the stack config`;
    return [at(openedQuote(doc, first, error.pos[0]) ?? error.pos[0], "(file)", message, "stack-config-yaml")];
  }
  if (doc.contents === null) return [];
  if (!isMap(doc.contents)) {
    return [at(doc.contents.range?.[0], "(root)", "the stack config must be a mapping with a config: section", "stack-config-not-a-mapping")];
  }
  const config = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === "config");
  if (!config || config.value === null || config.value === undefined) return [];
  if (!isMap(config.value)) {
    const offset = isScalar(config.value) || isSeq(config.value) ? config.value.range?.[0] : undefined;
    return [at(offset, "config", "config must be a mapping of KEY: value", "stack-config-not-a-mapping")];
  }

  const problems: Problem[] = [];
  for (const pair of config.value.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    // "project:name": the namespace is the project or provider, the name says what the value is.
    const name = key.slice(key.indexOf(":") + 1);
    // Structured values are walked with an explicit stack; `name` is the nearest key, `sub` the path under KEY.
    const stack: { node: unknown; name: string; sub: string }[] = [{ node: pair.value, name, sub: "" }];
    while (stack.length > 0) {
      const { node, name: nearest, sub } = stack.pop()!;
      if (isScalar(node)) {
        if (typeof node.value !== "string" && typeof node.value !== "number") continue;
        const value = typeof node.value === "string" ? node.value : (node.source ?? String(node.value));
        const why = secretFinding(nearest, value);
        if (why === undefined) continue;
        const command = sub === "" ? `pulumi config set --secret ${key}` : `pulumi config set --secret --path '${key}${sub}'`;
        problems.push(
          at(
            node.range?.[0],
            `config.${key}${sub}`,
            `plain value that looks like a secret: ${why}; store it encrypted with \`${command}\` (the file then holds a secure: value)`,
            "stack-config-plain-secret",
          ),
        );
      } else if (isMap(node)) {
        // `secure:` is the ciphertext Pulumi writes for a secret: exactly what a secret should look like.
        if (node.items.length === 1 && isScalar(node.items[0]!.key) && node.items[0]!.key.value === "secure") continue;
        for (let i = node.items.length - 1; i >= 0; i--) {
          const item = node.items[i]!;
          if (!isPair(item) || !isScalar(item.key)) continue;
          const child = String(item.key.value);
          stack.push({ node: item.value, name: child, sub: `${sub}.${child}` });
        }
      } else if (isSeq(node)) {
        for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], name: nearest, sub: `${sub}[${i}]` });
      }
      // An alias is skipped: its anchor is judged where it is written.
    }
  }
  return problems;
}

/**
 * The parser notices an unclosed quote only where the text runs out, lines later: the offset of
 * the last quoted value of that kind opened before, where the quote is missing.
 */
function openedQuote(doc: Document.Parsed, message: string, pos: number): number | undefined {
  const quote = /^Missing closing (["'])quote/.exec(message)?.[1];
  if (quote === undefined) return undefined;
  let opened: number | undefined;
  visit(doc, {
    Scalar(_, node) {
      const start = node.range?.[0];
      if (start !== undefined && start <= pos && node.type === (quote === '"' ? "QUOTE_DOUBLE" : "QUOTE_SINGLE") && (opened === undefined || start > opened)) {
        opened = start;
      }
    },
  });
  return opened;
}
