/**
 * Every stack file in the repository, deployed through the whole program under the provider
 * emulation (real certificates, real containers): the issued identities verify against the CA
 * bundle and complete real mTLS handshakes between in-process endpoints (the containers' own
 * traffic is checked by test/e2e and test/components), the outputs describe them, and private keys
 * exist only as secrets. Deviations from the stack file, for a machine without a registry and with
 * parallel test files: the base image is the local one, a published port is a free one, and the
 * workloads' subnet pool is one no network of the engine overlaps.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { freePort } from "../support/free-port.ts";
import { stackConfig, stackNames } from "../support/stack-files.ts";
import { freeSubnetPool } from "../support/subnet-pool.ts";
import { swarmSkipReason } from "../support/swarm-available.ts";
import { mtlsHandshake } from "../support/tls-handshake.ts";
import { type Deployment, deploy } from "./deploy.ts";

const KEY_MATERIAL = /PRIVATE KEY/;

/** Splits a PEM bundle into its certificates. */
function certificates(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );
}

/** Verifies a chain (leaf first) up to one of the trust anchors, signature by signature. */
function verifiesAgainst(chainPem: string, caBundlePem: string): boolean {
  const chain = certificates(chainPem);
  const anchors = certificates(caBundlePem);
  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, issuer] = [chain[i]!, chain[i + 1]!];
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) return false;
  }
  const top = chain.at(-1)!;
  return anchors.some((anchor) => anchor.ca && top.checkIssued(anchor) && top.verify(anchor.publicKey));
}

it("the repository has the dev, staging and prod stacks, with no plaintext secrets", () => {
  expect(stackNames()).toEqual(expect.arrayContaining(["dev", "prod", "staging"]));
  for (const stack of stackNames()) {
    const text = readFileSync(new URL(`../../Pulumi.${stack}.yaml`, import.meta.url), "utf8");
    expect(text, stack).not.toMatch(KEY_MATERIAL);
    expect(text, stack).not.toMatch(/passphrase|password|token/i);
  }
});

const skip = await dockerSkipReason();
// A swarm stack (mtls-pki:runtime swarm) also needs the engine to be a swarm manager.
const swarmSkip = skip ?? (await swarmSkipReason());
const runtimeOf = (stack: string) => stackConfig(stack).runtime ?? "docker";
const stacksOn = (runtime: string) => stackNames().filter((stack) => runtimeOf(stack) === runtime);

describe.skipIf(skip).each(stacksOn("docker"))("stack %s", stackSuite);
describe.skipIf(swarmSkip).each(stacksOn("swarm"))("stack %s", stackSuite);
// A kubernetes stack needs a cluster: test/kubernetes deploys it there (npm run test:kubernetes).
it("leaves no stack file of an unknown runtime untested", () => {
  const tested = [...stacksOn("docker"), ...stacksOn("swarm"), ...stacksOn("kubernetes")];
  expect(tested.sort()).toEqual(stackNames());
  expect(stacksOn("kubernetes")).toEqual(["kubernetes"]);
});

