/**
 * Each component of the package constructed as a program in another language gets it:
 * ComponentProvider.construct() with the inputs as they cross the wire (test/plugin/support/
 * construct.ts), under the emulated engine. The PKI runs as `pulumi up` (real keys and
 * certificates, in-process); the Docker components as `pulumi preview` (no Docker engine needed).
 *
 * What a consumer sees: the outputs the schema lists, the private keys only as secrets, and for
 * the same args the very resources the TypeScript library declares. What a consumer with bad args
 * sees: the TypeScript library's one-line refusal, and nothing declared.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  MtlsPki as LibraryMtlsPki,
  MtlsService as LibraryMtlsService,
  MtlsSwarmService as LibraryMtlsSwarmService,
  MtlsWorkload as LibraryMtlsWorkload,
  ServiceImage as LibraryServiceImage,
  ServiceNetwork as LibraryServiceNetwork,
} from "../../components/index.ts";
import { type ProgramRun, type Registration, runProgram } from "../../emulation/index.ts";
import { newEngine, TYPES } from "../components/harness.ts";
import {
  type Constructed,
  construct,
  isSecretOnTheWire,
  newProvider,
  ROOT,
  settleRegistrations,
} from "./support/construct.ts";

const schema = JSON.parse(readFileSync(path.join(ROOT, "plugin/schema.json"), "utf8"));
const provider = newProvider();

const PLUGIN = {
  pki: "mtls-pki:index:MtlsPki",
  service: "mtls-pki:index:MtlsService",
  image: "mtls-pki:index:ServiceImage",
  network: "mtls-pki:index:ServiceNetwork",
} as const;

interface IssuedIdentity {
  workload: string;
  profile: string;
  certPem: string;
  chainPem: string;
  caBundlePem: string;
  spiffeId: string;
  serialNumber: string;
  fingerprintSha256: string;
  notAfter: string;
  renewalDueAt: string;
}

async function runConstructs(
  program: () => Promise<Record<string, unknown>>,
  preview = false,
): Promise<ProgramRun> {
  return runProgram({ engine: newEngine(), project: "mtls-pki", stack: "test", preview, program });
}

function outputNames(token: string): string[] {
  return Object.keys(schema.resources[token].properties).sort();
}

describe("MtlsPki constructed for another language (pulumi up)", () => {
  let run: ProgramRun;
  let pki: Constructed;
  let identities: Record<string, IssuedIdentity>;
  let privateKeys: Record<string, string>;

  beforeAll(async () => {
    run = await runConstructs(async () => {
      pki = await construct(provider, "MtlsPki", "pki", {
        trustDomain: "example.internal",
        subject: { organization: "Example" },
        intermediateCa: true,
        servers: [{ name: "api", dnsNames: ["api", "api.example.internal"] }],
        clients: ["worker"],
      });
      return pki.outputs;
    });
    identities = run.exports.identities as typeof identities;
    privateKeys = run.exports.privateKeys as typeof privateKeys;
  }, 180_000);

  it("returns exactly the outputs the schema lists", () => {
    expect(Object.keys(pki.outputs).sort()).toEqual(outputNames(PLUGIN.pki));
    expect(Object.keys(pki.wire).sort()).toEqual(outputNames(PLUGIN.pki));
  });

  it("issues every named identity, its chain verifying against the CA bundle it outputs", () => {
    expect(Object.keys(identities).sort()).toEqual(["api", "worker"]);
    for (const [name, identity] of Object.entries(identities)) {
      const [leaf, intermediate] = identity.chainPem
        .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!
        .map((pem) => new X509Certificate(pem));
      const root = new X509Certificate(identity.caBundlePem);
      expect(leaf!.verify(intermediate!.publicKey), name).toBe(true);
      expect(intermediate!.verify(root.publicKey), name).toBe(true);
      expect(leaf!.subject, name).toContain(`CN=${name}`);
      expect(identity.spiffeId).toBe(`spiffe://example.internal/${name}`);
      expect(identity.serialNumber).toBe(leaf!.serialNumber.toUpperCase());
      expect(identity.fingerprintSha256).toBe(leaf!.fingerprint256);
      expect(identity.notAfter).toBe(new Date(leaf!.validTo).toISOString());
      expect(new X509Certificate(identity.certPem).serialNumber).toBe(leaf!.serialNumber);
    }
    expect(identities.api!.profile).toBe("server");
    expect(identities.worker!.profile).toBe("client");
    expect(new X509Certificate(identities.api!.certPem).subjectAltName).toBe(
      "DNS:api, DNS:api.example.internal, IP Address:127.0.0.1, URI:spiffe://example.internal/api",
    );
    expect(run.exports.caBundlePem).toBe(identities.api!.caBundlePem);
    expect(run.exports.generations).toEqual(["1"]);
    expect(run.exports.issuingGeneration).toBe("1");
  });

  it("hands each private key only in privateKeys, a secret for the consumer, matching its certificate", () => {
    expect(run.isSecret("privateKeys")).toBe(true);
    expect(isSecretOnTheWire(pki.wire.privateKeys)).toBe(true);
    for (const name of ["identities", "roots", "rootCertPem", "caBundlePem", "generations"]) {
      expect(run.isSecret(name), name).toBe(false);
      expect(isSecretOnTheWire(pki.wire[name]), name).toBe(false);
    }
    expect(JSON.stringify(run.exports.identities)).not.toMatch(/PRIVATE KEY/);
    for (const [name, identity] of Object.entries(identities)) {
      const key = createPrivateKey(privateKeys[name]!);
      expect(new X509Certificate(identity.certPem).checkPrivateKey(key), name).toBe(true);
    }
  });

  it("declares the library's PKI under it, its children named as a TypeScript program names them", () => {
    const byUrn = new Map(run.registrations.map((r) => [r.urn, r]));
    const tree = run.registrations.map(
      (r) => `${r.type} ${r.name} < ${byUrn.get(r.parent ?? "")?.name ?? "-"}`,
    );
    expect(tree).toEqual(
      expect.arrayContaining([
        `${PLUGIN.pki} pki < -`,
        `${TYPES.pki} pki < pki`,
        `${TYPES.selfSigned} pki-root < pki`,
        `${TYPES.signed} pki-intermediate < pki`,
        `${TYPES.identity} pki-api < pki`,
        `${TYPES.identity} pki-worker < pki`,
        `${TYPES.signed} pki-api-cert < pki-api`,
        `${TYPES.key} pki-worker-key < pki-worker`,
      ]),
    );
    const twin = run.registrations.find((r) => r.type === PLUGIN.pki)!;
    expect(pki.urn).toBe(twin.urn);
  });
});

/** A value with Docker's auto-names (`<logical name>-<7 hex>`, random per run) made comparable. */
function withoutAutoNames(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/-[0-9a-f]{7}\b/g, "-<auto>"));
}

