/**
 * The package as a stranger gets it: `npm pack <checkout>` run in a fresh directory, as the README
 * says (it runs the checkout's `prepack`, i.e. the library build, and writes the tarball there),
 * then a fresh consumer project in a temporary directory that installs the tarball from the file,
 * the way `npm install ./mtls-pki-<version>.tgz` does, type-checks its program with its own tsc and
 * runs it from its own node_modules.
 *
 * npm runs with `--prefer-offline` (the npm cache from `npm ci` serves every tarball; only
 * missing metadata is asked of the registry) and `--ignore-scripts` (no install script of any
 * dependency runs: the provider plugins are never downloaded here). A failed install is a failure
 * under CI=true; outside CI a registry that cannot be reached is a skip, with one line saying so.
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * npm and the scripts it runs get the Node running the tests first on PATH (npm's `#!/usr/bin/env
 * node` then picks it too), never an older system Node.
 */
const NODE_BIN_DIR = path.dirname(process.execPath);
const CHILD_ENV = { ...process.env, PATH: `${NODE_BIN_DIR}${path.delimiter}${process.env.PATH ?? ""}` };

/** Errors npm reports when the registry cannot be reached (no route, no DNS, refused, timed out). */
const NETWORK_ERRORS = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/;

export class RegistryUnreachable extends Error {}

async function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run("npm", args, {
      cwd,
      env: CHILD_ENV,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "");
    const message = `npm ${args.join(" ")} (in ${cwd}) failed: ${stderr.trim() || (error as Error).message}`;
    if (NETWORK_ERRORS.test(stderr) && process.env.CI !== "true") throw new RegistryUnreachable(message);
    throw new Error(message, { cause: error });
  }
}

export interface PackedLibrary {
  /** Absolute path of the tarball. */
  tarball: string;
  name: string;
  version: string;
  /** Paths inside the package (without the `package/` prefix). */
  files: string[];
  /** Size of the tarball in bytes. */
  size: number;
  unpackedSize: number;
  /** What the library build said while packing (its stderr lines). */
  buildOutput: string[];
}

/** `npm pack <repository>` run in `destination`, which receives the tarball (prepack builds dist/ first). */
export async function packLibrary(destination: string): Promise<PackedLibrary> {
  const { stdout, stderr } = await npm(["pack", "--json", ROOT], destination);
  // Lifecycle scripts (prepack -> build) print to stdout before the JSON report.
  const report = JSON.parse(stdout.slice(stdout.indexOf("[")))[0] as {
    filename: string;
    name: string;
    version: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  };
  return {
    tarball: path.join(destination, report.filename),
    name: report.name,
    version: report.version,
    files: report.files.map((f) => f.path).sort(),
    size: report.size,
    unpackedSize: report.unpackedSize,
    buildOutput: stderr.split("\n").filter((line) => line.startsWith("build-library:")),
  };
}

/** The version of a package installed in this repository (= the one in package-lock.json). */
export async function installedVersion(pkg: string): Promise<string> {
  const manifest = JSON.parse(await readFile(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8"));
  return manifest.version as string;
}

/** What a consumer installs next to the library: the SDKs and compiler at this project's versions. */
export async function consumerDependencies(): Promise<{
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}> {
  const versions = async (names: string[]) =>
    Object.fromEntries(await Promise.all(names.map(async (n) => [n, await installedVersion(n)] as const)));
  return {
    dependencies: await versions(["@pulumi/pulumi", "@pulumi/tls", "@pulumi/docker"]),
    devDependencies: await versions(["typescript", "@types/node"]),
  };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `${prefix}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/**
 * Copies a project directory (e.g. examples/basic) as committed: without what an install or a run
 * of it left there (node_modules, its package lock, build output, local state).
 */
export async function copyProject(from: string, to: string): Promise<void> {
  const local = /^(node_modules|bin|\.pulumi|package-lock\.json)$/;
  await cp(from, to, {
    recursive: true,
    filter: (source) => !local.test(path.relative(from, source).split(path.sep)[0] ?? ""),
  });
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * `npm install` in a consumer project whose package.json is already written, then the library
 * from its tarball (recorded in package.json as `file:<tarball>`, as a user's install would).
 */
export async function installConsumer(dir: string, library: PackedLibrary): Promise<void> {
  const flags = ["--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"];
  await npm(["install", ...flags, library.tarball], dir);
}

/** The consumer's own tsc on its own tsconfig.json; resolves with tsc's output, rejects on errors. */
export async function typeCheck(dir: string, args: string[] = []): Promise<string> {
  const tsc = path.join(dir, "node_modules/typescript/bin/tsc");
  try {
    const { stdout } = await run(process.execPath, [tsc, "-p", "tsconfig.json", ...args], { cwd: dir });
    return stdout;
  } catch (error) {
    // Only tsc's diagnostics: with --listFiles the output also lists every file it read.
    const out = String((error as { stdout?: string }).stdout ?? "");
    const diagnostics = out.split("\n").filter((line) => /error TS\d+/.test(line));
    throw new Error(
      `tsc in ${dir} failed:\n${diagnostics.join("\n") || out.trim() || (error as Error).message}`,
    );
  }
}

/**
 * Imports `entry` in a fresh plain Node process (`node <nodeFlags> -e ...`) with cwd `dir`, under
 * echo mocks (they check that Node loads and runs the module graph, not provider behaviour), and
 * returns the names the module exports. Echo mocks are installed through the consumer's own
 * @pulumi/pulumi, the copy its program and the library share.
 */
export async function loadWithPlainNode(
  dir: string,
  entry: string,
  nodeFlags: string[],
): Promise<{ exports: string[]; stderr: string }> {
  const script = `
    const pulumi = await import(${JSON.stringify(path.join(dir, "node_modules/@pulumi/pulumi/index.js"))});
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: a.name + "-id", state: a.inputs }), call: (a) => a.inputs },
      "consumer", "dev", true);
    const program = await import(${JSON.stringify(path.join(dir, entry))});
    console.log(JSON.stringify(Object.keys(program).sort()));
  `;
  const { stdout, stderr } = await run(
    process.execPath,
    [...nodeFlags, "--input-type=module", "-e", script],
    { cwd: dir, env: CHILD_ENV },
  );
  return { exports: JSON.parse(stdout.trim().split("\n").at(-1)!) as string[], stderr };
}

/**
 * Runs `entry` with plain Node in `dir`, as `node index.ts` would outside Pulumi: no engine and no
 * mocks. Resolves with its exit status and output, whatever the status.
 */
export function runWithoutEngine(
  dir: string,
  entry: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [entry], { cwd: dir, env: CHILD_ENV }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
