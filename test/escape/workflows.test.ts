/**
 * Hostile registry text on its way into the generated workflows: a description with NEL, LS, PS
 * and CRLF, reviewers holding `${{ ... }}`, quotes and line breaks. The workflows must parse to the
 * same structure as without it, hold none of those characters raw, and hold no expression but the
 * generator's own.
 */
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { generateWorkflows, loadPipelineModel, type GeneratedFile, type PipelineModel } from "../../cmd/ci";
import { githubActions } from "../../cmd/ci/github";
import { copyRegistries, REAL_REGISTRIES, removeRegistries, replaceIn } from "../support/registries";

const DESCRIPTION = "Merge to main\u0085jobs: {evil: {runs-on: x}}\u2028on: push\u2029name: pwned\r\nx: 1 ${{ secrets.AWS_ROLE_ARN }} # end";
const REVIEWERS = ["nexus-platform/sre-leads", "${{ secrets.STOLEN }}", "${{ toJSON(secrets) }}", "evil\u2028steps: []", 'it\'s "quoted" #1\nnext: line'];

const RAW = /[\r\u0085\u2028\u2029]/;

function cleanModel(): PipelineModel {
  const { problems, model } = loadPipelineModel(REAL_REGISTRIES);
  expect(problems).toEqual([]);
  return model!;
}

function hostileModel(): PipelineModel {
  const model = cleanModel();
  return {
    ...model,
    sourceFile: "regis\u2028tries/pipelines.yaml",
    environments: model.environments.map((e) =>
      e.approval.required ? { ...e, description: DESCRIPTION, approval: { ...e.approval, reviewers: REVIEWERS } } : e,
    ),
    pipelines: model.pipelines.map((p) => ({ ...p, description: DESCRIPTION })),
  };
}

/** Every string value of a parsed document, with its path. */
function strings(value: unknown, path = ""): [string, string][] {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

/** The paths of every mapping key and sequence item: the shape of a document. */
function shape(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return [path, ...value.flatMap((v, i) => shape(v, `${path}[${i}]`))];
  if (value && typeof value === "object") return [path, ...Object.entries(value).flatMap(([k, v]) => shape(v, `${path}.${k}`))];
  return [path];
}

/** The expressions Actions evaluates in a value: each `${{ ... }}`, closed by the first `}}` outside a string literal. */
function expressions(text: string): string[] {
  return [...text.matchAll(/\$\{\{((?:'(?:[^']|'')*'|[^'}]|\}(?!\}))*)\}\}/g)].map((m) => m[1]!.trim());
}

const evaluatedLiterals = (text: string) => text.split("${{ '${{' }}").join("${{");

describe("hostile pipeline text in the generated workflows", () => {
  const clean = githubActions.generate(cleanModel());
  const hostile = githubActions.generate(hostileModel());
  const own = new Set(clean.flatMap((f) => strings(parse(f.content)).flatMap(([, v]) => expressions(v))));

  it("gives the same files, each parsed by the `yaml` package without error to the same structure", () => {
    expect(hostile.map((f) => f.path)).toEqual(clean.map((f) => f.path));
    for (const [i, f] of hostile.entries()) {
      const doc = parseDocument(f.content);
      expect(doc.errors, f.path).toEqual([]);
      expect(shape(doc.toJS()), f.path).toEqual(shape(parse(clean[i]!.content)));
    }
  });

  it("leaves no NEL, LS, PS or CR raw anywhere, comments included", () => {
    for (const f of hostile) {
      expect(f.content, f.path).not.toMatch(RAW);
      // The description stays on one comment line, its line breaks shown as escapes.
      const lines = f.content.split("\n").filter((l) => l.includes("Merge to main"));
      expect(lines, f.path).toEqual([
        "# Merge to main\\u0085jobs: {evil: {runs-on: x}}\\u2028on: push\\u2029name: pwned\\r\\nx: 1 ${{ secrets.AWS_ROLE_ARN }} # end",
      ]);
    }
  });

  it("holds no expression in any value but the generator's own and the literal '${{'", () => {
    for (const f of hostile) {
      for (const [path, value] of strings(parse(f.content))) {
        for (const e of expressions(value)) expect(e === "'${{'" || own.has(e), `${f.path} ${path}: \${{ ${e} }}`).toBe(true);
      }
    }
  });

  it("shows the reviewers as written in the deploy job's name once Actions evaluates it", () => {
    const release = parse(hostile.find((f) => f.path.endsWith("release.yml"))!.content) as { jobs: Record<string, { name: string }> };
    expect(evaluatedLiterals(release.jobs["deploy-prod"]!.name)).toBe(`deploy prod (approval by reviewers ${REVIEWERS.join(", ")}, wait timer 10 min)`);
  });
});

describe("a hostile pipelines registry file", () => {
  let dir: string;
  afterAll(() => removeRegistries(dir));

  it("is refused with located problems, or gives workflows that hold none of it raw", () => {
    dir = copyRegistries(REAL_REGISTRIES);
    replaceIn(
      dir,
      "pipelines.yaml",
      "description: Merge to main - deploy dev, then staging, then prod after approval, each from a commit the one before runs.",
      'description: "Merge to main\\u0085jobs: {evil: 1}\\u2028on: push\\u2029x: 1"',
    );
    replaceIn(dir, "pipelines.yaml", '"nexus-platform/platform-leads"', '"${{ secrets.STOLEN }}"');
    const result = generateWorkflows(dir);
    if (result.problems.length > 0) {
      expect(result.files).toEqual([]);
      expect(new Set(result.problems.map((p) => p.code))).toEqual(new Set(["free-text", "actions-expression"]));
      for (const p of result.problems) expect(p.file).toBe("registries/pipelines.yaml");
      return;
    }
    const files: GeneratedFile[] = result.files;
    expect(files.length).toBe(3);
    for (const f of files) {
      expect(f.content, f.path).not.toMatch(RAW);
      expect(parseDocument(f.content).errors, f.path).toEqual([]);
      for (const [path, value] of strings(parse(f.content))) {
        for (const e of expressions(value)) expect(e, `${f.path} ${path}`).not.toMatch(/STOLEN/);
      }
    }
  });
});
