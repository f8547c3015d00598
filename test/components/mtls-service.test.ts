/**
 * MtlsService's child contract and hardening, in preview under the emulated engine: no Docker engine
 * is needed, so these never skip. What the containers then do on a real engine is covered by the
 * docker emulation's tests and the end-to-end test.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { MtlsService, type MtlsServiceArgs } from "../../components/index.ts";
import { ENV, SERVICE_GID, SERVICE_UID } from "../../services/src/contract.ts";
import { createCa, issueLeaf, type Leaf } from "../support/pki-fixtures/pki.ts";
import { type ComponentRun, refusal, runComponents, TYPES } from "./harness.ts";

interface Upload {
  file: string;
  content: string;
  permissions: string;
  owner: string;
  group: string;
}

let leaf: Leaf;
let caPem: string;

beforeAll(async () => {
  const ca = await createCa({ commonName: "contract test CA" });
  caPem = ca.certPem;
  leaf = await issueLeaf(ca, { commonName: "api", purpose: "server", dnsNames: ["api"] });
});

const identity = () => ({ chainPem: leaf.chainPem, privateKeyPem: leaf.keyPem, caBundlePem: caPem });

function service(name: string, args: Partial<MtlsServiceArgs> = {}, opts?: pulumi.ComponentResourceOptions) {
  return new MtlsService(
    name,
    { image: "sha256:service", role: "server", identity: identity(), networkName: "net", ...args },
    opts,
  );
}

async function preview(program: () => void): Promise<ComponentRun> {
  return runComponents(
    () => {
      program();
      return {};
    },
    { preview: true },
  );
}

/** True when a secret wrapper sits anywhere inside the value the SDK sent. */
function containsSecret(value: unknown): boolean {
  if (pulumi.runtime.isRpcSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsSecret);
  return false;
}

