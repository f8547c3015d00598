/**
 * services/vendor/undici, the reverse proxy's connection pool as the image and `npm run server`
 * load it, is exactly the module closure of undici's pool (what upstream-pool.ts requires and all
 * it requires in turn) plus LICENSE and package.json, byte for byte from node_modules/undici: the
 * version package.json pins, installed with the integrity package-lock.json records. And that copy
 * alone is enough: a pool loaded from it, with nothing else of undici present (as in the image),
 * carries a real exchange. Re-vendor with `node scripts/vendor-undici.ts` after changing that version.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { INSTALLED_UNDICI, VENDORED_UNDICI, vendoredUndiciFiles } from "../../scripts/vendor-undici.ts";
import { UNDICI_POOL_MODULE } from "../../services/src/server/upstream-pool.ts";

const run = promisify(execFile);
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/**
 * Loads the pool from `dir`, POSTs a body through it to a loopback HTTP server that echoes it
 * chunked, and prints what came back and which files were loaded.
 */
const EXCHANGE = `
const http = require("node:http");
const [dir, entry] = process.argv.slice(1);
const Pool = require(require("node:path").join(dir, entry));
const server = http.createServer((req, res) => req.pipe(res)).listen(0, "127.0.0.1", () => {
  const pool = new Pool("http://127.0.0.1:" + server.address().port);
  const chunks = [];
  let status = 0;
  pool.dispatch({ method: "POST", path: "/", headers: ["content-length", "5"], body: "hello" }, {
    onConnect() {},
    onHeaders(code) { status = code; return true; },
    onData(chunk) { chunks.push(chunk); return true; },
    onComplete() {
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify({ status, body: Buffer.concat(chunks).toString(), loaded }));
      pool.destroy().then(() => server.close());
    },
    onError(error) { console.error(error); process.exit(1); },
  });
});`;

describe("the vendored undici", () => {
  test("is the version package.json pins and package-lock.json installed", () => {
    const manifest = JSON.parse(readFileSync("package.json", "utf8"));
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
    const vendored = JSON.parse(readFileSync(join(VENDORED_UNDICI, "package.json"), "utf8"));
    expect(manifest.devDependencies.undici).toBe(vendored.version);
    expect(lock.packages["node_modules/undici"].version).toBe(vendored.version);
    // A library of no dependencies of its own: nothing else has to be vendored with it.
    expect(vendored.dependencies ?? {}).toEqual({});
  });

  test("holds exactly the pool's module closure, LICENSE and package.json, byte for byte", async () => {
    const vendored = await filesUnder(VENDORED_UNDICI);
    expect(vendored, "re-vendor with: node scripts/vendor-undici.ts").toEqual(vendoredUndiciFiles());
    const differing = vendored.filter(
      (file) => !readFileSync(join(VENDORED_UNDICI, file)).equals(readFileSync(join(INSTALLED_UNDICI, file))),
    );
    expect(differing, "re-vendor with: node scripts/vendor-undici.ts").toEqual([]);
  });

  test("is enough on its own: a pool loaded from a copy of it alone carries an exchange", async () => {
    const copy = mkdtempSync(join(tmpdir(), "vendored-undici-"));
    copies.push(copy);
    cpSync(VENDORED_UNDICI, copy, { recursive: true });
    const { stdout } = await run(process.execPath, ["-e", EXCHANGE, copy, UNDICI_POOL_MODULE]);
    const seen = JSON.parse(stdout) as { status: number; body: string; loaded: string[] };
    expect(seen).toMatchObject({ status: 200, body: "hello" });
    // Loaded from the copy, and only from it: nothing reached back to node_modules.
    expect(seen.loaded.filter((file) => !file.startsWith(copy))).toEqual([]);
    expect(seen.loaded).toContain(join(copy, UNDICI_POOL_MODULE));
  });
});
