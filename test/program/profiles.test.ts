/**
 * What the PKI asks the tls provider for, per profile: key specs, usages, CA flags and path length,
 * names, validity and renewal, and which CA signs what. These are the program's inputs to the
 * provider, read from the registrations; how the provider turns them into certificate extensions
 * is the emulation's concern (emulation/tls.test.ts). The issued certificates then refuse each
 * role in the other's place in a real handshake.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Registration } from "../../emulation/index.ts";
import { mtlsHandshake } from "../support/tls-handshake.ts";
import { type Deployment, deploy, pkiProgram } from "./deploy.ts";

const KEY = "tls:index/privateKey:PrivateKey";
const SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert";
const REQUEST = "tls:index/certRequest:CertRequest";
const SIGNED = "tls:index/locallySignedCert:LocallySignedCert";
const CA_USES = ["cert_signing", "crl_signing"];

describe.each([
  { algorithm: "ECDSA-P256", key: { algorithm: "ECDSA", ecdsaCurve: "P256" }, intermediate: false },
  { algorithm: "RSA-2048", key: { algorithm: "RSA", rsaBits: 2048 }, intermediate: true },
  { algorithm: "ED25519", key: { algorithm: "ED25519" }, intermediate: false },
])("profiles with $algorithm keys, intermediate CA: $intermediate", ({ algorithm, key, intermediate }) => {
  const leafBase = ["digital_signature", ...(algorithm.startsWith("RSA") ? ["key_encipherment"] : [])];
  let deployment: Deployment;
  const inputs = (type: string, name: string): Registration["inputs"] => {
    const found = deployment.run.registrations.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`the program registered no ${type} "${name}"`);
    return found.inputs;
  };
  const certPem = (type: string, name: string) => deployment.engine.resource(type, name)?.outputs.certPem;
  const keyPem = (name: string) => deployment.engine.resource(KEY, name)?.outputs.privateKeyPem;
  const issuer = intermediate
    ? { type: SIGNED, cert: "pki-intermediate", key: "pki-intermediate-key" }
    : { type: SELF_SIGNED, cert: "pki-root", key: "pki-root-key" };

  beforeAll(async () => {
    deployment = await deploy(
      "dev",
      {
        keyAlgorithm: algorithm,
        intermediateCa: String(intermediate),
        trustDomain: "example.test",
        clients: JSON.stringify(["alpha", "beta"]),
        leafValidityHours: "48",
        earlyRenewalHours: "12",
      },
      { program: pkiProgram },
    );
  });
  afterAll(async () => {
    await deployment?.destroy();
  });

  it("spells out every key's algorithm and size or curve (never the provider's P224 default)", () => {
    const keys = deployment.run.registrations.filter((r) => r.type === KEY);
    expect(keys.map((r) => r.name).sort()).toEqual(
      [
        "pki-alpha-key",
        "pki-beta-key",
        "pki-mtls-server-key",
        "pki-root-key",
        ...(intermediate ? ["pki-intermediate-key"] : []),
      ].sort(),
    );
    for (const k of keys) expect(k.inputs, k.name).toEqual(key);
  });

  it("asks for a root CA that may sign certificates and CRLs, with a path length only above an intermediate", () => {
    expect(inputs(SELF_SIGNED, "pki-root")).toMatchObject({
      isCaCertificate: true,
      allowedUses: CA_USES,
      subject: { commonName: "mtls-pki Root CA", organization: "mtls-pki" },
    });
    expect(inputs(SELF_SIGNED, "pki-root").maxPathLength).toBe(intermediate ? 1 : undefined);
  });

  it("asks for an intermediate CA, signed by the root key and without a path length, exactly when configured", () => {
    const registered = deployment.run.registrations.some((r) => r.name.startsWith("pki-intermediate"));
    expect(registered).toBe(intermediate);
    if (!intermediate) return;
    expect(inputs(REQUEST, "pki-intermediate-csr").subject).toEqual({
      commonName: "mtls-pki Intermediate CA",
      organization: "mtls-pki",
    });
    const signed = inputs(SIGNED, "pki-intermediate");
    expect(signed).toMatchObject({
      isCaCertificate: true,
      allowedUses: CA_USES,
      caCertPem: certPem(SELF_SIGNED, "pki-root"),
      caPrivateKeyPem: keyPem("pki-root-key"),
    });
    expect(signed.maxPathLength).toBeUndefined();
  });

  it("asks for the server certificate with server_auth only, its network and loopback names and its SPIFFE ID", () => {
    expect(inputs(REQUEST, "pki-mtls-server-csr")).toMatchObject({
      subject: { commonName: "mtls-server", organization: "mtls-pki" },
      dnsNames: ["mtls-server", "localhost"],
      ipAddresses: ["127.0.0.1"],
      uris: ["spiffe://example.test/mtls-server"],
    });
    const cert = inputs(SIGNED, "pki-mtls-server-cert");
    expect(cert.allowedUses).toEqual([...leafBase, "server_auth"]);
    expect(cert.isCaCertificate ?? false).toBe(false);
    expect(cert.maxPathLength).toBeUndefined();
  });

  it("asks for each client certificate with client_auth only, CN = its name and only its SPIFFE ID as SAN", () => {
    for (const name of ["alpha", "beta"]) {
      const request = inputs(REQUEST, `pki-${name}-csr`);
      expect(request.subject).toEqual({ commonName: name, organization: "mtls-pki" });
      expect([request.dnsNames, request.ipAddresses, request.uris]).toEqual([
        [],
        [],
        [`spiffe://example.test/${name}`],
      ]);
      expect(inputs(SIGNED, `pki-${name}-cert`).allowedUses).toEqual([...leafBase, "client_auth"]);
    }
  });

  it("signs every leaf with the issuing CA, for the configured validity and early renewal", () => {
    for (const name of ["mtls-server", "alpha", "beta"]) {
      expect(inputs(SIGNED, `pki-${name}-cert`), name).toMatchObject({
        caCertPem: certPem(issuer.type, issuer.cert),
        caPrivateKeyPem: keyPem(issuer.key),
        certRequestPem: deployment.engine.resource(REQUEST, `pki-${name}-csr`)?.outputs.certRequestPem,
        validityPeriodHours: 48,
        earlyRenewalHours: 12,
      });
    }
  });

  it("refuses a client certificate presented by a server", async () => {
    const result = await mtlsHandshake(deployment.identity("alpha"), deployment.identity("beta"), "alpha");
    expect(result.ok).toBe(false);
    expect(result.clientError).toBe("INVALID_PURPOSE");
  });

  it("refuses a server certificate presented by a client", async () => {
    const server = deployment.identity("mtls-server");
    const result = await mtlsHandshake(server, server, "mtls-server");
    expect(result.ok).toBe(false);
    expect(result.serverError).toMatch(/purpose/i);
  });
});
