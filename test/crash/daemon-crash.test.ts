/**
 * The services and the sidecar workloads come back by themselves after the Docker daemon is killed
 * (SIGKILL) and started again, and after a clean restart (SIGTERM). The dev stack and the sidecar
 * stack are deployed through the program and the provider emulation onto a private dockerd
 * (private-engine.ts); a caller makes a new mTLS connection to the dev server every 0.2 s from the
 * host, and the sidecar stack's client app calls its server workload through its tunnel every
 * 0.2 s (its own log records each call). The daemon is stopped or killed and restarted with
 * scripts/docker-engine.sh, and the test waits until both callers succeed again, without anyone
 * acting. It prints the failed calls and the time to recovery of each.
 *
 * Beside it, a container with restart "unless-stopped" shows the daemon behaviour the default
 * restart policy ("always") exists for: the daemon stops what it finds running and leaves it down.
 *
 * Not part of `npm test` (vitest.config.ts excludes test/crash): `npm run test:crash`, its own CI
 * step after the other Docker tests.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAppRecovery } from "../e2e/app-calls.ts";
import { type Credentials, startCaller, waitForStreak } from "../ops/support/caller.ts";
import { type Deployment, deploy, newStack } from "../program/deploy.ts";
import { ensureBaseImage } from "../support/docker-available.ts";
import { freePort } from "../support/free-port.ts";
import { stackConfig } from "../support/stack-files.ts";
import {
  createPrivateEngine,
  type PrivateEngine,
  privateEngineSkipReason,
  WORKLOAD_POOL,
} from "./private-engine.ts";

const run = promisify(execFile);
const skip = await privateEngineSkipReason();

interface Outputs {
  containerNames: { server: string; clients: Record<string, string> };
  clientCredentials: Record<string, Credentials>;
}

interface SidecarOutputs {
  workloadContainers: Record<"hello" | "caller", { app: string; sidecars: string[] }>;
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args);
  return stdout.trim();
}

async function inspect(container: string, format: string): Promise<string> {
  return docker("inspect", "--format", format, container);
}

/** Polls until `check` holds (an event the test cannot subscribe to), failing after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until the server's and the client's health checks pass (the client's: its last round succeeded). */
async function bothHealthy(server: string, client: string): Promise<void> {
  let states: string[] = [];
  await until(
    "server and client healthy",
    async () => {
      states = await Promise.all([server, client].map((n) => inspect(n, "{{.State.Health.Status}}")));
      return states.every((s) => s === "healthy");
    },
    120_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (server, client: ${states.join(", ")})`);
  });
}

/** Every running container of the sidecar stack's workloads: apps and sidecars. */
function workloadContainers(outputs: SidecarOutputs): string[] {
  return Object.values(outputs.workloadContainers).flatMap((w) => [w.app, ...w.sidecars]);
}

/**
 * The caller app's recovery after a daemon event at `at`: its first run of successful calls once
 * its container runs again (started after `at`), the failed calls before it.
 */
async function sidecarRecovery(outputs: SidecarOutputs, at: number) {
  const app = outputs.workloadContainers.caller.app;
  return waitForAppRecovery(app, at, {
    timeoutMs: 180_000,
    notBefore: async () => {
      const started = Date.parse(await inspect(app, "{{.State.StartedAt}}"));
      return started > at ? started : Number.POSITIVE_INFINITY;
    },
  });
}

describe.skipIf(skip)("a Docker daemon crash (SIGKILL, then started again)", () => {
  let engine: PrivateEngine;
  let deployment: Deployment | undefined;
  let sidecar: Deployment | undefined;
  let outputs: Outputs;
  let sidecarOutputs: SidecarOutputs;
  let port: number;
  const control = `mtls-crash-control-${process.pid}`;

  beforeAll(async () => {
    engine = createPrivateEngine();
    await engine.start();
    // Everything below (the emulation, build-base-image.sh, the docker CLI) talks to the private engine.
    process.env.DOCKER_HOST = engine.host;
    const baseImage = await ensureBaseImage();
    port = await freePort();
    deployment = await deploy(
      "dev",
      { ...stackConfig("dev"), baseImage, publishPort: String(port) },
      { stack: newStack() },
    );
    outputs = deployment.run.exports as unknown as Outputs;
    // The sidecar stack beside it, its client app calling every 0.2 s.
    const sidecarFile = stackConfig("sidecar");
    const workloads = (JSON.parse(sidecarFile.workloads!) as Record<string, unknown>[]).map((w) =>
      w.role === "client" ? { ...w, env: { DEMO_INTERVAL_MS: "200" } } : w,
    );
    sidecar = await deploy(
      "sidecar",
      { ...sidecarFile, baseImage, workloads: JSON.stringify(workloads), workloadSubnetPool: WORKLOAD_POOL },
      { stack: newStack() },
    );
    sidecarOutputs = sidecar.run.exports as unknown as SidecarOutputs;
    await docker(
      "run",
      "--detach",
      "--name",
      control,
      "--restart",
      "unless-stopped",
      "--user",
      "10001:10001",
      baseImage,
      "node",
      "-e",
      "setInterval(() => {}, 1000)",
    );
  });

  afterAll(async () => {
    try {
      await sidecar?.destroy();
      await deployment?.destroy();
    } finally {
      await engine?.dispose();
      delete process.env.DOCKER_HOST;
    }
  });

  it("serves again by itself: server and client running and healthy, calls from the host succeed, and the sidecar stack's client app calls its server again", async () => {
    const { server, clients } = outputs.containerNames;
    const client = clients["client-a"]!;
    expect(await inspect(server, "{{.HostConfig.RestartPolicy.Name}}")).toBe("always");
    const caller = startCaller(port, outputs.clientCredentials["client-a"]!);
    try {
      await waitForStreak(caller, 0, 5, 60_000);
      await bothHealthy(server, client);
      const killedAt = Date.now();
      await engine.kill();
      await engine.start();
      const answeredAt = Date.now();
      const back = await waitForStreak(caller, killedAt, 5, 180_000);
      const during = caller.since(killedAt).filter((r) => r.at < back.at);
      const failed = during.filter((r) => !r.ok).length;
      console.log(
        `daemon crash: ${failed}/${during.length} calls failed; daemon answering again after ${((answeredAt - killedAt) / 1000).toFixed(1)} s; calls succeed again ${((back.at - killedAt) / 1000).toFixed(1)} s after the kill`,
      );
      const workloads = await sidecarRecovery(sidecarOutputs, killedAt);
      console.log(
        `daemon crash, sidecar stack: ${workloads.failed}/${workloads.calls} calls of the client app failed; they succeed again ${workloads.seconds.toFixed(1)} s after the kill${workloads.failures.length ? ` (${workloads.failures.join("; ")})` : ""}`,
      );
      // The daemon restarted every container (they are not the processes that ran before the kill).
      for (const name of [server, client, ...workloadContainers(sidecarOutputs)]) {
        expect(await inspect(name, "{{.State.Running}}")).toBe("true");
        expect(Date.parse(await inspect(name, "{{.State.StartedAt}}"))).toBeGreaterThan(killedAt);
      }
      await bothHealthy(server, client);
    } finally {
      await caller.stop();
    }
  });

  it("leaves an unless-stopped container down: the daemon stopped it while recovering, as if by hand", async () => {
    expect(await inspect(control, "{{.State.Status}}")).toBe("exited");
  });

  it("serves again after a clean daemon restart (SIGTERM) too, the sidecar workloads included", async () => {
    const { server, clients } = outputs.containerNames;
    const caller = startCaller(port, outputs.clientCredentials["client-a"]!);
    try {
      await waitForStreak(caller, 0, 5, 120_000);
      const stoppedAt = Date.now();
      await engine.stop();
      await engine.start();
      const back = await waitForStreak(caller, stoppedAt, 5, 180_000);
      const during = caller.since(stoppedAt).filter((r) => r.at < back.at);
      console.log(
        `clean daemon restart: ${during.filter((r) => !r.ok).length}/${during.length} calls failed; calls succeed again ${((back.at - stoppedAt) / 1000).toFixed(1)} s after SIGTERM`,
      );
      const workloads = await sidecarRecovery(sidecarOutputs, stoppedAt);
      console.log(
        `clean daemon restart, sidecar stack: ${workloads.failed}/${workloads.calls} calls of the client app failed; they succeed again ${workloads.seconds.toFixed(1)} s after SIGTERM${workloads.failures.length ? ` (${workloads.failures.join("; ")})` : ""}`,
      );
      for (const name of workloadContainers(sidecarOutputs)) {
        expect(await inspect(name, "{{.State.Running}}")).toBe("true");
        expect(Date.parse(await inspect(name, "{{.State.StartedAt}}"))).toBeGreaterThan(stoppedAt);
      }
      await bothHealthy(server, clients["client-a"]!);
    } finally {
      await caller.stop();
    }
  });
});
