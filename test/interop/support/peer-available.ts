/**
 * Decides whether the interoperability tests with a foreign TLS tool (openssl, curl, gnutls-cli)
 * run here, as test/support/docker-available.ts does for Docker:
 *
 * - with CI=true a missing tool is a failure: `peerSkipReason()` throws, naming the package, so CI
 *   can never pass by skipping an interop peer;
 * - elsewhere it returns one line naming what is missing and how to get it, for
 *   `describe.skipIf`, and notes that line for the run (printed once: test/support/run-notes.ts).
 *
 *   const skip = peerSkipReason("gnutls-cli");
 *   describe.skipIf(skip)("...", () => { ... });
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { note } from "../../support/run-notes.ts";

/** Each tool and the Debian/Ubuntu package that provides it. */
export const PEERS = {
  openssl: "openssl",
  curl: "curl",
  "gnutls-cli": "gnutls-bin",
} as const;

export type Peer = keyof typeof PEERS;

/** The tool's path on PATH, or undefined (the same lookup spawn() does). */
export function findOnPath(tool: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** undefined when every named tool is on PATH; else the reason to skip (outside CI only). */
export function peerSkipReason(...tools: Peer[]): string | undefined {
  const missing = tools.filter((tool) => findOnPath(tool) === undefined);
  if (missing.length === 0) return undefined;
  const install = `apt-get install ${missing.map((tool) => PEERS[tool]).join(" ")}`;
  if (process.env.CI === "true") {
    throw new Error(
      `CI=true, so the interop tests must run, but ${missing.join(", ")} is not on PATH (${install})`,
    );
  }
  const reason = `interop tests skipped: ${missing.join(", ")} not on PATH (${install})`;
  note(reason);
  return reason;
}
