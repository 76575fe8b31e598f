#!/usr/bin/env node
"use strict";
// @pulumi/pulumi needs Node.js >= 22. On an older node, run this same command on the Node.js 24
// that scripts/bootstrap put in the tool cache (linked as .tools/bin/node), when there is one.
const fs = require("node:fs");
const path = require("node:path");
const toolNode = path.join(__dirname, "..", ".tools", "bin", "node");
if (Number(process.versions.node.split(".")[0]) < 22 && fs.existsSync(toolNode)) {
  const { spawnSync } = require("node:child_process");
  const r = spawnSync(toolNode, [__filename, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

// The sources compiled to JavaScript (bin/build.js): built by `npm ci`, and again on the first
// start after a source changed, so the command never runs stale code.
const { compiled } = require("./build");
const { main } = require(path.join(compiled(), "cmd", "nexus.js"));
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`nexus: internal error: ${error && error.stack ? error.stack : error}`);
    process.exitCode = 70;
  },
);
