"use strict";
// The Pulumi program's entry (main in Pulumi.yaml): the compiled sources (bin/build.js), so that
// `pulumi preview` and `up` do not compile TypeScript. Its exports are the stack outputs.
const path = require("node:path");
const { compiled } = require("./build");

module.exports = require(path.join(compiled(), "stacks", "index.js"));