describe("MtlsService children", () => {
  let run: ComponentRun;
  let component: string;
  beforeAll(async () => {
    run = await preview(() => service("api", { port: 8443 }));
    component = run.child(TYPES.service, "api").urn;
  });

  it("declares exactly a volume, a delivery container and the service container, named after the component", () => {
    const children = run.run.registrations.filter((r) => r.parent === component);
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      `${TYPES.container} api`,
      `${TYPES.container} api-delivery`,
      `${TYPES.volume} api-identity`,
    ]);
    expect(run.child(TYPES.service, "api").parent).toBeUndefined();
  });

  it("runs the service as 10001:10001 with a read-only root, no capabilities and no-new-privileges", () => {
    const inputs = run.child(TYPES.container, "api").inputs;
    expect(inputs.user).toBe(`${SERVICE_UID}:${SERVICE_GID}`);
    expect(inputs.user).toBe("10001:10001");
    expect(inputs.readOnly).toBe(true);
    expect(inputs.capabilities).toEqual({ drops: ["ALL"] });
    expect(inputs.securityOpts).toEqual(["no-new-privileges:true"]);
    expect(inputs.privileged).toBeUndefined();
  });

  it("limits memory to 256 MB with no swap (memorySwap equal to memory) and restarts always, so it survives a daemon crash", () => {
    const inputs = run.child(TYPES.container, "api").inputs;
    expect(inputs.memory).toBe(256);
    expect(inputs.memorySwap).toBe(inputs.memory);
    expect(inputs.restart).toBe("always");
    expect(inputs.logDriver).toBe("json-file");
    expect(inputs.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
  });

  it("mounts the identity volume read-only in the service and read-write only in the delivery container", () => {
    const service = run.child(TYPES.container, "api").inputs;
    const delivery = run.child(TYPES.container, "api-delivery").inputs;
    expect(service.mounts).toEqual([
      { type: "volume", source: expect.anything(), target: "/etc/mtls", readOnly: true },
    ]);
    expect(delivery.mounts).toEqual([{ type: "volume", source: expect.anything(), target: "/etc/mtls" }]);
  });

  it("publishes nothing unless asked", () => {
    expect(run.child(TYPES.container, "api").inputs.ports).toBeUndefined();
  });

  it("keeps the delivery container off every network and never starts it", () => {
    const delivery = run.child(TYPES.container, "api-delivery").inputs;
    expect(delivery.networkMode).toBe("none");
    expect(delivery.start).toBe(false);
    expect(delivery.mustRun).toBe(false);
    expect(delivery.image).toBe("sha256:service");
  });

  it("uploads the key 0400, the certificates and a server's policy file 0444, owned by 10001:10001, the key as a secret", () => {
    const uploads = run.child(TYPES.container, "api-delivery").inputs.uploads as Upload[];
    expect(
      uploads.map(({ file, permissions, owner, group }) => ({ file, permissions, owner, group })),
    ).toEqual([
      { file: "/etc/mtls/tls.crt", permissions: "0444", owner: "10001", group: "10001" },
      { file: "/etc/mtls/tls.key", permissions: "0400", owner: "10001", group: "10001" },
      { file: "/etc/mtls/ca.crt", permissions: "0444", owner: "10001", group: "10001" },
      { file: "/etc/mtls/policy.json", permissions: "0444", owner: "10001", group: "10001" },
    ]);
    expect(uploads.slice(0, 3).map((u) => u.content)).toEqual([leaf.chainPem, leaf.keyPem, caPem]);
    // No policy given: the file revokes nothing and leaves the allow-list and TLS policy to the
    // server's own defaults.
    expect(JSON.parse(uploads[3]!.content)).toEqual({ revokedSerials: [] });
    // The identity's key was given as a plain string: the component alone makes it secret (the SDK
    // then sends the whole uploads list as one secret).
    expect(run.isSecretInput(TYPES.container, "api-delivery", "uploads")).toBe(true);
  });

  it("gives the service container no certificate material at all", () => {
    const inputs = JSON.stringify(run.child(TYPES.container, "api").inputs);
    expect(inputs).not.toContain("BEGIN");
    expect(inputs).not.toContain(leaf.keyPem.split("\n")[1]);
  });

  it("points the service at the delivered files and checks its health with the image's command", () => {
    const inputs = run.child(TYPES.container, "api").inputs;
    expect(inputs.envs).toEqual([
      `${ENV.caFile}=/etc/mtls/ca.crt`,
      `${ENV.certFile}=/etc/mtls/tls.crt`,
      `${ENV.keyFile}=/etc/mtls/tls.key`,
      `${ENV.listen}=0.0.0.0:8443`,
      `${ENV.policyFile}=/etc/mtls/policy.json`,
    ]);
    expect(inputs.command).toEqual(["server"]);
    expect(inputs.healthcheck).toEqual({
      tests: ["CMD", "node", "/app/src/healthcheck.js"],
      interval: "5s",
      timeout: "3s",
      startPeriod: "10s",
      retries: 3,
    });
    expect(inputs.wait).toBe(true);
  });

  it("starts the service container after the delivery container, replaces it create-first (a new health check too) and gives the old one time to drain", () => {
    const { options, inputs } = run.child(TYPES.container, "api");
    const delivery = run.child(TYPES.container, "api-delivery").urn;
    expect(options.dependencies).toContain(delivery);
    expect(options.replaceOnChanges).toEqual(["healthcheck"]);
    // Set, and false: the engine then takes it over the provider's delete-first.
    expect(options.deleteBeforeReplaceDefined).toBe(true);
    expect(options.deleteBeforeReplace).toBe(false);
    expect(inputs.name).toBeUndefined();
    // The services drain for up to 10 s (MTLS_SHUTDOWN_TIMEOUT_MS); Docker waits that and a margin.
    expect(inputs.destroyGraceSeconds).toBe(15);
  });

  it("replaces a service container with a fixed name delete-first: two containers cannot share a name", async () => {
    const named = await preview(() => service("named", { containerName: "mtls-named" }));
    const { options, inputs } = named.child(TYPES.container, "named");
    expect(inputs.name).toBe("mtls-named");
    expect(options.deleteBeforeReplace).toBe(true);
  });
});

