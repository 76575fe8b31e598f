import { defineConfig } from "vitest/config";

// The real-engine tier: pulumi against the local API server. Steps build on each other, so one
// file runs at a time and tests run in order.
export default defineConfig({
  test: {
    include: ["test/integration/**/*.test.ts"],
    // Its own tier (vitest.delivery.config.mts), run beside this one.
    exclude: ["test/integration/delivery.test.ts", "**/node_modules/**"],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    pool: "forks",
    fileParallelism: false,
    sequence: { concurrent: false },
    globalSetup: ["test/integration/globalSetup.ts"],
  },
});
