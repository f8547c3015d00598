/**
 * Lines a test file has for the person running the tests, such as why a group of tests is
 * skipped here. Every test file runs in a worker process of its own, so a line each file printed
 * would appear once per file (seven times for the swarm tests); instead a file adds its note to the
 * run's notes file, and the summary reporter (test/support/summary-reporter.ts) prints each
 * distinct note once, before its closing line.
 *
 * The reporter names that file in MTLS_TEST_NOTES when the run starts, before any worker exists.
 * Without it (a file run by another runner), a note is printed once per process instead.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";

export const NOTES_ENV = "MTLS_TEST_NOTES";
const printed = new Set<string>();

/** Adds a one-line note for this run (printed once however many files add it). */
export function note(line: string): void {
  const file = process.env[NOTES_ENV];
  if (file) {
    appendFileSync(file, `${line.replace(/\n/g, " ")}\n`);
    return;
  }
  if (!printed.has(line)) console.warn(line);
  printed.add(line);
}

/** The distinct notes in a notes file, in the order they were first added. */
export function readNotes(file: string): string[] {
  if (!existsSync(file)) return [];
  return [
    ...new Set(
      readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line !== ""),
    ),
  ];
}
