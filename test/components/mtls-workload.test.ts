/**
 * MtlsWorkload's child contract, in preview under the emulated engine (no Docker engine needed, so
 * these never skip): a private network of the workload's own (internal, no host address, the subnet
 * given), the sidecars (MtlsService children, identities delivered as MtlsService delivers them) on
 * the stack's network and the private one, the app on the private one only; the sidecars'
 * environment makes them a reverse proxy / TCP pipe to the app by its network-qualified name, or
 * tunnels that serve only the private network; the app hardened by default; bad args refused in
 * one line each. That traffic flows only through mTLS, and that a stranger is refused, is
 * test/e2e/sidecar.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  MtlsService,
  MtlsWorkload,
  type MtlsWorkloadArgs,
  NO_HOST_ADDRESS_OPTION,
} from "../../components/index.ts";
import { isUnknownValue } from "../../emulation/index.ts";
import { ENV, SERVICE_GID, SERVICE_UID } from "../../services/src/contract.ts";
import { createCa, issueLeaf, type Leaf } from "../support/pki-fixtures/pki.ts";
import { type ComponentRun, refusal, runComponents, TYPES } from "./harness.ts";

const WORKLOAD = "mtls:docker:MtlsWorkload";

let leaf: Leaf;
let caPem: string;

beforeAll(async () => {
  const ca = await createCa({ commonName: "workload test CA" });
  caPem = ca.certPem;
  leaf = await issueLeaf(ca, { commonName: "orders", purpose: "server", dnsNames: ["orders"] });
});

const identity = () => ({ chainPem: leaf.chainPem, privateKeyPem: leaf.keyPem, caBundlePem: caPem });

const serverArgs = (): MtlsWorkloadArgs => ({
  role: "server",
  image: "sha256:service",
  deliveryImage: "sha256:delivery",
  identity: identity(),
  networkName: "net",
  aliases: ["orders"],
  subnet: "172.16.0.16/28",
  appImage: "example/orders:1",
  appPort: 8080,
});

const clientArgs = (): MtlsWorkloadArgs => ({
  role: "client",
  image: "sha256:service",
  identity: identity(),
  networkName: "net",
  subnet: "172.16.0.32/28",
  appImage: "example/billing:1",
  calls: [
    { name: "orders", serverUrl: "https://orders:8443", localPort: 15001 },
    { name: "stock", serverUrl: "https://stock:8443", localPort: 15001 },
  ],
});

async function preview(program: () => void): Promise<ComponentRun> {
  return runComponents(
    () => {
      program();
      return {};
    },
    { preview: true },
  );
}

const childrenOf = (run: ComponentRun, parent: string) =>
  run.run.registrations
    .filter((r) => r.parent === parent)
    .map((r) => `${r.type} ${r.name}`)
    .sort();

interface Attachment {
  name: string;
  aliases?: string[];
}
const networksOf = (run: ComponentRun, container: string) =>
  run.child(TYPES.container, container).inputs.networksAdvanced as Attachment[];
/** The private network's Docker name (auto-named, known in preview under the emulation). */
const privateName = (run: ComponentRun, workload: string) =>
  String(run.child(TYPES.network, `${workload}-net`).outputs.name);

