import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * `npm run test:quick`: every test that needs no Docker engine (the services on real sockets, the
 * interop peers, the program and components under the emulation without containers, the scripts,
 * the packed library). The files below need a Docker engine and are left out; a file that needs
 * one but is not listed fails under this config (MTLS_TEST_QUICK: test/support/docker-available.ts),
 * rather than skipping unseen.
 */
export const DOCKER_TEST_FILES = [
  "emulation/docker-cleanup.test.ts",
  "emulation/docker-container.test.ts",
  "emulation/docker-delivery.test.ts",
  "emulation/docker-image.test.ts",
  "emulation/docker-network.test.ts",
  "emulation/docker-shared-namespace.test.ts",
  "emulation/swarm-rollout.test.ts",
  "test/components/docker-components.test.ts",
  "test/e2e/**",
  "test/ops/verify-drift.test.ts",
  "test/ops/verify-swarm.test.ts",
  "test/ops/verify-workloads.test.ts",
  "test/program/sidecar-upgrade.test.ts",
  "test/program/stacks.test.ts",
  "test/program/upgrade.test.ts",
  "test/services/server-floods.test.ts",
];

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: DOCKER_TEST_FILES,
      env: { MTLS_TEST_QUICK: "1" },
    },
  }),
);
