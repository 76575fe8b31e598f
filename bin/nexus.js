#!/usr/bin/env node
"use strict";
// Runs the TypeScript sources directly so `npx nexus` works right after `npm ci`, with no build.
require("tsx/cjs");
const { main } = require("../cmd/nexus.ts");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`nexus: internal error: ${error && error.stack ? error.stack : error}`);
    process.exitCode = 70;
  },
);
