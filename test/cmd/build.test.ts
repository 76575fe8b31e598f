import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROOT } from "../support/registries";

// bin/build.js is plain CommonJS run by node before anything is compiled.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const { compiled } = require(path.join(ROOT, "bin", "build.js")) as {
  compiled: (project?: { root: string; dirs: string[]; builds: string }) => string;
};

describe("the compiled sources (bin/build.js)", () => {
  let root: string;
  let project: { root: string; dirs: string[]; builds: string };
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  const run = (build: string) => {
    // A fresh require per build folder: what a new process would load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading the build is the point
    return require(path.join(build, "domain", "greet.js")) as { greet: () => string };
  };
  const builds = () => fs.readdirSync(project.builds).sort();

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "nexus-build-"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
    project = { root, dirs: ["domain", "cmd"], builds: path.join(root, ".build") };
    write("domain/greet.ts", 'import { name } from "./name";\nexport const greet = (): string => `hello ${name}`;\n');
    write("domain/name.ts", 'export const name: string = "registry";\n');
    write("domain/types.d.ts", "export type Unused = string;\n");
  });

  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("compiles the TypeScript once and reuses the build while the sources are the same", () => {
    const first = compiled(project);
    expect(run(first).greet()).toBe("hello registry");
    const files = fs.readdirSync(path.join(first, "domain")).sort();
    expect(files).toEqual(["greet.js", "name.js"]);
    const written = fs.statSync(path.join(first, "domain", "greet.js")).mtimeMs;
    expect(compiled(project)).toBe(first);
    expect(fs.statSync(path.join(first, "domain", "greet.js")).mtimeMs).toBe(written);
  });

  it("never runs stale code: an edited, added or removed source gives a new build", () => {
    const first = compiled(project);
    write("domain/name.ts", 'export const name: string = "catalog";\n');
    const edited = compiled(project);
    expect(edited).not.toBe(first);
    expect(run(edited).greet()).toBe("hello catalog");

    write("cmd/extra.ts", "export const extra = 1;\n");
    const added = compiled(project);
    expect(added).not.toBe(edited);
    expect(fs.existsSync(path.join(added, "cmd", "extra.js"))).toBe(true);

    fs.rmSync(path.join(root, "cmd", "extra.ts"));
    expect(compiled(project)).toBe(edited);
  });

  it("removes builds unused for a day, and keeps the others", () => {
    const old = compiled(project);
    write("domain/name.ts", 'export const name: string = "recent";\n');
    const recent = compiled(project);
    const dayAgo = new Date(Date.now() - 25 * 60 * 60 * 1000);
    fs.utimesSync(old, dayAgo, dayAgo);
    write("domain/name.ts", 'export const name: string = "newest";\n');
    const newest = compiled(project);
    expect(builds()).toEqual([path.basename(recent), path.basename(newest)].sort());
  });

  it("gives processes that start side by side one complete build", async () => {
    const script = `const { compiled } = require(${JSON.stringify(path.join(ROOT, "bin", "build.js"))});
      const build = compiled(${JSON.stringify(project)});
      console.log(require(require("node:path").join(build, "domain", "greet.js")).greet());`;
    const outputs = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
            let out = "";
            child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
            child.on("error", reject);
            child.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
          }),
      ),
    );
    expect(outputs).toEqual(Array(4).fill("hello registry"));
    expect(builds()).toHaveLength(1);
  });
});
