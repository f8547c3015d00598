/**
 * The Kubernetes tests need the local cluster, which only `npm run test:kubernetes` (and its CI
 * step, between `cluster.sh up` and `down`) provides: they fail rather than skip without one
 * (test/support/kubernetes-cluster.ts). So npm test and test:quick must leave every one of them
 * out, and a test that asks for the cluster must live where test:kubernetes finds it; this test,
 * part of `npm test`, checks both.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import defaultConfig from "../../vitest.config.ts";
import { isKubernetesTestFile, KUBERNETES_TEST_FILES } from "../../vitest.kubernetes.config.ts";
import quickConfig from "../../vitest.quick.config.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** What a test file calls when it needs the cluster (test/support/kubernetes-cluster.ts). */
const NEEDS_CLUSTER = /\blocalCluster\(/;

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".test.ts") && !file.includes("node_modules"))
    .map((file) => path.posix.join(dir, file.split(path.sep).join("/")));
}

describe("the Kubernetes test files", () => {
  const clusterFiles = [...testFiles("test"), ...testFiles("emulation")].filter((file) =>
    NEEDS_CLUSTER.test(readFileSync(path.join(ROOT, file), "utf8")),
  );

  it("are found by what they call", () => {
    expect(clusterFiles).toContain("test/kubernetes/cluster.test.ts");
  });

  it("all run under test:kubernetes", () => {
    expect(clusterFiles.filter((file) => !isKubernetesTestFile(file))).toEqual([]);
  });

  it("are left out of npm test and test:quick", () => {
    for (const config of [defaultConfig, quickConfig]) {
      expect(config.test?.exclude).toEqual(expect.arrayContaining(KUBERNETES_TEST_FILES));
    }
  });
});
