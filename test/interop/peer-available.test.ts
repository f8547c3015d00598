/**
 * The interop files' skip rule: a missing tool skips with one line naming it and its package
 * outside CI, and fails under CI=true. Checked against a real PATH directory that holds only
 * some of the tools (symlinks to the real ones where they exist).
 */
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { NOTES_ENV, readNotes } from "../support/run-notes.ts";
import { findOnPath, peerSkipReason } from "./support/peer-available.ts";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mtls-peers-"));
  // curl is "installed" here, gnutls-cli and openssl are not.
  symlinkSync(findOnPath("curl") ?? "/bin/true", join(dir, "curl"));
  vi.stubEnv("PATH", dir);
  // This file's own notes file, in place of the run's.
  vi.stubEnv(NOTES_ENV, join(dir, "notes.txt"));
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

it("lets the tests run when every tool is on PATH", () => {
  vi.stubEnv("CI", "true");
  expect(peerSkipReason("curl")).toBeUndefined();
});

it("outside CI, skips with one line naming the missing tools and the packages to install, noted once for the run", () => {
  vi.stubEnv("CI", "");
  const reason =
    "interop tests skipped: gnutls-cli, openssl not on PATH (apt-get install gnutls-bin openssl)";
  expect(peerSkipReason("curl", "gnutls-cli", "openssl")).toBe(reason);
  // A second file skipping for the same reason: the run still prints it once.
  expect(peerSkipReason("curl", "gnutls-cli", "openssl")).toBe(reason);
  expect(readNotes(join(dir, "notes.txt"))).toEqual([reason]);
});

it("under CI=true, fails instead of skipping", () => {
  vi.stubEnv("CI", "true");
  expect(() => peerSkipReason("gnutls-cli")).toThrow(
    "CI=true, so the interop tests must run, but gnutls-cli is not on PATH (apt-get install gnutls-bin)",
  );
});
