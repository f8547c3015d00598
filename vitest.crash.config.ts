import { defineConfig } from "vitest/config";

// The daemon-crash test (test/crash): kills and restarts a Docker daemon of its own, so it runs
// alone, after the other Docker tests (`npm run test:crash`, its own CI step).
export default defineConfig({
  test: {
    include: ["test/crash/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
    reporters: ["default", "./test/support/summary-reporter.ts"],
    globalSetup: ["./test/support/checkout-guard.ts"],
  },
});
