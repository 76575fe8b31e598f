"use strict";
// The Pulumi program's entry (main in Pulumi.yaml): the compiled sources (bin/build.js), so that
// `pulumi preview` and `up` do not compile TypeScript. Its exports are the stack outputs.
const path = require("node:path");
const { compiled } = require("./build");

const build = compiled();
// Before any resource exists: the SDK takes a stack trace for each (internal/pulumi/startup.ts).
require(path.join(build, "internal", "pulumi", "startup.js")).plainStackTraces();
module.exports = require(path.join(build, "stacks", "index.js"));
