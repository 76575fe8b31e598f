import { defineConfig } from "vitest/config";

// The node tier: the dev stack on the checkout's own cluster, whose node runs the pods. One file,
// steps in order; the last destroys the stack and stops the cluster.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: "forks",
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