describe("MtlsWorkload, server role", () => {
  let run: ComponentRun;
  beforeAll(async () => {
    run = await preview(() => new MtlsWorkload("orders", serverArgs()));
  });

  it("declares its private network, one server sidecar (an MtlsService) and the app, named after the component, and no pause container", () => {
    const component = run.child(WORKLOAD, "orders").urn;
    expect(childrenOf(run, component)).toEqual([
      `${TYPES.container} orders-app`,
      `${TYPES.network} orders-net`,
      `${TYPES.service} orders-sidecar`,
    ]);
    // The sidecar's identity is delivered exactly as any MtlsService's.
    expect(childrenOf(run, run.child(TYPES.service, "orders-sidecar").urn)).toEqual([
      `${TYPES.container} orders-sidecar`,
      `${TYPES.container} orders-sidecar-delivery`,
      `${TYPES.volume} orders-sidecar-identity`,
    ]);
    expect(run.run.registrations.filter((r) => r.name.endsWith("-pause"))).toEqual([]);
  });

  it("makes the private network internal, without a host address, on the subnet given", () => {
    const network = run.child(TYPES.network, "orders-net").inputs;
    expect(network).toMatchObject({
      driver: "bridge",
      internal: true,
      options: { [NO_HOST_ADDRESS_OPTION]: "true" },
      ipamConfigs: [{ subnet: "172.16.0.16/28", gateway: "172.16.0.17" }],
    });
    expect(network.labels).toEqual([
      { label: "mtls-pki.workload", value: "orders" },
      { label: "mtls-pki.part", value: "network" },
    ]);
  });

  it("puts the sidecar on the stack's network (aliases) and the private one; the app only on the private one", () => {
    expect(networksOf(run, "orders-sidecar")).toEqual([
      { name: "net", aliases: ["orders"] },
      { name: privateName(run, "orders"), aliases: [] },
    ]);
    expect(run.child(TYPES.container, "orders-sidecar").inputs.ports).toBeUndefined();
    const app = run.child(TYPES.container, "orders-app").inputs;
    expect(networksOf(run, "orders-app")).toEqual([{ name: privateName(run, "orders"), aliases: ["app"] }]);
    expect(app.ports).toBeUndefined();
    expect(app.networkMode).toBeUndefined();
  });

  it("publishes a server workload through its sidecar's front, which owns the host port and forwards to the sidecar's alias", async () => {
    const published = await preview(
      () => new MtlsWorkload("orders", { ...serverArgs(), publish: { hostPort: 9443 } }),
    );
    const front = published.child(TYPES.container, "orders-sidecar").inputs;
    expect(front.ports).toEqual([{ internal: 8443, external: 9443, ip: "127.0.0.1" }]);
    expect(front.envs).toContain("MTLS_FRONT_TARGET=orders:8443");
    expect(networksOf(published, "orders-sidecar")).toEqual([{ name: "net" }]);
    expect(published.child(TYPES.container, "orders-sidecar-service").inputs.ports).toBeUndefined();
    expect(networksOf(published, "orders-sidecar-service")).toEqual([
      { name: "net", aliases: ["orders"] },
      { name: privateName(published, "orders"), aliases: [] },
    ]);
  });

  it("keeps the sidecar, where the two networks meet, from routing packets between them", () => {
    expect(run.child(TYPES.container, "orders-sidecar").inputs.sysctls).toEqual({
      "net.ipv4.ip_forward": "0",
    });
    // The app is on one network only: nothing to route.
    expect(run.child(TYPES.container, "orders-app").inputs.sysctls).toBeUndefined();
  });

  it("makes the sidecar a reverse proxy to the app by its name qualified by the private network", () => {
    const envs = run.child(TYPES.container, "orders-sidecar").inputs.envs as string[];
    expect(envs).toEqual(
      expect.arrayContaining([
        `${ENV.upstream}=http://app.${privateName(run, "orders")}:8080`,
        `${ENV.listen}=0.0.0.0:8443`,
      ]),
    );
    expect(run.child(TYPES.container, "orders-sidecar").inputs.command).toEqual(["server"]);
  });

  it("hands the server's access policy to its sidecar's delivered policy file", async () => {
    const policed = await preview(
      () =>
        new MtlsWorkload("orders", {
          ...serverArgs(),
          allowedClients: ["billing"],
          tlsPolicy: "intermediate",
          revokedSerials: ["0a:1b"],
        }),
    );
    const uploads = policed.child(TYPES.container, "orders-sidecar-delivery").inputs.uploads as {
      file: string;
      content: string;
    }[];
    const policy = uploads.find((u) => u.file === "/etc/mtls/policy.json");
    expect(JSON.parse(policy!.content)).toEqual({
      allowedClients: ["billing"],
      revokedSerials: ["A1B"],
      tlsPolicy: "intermediate",
    });
  });

  it("pipes TCP with protocol tcp, to any port of the app (its container is its own)", async () => {
    const tcp = await preview(
      () => new MtlsWorkload("db", { ...serverArgs(), protocol: "tcp", appPort: 8443 }),
    );
    expect(tcp.child(TYPES.container, "db-sidecar").inputs.envs).toContain(
      `${ENV.upstream}=tcp://app.${privateName(tcp, "db")}:8443`,
    );
  });

  it("hardens the app by default: non-root, read-only root, no capabilities, and tells it its port", () => {
    const app = run.child(TYPES.container, "orders-app").inputs;
    expect(app.image).toBe("example/orders:1");
    expect(app.user).toBe(`${SERVICE_UID}:${SERVICE_GID}`);
    expect(app.readOnly).toBe(true);
    expect(app.capabilities).toEqual({ drops: ["ALL"] });
    expect(app.securityOpts).toEqual(["no-new-privileges:true"]);
    expect(app.memory).toBe(256);
    expect(app.memorySwap).toBe(256);
    expect(app.restart).toBe("always");
    expect(app.envs).toEqual(["MTLS_APP_PORT=8080"]);
    // Started after the sidecar container (dependsOn the component means its children).
    expect(run.child(TYPES.container, "orders-app").options.dependencies).toContain(
      run.child(TYPES.container, "orders-sidecar").urn,
    );
  });

  it("takes the app's opt-outs and settings from its args (user \"\" keeps the image's own)", async () => {
    const custom = await preview(
      () =>
        new MtlsWorkload("orders", {
          ...serverArgs(),
          appUser: "",
          appReadOnly: false,
          appDropCapabilities: false,
          appMemoryMb: 512,
          appCommand: ["serve", "--port", "8080"],
          appEnv: { LOG_LEVEL: "debug", MTLS_APP_PORT: "8080" },
        }),
    );
    const app = custom.child(TYPES.container, "orders-app").inputs;
    expect(app.user).toBe("");
    expect(app.readOnly).toBe(false);
    expect(app.capabilities ?? {}).toEqual({});
    expect(app.memory).toBe(512);
    expect(app.command).toEqual(["serve", "--port", "8080"]);
    expect(app.envs).toEqual(["LOG_LEVEL=debug", "MTLS_APP_PORT=8080"]);
  });

  it("gives the app a routed network of its own only with appEgress", async () => {
    const egress = await preview(() => new MtlsWorkload("orders", { ...serverArgs(), appEgress: true }));
    const network = egress.child(TYPES.network, "orders-egress");
    expect(network.inputs).toMatchObject({ driver: "bridge", internal: false });
    expect(network.inputs.options).toBeUndefined();
    expect(networksOf(egress, "orders-app")).toEqual([
      { name: privateName(egress, "orders"), aliases: ["app"] },
      { name: String(network.outputs.name) },
    ]);
    expect(egress.child(TYPES.container, "orders-app").inputs.sysctls).toEqual({
      "net.ipv4.ip_forward": "0",
    });
    // The private network stays as it is: turning egress on replaces only the app.
    expect(egress.child(TYPES.network, "orders-net").inputs).toEqual(
      run.child(TYPES.network, "orders-net").inputs,
    );
  });

  it("lets Docker pick the subnet when none is given", async () => {
    const picked = await preview(() => new MtlsWorkload("orders", { ...serverArgs(), subnet: undefined }));
    expect(picked.child(TYPES.network, "orders-net").inputs.ipamConfigs).toBeUndefined();
  });

  it("keeps the private key a secret, only in the delivery container", () => {
    expect(run.isSecretInput(TYPES.container, "orders-sidecar-delivery", "uploads")).toBe(true);
    const keyLine = leaf.keyPem.split("\n")[1]!;
    for (const name of ["orders-sidecar", "orders-app"]) {
      expect(JSON.stringify(run.child(TYPES.container, name).inputs)).not.toContain(keyLine);
    }
  });
});

