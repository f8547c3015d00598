/**
 * Closes a run with the notes its test files left (test/support/run-notes.ts: why some tests are
 * skipped here, each once), then one plain line, "N passed, N failed, N skipped", after vitest's
 * own summary, so that CI logs can be read by tools that know that line but not vitest's format.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Reporter, TestModule } from "vitest/node";
import { NOTES_ENV, readNotes } from "./run-notes.ts";

export default class SummaryReporter implements Reporter {
  onInit(): void {
    // Set before the workers start, so every test file inherits it.
    const dir = mkdtempSync(path.join(tmpdir(), "mtls-test-notes-"));
    process.env[NOTES_ENV] = path.join(dir, "notes.txt");
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const testModule of testModules) {
      // A file whose hooks or imports failed has failed even when none of its tests ran.
      const moduleFailed = testModule.state() === "failed";
      let failedTests = 0;
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") failedTests++;
        else counts.skipped++;
      }
      counts.failed += moduleFailed ? Math.max(failedTests, 1) : failedTests;
    }
    const file = process.env[NOTES_ENV];
    const notes = file ? readNotes(file) : [];
    // A watch run's next round starts with no notes.
    if (file) writeFileSync(file, "");
    const lines = [
      ...notes.map((line) => `note: ${line}`),
      `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
    ];
    process.stdout.write(`\n${lines.join("\n")}\n`);
  }
}
