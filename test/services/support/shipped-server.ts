/**
 * The server as users run it: the image built from services/Dockerfile (on the local base image),
 * in a container with the memory limit a service container gets by default, on the host's network
 * so that floods from the test reach it without Docker's userland port proxy in between. Its mTLS
 * listener binds port 0 and the port it got is read from its log.
 * Containers and the image carry this run's label and are removed by `removeShippedServers`.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TEST_BASE_IMAGE } from "../../support/docker-available.ts";
import { freePort } from "../../support/free-port.ts";
import type { IdentityFiles } from "../../support/pki-fixtures/files.ts";
import type { LogLine } from "./service-process.ts";

const run = promisify(execFile);
const SERVICES_DIR = fileURLToPath(new URL("../../../services/", import.meta.url));
const RUN_LABEL = `mtls-pki.test-run=floods-${process.pid}-${Date.now()}`;
const IMAGE = `mtls-floods-test:${process.pid}`;

/** Builds the services image (the same Dockerfile and base image as the deployed stacks). */
export async function buildShippedImage(): Promise<string> {
  await run("docker", [
    "build",
    "--quiet",
    "--label",
    RUN_LABEL,
    "--build-arg",
    `BASE_IMAGE=${TEST_BASE_IMAGE}`,
    "--tag",
    IMAGE,
    SERVICES_DIR,
  ]);
  return IMAGE;
}

export interface ShippedServer {
  id: string;
  /** The server's pid as the host sees it (for /proc). */
  pid: number;
  port: number;
  statusUrl: string;
  lines: LogLine[];
  /** Peak resident memory of the server process (VmHWM), in MiB. */
  peakRssMiB(): number;
  /** Whether the kernel killed it for its memory limit, and whether it still runs. */
  state(): Promise<{ oomKilled: boolean; running: boolean }>;
  stop(): Promise<void>;
}

export async function startShippedServer(options: {
  image: string;
  identity: IdentityFiles;
  memoryMb: number;
  env?: Record<string, string>;
  /** Pin the container to these cores (docker --cpuset-cpus), as the bench pins its servers. */
  cpus?: string;
}): Promise<ShippedServer> {
  // The service runs as uid 10001: the test identity (a throw-away key) must be readable by it.
  await chmod(options.identity.dir, 0o755);
  await chmod(options.identity.key, 0o644);
  const env = {
    MTLS_LISTEN: "127.0.0.1:0",
    // A port of its own, so that the image's health check (which reads it) probes the right one.
    MTLS_STATUS_LISTEN: `127.0.0.1:${await freePort()}`,
    MTLS_IDENTITY_WAIT_MS: "0",
    ...options.env,
  };
  const { stdout } = await run("docker", [
    "run",
    "--detach",
    "--label",
    RUN_LABEL,
    "--memory",
    `${options.memoryMb}m`,
    "--memory-swap",
    `${options.memoryMb}m`,
    "--network",
    "host",
    ...(options.cpus === undefined ? [] : ["--cpuset-cpus", options.cpus]),
    "--volume",
    `${options.identity.dir}:/etc/mtls:ro`,
    ...Object.entries(env).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
    options.image,
  ]);
  const id = stdout.trim();
  const lines: LogLine[] = [];
  const follower: ChildProcess = spawn("docker", ["logs", "--follow", id], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ready = new Promise<void>((resolve, reject) => {
    let partial = "";
    const onData = (chunk: Buffer) => {
      partial += chunk.toString("utf8");
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) {
        if (part.trim() === "") continue;
        try {
          lines.push(JSON.parse(part) as LogLine);
        } catch {
          lines.push({ event: "unparsed", level: "info", text: part });
        }
        if (lines.at(-1)?.event === "ready") resolve();
      }
    };
    follower.stdout!.on("data", onData);
    follower.stderr!.on("data", onData);
    follower.once("exit", () => reject(new Error(`the server container ended: ${JSON.stringify(lines)}`)));
  });
  await ready;
  const address = (event: string) => String(lines.find((line) => line.event === event)?.address);
  const { stdout: pid } = await run("docker", ["inspect", "--format", "{{.State.Pid}}", id]);
  return {
    id,
    pid: Number(pid.trim()),
    port: Number(address("listening").split(":").at(-1)),
    statusUrl: `http://${address("status_listening")}`,
    lines,
    peakRssMiB: () => {
      const status = readFileSync(`/proc/${pid.trim()}/status`, "utf8");
      return Math.round(Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]) / 102.4) / 10;
    },
    state: async () => {
      const { stdout: state } = await run("docker", [
        "inspect",
        "--format",
        "{{.State.OOMKilled}} {{.State.Running}}",
        id,
      ]);
      const [oomKilled, running] = state.trim().split(" ");
      return { oomKilled: oomKilled === "true", running: running === "true" };
    },
    stop: async () => {
      follower.kill();
      await run("docker", ["rm", "--force", id]);
    },
  };
}

/** Removes every container and the image of this run (also after a test failed half-way). */
export async function removeShippedServers(): Promise<void> {
  const { stdout } = await run("docker", ["ps", "--all", "--quiet", "--filter", `label=${RUN_LABEL}`]);
  const ids = stdout.split("\n").filter((id) => id !== "");
  if (ids.length > 0) await run("docker", ["rm", "--force", ...ids]);
  await run("docker", ["image", "rm", "--force", IMAGE]).catch(() => {});
}
