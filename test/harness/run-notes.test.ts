/**
 * A note that several test files add (why they are skipped here) is printed once per run, by the
 * summary reporter before its closing line, however many workers the files ran in. Checked with a
 * real vitest run, in a child process, of three test files in a temporary directory: two add the
 * same note, one another.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";

const run = promisify(execFile);
const support = (file: string) => fileURLToPath(new URL(`../support/${file}`, import.meta.url));
const VITEST = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));

let dir: string;
let stdout: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mtls-run-notes-"));
  // globals: the files need no import of vitest, which this directory cannot resolve.
  writeFileSync(
    join(dir, "vitest.config.mjs"),
    `export default { test: { include: ["*.test.mjs"], globals: true, pool: "forks", maxWorkers: 2, reporters: ["default", ${JSON.stringify(support("summary-reporter.ts"))}] } };\n`,
  );
  const file = (name: string, line: string) =>
    writeFileSync(
      join(dir, `${name}.test.mjs`),
      `import { note } from ${JSON.stringify(support("run-notes.ts"))};\nnote(${JSON.stringify(line)});\nit.skip("needs a swarm", () => {});\n`,
    );
  file("one", "Swarm tests skipped: the Docker engine is not a swarm manager");
  file("two", "Swarm tests skipped: the Docker engine is not a swarm manager");
  file("three", "interop tests skipped: curl not on PATH");
  ({ stdout } = await run(process.execPath, [VITEST, "run", "--config", "vitest.config.mjs"], {
    cwd: dir,
    env: { ...process.env, CI: "", NO_COLOR: "1" },
  }));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("prints each distinct note once, just before the closing line", () => {
  const lines = stdout.trim().split("\n");
  expect(lines.filter((line) => line.includes("Swarm tests skipped"))).toHaveLength(1);
  expect(lines.at(-1)).toBe("0 passed, 0 failed, 3 skipped");
  // In the order the files first added them, which depends on which worker ran first.
  expect(lines.slice(-3, -1).sort()).toEqual([
    "note: Swarm tests skipped: the Docker engine is not a swarm manager",
    "note: interop tests skipped: curl not on PATH",
  ]);
});
