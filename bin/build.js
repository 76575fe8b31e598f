"use strict";
/**
 * The project's TypeScript sources as JavaScript, compiled once per version of the sources and
 * reused by every later start: `nexus` would otherwise spend most of its start-up transpiling.
 *
 * A build lives in .build/<hash> (git-ignored), where the hash covers every source file's path and
 * content and the compiler's version and options. So a build is never stale: an edited, added or
 * removed source gives another hash and a new build on the next start (esbuild, ~0.1 s), and a
 * checkout switched back reuses its earlier build. A build is written to a temporary folder and
 * renamed into place, so processes starting side by side (parallel tests) never see half of one.
 *
 * `npm ci` builds once through the package's `prepare` script; `node bin/build.js` prints the
 * folder of the current build, building it when needed.
 */
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");

const ROOT = path.join(__dirname, "..");
/** Source folders of the program, its commands and the policy pack (the audit runs the pack). */
const PROJECT = { root: ROOT, dirs: ["domain", "contract", "internal", "stacks", "components", "cmd", "policy"], builds: path.join(ROOT, ".build") };
/**
 * No source maps: the Pulumi SDK records a stack trace for every resource it registers, and with
 * maps beside the code it maps each one (source-map-support), 2 s of CPU per 1 000 resources.
 */
const OPTIONS = { format: "cjs", platform: "node", target: "node20", logLevel: "silent" };
/** Builds of other versions of the sources are removed once unused for this long. */
const KEEP_MS = 24 * 60 * 60 * 1000;

/** Every .ts source below the folders dirs of root, as sorted paths relative to root. */
function sources(root, dirs) {
  const found = [];
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(child);
    }
  };
  for (const dir of dirs) if (fs.existsSync(path.join(root, dir))) walk(dir);
  return found.sort();
}

function buildId(root, files) {
  const hash = crypto.createHash("sha256");
  const esbuild = JSON.parse(fs.readFileSync(require.resolve("esbuild/package.json", { paths: [root] }), "utf8")).version;
  hash.update(JSON.stringify({ esbuild, OPTIONS }));
  for (const file of files) hash.update(`\0${file}\0`).update(fs.readFileSync(path.join(root, file)));
  return hash.digest("hex").slice(0, 16);
}

/**
 * The folder of the build of the current sources, compiled first when there is none. A build keeps
 * the layout of root (.build/<hash>/cmd/nexus.js), and packages resolve from the folders above
 * `builds`: the policy pack builds into policy/.build so that it gets the pack's own packages.
 */
function compiled({ root, dirs, builds } = PROJECT) {
  const files = sources(root, dirs);
  const out = path.join(builds, buildId(root, files));
  if (fs.existsSync(out)) {
    // Marks the build as in use, so that pruning (below) spares it.
    const now = new Date();
    fs.utimesSync(out, now, now);
    return out;
  }
  const tmp = `${out}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  try {
    require(require.resolve("esbuild", { paths: [root] })).buildSync({
      ...OPTIONS,
      entryPoints: files.map((file) => path.join(root, file)),
      outdir: tmp,
      outbase: root,
    });
    fs.mkdirSync(builds, { recursive: true });
    fs.renameSync(tmp, out);
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Another process renamed the same build into place first: use theirs.
    if (!fs.existsSync(out)) throw error;
  }
  prune(builds, out);
  return out;
}

function prune(buildsDir, current) {
  const now = Date.now();
  for (const name of fs.readdirSync(buildsDir)) {
    const dir = path.join(buildsDir, name);
    if (dir === current) continue;
    try {
      if (now - fs.statSync(dir).mtimeMs > KEEP_MS) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

module.exports = { compiled, sources };

if (require.main === module) console.log(compiled());