/** The custom resources of a run, as the providers see them: type, name and inputs. */
function declared(run: ProgramRun): Array<{ type: string; name: string; inputs: unknown }> {
  return run.registrations
    .filter((r) => r.custom)
    .map((r) => ({ type: r.type, name: r.name, inputs: withoutAutoNames(r.inputs) }))
    .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
}

describe("the services' components constructed for another language (pulumi preview)", () => {
  let viaPlugin: ProgramRun;
  let inTypeScript: ProgramRun;
  let constructed: Record<string, Constructed>;

  beforeAll(async () => {
    viaPlugin = await runConstructs(async () => {
      const pki = await construct(provider, "MtlsPki", "pki", {
        servers: [{ name: "api" }],
        clients: ["worker"],
      });
      const image = await construct(provider, "ServiceImage", "services", { baseImage: "node:24-slim" });
      const network = await construct(provider, "ServiceNetwork", "mtls", {});
      // What a consumer writes as `pki.identities["api"].chainPem` and so on.
      const identity = (name: string) => ({
        chainPem: pki.outputs.identities!.apply(
          (all) => (all as Record<string, IssuedIdentity>)[name]!.chainPem,
        ),
        privateKeyPem: pki.outputs.privateKeys!.apply((all) => (all as Record<string, string>)[name]!),
        caBundlePem: pki.outputs.caBundlePem,
      });
      const common = { image: image.outputs.repoDigest, networkName: network.outputs.networkName };
      const api = await construct(provider, "MtlsService", "api", {
        ...common,
        role: "server",
        identity: identity("api"),
        aliases: ["api"],
        allowedClients: ["worker"],
        tlsPolicy: "intermediate",
        publish: { hostPort: 9443 },
      });
      const worker = await construct(provider, "MtlsService", "worker", {
        ...common,
        role: "client",
        identity: identity("worker"),
        serverUrl: "https://api:8443",
        restart: "on-failure",
      });
      constructed = { pki, image, network, api, worker };
      return {};
    }, true);
    inTypeScript = await runConstructs(async () => {
      const pki = new LibraryMtlsPki("pki", {});
      const api = pki.issueServer("api");
      const worker = pki.issueClient("worker");
      const image = new LibraryServiceImage("services", { baseImage: "node:24-slim" });
      const network = new LibraryServiceNetwork("mtls");
      const common = { image: image.repoDigest, networkName: network.name };
      new LibraryMtlsService("api", {
        ...common,
        role: "server",
        identity: api,
        aliases: ["api"],
        allowedClients: ["worker"],
        tlsPolicy: "intermediate",
        publish: { hostPort: 9443 },
      });
      new LibraryMtlsService("worker", {
        ...common,
        role: "client",
        identity: worker,
        serverUrl: "https://api:8443",
        restart: "on-failure",
      });
      return {};
    }, true);
  }, 180_000);

  it("declares, for the same args, exactly the resources the TypeScript library declares", () => {
    expect(declared(viaPlugin)).toEqual(declared(inTypeScript));
    // Each service's container and delivery container, and the published server's front.
    expect(declared(viaPlugin).filter((r) => r.type === TYPES.container)).toHaveLength(5);
  });

  it("nests each library component under the component of the same name", () => {
    const byUrn = new Map(viaPlugin.registrations.map((r) => [r.urn, r]));
    const parentOf = (type: string, name: string) => {
      const registration = viaPlugin.registrations.find((r) => r.type === type && r.name === name);
      return registration && byUrn.get(registration.parent ?? "");
    };
    expect(parentOf(TYPES.service, "api")?.type).toBe(PLUGIN.service);
    expect(parentOf(TYPES.serviceImage, "services")?.type).toBe(PLUGIN.image);
    expect(parentOf(TYPES.network, "mtls")?.type).toBe(PLUGIN.network);
    expect(parentOf(TYPES.container, "api-delivery")?.type).toBe(TYPES.service);
  });

  it("returns exactly the outputs the schema lists for each", () => {
    for (const [name, token] of [
      ["image", PLUGIN.image],
      ["network", PLUGIN.network],
      ["api", PLUGIN.service],
      ["worker", PLUGIN.service],
    ] as const) {
      const outputs = Object.keys(constructed[name]!.outputs).filter(
        (key) => constructed[name]!.outputs[key],
      );
      const required = schema.resources[token].required as string[];
      expect(outputs.sort(), name).toEqual(expect.arrayContaining(required));
      expect(outputNames(token), name).toEqual(expect.arrayContaining(outputs));
    }
  });
});

