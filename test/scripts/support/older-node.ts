/**
 * Finds a Node on this machine older than package.json's engines floor (a distribution's system
 * Node, typically /usr/bin/node), for tests of what the npm scripts do under it. With CI=true a
 * missing one is a failure (the CI machine has its system Node 20); elsewhere the tests skip with
 * one line saying what is missing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { note } from "../../support/run-notes.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** package.json's engines.node floor, e.g. [22, 18, 0]. */
export function enginesFloor(): number[] {
  const engines = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).engines.node as string;
  const match = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(engines);
  if (!match) throw new Error(`package.json engines.node is not ">=X.Y.Z": ${engines}`);
  return match.slice(1).map(Number);
}

function versionOf(node: string): number[] | undefined {
  try {
    const out = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
    return out.replace(/^v/, "").split(".").map(Number);
  } catch {
    return undefined;
  }
}

export function isOlder(version: number[], floor: number[]): boolean {
  for (let i = 0; i < 3; i++) {
    if ((version[i] ?? 0) !== floor[i]) return (version[i] ?? 0) < floor[i]!;
  }
  return false;
}

export interface OlderNode {
  node: string;
  version: string;
  /** A PATH on which the first `node` is that Node. */
  path: string;
}

/**
 * npm's own entry point (npm-cli.js), to run npm on a chosen Node as `<node> npm-cli.js ...`
 * wherever npm is installed (its `npm` on PATH is a symlink to it, or a shell wrapper next to it).
 */
export function npmCli(): string {
  const onPath = (process.env.PATH ?? "")
    .split(delimiter)
    .map((dir) => join(dir, "npm"))
    .find((candidate) => existsSync(candidate));
  if (!onPath) throw new Error("npm is not on PATH");
  const real = realpathSync(onPath);
  if (real.endsWith(".js")) return real;
  const beside = join(dirname(real), "../lib/node_modules/npm/bin/npm-cli.js");
  if (existsSync(beside)) return beside;
  throw new Error(`cannot find npm-cli.js for ${onPath}`);
}

/** The first older Node among MTLS_OLDER_NODE, /usr/bin/node, /usr/local/bin/node and PATH. */
export function findOlderNode(): OlderNode | undefined {
  const floor = enginesFloor();
  const onPath = (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "node"));
  const candidates = [process.env.MTLS_OLDER_NODE, "/usr/bin/node", "/usr/local/bin/node", ...onPath];
  for (const node of candidates) {
    if (!node || !existsSync(node)) continue;
    const version = versionOf(node);
    if (!version || !isOlder(version, floor)) continue;
    // That Node's directory first: the first `node` on PATH is the one npm scripts run.
    const path = [dirname(node), process.env.PATH ?? ""].join(delimiter);
    return { node, version: `v${version.join(".")}`, path };
  }
  return undefined;
}

/** The older Node, or the reason the tests needing one skip (outside CI only). */
export function olderNodeOrSkip(): { older?: OlderNode; skip?: string } {
  const older = findOlderNode();
  if (older) return { older };
  const floor = enginesFloor().join(".");
  if (process.env.CI === "true") {
    throw new Error(
      `CI=true, so the tests under an older Node must run, but no Node older than ${floor} was found (set MTLS_OLDER_NODE or install the distribution's nodejs)`,
    );
  }
  const skip = `older-Node tests skipped: no Node older than ${floor} on this machine (set MTLS_OLDER_NODE=/path/to/node, or apt-get install nodejs npm)`;
  note(skip);
  return { skip };
}
