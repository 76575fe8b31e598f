"use strict";
// The pack's entry (package.json main): its TypeScript and the contract it imports, compiled once
// per version of the sources by the project's build (bin/build.js) into policy/.build, where the
// pack's own node_modules resolve. The pack then starts without compiling TypeScript, and without
// loading the parts of the Pulumi SDK it does not use (internal/pulumi/startup.ts).
const path = require("node:path");
const { compiled } = require("../bin/build");

const root = path.join(__dirname, "..");
const build = compiled({ root, dirs: ["policy", "contract", "internal"], builds: path.join(__dirname, ".build") });
require(path.join(build, "internal", "pulumi", "startup.js")).lightPolicySdk(__dirname);
require(path.join(build, "policy", "index.js"));