interface Refusal {
  message: string;
  registrations: readonly Registration[];
}

/**
 * Runs a program that must fail. `settle`: wait, after the failure, for every registration started
 * before it (so a component that registered itself before refusing is seen); not after a failed
 * Output, which leaves the registrations that wait on it pending for good.
 */
async function refused(program: () => Promise<unknown>, preview = true, settle = preview): Promise<Refusal> {
  const engine = newEngine();
  const error = await runProgram({
    engine,
    project: "mtls-pki",
    stack: "test",
    preview,
    program: async () => {
      try {
        await program();
      } catch (error) {
        if (settle) await settleRegistrations();
        throw error;
      }
      return {};
    },
  }).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  if (!error) throw new Error("expected the program to fail");
  return { message: error.message, registrations: engine.registrations };
}

const PEMS = { chainPem: "chain", privateKeyPem: "key", caBundlePem: "bundle" };
const SERVICE = { image: "sha256:img", networkName: "net", identity: PEMS };
const WORKLOAD = { ...SERVICE, appImage: "my/app" };

describe("bad args, refused as the TypeScript library refuses them", () => {
  const cases: Array<[string, string, Record<string, unknown>, () => unknown]> = [
    [
      "MtlsPki",
      "a P-224 key",
      { keyAlgorithm: "ECDSA-P224" },
      () => new LibraryMtlsPki("pki", { keyAlgorithm: "ECDSA-P224" }),
    ],
    [
      "MtlsPki",
      "a leaf outliving its CA, and a bad trust domain",
      { leafValidityHours: 50000, trustDomain: "Example.com" },
      () => new LibraryMtlsPki("pki", { leafValidityHours: 50000, trustDomain: "Example.com" }),
    ],
    [
      "MtlsService",
      "too little memory and an unknown role",
      { ...SERVICE, role: "proxy", memoryMb: 2 },
      () => new LibraryMtlsService("pki", { ...SERVICE, role: "proxy" as "server", memoryMb: 2 }),
    ],
    [
      "MtlsService",
      "a server's arg on a client, and an unknown restart policy",
      { ...SERVICE, role: "client", tlsPolicy: "modern", restart: "sometimes" },
      () =>
        new LibraryMtlsService("pki", {
          ...SERVICE,
          role: "client",
          tlsPolicy: "modern",
          restart: "sometimes" as "always",
        }),
    ],
    [
      "MtlsWorkload",
      "a server without its app's port",
      { ...WORKLOAD, role: "server" },
      () => new LibraryMtlsWorkload("pki", { ...WORKLOAD, role: "server" }),
    ],
    [
      "MtlsSwarmService",
      "no replicas",
      { image: "sha256:img", networkId: "abc", identity: PEMS, role: "server", replicas: 0 },
      () =>
        new LibraryMtlsSwarmService("pki", {
          image: "sha256:img",
          networkId: "abc",
          identity: PEMS,
          role: "server",
          replicas: 0,
        }),
    ],
    [
      "ServiceImage",
      "a platform without an OS",
      { platform: "amd64" },
      () => new LibraryServiceImage("pki", { platform: "amd64" }),
    ],
    [
      "ServiceNetwork",
      "a network name with a space",
      { networkName: "my net" },
      () => new LibraryServiceNetwork("pki", { networkName: "my net" }),
    ],
  ];

  it.each(cases)(
    "%s with %s: the library's lines, nothing declared",
    async (component, _what, inputs, library) => {
      const fromPlugin = await refused(() => construct(provider, component, "pki", inputs));
      const fromTypeScript = await refused(async () => library());
      expect(fromPlugin.message).toBe(fromTypeScript.message);
      expect(fromPlugin.message.split("\n").length).toBeGreaterThan(1);
      expect(fromPlugin.registrations).toEqual([]);
    },
  );

  it("MtlsPki names the entry of servers or clients that is wrong", async () => {
    const { message, registrations } = await refused(() =>
      construct(provider, "MtlsPki", "pki", {
        servers: [{ name: "api" }, { name: "Web", dnsNames: ["web..internal"] }, { name: "root" }],
        clients: ["api"],
      }),
    );
    expect(message.split("\n").slice(1)).toEqual([
      'mtls:pki:MtlsPki "pki": servers[1].name: "Web" is not a valid name (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit: it becomes a DNS name)',
      'mtls:pki:MtlsPki "pki": servers[1].dnsNames: "web..internal" is not a DNS name (labels of letters, digits and "-", separated by ".")',
      `mtls:pki:MtlsPki "pki": servers[2].name: "root" is reserved for the CA's own certificates; choose another name`,
      'mtls:pki:MtlsPki "pki": clients[0]: "api" is already issued by this PKI; identity names must be unique',
    ]);
    expect(registrations).toEqual([]);
  });

  it("an arg that arrives as an Output is checked when it resolves, failing the run with the library's line", async () => {
    const fromPlugin = await refused(
      () =>
        construct(provider, "MtlsService", "api", { ...SERVICE, role: "server", memoryMb: pulumi.output(3) }),
      false,
    );
    const fromTypeScript = await refused(
      async () => new LibraryMtlsService("api", { ...SERVICE, role: "server", memoryMb: pulumi.output(3) }),
      false,
    );
    // Each resource that consumes the bad value fails with it (the component around the library's
    // adds one); whatever the count, the line is the library's, and the only one.
    const reasons = (message: string) =>
      new Set(
        message
          .split("\n")
          .slice(1)
          .map((error) => error.slice(error.indexOf("mtls:"))),
      );
    const line = 'mtls:docker:MtlsService "api": memoryMb: 3 is not a whole number of MB of at least 6';
    expect(reasons(fromTypeScript.message)).toEqual(new Set([line]));
    expect(reasons(fromPlugin.message)).toEqual(new Set([line]));
  });
});