function stackSuite(stack: string): void {
  const config = stackConfig(stack);
  const serverName = config.serverName ?? "mtls-server";
  const clients: string[] = config.clients ? JSON.parse(config.clients) : ["client-a"];
  // Workloads behind sidecars (mtls-pki:workloads) each get an identity of their own too.
  const workloads: { name: string }[] = config.workloads ? JSON.parse(config.workloads) : [];
  let deployment: Deployment;

  beforeAll(async () => {
    const baseImage = await ensureBaseImage();
    const publishPort = config.publishPort ? String(await freePort()) : "0";
    // Workloads' private networks: a subnet pool no other run on this engine uses.
    const pool: Record<string, string> = config.workloads
      ? { workloadSubnetPool: await freeSubnetPool() }
      : {};
    deployment = await deploy(stack, { ...config, baseImage, publishPort, ...pool });
  });
  afterAll(async () => {
    await deployment?.destroy();
  });

  it("issues a server and every client, chaining to the CA bundle", () => {
    const server = deployment.identity(serverName);
    expect(verifiesAgainst(server.cert, server.ca)).toBe(true);
    for (const name of clients) {
      const client = deployment.identity(name);
      expect(verifiesAgainst(client.cert, client.ca), name).toBe(true);
      expect(new X509Certificate(client.leaf).subject).toContain(`CN=${name}`);
    }
  });

  it("issues every workload an identity named after it, chaining to the CA bundle", () => {
    for (const { name } of workloads) {
      const workload = deployment.identity(name);
      expect(verifiesAgainst(workload.cert, workload.ca), name).toBe(true);
      expect(new X509Certificate(workload.leaf).subject).toContain(`CN=${name}`);
    }
  });

  it("presents the intermediate in each chain exactly when the stack enables it", () => {
    const chainLength = certificates(deployment.identity(serverName).cert).length;
    expect(chainLength).toBe(config.intermediateCa === "true" ? 2 : 1);
  });

  it("issues identities with which the server and each client complete an mTLS handshake (in-process)", async () => {
    const server = deployment.identity(serverName);
    for (const name of clients) {
      const result = await mtlsHandshake(server, deployment.identity(name), serverName);
      expect(result, name).toMatchObject({ ok: true, clientCommonName: name, protocol: "TLSv1.3" });
    }
  });

  it("gives the server a certificate that a client accepts for the name localhost (in-process handshake)", async () => {
    const result = await mtlsHandshake(
      deployment.identity(serverName),
      deployment.identity(clients[0]!),
      "localhost",
    );
    expect(result.ok).toBe(true);
  });

  it("exports each identity's serial, fingerprint and expiry as read from its certificate", () => {
    const exported = deployment.run.exports as {
      server: { serialNumber: string; fingerprintSha256: string; notAfter: string };
      clients: Record<string, { serialNumber: string }>;
      caCertificatePem: string;
    };
    const leaf = new X509Certificate(deployment.identity(serverName).leaf);
    expect(exported.server.serialNumber).toBe(leaf.serialNumber.toUpperCase());
    expect(exported.server.fingerprintSha256).toBe(leaf.fingerprint256);
    expect(exported.server.notAfter).toBe(leaf.validToDate.toISOString());
    expect(Object.keys(exported.clients).sort()).toEqual([...clients].sort());
    expect(exported.caCertificatePem).toBe(deployment.identity(serverName).ca);
  });

  it("exports the CA generation, its root's fingerprint and expiry, and the earliest renewal time", () => {
    const exported = deployment.run.exports as {
      ca: {
        generations: string[];
        issuing: string;
        roots: Record<string, { fingerprintSha256: string; notAfter: string }>;
      };
      nextRenewalDueAt: string;
    };
    const [root] = certificates(deployment.identity(serverName).ca);
    expect(exported.ca).toEqual({
      generations: ["1"],
      issuing: "1",
      roots: { "1": { fingerprintSha256: root!.fingerprint256, notAfter: root!.validToDate.toISOString() } },
    });
    const earlyMs = Number(config.earlyRenewalHours ?? "240") * 3_600_000;
    const due = [serverName, ...clients].map(
      (name) => new X509Certificate(deployment.identity(name).leaf).validToDate.getTime() - earlyMs,
    );
    expect(exported.nextRenewalDueAt).toBe(new Date(Math.min(...due)).toISOString());
  });

  it("exports client credentials only as a secret, each with a usable key", () => {
    expect(deployment.run.isSecret("clientCredentials")).toBe(true);
    const credentials = deployment.run.exports.clientCredentials as Record<string, { keyPem: string }>;
    expect(Object.keys(credentials).sort()).toEqual([...clients].sort());
    for (const name of clients) expect(credentials[name]?.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it("puts no key material in any non-secret stack output", () => {
    const plain = Object.keys(deployment.run.exports).filter(
      // An undefined export (the other runtime's names) is no stack output.
      (name) => deployment.run.exports[name] !== undefined && !deployment.run.isSecret(name),
    );
    expect(plain).toEqual(
      expect.arrayContaining([
        "caCertificatePem",
        "server",
        "clients",
        runtimeOf(stack) === "swarm" ? "serviceNames" : "containerNames",
      ]),
    );
    for (const name of plain) {
      expect(JSON.stringify(deployment.run.exports[name]), name).not.toMatch(KEY_MATERIAL);
    }
  });

  it("keeps every private key in resource state (keys, certificate inputs, uploads) secret", () => {
    const resources = deployment.engine.resources().filter((r) => r.custom);
    expect(resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey")).toHaveLength(
      (config.intermediateCa === "true" ? 2 : 1) + 1 + clients.length + workloads.length,
    );
    let checked = 0;
    for (const resource of resources) {
      for (const [property, value] of Object.entries(resource.outputs)) {
        if (KEY_MATERIAL.test(JSON.stringify(value) ?? "")) {
          checked++;
          expect(resource.secretOutputs, `${resource.name}.${property}`).toContain(property);
        }
      }
    }
    // Keys, CSR and certificate inputs, and the delivery containers' uploads (or the swarm key
    // secrets) all hold key material.
    expect(checked).toBeGreaterThan(resources.length / 2);
  });

  it("keeps the identities' private keys secret in their component outputs", () => {
    const identities = deployment.engine.resources().filter((r) => r.type === "mtls:pki:Identity");
    expect(identities).toHaveLength(1 + clients.length + workloads.length);
    for (const identity of identities) {
      for (const [property, value] of Object.entries(identity.componentOutputs ?? {})) {
        const secret = typeof value === "object" && value !== null && "value" in value;
        if (property === "privateKeyPem") expect(secret, identity.name).toBe(true);
        else expect(JSON.stringify(value), `${identity.name}.${property}`).not.toMatch(KEY_MATERIAL);
      }
    }
  });
}