describe("MtlsWorkload, client role", () => {
  let run: ComponentRun;
  beforeAll(async () => {
    run = await preview(() => new MtlsWorkload("billing", clientArgs()));
  });

  it("declares its private network and one tunnel sidecar per call, named <workload>-to-<call>", () => {
    expect(childrenOf(run, run.child(WORKLOAD, "billing").urn)).toEqual([
      `${TYPES.container} billing-app`,
      `${TYPES.network} billing-net`,
      `${TYPES.service} billing-to-orders`,
      `${TYPES.service} billing-to-stock`,
    ]);
  });

  it("makes each sidecar a tunnel to its server that serves only the private network, known there as tunnel-<call>", () => {
    for (const [call, server] of [
      ["orders", "https://orders:8443"],
      ["stock", "https://stock:8443"],
    ] as const) {
      const tunnel = run.child(TYPES.container, `billing-to-${call}`).inputs;
      expect(tunnel.command).toEqual(["client"]);
      expect(tunnel.envs).toEqual(
        expect.arrayContaining([
          `${ENV.localListen}=0.0.0.0:15001`,
          `${ENV.localAllowFrom}=172.16.0.32/28`,
          `${ENV.serverUrl}=${server}`,
        ]),
      );
      // Each in a container of its own: the default status port.
      expect((tunnel.envs as string[]).some((e) => e.startsWith(`${ENV.statusListen}=`))).toBe(false);
      expect(networksOf(run, `billing-to-${call}`)).toEqual([
        { name: "net" },
        { name: privateName(run, "billing"), aliases: [`tunnel-${call}`] },
      ]);
    }
    expect(networksOf(run, "billing-app")).toEqual([{ name: privateName(run, "billing"), aliases: ["app"] }]);
  });

  it("tells the app where each tunnel listens, by its name on the private network", () => {
    expect(run.child(TYPES.container, "billing-app").inputs.envs).toEqual([
      "MTLS_TUNNEL_ORDERS=tunnel-orders:15001",
      "MTLS_TUNNEL_STOCK=tunnel-stock:15001",
    ]);
  });

  it("allows the subnet Docker picked when none is given: known once the network exists", async () => {
    const picked = await preview(() => new MtlsWorkload("billing", { ...clientArgs(), subnet: undefined }));
    const envs = picked.child(TYPES.container, "billing-to-orders").inputs.envs;
    // In preview the network does not exist yet; test/e2e reads the real value back.
    expect(isUnknownValue(envs) || (envs as unknown[]).some(isUnknownValue)).toBe(true);
  });
});

