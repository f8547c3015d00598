/**
 * scripts/swarm-init.sh against a stand-in `docker` (first on PATH) that plays each swarm state, so
 * its decisions are checked without changing the machine's engine: leave a manager alone, init a
 * node that is in no swarm (advertising loopback), and refuse a worker or a broken membership with
 * what to do.
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";

const SCRIPT = fileURLToPath(new URL("../../scripts/swarm-init.sh", import.meta.url));

/** Answers `docker info` with $STATE (or fails when it is "down"); records `docker swarm ...` calls. */
const FAKE_DOCKER = `#!/bin/sh
case "$1" in
  info) [ "$STATE" = down ] && { echo "Cannot connect to the Docker daemon" >&2; exit 1; }; echo "$STATE" ;;
  swarm) echo "$*" >>"$STUB/calls"; echo "Swarm initialized" ;;
esac
`;

describe("scripts/swarm-init.sh", () => {
  let stub: string;
  beforeEach(async () => {
    stub = await mkdtemp(path.join(os.tmpdir(), "swarm-init-"));
    await writeFile(path.join(stub, "docker"), FAKE_DOCKER);
    await chmod(path.join(stub, "docker"), 0o755);
  });
  afterEach(async () => {
    await rm(stub, { recursive: true, force: true });
  });

  const run = (state: string, env: Record<string, string> = {}) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        SCRIPT,
        [],
        { env: { ...process.env, PATH: `${stub}:${process.env.PATH}`, STUB: stub, STATE: state, ...env } },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
      );
    });
  const calls = () => readFile(path.join(stub, "calls"), "utf8").catch(() => "");

  test("leaves an engine that is already a swarm manager alone", async () => {
    const result = await run("active true");
    expect(result).toEqual({ code: 0, stderr: "swarm-init: the Docker engine is already a swarm manager\n" });
    expect(await calls()).toBe("");
  });

  test("makes an engine in no swarm a single-node manager advertising 127.0.0.1", async () => {
    const result = await run("inactive false");
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("now a single-node swarm manager (advertising 127.0.0.1)");
    expect(await calls()).toBe("swarm init --advertise-addr 127.0.0.1\n");
  });

  test("advertises SWARM_ADVERTISE_ADDR when it is set", async () => {
    await run("inactive false", { SWARM_ADVERTISE_ADDR: "10.1.2.3" });
    expect(await calls()).toBe("swarm init --advertise-addr 10.1.2.3\n");
  });

  test("refuses a swarm worker and says how to make the node a manager", async () => {
    const result = await run("active false");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is a swarm worker.*docker node promote/);
    expect(await calls()).toBe("");
  });

  test("refuses a pending or broken membership without leaving the swarm", async () => {
    const result = await run("error false");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('swarm state is "error false"');
    expect(await calls()).toBe("");
  });

  test("fails with how to start an engine when none answers", async () => {
    const result = await run("down");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no Docker engine answers.*scripts\/docker-engine\.sh/);
  });
});
