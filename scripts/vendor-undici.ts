/**
 * Copies into services/vendor/undici/ the part of undici the server's reverse proxy loads: the
 * module closure of its connection pool (services/src/server/upstream-pool.ts requires
 * UNDICI_POOL_MODULE; every file that module requires, and so on), plus undici's package.json
 * (it makes lib/ CommonJS) and LICENSE. The source is node_modules/undici, the exact version
 * package.json pins and package-lock.json verifies, so the image build needs no registry and no
 * npm install. test/build/vendored-undici.test.ts fails while the copy differs from it.
 *
 *   node scripts/vendor-undici.ts      (after changing the undici version in package.json)
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { UNDICI_POOL_MODULE } from "../services/src/server/upstream-pool.ts";

const root = new URL("..", import.meta.url).pathname;
export const INSTALLED_UNDICI = join(root, "node_modules", "undici");
export const VENDORED_UNDICI = join(root, "services", "vendor", "undici");

/**
 * Every file of `packageDir` that `entry` reaches through require(): undici's modules require one
 * another only by literal relative paths (built-ins as `node:...`), so reading those calls finds
 * the whole closure, also the modules required lazily inside functions that a load alone misses.
 */
export function moduleClosure(packageDir: string, entry: string): string[] {
  const first = join(packageDir, entry);
  const found = new Set([first]);
  const pending = [first];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    const resolve = createRequire(file).resolve;
    for (const [, , specifier] of readFileSync(file, "utf8").matchAll(/require\(\s*(['"])([^'"]+)\1\s*\)/g)) {
      if (specifier!.startsWith("node:")) continue;
      if (!specifier!.startsWith("."))
        throw new Error(`${file} requires a package, ${specifier}: vendor it too`);
      const required = resolve(specifier!);
      if (found.has(required)) continue;
      found.add(required);
      pending.push(required);
    }
  }
  return [...found].map((file) => relative(packageDir, file)).sort();
}

/** The files services/vendor/undici must hold, relative to it. */
export function vendoredUndiciFiles(): string[] {
  return ["LICENSE", "package.json", ...moduleClosure(INSTALLED_UNDICI, UNDICI_POOL_MODULE)].sort();
}

if (import.meta.main) {
  rmSync(VENDORED_UNDICI, { recursive: true, force: true });
  const files = vendoredUndiciFiles();
  for (const file of files) {
    mkdirSync(dirname(join(VENDORED_UNDICI, file)), { recursive: true });
    copyFileSync(join(INSTALLED_UNDICI, file), join(VENDORED_UNDICI, file));
  }
  process.stderr.write(`vendored ${files.length} files of undici into services/vendor/undici\n`);
}
