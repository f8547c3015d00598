/**
 * MtlsWorkload's child contract, in preview under the emulated engine (no Docker engine needed, so
 * these never skip): a pause container owns the namespace and the network, the sidecars (MtlsService
 * children, identities delivered as MtlsService delivers them) and the app join it by the owner's
 * id, the sidecars' environment makes them a reverse proxy / TCP pipe or tunnels, the app is
 * hardened as far as an arbitrary image allows, and bad args are refused in one line each. That the
 * id really is the owner's, and traffic flows only through mTLS, is test/e2e/sidecar.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MtlsService, MtlsWorkload, type MtlsWorkloadArgs, PAUSE_SCRIPT } from "../../components/index.ts";
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
  appImage: "example/orders:1",
  appPort: 8080,
});

const clientArgs = (): MtlsWorkloadArgs => ({
  role: "client",
  image: "sha256:service",
  identity: identity(),
  networkName: "net",
  appImage: "example/billing:1",
  calls: [
    { name: "orders", serverUrl: "https://orders:8443", localPort: 15001 },
    { name: "stock", serverUrl: "https://stock:8443", localPort: 15002 },
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

describe("MtlsWorkload, server role", () => {
  let run: ComponentRun;
  beforeAll(async () => {
    run = await preview(() => new MtlsWorkload("orders", { ...serverArgs(), publish: { hostPort: 9443 } }));
  });

  it("declares a pause container, one server sidecar (an MtlsService) and the app, named after the component", () => {
    const component = run.child(WORKLOAD, "orders").urn;
    expect(childrenOf(run, component)).toEqual([
      `${TYPES.container} orders-app`,
      `${TYPES.container} orders-pause`,
      `${TYPES.service} orders-sidecar`,
    ]);
    // The sidecar's identity is delivered exactly as any MtlsService's.
    expect(childrenOf(run, run.child(TYPES.service, "orders-sidecar").urn)).toEqual([
      `${TYPES.container} orders-sidecar`,
      `${TYPES.container} orders-sidecar-delivery`,
      `${TYPES.volume} orders-sidecar-identity`,
    ]);
  });

  it("lets the pause container own the network, the aliases and the published port, and do nothing", () => {
    const owner = run.child(TYPES.container, "orders-pause").inputs;
    expect(owner.networksAdvanced).toEqual([{ name: "net", aliases: ["orders"] }]);
    expect(owner.ports).toEqual([{ internal: 8443, external: 9443, ip: "127.0.0.1" }]);
    expect(owner.entrypoints).toEqual(["node", "-e", PAUSE_SCRIPT]);
    expect(PAUSE_SCRIPT).toContain('"SIGTERM"');
    // The delivery image does not change with the services' code: the owner outlives their updates.
    expect(owner.image).toBe("sha256:delivery");
    expect(owner.user).toBe(`${SERVICE_UID}:${SERVICE_GID}`);
    expect(owner.readOnly).toBe(true);
    expect(owner.capabilities).toEqual({ drops: ["ALL"] });
  });

  it("joins the sidecar and the app to the owner's namespace by its id, and neither to a network", () => {
    const ownerUrn = run.child(TYPES.container, "orders-pause").urn;
    for (const name of ["orders-sidecar", "orders-app"]) {
      const joiner = run.child(TYPES.container, name);
      // The owner's id is unknown in preview, and so is the value computed from it (container:<id>):
      // not "bridge", not a name. test/e2e/sidecar.test.ts reads the real ids back from Docker.
      expect(isUnknownValue(joiner.inputs.networkMode)).toBe(true);
      expect(joiner.options.dependencies).toContain(ownerUrn);
      expect(joiner.inputs.networksAdvanced).toBeUndefined();
      expect(joiner.inputs.ports).toBeUndefined();
    }
  });

  it("makes the sidecar a reverse proxy to the app on the namespace's loopback", () => {
    const envs = run.child(TYPES.container, "orders-sidecar").inputs.envs as string[];
    expect(envs).toEqual(
      expect.arrayContaining([`${ENV.upstream}=http://127.0.0.1:8080`, `${ENV.listen}=0.0.0.0:8443`]),
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

  it("pipes TCP with protocol tcp", async () => {
    const tcp = await preview(
      () => new MtlsWorkload("db", { ...serverArgs(), protocol: "tcp", appPort: 5432 }),
    );
    expect(tcp.child(TYPES.container, "db-sidecar").inputs.envs).toContain(
      `${ENV.upstream}=tcp://127.0.0.1:5432`,
    );
  });

  it("hardens the app by default as far as any image allows, and tells it its port", () => {
    const app = run.child(TYPES.container, "orders-app").inputs;
    expect(app.image).toBe("example/orders:1");
    expect(app.user).toBeUndefined(); // the image's own user
    expect(app.readOnly).toBe(false);
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

  it("takes the app's user, read-only root, capabilities, memory, command and env from its args", async () => {
    const custom = await preview(
      () =>
        new MtlsWorkload("orders", {
          ...serverArgs(),
          appUser: "1000:1000",
          appReadOnly: true,
          appDropCapabilities: false,
          appMemoryMb: 512,
          appCommand: ["serve", "--port", "8080"],
          appEnv: { LOG_LEVEL: "debug", MTLS_APP_PORT: "8080" },
        }),
    );
    const app = custom.child(TYPES.container, "orders-app").inputs;
    expect(app.user).toBe("1000:1000");
    expect(app.readOnly).toBe(true);
    expect(app.capabilities ?? {}).toEqual({});
    expect(app.memory).toBe(512);
    expect(app.command).toEqual(["serve", "--port", "8080"]);
    expect(app.envs).toEqual(["LOG_LEVEL=debug", "MTLS_APP_PORT=8080"]);
  });

  it("keeps the private key a secret, only in the delivery container", () => {
    expect(run.isSecretInput(TYPES.container, "orders-sidecar-delivery", "uploads")).toBe(true);
    const keyLine = leaf.keyPem.split("\n")[1]!;
    for (const name of ["orders-pause", "orders-sidecar", "orders-app"]) {
      expect(JSON.stringify(run.child(TYPES.container, name).inputs)).not.toContain(keyLine);
    }
  });
});

describe("MtlsWorkload, client role", () => {
  let run: ComponentRun;
  beforeAll(async () => {
    run = await preview(() => new MtlsWorkload("billing", clientArgs()));
  });

  it("declares one tunnel sidecar per call, named <workload>-to-<call>", () => {
    expect(childrenOf(run, run.child(WORKLOAD, "billing").urn)).toEqual([
      `${TYPES.container} billing-app`,
      `${TYPES.container} billing-pause`,
      `${TYPES.service} billing-to-orders`,
      `${TYPES.service} billing-to-stock`,
    ]);
    expect(run.child(TYPES.container, "billing-pause").inputs.image).toBe("sha256:service");
    expect(run.child(TYPES.container, "billing-pause").inputs.ports).toEqual([]);
  });

  it("makes each sidecar a loopback tunnel to its server, with a status port of its own", () => {
    const orders = run.child(TYPES.container, "billing-to-orders").inputs;
    const stock = run.child(TYPES.container, "billing-to-stock").inputs;
    expect(orders.command).toEqual(["client"]);
    expect(orders.envs).toEqual(
      expect.arrayContaining([
        `${ENV.localListen}=127.0.0.1:15001`,
        `${ENV.serverUrl}=https://orders:8443`,
        `${ENV.statusListen}=127.0.0.1:9091`,
      ]),
    );
    expect(stock.envs).toEqual(
      expect.arrayContaining([
        `${ENV.localListen}=127.0.0.1:15002`,
        `${ENV.serverUrl}=https://stock:8443`,
        `${ENV.statusListen}=127.0.0.1:9092`,
      ]),
    );
    const ownerUrn = run.child(TYPES.container, "billing-pause").urn;
    for (const name of ["billing-to-orders", "billing-to-stock", "billing-app"]) {
      expect(run.child(TYPES.container, name).options.dependencies).toContain(ownerUrn);
      expect(run.child(TYPES.container, name).inputs.networksAdvanced).toBeUndefined();
    }
  });

  it("tells the app where each tunnel listens", () => {
    expect(run.child(TYPES.container, "billing-app").inputs.envs).toEqual([
      "MTLS_TUNNEL_ORDERS=127.0.0.1:15001",
      "MTLS_TUNNEL_STOCK=127.0.0.1:15002",
    ]);
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
    ["role", server({ role: "proxy" as never }), 'orders": role: "proxy" is not one of server, client'],
    ["appImage", server({ appImage: "" }), 'orders": appImage: "" is empty; it is required'],
    ["appPort", server({ appPort: undefined }), 'orders": appPort: is missing'],
    ["appPort", server({ appPort: 70000 }), 'orders": appPort: 70000 is not a port'],
    [
      "appPort",
      server({ appPort: 8443 }),
      'orders": appPort: 8443 is taken in the shared namespace by the sidecar',
    ],
    ["appPort", server({ appPort: 9090 }), 'orders": appPort: 9090 is taken in the shared namespace'],
    ["protocol", server({ protocol: "udp" as never }), 'orders": protocol: "udp" is not one of http, tcp'],
    ["calls", server({ calls: [call("x", 1)] }), 'orders": calls: is for a client; this is a server'],
    ["appPort", client({ appPort: 8080 }), 'billing": appPort: is for a server; this is a client'],
    ["calls", client({ calls: [] }), 'billing": calls: is empty'],
    [
      "calls[1].localPort",
      client({ calls: [call("orders", 15001), call("stock", 15001)] }),
      'billing": calls[1].localPort: 15001 is already the local port of another call',
    ],
    [
      "calls[1].name",
      client({ calls: [call("orders", 15001), call("orders", 15002)] }),
      'billing": calls[1].name: "orders" is listed more than once',
    ],
    [
      "calls[0].serverUrl",
      client({ calls: [call("orders", 15001, "http://orders:8080")] }),
      'billing": calls[0].serverUrl: "http://orders:8080" is not an https:// URL',
    ],
    [
      "calls[0].localPort",
      client({ calls: [call("orders", 9091)] }),
      "billing\": calls[0].localPort: 9091 is taken by a tunnel's status listener",
    ],
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

describe("MtlsService joined to a namespace owner (what MtlsWorkload's sidecars are)", () => {
  const joined = (extra: Record<string, unknown>) => () =>
    new MtlsService("side", {
      image: "sha256:service",
      role: "server",
      identity: identity(),
      namespaceOwnerId: "f".repeat(64),
      ...extra,
    });

  it("joins by the id it is given and attaches to no network", async () => {
    const run = await preview(joined({}));
    const inputs = run.child(TYPES.container, "side").inputs;
    expect(inputs.networkMode).toBe(`container:${"f".repeat(64)}`);
    expect(inputs.networksAdvanced).toBeUndefined();
  });

  it.each([
    ["networkName", { networkName: "net" }],
    ["aliases", { aliases: ["side"] }],
    ["publish", { publish: { hostPort: 9443 } }],
  ])("refuses %s beside namespaceOwnerId: the owner holds the network", async (arg, extra) => {
    const { message, registrations } = await refusal(joined(extra), { preview: true });
    expect(message).toContain(
      `mtls:docker:MtlsService "side": ${arg}: is set on the namespace owner when namespaceOwnerId is given`,
    );
    expect(registrations).toEqual([]);
  });

  it("still requires networkName without namespaceOwnerId", async () => {
    const { message } = await refusal(joined({ namespaceOwnerId: undefined }), { preview: true });
    expect(message).toContain('mtls:docker:MtlsService "side": networkName: "" is empty; it is required');
  });
});
