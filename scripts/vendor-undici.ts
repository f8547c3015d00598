/**
 * Copies undici's runtime files (package.json, LICENSE, lib/) from node_modules/undici, the exact
 * version package.json pins and package-lock.json verifies, into services/vendor/undici/: the
 * server's reverse proxy loads its connection pool from there (services/src/server/upstream-pool.ts),
 * on a host and in the image alike, so the image build needs no registry and no npm install.
 * test/build/vendored-undici.test.ts fails while the copy differs from node_modules/undici.
 *
 *   node scripts/vendor-undici.ts      (after changing the undici version in package.json)
 */
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";

export const VENDORED_UNDICI_FILES = ["package.json", "LICENSE", "lib"];

const root = new URL("..", import.meta.url).pathname;
const from = join(root, "node_modules", "undici");
const to = join(root, "services", "vendor", "undici");

if (import.meta.main) {
  rmSync(to, { recursive: true, force: true });
  for (const entry of VENDORED_UNDICI_FILES) cpSync(join(from, entry), join(to, entry), { recursive: true });
  process.stderr.write(`vendored undici into services/vendor/undici from node_modules/undici\n`);
}
