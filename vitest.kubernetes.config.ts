import path from "node:path";
import { defineConfig } from "vitest/config";

/**
 * `npm run test:kubernetes`: the tests that need the local Kubernetes cluster
 * (scripts/kubernetes/cluster.sh up), and only those. npm test and test:quick leave these files
 * out (vitest.config.ts), so that they never run without a cluster; here they fail, never skip,
 * when none answers (test/support/kubernetes-cluster.ts).
 */
export const KUBERNETES_TEST_FILES = ["test/kubernetes/**/*.test.ts", "emulation/kubernetes-*.test.ts"];

/** Whether a test file (a path relative to the checkout, with "/") is one of those. */
export const isKubernetesTestFile = (file: string): boolean =>
  KUBERNETES_TEST_FILES.some((glob) => path.posix.matchesGlob(file, glob));

export default defineConfig({
  test: {
    include: KUBERNETES_TEST_FILES,
    exclude: ["**/node_modules/**"],
    // Pods start, roll out and stop on a real node: generous bounds, never the assertion.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ["default", "./test/support/summary-reporter.ts"],
    globalSetup: ["./test/support/checkout-guard.ts"],
  },
});
