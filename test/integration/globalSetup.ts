import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * The real tier needs the toolchain and an API server. Both are provided here rather than
 * assumed, and a failure fails the run: this tier is never skipped.
 */
export default function setup(): () => void {
  execFileSync("bash", [path.join(ROOT, "scripts", "bootstrap")], { stdio: ["ignore", "ignore", "inherit"] });
  const cluster = path.join(ROOT, "scripts", "local-cluster");
  let startedHere = false;
  try {
    execFileSync("bash", [cluster, "status"], { stdio: "ignore" });
  } catch {
    execFileSync("bash", [cluster, "start"], { stdio: ["ignore", "ignore", "inherit"] });
    startedHere = true;
  }
  return () => {
    if (startedHere) execFileSync("bash", [cluster, "stop"], { stdio: ["ignore", "ignore", "inherit"] });
  };
}
