/**
 * scripts/lint on small seeded trees: a clean one passes, and one fault of each kind fails the
 * gate naming exactly that check. Each tree carries the repository's ESLint and Prettier config
 * and links its node_modules, as a checkout does.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/registries";

const run = promisify(execFile);

interface Lint {
  code: number;
  output: string;
  /** The checks named on "lint: FAIL <check>: …" lines. */
  failed: string[];
}

/** A tree that passes every check: TypeScript, a shell script, a *.sh file and a Go module. */
const CLEAN: Record<string, string> = {
  "src/answer.ts": "export const answer: number = 42;\n",
  "scripts/hello": '#!/usr/bin/env bash\nset -euo pipefail\necho "hello ${1:-world}"\n',
  "tools/setup.sh": '#!/bin/sh\necho "setting up in $(pwd)"\n',
  "scripts/tool/go.mod": "module example.com/tool\n\ngo 1.22\n",
  "scripts/tool/main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("tool")\n}\n',
};

/** One fault per check, each added to (or replacing a file of) the clean tree. */
const FAULTS: Record<string, Record<string, string>> = {
  eslint: { "src/loose.ts": 'export const loose: any = JSON.parse("{}");\n' },
  prettier: { "src/cramped.ts": "export const cramped = {a:1,b:[1,2]};\n" },
  shellcheck: {
    ".ci/run": "#!/usr/bin/env bash\nrm -rf $1/build\n",
    "tools/setup.sh": "#!/bin/sh\ncd $HOME/work\n",
  },
  gofmt: { "scripts/tool/main.go": 'package main\nimport "fmt"\nfunc main(){ fmt.Println("tool") }\n' },
  "go vet": { "scripts/tool/main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Printf("%d\\n", "tool")\n}\n' },
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-lint-"));

function seed(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name.replace(/\s/g, "-"));
  for (const config of ["eslint.config.mjs", ".prettierrc.json", ".prettierignore"]) {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(ROOT, config), path.join(dir, config));
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  for (const [file, text] of Object.entries({ ...CLEAN, ...files })) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text, { mode: 0o755 });
  }
  return dir;
}

async function lint(dir: string): Promise<Lint> {
  const result = await run("bash", [path.join(ROOT, "scripts", "lint"), dir], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: (error.stdout ?? "") + (error.stderr ?? "") }),
  );
  const failed = [...result.output.matchAll(/^lint: FAIL ([^:(]+?)(?: \(.*\))?:/gm)].map((m) => m[1]!);
  return { ...result, failed };
}

let clean: Lint;
const faulty: Record<string, Lint> = {};

beforeAll(async () => {
  // The clean tree first: if ShellCheck has to be installed, that happens once, here.
  clean = await lint(seed("clean", {}));
  const results = await Promise.all(Object.entries(FAULTS).map(async ([check, files]) => [check, await lint(seed(check, files))] as const));
  for (const [check, result] of results) faulty[check] = result;
}, 240_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("scripts/lint", () => {
  it("passes a clean tree", () => {
    expect(clean.failed, clean.output).toEqual([]);
    expect(clean.code, clean.output).toBe(0);
    expect(clean.output).toContain("lint: all checks passed");
  });

  it.each(Object.keys(FAULTS))("fails on a %s finding, naming that check and no other", (check) => {
    const result = faulty[check]!;
    expect(result.code, result.output).toBe(1);
    expect(result.failed, result.output).toEqual([check]);
  });

  it("names the failing shell scripts, found by shebang and by extension", () => {
    const line = faulty["shellcheck"]!.output.split("\n").find((l) => l.startsWith("lint: FAIL shellcheck:"));
    expect(line).toBe("lint: FAIL shellcheck: .ci/run tools/setup.sh");
  });

  it("names the Go module and the unformatted file", () => {
    expect(faulty["gofmt"]!.output).toContain("lint: FAIL gofmt (scripts/tool): main.go");
    expect(faulty["go vet"]!.output).toContain("lint: FAIL go vet (scripts/tool)");
  });
});
