/**
 * `npm run up` of a stack whose runtime is swarm (scripts/up.sh) makes the engine a swarm manager
 * first (scripts/swarm-init.sh), and stops before Pulumi when it cannot. Stand-in `docker` and
 * `pulumi` commands first on PATH record the calls, in order; the scripts are the real ones, in a
 * copy of the project.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
let project: string;

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), "mtls-up-swarm-"));
  mkdirSync(join(project, "scripts"));
  for (const script of [
    "up.sh",
    "pulumi.sh",
    "swarm-init.sh",
    "project-node.sh",
    "provision-node.sh",
    "with-node.sh",
  ]) {
    cpSync(join(REPO, "scripts", script), join(project, "scripts", script));
  }
  cpSync(join(REPO, "package.json"), join(project, "package.json"));
  cpSync(join(REPO, "Pulumi.swarm.yaml"), join(project, "Pulumi.swarm.yaml"));
  cpSync(join(REPO, "Pulumi.dev.yaml"), join(project, "Pulumi.dev.yaml"));
  const bin = join(project, "bin");
  mkdirSync(bin);
  const log = join(project, "calls.log");
  writeFileSync(join(bin, "pulumi"), `#!/bin/sh\necho "pulumi $*" >> "${log}"\n`, { mode: 0o755 });
  writeFileSync(
    join(bin, "docker"),
    `#!/bin/sh\ncase "$1" in info) echo "$STATE" ;; swarm) echo "docker $*" >> "${log}" ;; esac\n`,
    { mode: 0o755 },
  );
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

const up = (stack: string, state: string) =>
  new Promise<{ code: number; stderr: string }>((resolve) => {
    const env = {
      ...process.env,
      PATH: `${join(project, "bin")}:${dirname(process.execPath)}:/usr/bin:/bin`,
      PULUMI_HOME: join(project, "pulumi-home"),
      STACK: stack,
      STATE: state,
    };
    execFile(join(project, "scripts/up.sh"), ["--yes"], { env }, (error, _out, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stderr }),
    );
  });
const calls = () => readFileSync(join(project, "calls.log"), "utf8").trim().split("\n");

it("makes the engine a single-node swarm before pulumi up of the swarm stack", async () => {
  const result = await up("swarm", "inactive false");
  expect(result.code, result.stderr).toBe(0);
  expect(calls()).toEqual([
    "docker swarm init --advertise-addr 127.0.0.1",
    expect.stringMatching(/^pulumi stack select --create .* swarm$/),
    "pulumi up --stack swarm --yes",
  ]);
});

it("stops before Pulumi when the engine cannot be a swarm manager", async () => {
  const result = await up("swarm", "active false");
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/is a swarm worker/);
  expect(() => calls()).toThrow(/ENOENT/);
});

it("leaves the engine alone for a stack on the docker runtime", async () => {
  const result = await up("dev", "inactive false");
  expect(result.code, result.stderr).toBe(0);
  expect(calls().some((c) => c.startsWith("docker"))).toBe(false);
});
