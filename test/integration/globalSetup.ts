import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
/** The tests' own cluster, apart from the one `npm run up` uses, so neither disturbs the other. */
export const TEST_CLUSTER_DIR = path.join(ROOT, ".tools", "test-cluster");

/**
 * The real tier needs the toolchain and an API server. Both are provided here rather than
 * assumed, and a failure fails the run: this tier is never skipped. Every run starts from an
 * empty cluster and removes it afterwards.
 */
export default function setup(): () => void {
  execFileSync("bash", [path.join(ROOT, "scripts", "bootstrap")], { stdio: ["ignore", "ignore", "inherit"] });
  const cluster = (action: string) =>
    execFileSync("bash", [path.join(ROOT, "scripts", "local-cluster"), action], {
      stdio: ["ignore", "ignore", "inherit"],
      // API server only: the machine's one node belongs to the checkout's own cluster.
      env: { ...process.env, NEXUS_CLUSTER_DIR: TEST_CLUSTER_DIR, NEXUS_CLUSTER_TTL: "3600", NEXUS_CLUSTER_MODE: "api" },
    });
  cluster("reset");
  cluster("start");
  return () => {
    cluster("reset");
  };
}
