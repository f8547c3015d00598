/**
 * Turns the services' TypeScript sources into the JavaScript the image ships, at image build time:
 *
 *   node build/strip-types.ts <source dir> <output dir>
 *
 * Why: Node runs .ts files through its TypeScript stripper, a WebAssembly module that it loads on
 * the first .ts file and that stays resident for the life of the process (about 36 MiB of the
 * server's memory, docs/BENCHMARKS.md). Shipped as .js, the services never load it.
 *
 * How: Node's own `module.stripTypeScriptTypes` in "strip" mode, the very transformation Node applies
 * when it runs the .ts file, so the shipped code is what runs on the host with `npm run server`.
 * Strip mode replaces types with blanks, so every line and column (and every stack trace) matches
 * the .ts source. Relative imports are renamed `./x.ts` → `./x.js`, and a package.json marks the
 * output as ES modules. The build fails, naming the file, on syntax Node cannot strip or on a
 * relative import of a file that is not in the sources.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A relative module specifier ending in .ts in an import position: `from "./x.ts"`, `import "./x.ts"`,
 * `import("./x.ts")`, `export … from "./x.ts"`. (The services use no other way to load modules.)
 */
const RELATIVE_TS_IMPORT = /(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}\/[^"'\n]+)\.ts\2/g;

/** Every relative specifier in an import position, after the renaming (for the existence check). */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}\/[^"'\n]+)\1/g;

/** The stripped JavaScript of one source file, with its relative imports renamed to .js. */
export function stripSource(code: string, file: string): string {
  let stripped: string;
  try {
    stripped = stripTypeScriptTypes(code, { mode: "strip" });
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return stripped.replace(
    RELATIVE_TS_IMPORT,
    (_match, keyword: string, quote: string, path: string) => `${keyword}${quote}${path}.js${quote}`,
  );
}

/** Relative specifiers of a stripped module that name no file among `shipped` (paths of the output). */
export function unresolvedImports(code: string, file: string, shipped: ReadonlySet<string>): string[] {
  const missing: string[] = [];
  for (const [, , specifier] of code.matchAll(RELATIVE_IMPORT)) {
    if (!shipped.has(join(dirname(file), specifier!))) missing.push(specifier!);
  }
  return missing;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** Strips every .ts file under `sourceDir` into `outputDir` (same layout, .js); returns the files written. */
export function stripTree(sourceDir: string, outputDir: string): string[] {
  const sources = sourceFiles(sourceDir);
  if (sources.length === 0) throw new Error(`no .ts sources under ${sourceDir}`);
  const outputs = new Map(sources.map((file) => [file.replace(/\.ts$/, ".js"), file]));
  const shipped = new Set(outputs.keys());
  const problems: string[] = [];
  const written: [string, string][] = [];
  for (const [output, source] of outputs) {
    const code = stripSource(readFileSync(join(sourceDir, source), "utf8"), source);
    for (const specifier of unresolvedImports(code, output, shipped)) {
      problems.push(`${source}: imports ${specifier}, which is not among the sources`);
    }
    written.push([output, code]);
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  for (const [output, code] of written) {
    mkdirSync(dirname(join(outputDir, output)), { recursive: true });
    writeFileSync(join(outputDir, output), code);
  }
  // The output's own package.json: without it Node would have to guess each file's module type.
  writeFileSync(join(outputDir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
  return [...shipped];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [sourceDir, outputDir] = process.argv.slice(2);
  if (!sourceDir || !outputDir) {
    console.error("usage: node strip-types.ts <source dir> <output dir>");
    process.exit(2);
  }
  try {
    const files = stripTree(sourceDir, outputDir);
    console.log(`strip-types: ${files.length} modules from ${sourceDir} to ${outputDir}`);
  } catch (error) {
    console.error(`strip-types: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
