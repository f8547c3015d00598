/**
 * docker.Container as the emulation realises it on a real engine: naming, networks and aliases,
 * hardening inputs, health waiting, in-place updates versus replacements, the mustRun drift signal,
 * validation, and delete.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../test/support/docker-available.ts";
import { probe } from "../test/support/docker-probe.ts";
import { dockerApi } from "./docker/engine-api.ts";
import { CONTAINER_TYPE, cleanupRun, createDockerProvider, NETWORK_TYPE } from "./docker/provider.ts";
import type { CreateResult, Inputs } from "./engine/provider.ts";

const run = promisify(execFile);
const skip = await dockerSkipReason();

/** A tiny HTTP server on 9090 and an exec-form healthcheck against it, from the base image alone. */
const SERVER_SCRIPT = "require('http').createServer((q, s) => s.end('pong')).listen(9090)";
const HEALTHCHECK = {
  tests: [
    "CMD",
    "node",
    "-e",
    "fetch('http://127.0.0.1:9090').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
  ],
  interval: "1s",
  timeout: "2s",
  retries: 5,
};

interface Inspect {
  Name: string;
  State: { Running: boolean; Health?: { Status: string } };
  Config: { User: string; Env: string[] };
  HostConfig: {
    ReadonlyRootfs: boolean;
    CapDrop: string[];
    SecurityOpt: string[];
    Sysctls: Record<string, string> | null;
    Memory: number;
    RestartPolicy: { Name: string };
    LogConfig: { Type: string; Config: Record<string, string> };
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  };
  NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
}

async function inspect(id: string): Promise<Inspect> {
  return (await dockerApi("GET", `/containers/${id}/json`)).body as Inspect;
}

