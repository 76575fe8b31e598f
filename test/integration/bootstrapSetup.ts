import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/** The toolchain, provided rather than assumed: a failure fails the run. The tier brings its own clusters. */
export default function setup(): void {
  execFileSync("bash", [path.join(ROOT, "scripts", "bootstrap")], { stdio: ["ignore", "ignore", "inherit"] });
}
