/**
 * `npm run verify` on a deployed sidecar stack: the workloads' wiring. The stack is deployed with
 * the emulated engine on a real Docker engine and read by verify through the real
 * scripts/pulumi.sh and a stand-in `pulumi` answering from the emulated state
 * (support/emulated-cli.ts). Each fault is made by hand, as an operator or a script would make it,
 * reported with its repair, and repaired by --repair: a stranger container on a private network, a
 * tunnel cut off its private network (the client app's calls fail until the repair, then succeed
 * again), an app put on the stack's network, a stopped app, a private network made again by hand
 * without its isolation.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_LABEL } from "../../emulation/index.ts";
import { waitForAppRecovery } from "../e2e/app-calls.ts";
import { type Deployment, deploy, newStack, type Stack } from "../program/deploy.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { sidecarTestConfig } from "../support/sidecar-stack.ts";
import { emulatedCli } from "./support/emulated-cli.ts";
import { runVerify } from "./support/run-verify.ts";
import { type StandInPulumi, startStandInPulumi } from "./support/standin-pulumi.ts";

const run = promisify(execFile);
const skip = await dockerSkipReason();
const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";

interface Outputs {
  networkName: string;
  workloadContainers: Record<
    "hello" | "caller",
    { app: string; sidecars: string[]; network: string; subnet: string }
  >;
}

const docker = async (...args: string[]) => (await run("docker", args)).stdout.trim();

describe.skipIf(skip)("npm run verify on a deployed sidecar stack: the workloads' wiring", () => {
  const stack: Stack = newStack();
  let deployment: Deployment;
  let config: Record<string, string>;
  let outputs: Outputs;
  let cli: StandInPulumi;
  let env: NodeJS.ProcessEnv;
  let baseImage: string;

  const resource = (type: string, name: string) =>
    deployment.engine.resources().find((r) => r.type === type && r.name === name)!;
  const verify = (...args: string[]) => runVerify(args, env);
  const caller = () => outputs.workloadContainers.caller;
  const hello = () => outputs.workloadContainers.hello;
  const tunnel = () => caller().sidecars[0]!;

  beforeAll(async () => {
    baseImage = await ensureBaseImage();
    config = await sidecarTestConfig(baseImage);
    deployment = await deploy("sidecar", config, { stack });
    outputs = deployment.run.exports as unknown as Outputs;
    const emulated = emulatedCli({
      stack: "sidecar",
      current: () => deployment,
      redeploy: async () => {
        deployment = await deploy("sidecar", config, { stack });
        outputs = deployment.run.exports as unknown as Outputs;
        return deployment;
      },
    });
    cli = await startStandInPulumi((args) => emulated.handle(args));
    env = { ...cli.env, STACK: "sidecar" };
  });

  afterAll(async () => {
    await cli?.close();
    await deployment?.destroy();
  });

  it("exits 0 with one line naming the workloads when their wiring is as the stack says", async () => {
    const result = await verify();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toContain("workload hello, workload caller deployed as the stack says");
    expect(result.lines[0]).toContain("only the app and its sidecars on them");
  });

  it("reports a stranger container on a private network, and --repair disconnects it", async () => {
    const stranger = `verify-stranger-${stack.docker.runId.slice(0, 8)}`;
    await docker(
      "run",
      "-d",
      "--name",
      stranger,
      "--label",
      `${RUN_LABEL}=${stack.docker.runId}`,
      "--network",
      outputs.networkName,
      baseImage,
      "node",
      "-e",
      "setInterval(() => {}, 1000)",
    );
    try {
      await strangerOnPrivateNetwork(stranger);
    } finally {
      // Off the stack's network too, or the stack's destroy could not remove that network.
      await docker("rm", "--force", stranger);
    }
  });

  async function strangerOnPrivateNetwork(stranger: string): Promise<void> {
    await docker("network", "connect", caller().network, stranger);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: caller: container ${stranger} is on private network ${caller().network}, which only the app and its sidecars may share (it could call as the workload, or reach the app). Repair: docker network disconnect --force ${caller().network} ${stranger}`,
    ]);
    const repaired = await verify("--repair");
    expect(repaired.code).toBe(0);
    expect(
      await docker("inspect", "-f", "{{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}", stranger),
    ).toBe(outputs.networkName);
  }

  it("reports a tunnel cut off its private network; --repair connects it again with its alias and the app's calls succeed again", async () => {
    await docker("network", "disconnect", caller().network, tunnel());
    const cutAt = Date.now();
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: caller: sidecar container ${tunnel()} is not on network ${caller().network} (aliases tunnel-hello). Repair: docker network connect --alias tunnel-hello ${caller().network} ${tunnel()}`,
    ]);
    const repaired = await verify("--repair");
    const repairedAt = Date.now();
    expect(repaired.code).toBe(0);
    const recovery = await waitForAppRecovery(caller().app, cutAt, { notBefore: async () => repairedAt });
    console.log(
      `a tunnel cut off its network: ${recovery.failed}/${recovery.calls} calls of the app failed until verify --repair (${recovery.failures.join("; ")})`,
    );
    expect(recovery.failed).toBeGreaterThan(0);
  });

  it("reports an app put on the stack's network, where anyone could reach it, and --repair takes it off", async () => {
    await docker("network", "connect", outputs.networkName, hello().app);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: hello: app container ${hello().app} is also on network ${outputs.networkName}, which the stack does not give it (the app must be reachable only through its sidecar). Repair: docker network disconnect ${outputs.networkName} ${hello().app}`,
    ]);
    expect((await verify("--repair")).code).toBe(0);
  });

  it("reports a stopped app with docker start as the repair", async () => {
    await docker("stop", hello().app);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: hello: app container ${hello().app} is exited (exit code 0). Repair: docker start ${hello().app}`,
    ]);
    expect((await verify("--repair")).code).toBe(0);
    expect(await docker("inspect", "-f", "{{.State.Running}}", hello().app)).toBe("true");
  });

  it("reports a private network made again by hand without its isolation; --repair makes it again from the stack, with its members", async () => {
    const net = hello().network;
    const members = [hello().app, ...hello().sidecars];
    const subnet = hello().subnet;
    // As a person would who "fixed" a network by hand: same name, same subnet, same members and aliases.
    for (const member of members) await docker("network", "disconnect", net, member);
    await docker("network", "rm", net);
    await docker(
      "network",
      "create",
      "--label",
      `${RUN_LABEL}=${stack.docker.runId}`,
      "--subnet",
      subnet,
      net,
    );
    await docker("network", "connect", "--alias", "app", net, hello().app);
    await docker("network", "connect", net, hello().sidecars[0]!);
    const urns = {
      net: resource(NETWORK, "hello-net").urn,
      app: resource(CONTAINER, "hello-app").urn,
      sidecar: resource(CONTAINER, "hello-sidecar").urn,
    };
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toContain(
      `verify: hello: private network ${net} is not as the stack says: internal false (the stack: true); option com.docker.network.bridge.inhibit_ipv4 absent (the stack: "true"). Repair: `,
    );
    const quoted = (urn: string) => `'${urn}'`;
    expect(result.lines[0]).toContain(
      `docker network rm ${net} && scripts/pulumi.sh refresh --target ${quoted(urns.net)} --stack sidecar --yes`,
    );
    expect(result.lines[0]).toContain(
      `scripts/pulumi.sh up --target ${quoted(urns.net)} --target-replace ${quoted(urns.app)} --target-replace ${quoted(urns.sidecar)} --stack sidecar --yes`,
    );
    const repairedAt = Date.now();
    const repaired = await verify("--repair");
    expect(repaired.code).toBe(0);
    expect(
      deployment.run.ops
        .filter((op) => op.op !== "same")
        .map((op) => `${op.op} ${op.name}`)
        .sort(),
    ).toEqual(["create hello-net", "replace hello-app", "replace hello-sidecar"].sort());
    const remade = JSON.parse(await docker("network", "inspect", hello().network))[0] as {
      Internal: boolean;
    };
    expect(remade.Internal).toBe(true);
    // The caller reaches hello again through its new sidecar and app.
    await waitForAppRecovery(caller().app, repairedAt, { notBefore: async () => repairedAt });
  });
});