describe.skipIf(skip)("docker emulation: containers", () => {
  const docker = createDockerProvider();
  let image: string;
  let network: CreateResult;
  let serverInputs: Inputs;
  let server: CreateResult;

  const create = (name: string, inputs: Inputs) =>
    docker.create({ type: CONTAINER_TYPE, name, inputs, preview: false });
  const diff = (name: string, oldInputs: Inputs, newInputs: Inputs, old: CreateResult) =>
    docker.diff({ type: CONTAINER_TYPE, name, oldInputs, newInputs, oldState: old.state });

  beforeAll(async () => {
    image = await ensureBaseImage();
    network = await docker.create({
      type: NETWORK_TYPE,
      name: "net",
      inputs: { driver: "bridge" },
      preview: false,
    });
    serverInputs = {
      image,
      command: ["node", "-e", SERVER_SCRIPT],
      envs: ["A=1"],
      user: "10001:10001",
      networksAdvanced: [{ name: network.state.name, aliases: ["mtls-server"] }],
      ports: [{ internal: 9090, ip: "127.0.0.1" }],
      readOnly: true,
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      sysctls: { "net.ipv4.ip_forward": "0" },
      restart: "unless-stopped",
      memory: 128,
      logDriver: "json-file",
      logOpts: { "max-size": "1m", "max-file": "2" },
      healthcheck: HEALTHCHECK,
      wait: true,
      waitTimeout: 30,
    };
    server = await create("server", serverInputs);
  });

  afterAll(async () => {
    await cleanupRun(docker.runId);
  });

  test("containers and networks without a name are auto-named <logical name>-<7 hex>", async () => {
    expect(server.state.name).toMatch(/^server-[0-9a-f]{7}$/);
    expect(network.state.name).toMatch(/^net-[0-9a-f]{7}$/);
    expect((await inspect(server.id)).Name).toBe(`/${server.state.name}`);
  });

  test("wait returns only once the healthcheck reports healthy", async () => {
    expect((await inspect(server.id)).State.Health?.Status).toBe("healthy");
  });

  test("networksAdvanced replaces the default bridge and its aliases resolve on the network", async () => {
    const networks = (await inspect(server.id)).NetworkSettings.Networks;
    expect(Object.keys(networks)).toEqual([network.state.name]);
    const answer = await probe({
      runId: docker.runId,
      image,
      network: network.state.name as string,
      script: "fetch('http://mtls-server:9090').then(r => r.text()).then(t => console.log(t))",
    });
    expect(answer).toBe("pong");
  });

  test("hardening inputs reach the engine as given", async () => {
    const info = await inspect(server.id);
    expect(info.Config.User).toBe("10001:10001");
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(info.HostConfig.SecurityOpt).toEqual(["no-new-privileges:true"]);
    expect(info.HostConfig.Sysctls).toEqual({ "net.ipv4.ip_forward": "0" });
    // In the container's own network namespace: it routes nothing between its networks.
    const { stdout } = await run("docker", [
      "exec",
      server.id,
      "node",
      "-e",
      'process.stdout.write(require("fs").readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8"))',
    ]);
    expect(stdout.trim()).toBe("0");
    expect(info.HostConfig.Memory).toBe(128 * 1024 * 1024);
    expect(info.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
    expect(info.HostConfig.LogConfig).toEqual({
      Type: "json-file",
      Config: { "max-size": "1m", "max-file": "2" },
    });
    expect(info.HostConfig.PortBindings["9090/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: "" }]);
  });

  test("a published port without `external` gets a host port on 127.0.0.1 and keeps it across applies", async () => {
    const [port] = server.state.ports as { external: number }[];
    expect(port!.external).toBeGreaterThan(0);
    const response = await fetch(`http://127.0.0.1:${port!.external}/`);
    expect(await response.text()).toBe("pong");
    expect(diff("server", serverInputs, serverInputs, server)).toEqual({ kind: "none" });
  });

  test("a different env replaces the container, deleting the old one first", () => {
    expect(diff("server", serverInputs, { ...serverInputs, envs: ["A=2"] }, server)).toEqual({
      kind: "replace",
      changed: ["envs"],
      deleteBeforeReplace: true,
    });
  });

  test("other sysctls replace the container", () => {
    expect(diff("server", serverInputs, { ...serverInputs, sysctls: {} }, server)).toEqual({
      kind: "replace",
      changed: ["sysctls"],
      deleteBeforeReplace: true,
    });
  });

  test("env order does not matter (a set, as upstream)", () => {
    const two = { ...serverInputs, envs: ["A=1", "B=2"] };
    const swapped = { ...serverInputs, envs: ["B=2", "A=1"] };
    expect(diff("server", two, swapped, { ...server, state: { ...server.state, envs: two.envs } })).toEqual({
      kind: "none",
    });
  });

  test("restart policy and memory change in place: same container, new limits", async () => {
    const changed = { ...serverInputs, restart: "on-failure", memory: 256 };
    expect(diff("server", serverInputs, changed, server)).toEqual({
      kind: "update",
      changed: ["restart", "memory"],
    });
    const updated = await docker.update({
      type: CONTAINER_TYPE,
      name: "server",
      id: server.id,
      oldInputs: serverInputs,
      oldState: server.state,
      inputs: changed,
      preview: false,
    });
    expect(updated.id).toBe(server.id);
    const info = await inspect(server.id);
    expect(info.HostConfig.RestartPolicy.Name).toBe("on-failure");
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    server = updated;
    serverInputs = changed;
  });

  test("wait without a healthcheck fails with the provider's message", async () => {
    await expect(
      create("nohealth", { image, command: ["node", "-e", "setInterval(() => {}, 1000)"], wait: true }),
    ).rejects.toThrow(
      "you have supplied a 'wait' argument, but the container does not have a healthcheck defined",
    );
  });

  test("a never-started container with mustRun left at true shows an update on every apply", async () => {
    const inputs = { image, start: false };
    const created = await create("idle", inputs);
    expect(created.state.mustRun).toBe(false);
    expect(diff("idle", inputs, inputs, created)).toEqual({ kind: "update", changed: ["mustRun"] });
    const quiet = { image, start: false, mustRun: false };
    const quietCreated = await create("quiet", quiet);
    expect(diff("quiet", quiet, quiet, quietCreated)).toEqual({ kind: "none" });
  });

  test("upload permissions must be a four-digit octal string", async () => {
    await expect(
      create("badmode", { image, start: false, uploads: [{ file: "/a", content: "x", permissions: "640" }] }),
    ).rejects.toThrow(`uploads[0].permissions: '640' doesn't match the pattern '^0[0-7]{3}$'`);
  });

  test("an upload owner must be a numeric id", async () => {
    await expect(
      create("badowner", { image, start: false, uploads: [{ file: "/a", content: "x", owner: "node" }] }),
    ).rejects.toThrow("uploads[0].owner: 'node' is not a numeric id");
  });

  test("inputs, upload fields and resource types the emulation does not model are refused, not ignored", async () => {
    await expect(create("gpu", { image, gpus: "all" })).rejects.toThrow("input(s) not emulated: gpus");
    const source = { image, start: false, uploads: [{ file: "/a", source: "/etc/hostname" }] };
    await expect(create("src", source)).rejects.toThrow("uploads[0]: field(s) not emulated: source");
    const ipam = { image, networksAdvanced: [{ name: network.state.name, ipv4Address: "10.9.0.9" }] };
    await expect(create("ipam", ipam)).rejects.toThrow(
      "networksAdvanced[0]: field(s) not emulated: ipv4Address",
    );
    const config = {
      type: "docker:index/serviceConfig:ServiceConfig",
      name: "c",
      inputs: { data: "eA==" },
      preview: false,
    };
    await expect(docker.create(config)).rejects.toThrow(
      "resource type docker:index/serviceConfig:ServiceConfig is not emulated",
    );
  });

  test("delete stops and removes the container", async () => {
    const doomed = await create("doomed", { image, command: ["node", "-e", "setInterval(() => {}, 1000)"] });
    await docker.delete({ type: CONTAINER_TYPE, name: "doomed", id: doomed.id, state: doomed.state });
    await expect(dockerApi("GET", `/containers/${doomed.id}/json`)).rejects.toThrow(/404/);
  });

  test.each([
    ["without destroyGraceSeconds it is killed at once (exit 137)", {}, "137"],
    [
      "with destroyGraceSeconds it gets its stop signal and the time to finish (exit 0)",
      { destroyGraceSeconds: 20 },
      "0",
    ],
  ])("delete: %s", async (_, extra, exitCode) => {
    // Finishes 300 ms after SIGTERM, as a draining service would; SIGKILL leaves it no chance.
    const script =
      "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 300)); console.log('ready'); setInterval(() => {}, 1000)";
    const since = Math.floor(Date.now() / 1000) - 1;
    const draining = await create("draining", { image, command: ["node", "-e", script], ...extra });
    // Until its handler is in place, Node as PID 1 ignores SIGTERM: wait for it to say so.
    await new Promise<void>((resolve, reject) => {
      const logs = spawn("docker", ["logs", "--follow", draining.id]);
      logs.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) {
          logs.kill();
          resolve();
        }
      });
      logs.on("error", reject);
    });
    await docker.delete({ type: CONTAINER_TYPE, name: "draining", id: draining.id, state: draining.state });
    const { stdout } = await run("docker", [
      "events",
      "--since",
      String(since),
      "--until",
      String(Math.floor(Date.now() / 1000) + 1),
      "--filter",
      `container=${draining.id}`,
      "--filter",
      "event=die",
      "--format",
      "{{.Actor.Attributes.exitCode}}",
    ]);
    expect(stdout.trim()).toBe(exitCode);
  });
});
