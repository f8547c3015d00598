/**
 * scripts/docker-engine.sh, run against stand-in `docker`, `dockerd` and `id` commands (first on
 * PATH), so its decisions can be checked without touching the machine's real Docker engine: leave
 * a running engine alone, start one and wait for it, and fail clearly when the daemon dies or never
 * answers (stopping only the daemon it started).
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";

const SCRIPT = fileURLToPath(new URL("../../scripts/docker-engine.sh", import.meta.url));

/** `docker info` answers once the stand-in daemon has written $STUB/up. */
const FAKE_DOCKER = `#!/bin/sh
case "$1" in
  info) [ -f "$STUB/up" ] || exit 1; echo "storage driver stub" ;;
  version) echo "server stub" ;;
esac
`;

/** STUB_MODE: ok = comes up, crash = dies at once, hang = never answers. Records its pid. */
const FAKE_DOCKERD = `#!/bin/sh
echo $$ >"$STUB/dockerd.pid"
echo "dockerd args: $*" >&2
case "$STUB_MODE" in
  ok) touch "$STUB/up"; sleep 2 ;;
  crash) echo "failed to start daemon: boom" >&2; exit 1 ;;
  hang) exec sleep 30 ;;
esac
`;

/** True once the process is gone or a zombie waiting to be reaped (it ran its course). */
async function stoppedWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
    if (stat === undefined || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface ScriptRun {
  code: number;
  stderr: string;
}

describe("scripts/docker-engine.sh", () => {
  let stub: string;

  beforeEach(async () => {
    stub = await mkdtemp(path.join(os.tmpdir(), "docker-engine-script-"));
    for (const [name, body] of Object.entries({
      docker: FAKE_DOCKER,
      dockerd: FAKE_DOCKERD,
      id: "#!/bin/sh\necho 0\n",
    })) {
      await writeFile(path.join(stub, name), body);
      await chmod(path.join(stub, name), 0o755);
    }
  });

  afterEach(async () => {
    const pid = Number(await readFile(path.join(stub, "dockerd.pid"), "utf8").catch(() => "0"));
    if (pid > 0) {
      try {
        process.kill(pid);
      } catch {
        // already gone
      }
    }
    await rm(stub, { recursive: true, force: true });
  });

  function runScript(mode: string, env: Record<string, string> = {}): Promise<ScriptRun> {
    return new Promise((resolve) => {
      execFile(
        "bash",
        [SCRIPT],
        {
          env: {
            ...process.env,
            PATH: `${stub}:${process.env.PATH}`,
            STUB: stub,
            STUB_MODE: mode,
            DOCKERD_LOG: path.join(stub, "dockerd.log"),
            DOCKERD_TIMEOUT: "3",
            ...env,
          },
          timeout: 20_000,
        },
        (error, _stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code) : 0, stderr }),
      );
    });
  }

  test("an engine that already answers is left alone", async () => {
    await writeFile(path.join(stub, "up"), "");
    const run = await runScript("crash");
    expect(run).toEqual({ code: 0, stderr: "docker-engine: engine already answers (server stub)\n" });
    await expect(readFile(path.join(stub, "dockerd.pid"))).rejects.toThrow(/ENOENT/);
  });

  test("starts dockerd, logs to the given file and waits until it answers", async () => {
    const run = await runScript("ok", { DOCKER_STORAGE_DRIVER: "vfs" });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/engine answers \(pid \d+, storage driver stub\)\n$/);
    expect(await readFile(path.join(stub, "dockerd.log"), "utf8")).toContain(
      "dockerd args: --storage-driver=vfs",
    );
  });

  test("a daemon that exits is reported with its log", async () => {
    const run = await runScript("crash");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("failed to start daemon: boom");
    expect(run.stderr).toMatch(/ERROR: dockerd \(pid \d+\) exited before answering/);
  });

  test("a daemon that never answers is stopped after the timeout, and reported", async () => {
    const run = await runScript("hang");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /ERROR: dockerd \(pid \d+\) did not answer 'docker info' within 3s; stopped it/,
    );
    const pid = Number(await readFile(path.join(stub, "dockerd.pid"), "utf8"));
    expect(await stoppedWithin(pid, 2000)).toBe(true);
  });
});
