import { defineConfig } from "vitest/config";

// The delivery tier: the team flows and the crash trials (test/integration/delivery.test.ts) on
// API-only clusters and a state store of its own, so scripts/test runs it beside the lint, unit and
// integration tiers. Its steps build on each other: one file, tests in order.
export default defineConfig({
  test: {
    include: ["test/integration/delivery.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: "forks",
    fileParallelism: false,
    sequence: { concurrent: false },
    globalSetup: ["test/integration/bootstrapSetup.ts"],
  },
});
