/**
 * Decides whether the tests that need a real Docker engine run here.
 *
 * - With CI=true a missing engine is a failure: `dockerSkipReason()` throws, naming the fix, so CI
 *   can never pass by skipping the Docker half.
 * - On a developer machine without Docker it returns one line saying why, for `describe.skipIf`,
 *   and notes that line for the run (printed once, test/support/run-notes.ts).
 *
 * - Under `npm run test:quick` it throws: that run leaves out every file that needs Docker.
 *
 *   const skip = await dockerSkipReason();
 *   describe.skipIf(skip)("...", () => { ... });
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { dockerApi } from "../../emulation/index.ts";
import { note } from "./run-notes.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The local base image the Docker tests build on (scripts/build-base-image.sh). */
export const TEST_BASE_IMAGE = "mtls-node-base:24";

async function pingEngine(): Promise<string | undefined> {
  try {
    await dockerApi("GET", "/_ping", { timeoutMs: 5000 });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Under `npm run test:quick` (MTLS_TEST_QUICK=1) no file that needs Docker should run: one that
 * does was left off vitest.quick.config.ts's list, and fails saying so instead of skipping.
 */
export function refuseDockerInQuickRun(): void {
  if (process.env.MTLS_TEST_QUICK === "1")
    throw new Error(
      "npm run test:quick runs no test that needs Docker, but this file does: add it to DOCKER_TEST_FILES in vitest.quick.config.ts",
    );
}

/** undefined when Docker tests can run; else the reason (only outside CI). */
export async function dockerSkipReason(): Promise<string | undefined> {
  refuseDockerInQuickRun();
  const problem = await pingEngine();
  if (problem === undefined) return undefined;
  if (process.env.CI === "true") {
    throw new Error(`CI=true, so the Docker tests must run, but no Docker engine answers: ${problem}`);
  }
  const reason = `Docker tests skipped: no Docker engine (${problem})`;
  note(reason);
  return reason;
}

/**
 * Makes sure the local base image exists (idempotent and quick when it does), built from the Node
 * running the tests. Returns its name.
 */
export async function ensureBaseImage(): Promise<string> {
  refuseDockerInQuickRun();
  try {
    const { stdout } = await run(path.join(ROOT, "scripts/build-base-image.sh"), [], {
      env: { ...process.env, NODE_BIN: process.execPath },
    });
    return stdout.trim() || TEST_BASE_IMAGE;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    throw new Error(`scripts/build-base-image.sh failed: ${stderr || (error as Error).message}`);
  }
}
