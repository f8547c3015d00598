/**
 * Every npm script runs under a Node that meets package.json's engines, whatever `node` npm finds
 * first: under an older one (a distribution's Node 20) scripts/with-node.sh switches to Node 24
 * from .tools/node, provisioning it from the npm registry if needed, or fails at once with one
 * line saying what to do. Real npm, real Nodes; only the registry is a closed loopback port when
 * provisioning must fail.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.ts";
import { enginesFloor, npmCli, type OlderNode, olderNodeOrSkip } from "./support/older-node.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run --silent ARGS` with npm itself running on the older Node, that Node first on PATH. */
async function npmRun(
  older: OlderNode,
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Result> {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env, PATH: older.path };
  // Nothing of an outer `npm test` may leak in (it would point npm at the outer project's config).
  for (const name of Object.keys(environment)) {
    if (name.startsWith("npm_") && !(name in env)) delete environment[name];
    if (name.startsWith("MTLS_") && !(name in env)) delete environment[name];
  }
  try {
    const { stdout, stderr } = await run(older.node, [npmCli(), "run", "--silent", ...args], {
      cwd,
      env: environment,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

it("routes every npm script through scripts/with-node.sh, exec'd so that signals reach the command", () => {
  const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<
    string,
    string
  >;
  for (const [name, command] of Object.entries(scripts)) {
    expect(command, name).toMatch(/^exec scripts\/with-node\.sh \S/);
  }
});

const { older, skip } = olderNodeOrSkip();
const floor = enginesFloor().join(".");
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe.skipIf(skip)(`npm scripts under an older Node (${older?.version ?? "none found"})`, () => {
  let project: string;

  beforeAll(async () => {
    // The switch uses .tools/node; make sure it is there (idempotent, quick when it is).
    await run(join(ROOT, "scripts/provision-node.sh"), [], { env: process.env });
    // A project with the scripts and package.json but nothing provisioned, for the failing case.
    project = mkdtempSync(join(tmpdir(), "mtls-old-node-"));
    cpSync(join(ROOT, "scripts"), join(project, "scripts"), { recursive: true });
    cpSync(join(ROOT, "package.json"), join(project, "package.json"));
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it("runs `npm run server` under the provisioned Node 24 and says so in one line", async () => {
    // A bad MTLS_LISTEN makes the server stop at its configuration check: proof that the .ts
    // entry point ran (an older Node fails earlier, with ERR_UNKNOWN_FILE_EXTENSION).
    const result = await npmRun(older!, ROOT, ["server"], { MTLS_LISTEN: "not-an-address" });
    expect(result.stderr).not.toContain("ERR_UNKNOWN_FILE_EXTENSION");
    expect(result.stderr).toContain(
      `project-node: node ${older!.version} is older than package.json's engines (>=${floor}): using Node v24.`,
    );
    const events = `${result.stdout}${result.stderr}`
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { event: string; message: string });
    expect(events.find((event) => event.event === "config_error")?.message).toContain("MTLS_LISTEN");
    expect(result.code).toBe(2);
  });

  it("fails at once with one line saying what to run when Node 24 cannot be provisioned", async () => {
    const closed = await freePort();
    const result = await npmRun(older!, project, ["server"], {
      npm_config_registry: `http://127.0.0.1:${closed}/`,
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^project-node: this project needs Node >=${literal(floor)} but node on PATH is ${literal(older!.version)}, and Node 24 could not be provisioned \\(could not fetch node-linux-[a-z0-9]+@24 from the npm registry: request to http://127\\.0\\.0\\.1:${closed}/.* failed, reason: connect ECONNREFUSED.*\\): put Node >=${literal(floor)} first on PATH, or run scripts/provision-node\\.sh once the npm registry is reachable$`,
      ),
    );
    // Nothing half-installed is left where the scripts would look for a Node.
    expect(existsSync(join(project, ".tools/node"))).toBe(false);
  });
});
