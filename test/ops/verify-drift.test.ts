/**
 * `npm run verify` against a real deployment: the dev stack deployed with the emulated engine on a
 * real Docker engine, read by verify through the real scripts/pulumi.sh and a stand-in `pulumi`
 * that answers from the emulated state (support/emulated-cli.ts). Each fault is made by hand as an
 * operator or an accident would make it, reported with its repair, and repaired by --repair:
 * a corrupted delivered file (with a caller on the published port seeing no failed call), a
 * stopped service container, a stopped front, a deleted delivery container; and a client that is
 * unhealthy only while it backs off is not reported.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, deploy, newStack, type Stack } from "../program/deploy.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { freePort } from "../support/free-port.ts";
import { stackConfig } from "../support/stack-files.ts";
import { type Credentials, startCaller, waitForStreak } from "./support/caller.ts";
import { emulatedCli } from "./support/emulated-cli.ts";
import { runVerify } from "./support/run-verify.ts";
import { type StandInPulumi, startStandInPulumi } from "./support/standin-pulumi.ts";

const run = promisify(execFile);
const skip = await dockerSkipReason();

interface Outputs {
  containerNames: { server: string; clients: Record<string, string> };
  clientCredentials: Record<string, Credentials>;
}

const docker = async (...args: string[]) => (await run("docker", args)).stdout.trim();

/** Polls (every 250 ms, up to 60 s) until `probe` returns a value: for Docker states nothing announces. */
async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out after 60 s");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(skip)("npm run verify on a deployed dev stack", () => {
  const stack: Stack = newStack();
  let deployment: Deployment;
  let config: Record<string, string>;
  let outputs: Outputs;
  let port: number;
  let cli: StandInPulumi;
  let env: NodeJS.ProcessEnv;

  const urnOf = (name: string) =>
    deployment.engine
      .resources()
      .find((r) => r.type === "docker:index/container:Container" && r.name === name)!.urn;
  const dockerName = (name: string) =>
    String(
      deployment.engine
        .resources()
        .find((r) => r.type === "docker:index/container:Container" && r.name === name)?.outputs.name,
    );
  const verify = (...args: string[]) => runVerify(args, env);
  /** Overwrites tls.crt in a volume, as root in a throwaway container of the service image; returns the volume's name. */
  const corrupt = async (volumeResource: string, container: string) => {
    const image = await docker("inspect", "--format", "{{.Image}}", container);
    const volume = String(
      deployment.engine.resource("docker:index/volume:Volume", volumeResource)?.outputs.name,
    );
    await docker(
      "run",
      "--rm",
      "--network=none",
      "--user=0",
      `--mount=type=volume,source=${volume},target=/etc/mtls`,
      "--entrypoint=node",
      image,
      "-e",
      'require("fs").writeFileSync("/etc/mtls/tls.crt", "not a certificate\\n")',
    );
    return volume;
  };

  beforeAll(async () => {
    port = await freePort();
    config = { ...stackConfig("dev"), baseImage: await ensureBaseImage(), publishPort: String(port) };
    deployment = await deploy("dev", config, { stack });
    outputs = deployment.run.exports as unknown as Outputs;
    const emulated = emulatedCli({
      stack: "dev",
      current: () => deployment,
      redeploy: async () => {
        deployment = await deploy("dev", config, { stack });
        return deployment;
      },
    });
    cli = await startStandInPulumi((args) => emulated.handle(args));
    env = { ...cli.env, STACK: "dev" };
  });

  afterAll(async () => {
    await cli?.close();
    await deployment?.destroy();
  });

  it("exits 0 with one line when everything is deployed as the stack says", async () => {
    const result = await verify();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toContain("mtls-server, client-a deployed as the stack says");
    expect(cli.calls.map((args) => args.slice(0, 2).join(" "))).toEqual(["stack export"]);
  });

  it("reports a corrupted delivered file, naming it, with the delivery's replacement as the repair (URN quoted)", async () => {
    const volume = await corrupt("mtls-server-identity", outputs.containerNames.server);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toHaveLength(1);
    const urn = urnOf("mtls-server-delivery");
    expect(urn).toContain("$");
    expect(result.lines[0]).toContain(
      `mtls-server: identity volume ${volume}: the files would not load at a restart (not_pem)`,
    );
    expect(result.lines[0]).toContain("MTLS_CERT_FILE (/etc/mtls/tls.crt)");
    expect(result.lines[0]).toContain(
      `Repair: scripts/pulumi.sh up --target-replace '${urn}' --stack dev --yes`,
    );
  });

  it("repairs it with --repair without a single failed call, replacing only the delivery container", async () => {
    const serverId = await docker("inspect", "--format", "{{.Id}}", outputs.containerNames.server);
    const deliveryBefore = dockerName("mtls-server-delivery");
    const caller = startCaller(port, outputs.clientCredentials["client-a"]!);
    let result: Awaited<ReturnType<typeof verify>>;
    try {
      await waitForStreak(caller, 0, 3, 30_000);
      result = await verify("--repair");
      await waitForStreak(caller, Date.now(), 3, 30_000);
    } finally {
      await caller.stop();
    }
    console.log(
      `verify --repair of a corrupted file: ${caller.records.filter((r) => !r.ok).length}/${caller.records.length} calls failed`,
    );
    expect(result.code).toBe(0);
    expect(result.lines.at(-1)).toContain("deployed as the stack says");
    expect(caller.records.filter((r) => !r.ok)).toEqual([]);
    expect(caller.records.length).toBeGreaterThan(5);
    expect(deployment.run.ops.filter((op) => op.op !== "same").map((op) => `${op.op} ${op.name}`)).toEqual([
      "replace mtls-server-delivery",
    ]);
    expect(dockerName("mtls-server-delivery")).not.toBe(deliveryBefore);
    expect(await docker("inspect", "--format", "{{.Id}}", outputs.containerNames.server)).toBe(serverId);
  });

  it("repairs a server that a restart left looping on a corrupted file: the files' repair, then the restart policy", async () => {
    const server = outputs.containerNames.server;
    await corrupt("mtls-server-identity", server);
    await docker("restart", server);
    const looping = await waitFor(async () => {
      const state = await docker("inspect", "--format", "{{.RestartCount}} {{.State.ExitCode}}", server);
      const [restarts, exitCode] = state.split(" ").map(Number);
      return restarts! >= 2 && exitCode === 3 ? state : undefined;
    });
    expect(looping).toMatch(/ 3$/);
    const caller = startCaller(port, outputs.clientCredentials["client-a"]!);
    let repairedAt = 0;
    try {
      const result = await verify();
      expect(result.code).toBe(1);
      const urn = urnOf("mtls-server-delivery");
      const repair = `Repair: scripts/pulumi.sh up --target-replace '${urn}' --stack dev --yes`;
      expect(
        result.lines.some((l) => l.includes("the files would not load at a restart") && l.endsWith(repair)),
      ).toBe(true);
      const repaired = await verify("--repair");
      repairedAt = Date.now();
      expect(repaired.code).toBe(0);
      await waitForStreak(caller, repairedAt, 3, 60_000);
    } finally {
      await caller.stop();
    }
    const failed = caller.records.filter((r) => !r.ok).length;
    console.log(
      `a server looping on a corrupted file: ${failed}/${caller.records.length} calls failed from the first verify until it served again after verify --repair`,
    );
    expect(await docker("inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", server)).toBe(
      "running healthy",
    );
  });

  it("reports a stopped service container with docker start as the repair, and --repair starts it", async () => {
    const client = outputs.containerNames.clients["client-a"]!;
    await docker("stop", client);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: client-a: service container ${client} is exited (exit code 0). Repair: docker start ${client}`,
    ]);
    const repaired = await verify("--repair");
    expect(repaired.code).toBe(0);
    expect(await docker("inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", client)).toBe(
      "running healthy",
    );
  });

  it("does not report a client that is unhealthy only while it backs off from a server that just came back", async () => {
    const server = outputs.containerNames.server;
    const client = outputs.containerNames.clients["client-a"]!;
    const health = (name: string) => docker("inspect", "--format", "{{.State.Health.Status}}", name);
    const stoppedAt = new Date().toISOString();
    await docker("stop", server);
    // Its rounds fail and back off; its health check turns it unhealthy. Once it waits 10 s or more
    // before its next try, the server comes back: the client stays unhealthy until that try.
    await waitFor(async () => ((await health(client)) === "unhealthy" ? true : undefined));
    await waitFor(async () => {
      const { stdout } = await run("docker", ["logs", "--since", stoppedAt, client]);
      return stdout.split("\n").some((line) => /"retryInMs":\d{5,}/.test(line)) ? true : undefined;
    });
    await docker("start", server);
    const unhealthyAtStart = (await health(client)) === "unhealthy";
    const result = await verify();
    // Still backing off when verify looked, and healthy again by itself when it had waited.
    expect(unhealthyAtStart).toBe(true);
    expect(result.code).toBe(0);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toContain("deployed as the stack says");
    expect(await health(client)).toBe("healthy");
  });

  it("reports a stopped front (the published port's owner) with docker start as the repair, and --repair starts it", async () => {
    const front = dockerName("mtls-server");
    await docker("stop", front);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: mtls-server: front container ${front} (the published port) is exited (exit code 0). Repair: docker start ${front}`,
    ]);
    const repaired = await verify("--repair");
    expect(repaired.code).toBe(0);
    expect(await docker("inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", front)).toBe(
      "running healthy",
    );
  });

  it("reports a deleted delivery container with a targeted refresh and up, and --repair recreates it", async () => {
    const delivery = dockerName("client-a-delivery");
    const urn = urnOf("client-a-delivery");
    await docker("rm", delivery);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: client-a: delivery container ${delivery} does not exist (the files stay in the volume; a rotation needs it). Repair: scripts/pulumi.sh refresh --target '${urn}' --stack dev --yes && scripts/pulumi.sh up --target '${urn}' --stack dev --yes`,
    ]);
    const repaired = await verify("--repair");
    expect(repaired.code).toBe(0);
    expect(deployment.run.ops.filter((op) => op.op !== "same").map((op) => `${op.op} ${op.name}`)).toEqual([
      "create client-a-delivery",
    ]);
    expect(await docker("inspect", "--format", "{{.State.Status}}", dockerName("client-a-delivery"))).toBe(
      "created",
    );
  });
});
