/**
 * `npm run test:quick` leaves out the files that need a Docker engine, by the list in
 * vitest.quick.config.ts. A new Docker test missing from that list would fail the quick run (its
 * guard in test/support/docker-available.ts), and nobody would see it until someone runs it: this
 * test, part of `npm test`, finds every test file that asks for an engine and checks it is listed.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isKubernetesTestFile } from "../../vitest.kubernetes.config.ts";
import { DOCKER_TEST_FILES } from "../../vitest.quick.config.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** What a test file calls when it needs the engine (test/support/docker-available.ts, swarm-available.ts). */
const NEEDS_DOCKER = /\b(dockerSkipReason|swarmSkipReason|ensureBaseImage)\(/;

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".test.ts") && !file.includes("node_modules"))
    .map((file) => path.posix.join(dir, file.split(path.sep).join("/")));
}

const listed = (file: string) =>
  DOCKER_TEST_FILES.some((entry) =>
    entry.endsWith("/**") ? file.startsWith(entry.slice(0, -2)) : file === entry,
  );

describe("the quick run's list of Docker test files", () => {
  // test/crash and the Kubernetes tests have configs of their own and are never part of npm test
  // or test:quick (kubernetes-config.test.ts checks those).
  const dockerFiles = [...testFiles("test"), ...testFiles("emulation")]
    .filter((file) => !file.startsWith("test/crash/") && !isKubernetesTestFile(file))
    .filter((file) => NEEDS_DOCKER.test(readFileSync(path.join(ROOT, file), "utf8")));

  it("finds the Docker test files by what they call", () => {
    expect(dockerFiles).toContain("test/e2e/deploy.test.ts");
  });

  it("lists every test file that needs a Docker engine", () => {
    expect(dockerFiles.filter((file) => !listed(file))).toEqual([]);
  });
});
