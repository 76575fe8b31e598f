"use strict";
// Loaded into every node process of a benchmarked `pulumi` command (NODE_OPTIONS=--require):
// when NEXUS_BENCH_PROBE_DIR is set, writes at exit the process's peak resident set (VmHWM from
// /proc/self/status), its CPU time and its lifetime to DIR/<pid>.json. bench/engine/run.ts picks
// the Pulumi program's process by its argv.
const fs = require("node:fs");
const path = require("node:path");
const { performance } = require("node:perf_hooks");

const dir = process.env.NEXUS_BENCH_PROBE_DIR;
if (dir) {
  process.on("exit", (code) => {
    try {
      const status = fs.readFileSync("/proc/self/status", "utf8");
      const kib = (key) => Number((new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status) || [])[1] || 0);
      const cpu = process.cpuUsage();
      const probe = {
        pid: process.pid,
        argv: process.argv,
        code,
        hwmKiB: kib("VmHWM"),
        rssKiB: kib("VmRSS"),
        cpuMs: (cpu.user + cpu.system) / 1000,
        lifetimeMs: performance.now(),
      };
      fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(probe));
    } catch {
      // a probe must never change the outcome of the program
    }
  });
}
