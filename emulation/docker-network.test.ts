/**
 * docker.Network as the emulation realises it on a real engine, for MtlsWorkload's private
 * networks: `internal`, the bridge option that leaves the bridge without a host address, and
 * `ipamConfigs` with subnet and gateway reach Docker as given and read back so that the same
 * inputs plan no change; a subnet Docker picked lands in the state; changing any of them replaces
 * the network; IPAM fields the emulation does not model are refused. Members of such a network
 * reach each other by alias, and nothing routes out of it.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../test/support/docker-available.ts";
import { probe } from "../test/support/docker-probe.ts";
import { freeSubnetPool } from "../test/support/subnet-pool.ts";
import { dockerApi } from "./docker/engine-api.ts";
import { CONTAINER_TYPE, cleanupRun, createDockerProvider, NETWORK_TYPE } from "./docker/provider.ts";
import type { CreateResult, Inputs } from "./engine/provider.ts";

const skip = await dockerSkipReason();
const INHIBIT = "com.docker.network.bridge.inhibit_ipv4";

interface NetworkInspect {
  Internal: boolean;
  Options: Record<string, string>;
  IPAM: { Config: { Subnet: string; Gateway?: string }[] };
}

describe.skipIf(skip)("docker emulation: networks", () => {
  const docker = createDockerProvider();
  let image: string;
  let subnet: string;
  let gateway: string;
  let inputs: Inputs;
  let privateNet: CreateResult;

  const createNetwork = (name: string, networkInputs: Inputs) =>
    docker.create({ type: NETWORK_TYPE, name, inputs: networkInputs, preview: false });
  const diff = (oldInputs: Inputs, newInputs: Inputs, old: CreateResult) =>
    docker.diff({ type: NETWORK_TYPE, name: "private", oldInputs, newInputs, oldState: old.state });

  beforeAll(async () => {
    image = await ensureBaseImage();
    // The first /28 of a pool no network of the engine overlaps.
    const pool = await freeSubnetPool();
    subnet = pool.replace(/\/\d+$/, "/28");
    gateway = subnet.replace(/\.0\/28$/, ".1");
    inputs = {
      driver: "bridge",
      internal: true,
      options: { [INHIBIT]: "true" },
      ipamConfigs: [{ subnet, gateway }],
      labels: [{ label: "mtls-pki.part", value: "network" }],
    };
    privateNet = await createNetwork("private", inputs);
  });

  afterAll(async () => {
    await cleanupRun(docker.runId);
  });

  test("internal, without a host address, on the subnet given: in Docker and in the state", async () => {
    const info = (await dockerApi("GET", `/networks/${privateNet.id}`)).body as NetworkInspect;
    expect(info.Internal).toBe(true);
    expect(info.Options).toEqual({ [INHIBIT]: "true" });
    expect(info.IPAM.Config).toEqual([{ Subnet: subnet, Gateway: gateway }]);
    expect(privateNet.state).toMatchObject({
      internal: true,
      options: { [INHIBIT]: "true" },
      ipamConfigs: [{ subnet, gateway }],
    });
  });

  test("the same inputs plan no change; another subnet, internal flag or option replaces it", () => {
    expect(diff(inputs, inputs, privateNet)).toEqual({ kind: "none" });
    const other = subnet.replace(/\.0\/28$/, ".16/28");
    for (const [changed, next] of [
      [
        "ipamConfigs",
        { ...inputs, ipamConfigs: [{ subnet: other, gateway: other.replace(/16\/28$/, "17") }] },
      ],
      ["internal", { ...inputs, internal: false }],
      ["options", { ...inputs, options: { [INHIBIT]: "false" } }],
    ] as const) {
      expect(diff(inputs, next, privateNet)).toEqual({
        kind: "replace",
        changed: [changed],
        deleteBeforeReplace: false,
      });
    }
  });

  test("a network without ipamConfigs gets the subnet Docker picked in its state, and keeps it", async () => {
    const picked = await createNetwork("picked", { driver: "bridge", internal: true });
    const configs = picked.state.ipamConfigs as { subnet: string; gateway: string }[];
    expect(configs).toHaveLength(1);
    expect(configs[0]!.subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    const omitted = { driver: "bridge", internal: true };
    expect(diff(omitted, omitted, picked)).toEqual({ kind: "none" });
  });

  test("refuses IPAM fields it does not model", async () => {
    await expect(
      createNetwork("ranged", { ...inputs, ipamConfigs: [{ subnet, ipRange: subnet }] }),
    ).rejects.toThrow(
      'docker:index/network:Network "ranged": ipamConfigs[0]: field(s) not emulated: ipRange',
    );
  });

  test("members reach each other by alias; nothing routes out, not even to the host", async () => {
    const server = await docker.create({
      type: CONTAINER_TYPE,
      name: "member",
      inputs: {
        image,
        command: ["node", "-e", "require('http').createServer((q, s) => s.end('member')).listen(8080)"],
        networksAdvanced: [{ name: privateNet.state.name, aliases: ["app"] }],
      },
      preview: false,
    });
    expect(server.id).not.toBe("");
    const seen = await probe({
      runId: docker.runId,
      image,
      network: privateNet.state.name as string,
      script: `
        const net = require("node:net");
        const attempt = (host, port) => new Promise((resolve) => {
          const socket = net.connect({ host, port, timeout: 2000 });
          socket.on("connect", () => { socket.destroy(); resolve("connected"); });
          socket.on("timeout", () => { socket.destroy(); resolve("no answer"); });
          socket.on("error", (e) => resolve(e.code));
        });
        Promise.all([
          fetch("http://app:8080").then((r) => r.text()),
          attempt(${JSON.stringify(gateway)}, 22),
        ]).then(([member, host]) => console.log(JSON.stringify({ member, host })));`,
    });
    const { member, host } = JSON.parse(seen) as { member: string; host: string };
    expect(member).toBe("member");
    // The gateway address exists nowhere: no host interface holds it.
    expect(host).not.toBe("connected");
  });
});