describe("a published MtlsService", () => {
  let run: ComponentRun;
  beforeAll(async () => {
    run = await preview(() =>
      service("api", {
        publish: { hostPort: 9443 },
        port: 8443,
        aliases: ["api", "api.internal"],
        deliveryImage: "sha256:delivery",
        frontImage: "sha256:front",
      }),
    );
  });

  it("declares a front named after the component, and the service container beside it as <name>-service", () => {
    const component = run.child(TYPES.service, "api").urn;
    const children = run.run.registrations.filter((r) => r.parent === component);
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      `${TYPES.container} api`,
      `${TYPES.container} api-delivery`,
      `${TYPES.container} api-service`,
      `${TYPES.volume} api-identity`,
    ]);
  });

  it("puts the published port, on 127.0.0.1 only, on the front, and none on the service container", () => {
    expect(run.child(TYPES.container, "api").inputs.ports).toEqual([
      { internal: 8443, external: 9443, ip: "127.0.0.1" },
    ]);
    expect(run.child(TYPES.container, "api-service").inputs.ports).toBeUndefined();
  });

  it("has the front forward to the server's first alias, which both the old and the new server answer during a replacement", () => {
    const front = run.child(TYPES.container, "api").inputs;
    expect(front.envs).toEqual(["MTLS_FRONT_LISTEN=0.0.0.0:8443", "MTLS_FRONT_TARGET=api:8443"]);
    expect(front.networksAdvanced).toEqual([{ name: "net" }]);
    expect(run.child(TYPES.container, "api-service").inputs.networksAdvanced).toEqual([
      { name: "net", aliases: ["api", "api.internal"] },
    ]);
  });

  it("runs the front from frontImage, as a hardened container of its own that waits to be healthy", () => {
    const front = run.child(TYPES.container, "api").inputs;
    expect(front.image).toBe("sha256:front");
    expect((front.entrypoints as string[]).slice(0, 2)).toEqual(["node", "-e"]);
    expect(front.user).toBe("10001:10001");
    expect(front.readOnly).toBe(true);
    expect(front.capabilities).toEqual({ drops: ["ALL"] });
    expect(front.securityOpts).toEqual(["no-new-privileges:true"]);
    expect(front.memory).toBe(front.memorySwap);
    expect(front.restart).toBe("always");
    expect(front.networkMode).toBeUndefined();
    expect(front.wait).toBe(true);
  });

  it("starts the front after the server, replaces the front delete-first (it holds the port) and the server create-first", () => {
    const front = run.child(TYPES.container, "api").options;
    const server = run.child(TYPES.container, "api-service");
    expect(front.dependencies).toContain(server.urn);
    expect(front.deleteBeforeReplace).toBe(true);
    expect(server.options.deleteBeforeReplace).toBe(false);
  });

  it("runs the front from deliveryImage without frontImage, and gives a server without aliases its name as one", async () => {
    const bare = await preview(() => service("bare", { publish: {}, deliveryImage: "sha256:delivery" }));
    expect(bare.child(TYPES.container, "bare").inputs.image).toBe("sha256:delivery");
    expect(bare.child(TYPES.container, "bare").inputs.envs).toContain("MTLS_FRONT_TARGET=bare:8443");
    expect(bare.child(TYPES.container, "bare-service").inputs.networksAdvanced).toEqual([
      { name: "net", aliases: ["bare"] },
    ]);
  });
});

describe("MtlsService args", () => {
  it("puts the server's access policy in its delivered policy file, never in the service's environment", async () => {
    const run = await preview(() =>
      service("api", {
        port: 9000,
        allowedClients: ["billing", "reports"],
        tlsPolicy: "intermediate",
        revokedSerials: ["serial=0A1B", "00:ff:01", "a1b"],
      }),
    );
    const envs = run.child(TYPES.container, "api").inputs.envs as string[];
    expect(envs).toContain(`${ENV.listen}=0.0.0.0:9000`);
    expect(envs.filter((e) => e.startsWith(ENV.allowedClients) || e.startsWith(ENV.tlsPolicy))).toEqual([]);
    const uploads = run.child(TYPES.container, "api-delivery").inputs.uploads as Upload[];
    const policy = uploads.find((u) => u.file === "/etc/mtls/policy.json");
    // Serials in the services' canonical form, each once, sorted: writing one another way is no change.
    expect(JSON.parse(policy!.content)).toEqual({
      allowedClients: ["billing", "reports"],
      revokedSerials: ["A1B", "FF01"],
      tlsPolicy: "intermediate",
    });
  });

  it("delivers no policy file to a client", async () => {
    const run = await preview(() =>
      service("billing", { role: "client", serverUrl: "https://api:8443", waitUntilHealthy: false }),
    );
    const uploads = run.child(TYPES.container, "billing-delivery").inputs.uploads as Upload[];
    expect(uploads.map((u) => u.file)).toEqual([
      "/etc/mtls/tls.crt",
      "/etc/mtls/tls.key",
      "/etc/mtls/ca.crt",
    ]);
    expect(run.child(TYPES.container, "billing").inputs.envs).not.toContain(
      `${ENV.policyFile}=/etc/mtls/policy.json`,
    );
  });

  it("turns a client's server URL into its environment, and lets env override", async () => {
    const run = await preview(() =>
      service("billing", {
        role: "client",
        serverUrl: "https://api:8443",
        env: { [ENV.intervalMs]: "1000" },
        waitUntilHealthy: false,
        aliases: ["billing"],
      }),
    );
    const inputs = run.child(TYPES.container, "billing").inputs;
    expect(inputs.envs).toEqual(
      expect.arrayContaining([`${ENV.serverUrl}=https://api:8443`, `${ENV.intervalMs}=1000`]),
    );
    expect(inputs.command).toEqual(["client"]);
    expect(inputs.wait).toBe(false);
    expect(inputs.networksAdvanced).toEqual([{ name: "net", aliases: ["billing"] }]);
  });

  it("runs the delivery container from deliveryImage when given, the service from image", async () => {
    const run = await preview(() => service("api", { deliveryImage: "sha256:delivery" }));
    expect(run.child(TYPES.container, "api-delivery").inputs.image).toBe("sha256:delivery");
    expect(run.child(TYPES.container, "api").inputs.image).toBe("sha256:service");
  });

  it("keeps a secret key secret when it is passed as a secret Output", async () => {
    const run = await preview(() =>
      service("api", { identity: { ...identity(), privateKeyPem: pulumi.secret(leaf.keyPem) } }),
    );
    expect(containsSecret(run.engine.rawInputs.get(`${TYPES.container}::api-delivery`)!.uploads)).toBe(true);
    expect(containsSecret(run.engine.rawInputs.get(`${TYPES.container}::api`))).toBe(false);
  });
});

