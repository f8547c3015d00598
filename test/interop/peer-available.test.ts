/**
 * The interop files' skip rule: a missing tool skips with one line naming it and its package
 * outside CI, and fails under CI=true. Checked against a real PATH directory that holds only
 * some of the tools (symlinks to the real ones where they exist).
 */
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { findOnPath, peerSkipReason } from "./support/peer-available.ts";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mtls-peers-"));
  // curl is "installed" here, gnutls-cli and openssl are not.
  symlinkSync(findOnPath("curl") ?? "/bin/true", join(dir, "curl"));
  vi.stubEnv("PATH", dir);
  vi.spyOn(console, "warn").mockImplementation(() => {});
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

it("outside CI, skips with one line naming the missing tools and the packages to install", () => {
  vi.stubEnv("CI", "");
  expect(peerSkipReason("curl", "gnutls-cli", "openssl")).toBe(
    "interop tests skipped: gnutls-cli, openssl not on PATH (apt-get install gnutls-bin openssl)",
  );
  expect(console.warn).toHaveBeenCalledWith(
    "interop tests skipped: gnutls-cli, openssl not on PATH (apt-get install gnutls-bin openssl)",
  );
});

it("under CI=true, fails instead of skipping", () => {
  vi.stubEnv("CI", "true");
  expect(() => peerSkipReason("gnutls-cli")).toThrow(
    "CI=true, so the interop tests must run, but gnutls-cli is not on PATH (apt-get install gnutls-bin)",
  );
});