describe("MtlsWorkload args", () => {
  const server = (extra: Partial<MtlsWorkloadArgs>) => () =>
    new MtlsWorkload("orders", { ...serverArgs(), ...extra });
  const client = (extra: Partial<MtlsWorkloadArgs>) => () =>
    new MtlsWorkload("billing", { ...clientArgs(), ...extra });
  const call = (name: string, localPort: number, serverUrl = `https://${name}:8443`) => ({
    name,
    localPort,
    serverUrl,
  });

  it.each([
    [
      "name",
      () => new MtlsWorkload("Orders!", serverArgs()),
      'Orders!": name: "Orders!" is not a valid name',
    ],
    [
      "name",
      () => new MtlsWorkload("a".repeat(52), serverArgs()),
      `${"a".repeat(52)}": name: "${"a".repeat(52)}" has 52 characters, more than 51: the private network's name, <name>-net-<7 hex>, must stay one DNS label`,
    ],
    ["role", server({ role: "proxy" as never }), 'orders": role: "proxy" is not one of server, client'],
    ["appImage", server({ appImage: "" }), 'orders": appImage: "" is empty; it is required'],
    ["appPort", server({ appPort: undefined }), 'orders": appPort: is missing'],
    ["appPort", server({ appPort: 70000 }), 'orders": appPort: 70000 is not a port'],
    ["protocol", server({ protocol: "udp" as never }), 'orders": protocol: "udp" is not one of http, tcp'],
    ["calls", server({ calls: [call("x", 1)] }), 'orders": calls: is for a client; this is a server'],
    ["appPort", client({ appPort: 8080 }), 'billing": appPort: is for a server; this is a client'],
    ["aliases", client({ aliases: ["billing"] }), 'billing": aliases: is for a server; this is a client'],
    ["aliases", server({ aliases: ["not a name"] }), 'orders": aliases: "not a name" is not a DNS name'],
    ["calls", client({ calls: [] }), 'billing": calls: is empty'],
    [
      "calls[1].name",
      client({ calls: [call("orders", 15001), call("orders", 15002)] }),
      'billing": calls[1].name: "orders" is listed more than once',
    ],
    [
      "calls[0].name",
      client({ calls: [call("o".repeat(57), 15001, "https://orders:8443")] }),
      `billing": calls[0].name: "${"o".repeat(57)}" has 57 characters, more than 56: its tunnel's name, tunnel-<name>, must stay one DNS label`,
    ],
    [
      "calls[0].serverUrl",
      client({ calls: [call("orders", 15001, "http://orders:8080")] }),
      'billing": calls[0].serverUrl: "http://orders:8080" is not an https:// URL',
    ],
    [
      "calls[0].serverUrl",
      client({ calls: [call("orders", 15001, "https://app:8443")] }),
      `billing": calls[0].serverUrl: "https://app:8443" names "app", a name on the workload's private network (app, tunnel-orders); reach the server by another of its names`,
    ],
    [
      "calls[0].localPort",
      client({ calls: [call("orders", 9091)] }),
      "billing\": calls[0].localPort: 9091 is the tunnel's status port (127.0.0.1:9091); give another port",
    ],
    [
      "subnet",
      server({ subnet: "172.16.0.17/28" }),
      'orders": subnet: "172.16.0.17/28" is not a network address: its host bits are set (the network is 172.16.0.16/28)',
    ],
    [
      "subnet",
      server({ subnet: "172.16.0.0/30" }),
      'orders": subnet: "172.16.0.0/30" has prefix /30: expected /8 to /29',
    ],
    [
      "subnet",
      client({
        subnet: "172.16.0.0/29",
        calls: [call("a", 15001), call("b", 15001), call("c", 15001)],
      }),
      'billing": subnet: 4 containers (the app and 3 sidecars) need up to 8 addresses (each may run twice while it is replaced), more than subnet 172.16.0.0/29 has (5); give the workload a /28 or wider',
    ],
    ["appEgress", server({ appEgress: "yes" as never }), 'orders": appEgress: "yes" is not true or false'],
    ["appMemoryMb", server({ appMemoryMb: 2 }), 'orders": appMemoryMb: 2 is not a whole number of MB'],
  ])(
    "refuses a bad %s with one line naming the component, before declaring anything",
    async (_arg, program, line) => {
      const { message, registrations } = await refusal(program, { preview: true });
      expect(message).toContain(`mtls:docker:MtlsWorkload "${line}`);
      expect(registrations).toEqual([]);
    },
  );

  it("names a missing identity field without quoting any PEM", async () => {
    const { message, registrations } = await refusal(
      server({ identity: { chainPem: leaf.chainPem, caBundlePem: caPem } as never }),
      { preview: true },
    );
    expect(message).toContain('mtls:docker:MtlsWorkload "orders": identity.privateKeyPem: is missing');
    expect(message).not.toContain("BEGIN");
    expect(registrations).toEqual([]);
  });
});