describe("MtlsService bad input", () => {
  it.each<[string, Partial<MtlsServiceArgs>, string]>([
    ["memoryMb", { memoryMb: 2 }, "memoryMb: 2 is not a whole number of MB of at least 6"],
    ["restart", { restart: "sometimes" as never }, 'restart: "sometimes" is not one of no, on-failure'],
    ["role", { role: "proxy" as never }, 'role: "proxy" is not one of server, client'],
    ["publish.hostPort", { publish: { hostPort: 70000 } }, "publish.hostPort: 70000 is not a port"],
    [
      "publish",
      { role: "client", serverUrl: "https://api:8443", publish: {} },
      "publish: is for a server; this is a client",
    ],
    ["tlsPolicy", { tlsPolicy: "legacy" as never }, 'tlsPolicy: "legacy" is not one of modern, intermediate'],
    ["allowedClients", { allowedClients: [] }, "allowedClients: [] names no client"],
    ["allowedClients", { allowedClients: ["a,b"] }, 'allowedClients: "a,b" is not a client name'],
    ["aliases", { aliases: ["not a name"] }, 'aliases: "not a name" is not a DNS name'],
    [
      "revokedSerials",
      { revokedSerials: ["0A:1G"] },
      'revokedSerials: "0A:1G" is not a hexadecimal serial number',
    ],
    [
      "revokedSerials",
      { role: "client", serverUrl: "https://api:8443", revokedSerials: ["0A"] },
      "revokedSerials: is for a server; this is a client",
    ],
    [
      "serverUrl",
      { role: "client", serverUrl: "http://api:8443" },
      'serverUrl: "http://api:8443" is not an https:// URL',
    ],
    ["serverUrl", { serverUrl: "https://api:8443" }, "serverUrl: is for a client; this is a server"],
    ["image", { image: "" }, 'image: "" is empty; it is required'],
  ])(
    "refuses a bad %s with one line naming the component, before declaring anything",
    async (_arg, args, line) => {
      const { message, registrations } = await refusal(() => service("api", args), { preview: true });
      expect(message).toContain(`mtls:docker:MtlsService "api": ${line}`);
      expect(registrations).toEqual([]);
    },
  );

  it("names a missing identity field without quoting any PEM", async () => {
    const { message, registrations } = await refusal(
      () => service("api", { identity: { chainPem: leaf.chainPem, caBundlePem: caPem } as never }),
      { preview: true },
    );
    expect(message).toContain('mtls:docker:MtlsService "api": identity.privateKeyPem: is missing');
    expect(message).not.toContain("BEGIN");
    expect(registrations).toEqual([]);
  });

  it("checks an Output-valued arg when it resolves and fails the run with the same line", async () => {
    const { message } = await refusal(() => service("api", { memoryMb: pulumi.output(1) }), {
      preview: true,
    });
    expect(message).toContain('mtls:docker:MtlsService "api": memoryMb: 1 is not a whole number of MB');
  });
});
