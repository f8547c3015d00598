/**
 * services/vendor/undici, the reverse proxy's connection pool as the image and `npm run server`
 * load it, is exactly undici's runtime files from node_modules/undici: the version package.json
 * pins, installed from the registry with the integrity package-lock.json records. Re-vendor with
 * `node scripts/vendor-undici.ts` after changing that version.
 */
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { VENDORED_UNDICI_FILES } from "../../scripts/vendor-undici.ts";

const VENDORED = "services/vendor/undici";
const INSTALLED = "node_modules/undici";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe("the vendored undici", () => {
  test("is the version package.json pins and package-lock.json installed", () => {
    const manifest = JSON.parse(readFileSync("package.json", "utf8"));
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
    const vendored = JSON.parse(readFileSync(join(VENDORED, "package.json"), "utf8"));
    expect(manifest.devDependencies.undici).toBe(vendored.version);
    expect(lock.packages["node_modules/undici"].version).toBe(vendored.version);
    // A library of no dependencies of its own: nothing else has to be vendored with it.
    expect(vendored.dependencies ?? {}).toEqual({});
  });

  test("holds exactly undici's runtime files, byte for byte, and nothing else", async () => {
    const vendored = await filesUnder(VENDORED);
    const expected = (await filesUnder(INSTALLED)).filter((file) =>
      VENDORED_UNDICI_FILES.some((entry) => file === entry || file.startsWith(`${entry}/`)),
    );
    expect(vendored).toEqual(expected);
    const differing = vendored.filter(
      (file) => !readFileSync(join(VENDORED, file)).equals(readFileSync(join(INSTALLED, file))),
    );
    expect(differing, "re-vendor with: node scripts/vendor-undici.ts").toEqual([]);
  });
});
