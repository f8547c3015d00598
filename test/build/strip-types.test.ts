/**
 * services/build/strip-types.ts, the image's build step: the services' TypeScript becomes the
 * JavaScript the image runs, line for line, with relative imports renamed to .js.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { stripSource, stripTree } from "../../services/build/strip-types.ts";
import { ENV } from "../../services/src/contract.ts";

const run = promisify(execFile);

describe("strip-types", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "mtls-strip-types-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test("renames relative .ts imports of every form to .js and leaves built-in and bare ones alone", () => {
    const source = [
      'import { a, type B } from "./a.ts";',
      'import type { C } from "../c.ts";',
      'export { d } from "./sub/d.ts";',
      'import "./side-effect.ts";',
      'const e = await import("./e.ts");',
      'import { readFileSync } from "node:fs";',
      'const note = "see ./f.ts";',
      "let x: number = 1;",
    ].join("\n");
    const stripped = stripSource(source, "x.ts");
    expect(stripped).toContain('from "./a.js"');
    expect(stripped).not.toContain("../c.ts"); // a type-only import disappears
    expect(stripped).toContain('from "./sub/d.js"');
    expect(stripped).toContain('import "./side-effect.js"');
    expect(stripped).toContain('import("./e.js")');
    expect(stripped).toContain('from "node:fs"');
    expect(stripped).toContain('"see ./f.ts"'); // a string that is no import stays as written
    expect(stripped).toContain("let x         = 1;");
  });

  test("keeps every line where it was, so stack traces point at the .ts source lines", () => {
    const source = "interface A {\n  b: string;\n}\nexport function f(a: A): string {\n  return a.b;\n}\n";
    const stripped = stripSource(source, "f.ts");
    expect(stripped.split("\n")).toHaveLength(source.split("\n").length);
    expect(stripped.split("\n")[4]).toBe("  return a.b;");
  });

  test("refuses syntax that cannot be erased, naming the file", () => {
    expect(() => stripSource("enum Colour { Red }\n", "colour.ts")).toThrow(/^colour\.ts: /);
  });

  test("refuses a relative import of a file that is not among the sources, and writes nothing", async () => {
    const src = path.join(tmp, "broken-src");
    const out = path.join(tmp, "broken-out");
    await mkdir(src, { recursive: true });
    await writeFile(path.join(src, "main.ts"), 'import { x } from "./missing.ts";\nconsole.log(x);\n');
    expect(() => stripTree(src, out)).toThrow(
      "main.ts: imports ./missing.js, which is not among the sources",
    );
    expect(existsSync(out)).toBe(false);
  });

  test("the stripped services run: every module, .js only, and the entry point reaches the identity check", async () => {
    const out = path.join(tmp, "services");
    const written = stripTree("services/src", out);
    const sources = (await readdir("services/src", { recursive: true })).filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".test.ts"),
    );
    expect(written.sort()).toEqual(sources.map((f) => f.replace(/\.ts$/, ".js")).sort());
    const files = await readdir(out, { recursive: true });
    expect(files.filter((f) => f.endsWith(".ts"))).toEqual([]);
    expect(JSON.parse(await readFile(path.join(out, "package.json"), "utf8"))).toEqual({ type: "module" });
    const missing = path.join(tmp, "no-such-identity");
    const client = await run(process.execPath, [path.join(out, "main.js"), "client", "--once"], {
      env: {
        ...process.env,
        [ENV.certFile]: path.join(missing, "tls.crt"),
        [ENV.keyFile]: path.join(missing, "tls.key"),
        [ENV.caFile]: path.join(missing, "ca.crt"),
        [ENV.serverUrl]: "https://127.0.0.1:1",
        [ENV.identityWaitMs]: "0",
      },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect("code" in client ? client.code : 0).toBe(3);
    expect(`${client.stdout}${client.stderr}`).toContain(
      `${ENV.certFile} (${path.join(missing, "tls.crt")}) does not exist`,
    );
  });
});