describe("MtlsService on further networks (what MtlsWorkload's sidecars are)", () => {
  const joined = (extra: Record<string, unknown>) => () =>
    new MtlsService("side", {
      image: "sha256:service",
      role: "server",
      identity: identity(),
      networkName: "net",
      aliases: ["side"],
      ...extra,
    });

  it("joins its network with its aliases, then each further network with its own", async () => {
    const run = await preview(
      joined({ additionalNetworks: [{ name: "private", aliases: ["tunnel"] }, { name: "other" }] }),
    );
    expect(run.child(TYPES.container, "side").inputs.networksAdvanced).toEqual([
      { name: "net", aliases: ["side"] },
      { name: "private", aliases: ["tunnel"] },
      { name: "other" },
    ]);
  });

  it("does not route between its networks", async () => {
    const run = await preview(joined({ additionalNetworks: [{ name: "private" }] }));
    expect(run.child(TYPES.container, "side").inputs.sysctls).toEqual({ "net.ipv4.ip_forward": "0" });
  });

  it("joins only its network without them, with its inputs as before (no sysctls)", async () => {
    const run = await preview(joined({}));
    expect(run.child(TYPES.container, "side").inputs.networksAdvanced).toEqual([
      { name: "net", aliases: ["side"] },
    ]);
    expect(run.child(TYPES.container, "side").inputs.sysctls).toBeUndefined();
  });

  it("refuses a further network without a name", async () => {
    const { message, registrations } = await refusal(joined({ additionalNetworks: [{ name: "" }] }), {
      preview: true,
    });
    expect(message).toContain(
      'mtls:docker:MtlsService "side": additionalNetworks[0].name: "" is empty; give the network\'s name',
    );
    expect(registrations).toEqual([]);
  });

  it("still requires networkName", async () => {
    const { message } = await refusal(joined({ networkName: undefined }), { preview: true });
    expect(message).toContain('mtls:docker:MtlsService "side": networkName: "" is empty; it is required');
  });
});
