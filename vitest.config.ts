import { defineConfig } from "vitest/config";
import { KUBERNETES_TEST_FILES } from "./vitest.kubernetes.config.ts";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "emulation/**/*.test.ts"],
    // test/crash kills and restarts a Docker daemon: its own run (vitest.crash.config.ts). The
    // Kubernetes tests need the local cluster: their own run too (vitest.kubernetes.config.ts).
    exclude: ["**/node_modules/**", "test/crash/**", ...KUBERNETES_TEST_FILES],
    // Tests start real servers, handshakes and containers: generous timeouts, and files run
    // in separate workers so that Pulumi's global mock state never leaks between files.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Fails the run when a test left a file in the checkout (test/support/checkout-guard.ts).
    globalSetup: ["./test/support/checkout-guard.ts"],
  },
});
