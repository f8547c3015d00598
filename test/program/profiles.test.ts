/**
 * Certificates per profile, read with an independent X.509 parser (@peculiar/x509): exact usages
 * and SANs, CA constraints, and each role refused in the other's place.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mtlsHandshake } from "../support/tls-handshake.ts";
import { type Deployment, deploy, pkiProgram } from "./deploy.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const { KeyUsageFlags: KU, ExtendedKeyUsage: EKU } = x509;

function parse(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

function keyUsage(cert: x509.X509Certificate): { usages: number; critical: boolean } | undefined {
  const ext = cert.getExtension(x509.KeyUsagesExtension);
  return ext ? { usages: ext.usages, critical: ext.critical } : undefined;
}

function extendedKeyUsage(cert: x509.X509Certificate): string[] | undefined {
  return cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String);
}

function altNames(cert: x509.X509Certificate): Record<string, string[]> {
  const names: Record<string, string[]> = {};
  for (const entry of cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []) {
    names[entry.type] = [...(names[entry.type] ?? []), entry.value];
  }
  return names;
}

function basicConstraints(cert: x509.X509Certificate) {
  const ext = cert.getExtension(x509.BasicConstraintsExtension);
  return ext && { ca: ext.ca, pathLength: ext.pathLength, critical: ext.critical };
}

function firstCertificate(bundle: string): x509.X509Certificate {
  return parse(bundle.split(/(?<=-----END CERTIFICATE-----)/)[0]!);
}

describe.each([
  { algorithm: "ECDSA-P256", intermediate: false },
  { algorithm: "RSA-2048", intermediate: true },
  { algorithm: "ED25519", intermediate: false },
])("profiles with $algorithm keys, intermediate CA: $intermediate", ({ algorithm, intermediate }) => {
  const isRsa = algorithm.startsWith("RSA");
  let deployment: Deployment;

  beforeAll(async () => {
    deployment = await deploy(
      "dev",
      {
        keyAlgorithm: algorithm,
        intermediateCa: String(intermediate),
        trustDomain: "example.test",
        clients: JSON.stringify(["alpha", "beta"]),
      },
      { program: pkiProgram },
    );
  });
  afterAll(async () => {
    await deployment?.destroy();
  });

  it("gives the server exactly server_auth, its reachable names and its SPIFFE ID", () => {
    const cert = parse(deployment.identity("mtls-server").leaf);
    const expectedUsages = KU.digitalSignature | (isRsa ? KU.keyEncipherment : 0);
    expect(keyUsage(cert)).toEqual({ usages: expectedUsages, critical: true });
    expect(extendedKeyUsage(cert)).toEqual([EKU.serverAuth]);
    expect(altNames(cert)).toEqual({
      dns: ["mtls-server", "localhost"],
      ip: ["127.0.0.1"],
      url: ["spiffe://example.test/mtls-server"],
    });
    expect(cert.subjectName.getField("CN")).toEqual(["mtls-server"]);
    expect(basicConstraints(cert)).toMatchObject({ ca: false, critical: true });
  });

  it("gives each client exactly client_auth, CN = its name and only its SPIFFE ID as SAN", () => {
    for (const name of ["alpha", "beta"]) {
      const cert = parse(deployment.identity(name).leaf);
      expect(keyUsage(cert)?.usages).toBe(KU.digitalSignature | (isRsa ? KU.keyEncipherment : 0));
      expect(extendedKeyUsage(cert)).toEqual([EKU.clientAuth]);
      expect(cert.subjectName.getField("CN")).toEqual([name]);
      expect(altNames(cert)).toEqual({ url: [`spiffe://example.test/${name}`] });
    }
  });

  it("makes CAs that can sign certificates and CRLs, with the path length on the root", () => {
    const root = firstCertificate(deployment.identity("alpha").ca);
    expect(keyUsage(root)).toEqual({ usages: KU.keyCertSign | KU.cRLSign, critical: true });
    expect(basicConstraints(root)).toEqual({
      ca: true,
      critical: true,
      pathLength: intermediate ? 1 : undefined,
    });
    expect(root.subjectName.getField("CN")).toEqual(["mtls-pki Root CA"]);
    const chain = deployment.identity("alpha").cert.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    expect(chain).toHaveLength(intermediate ? 2 : 1);
    if (intermediate) {
      const issuing = parse(deployment.identity("alpha").cert.split(/(?<=-----END CERTIFICATE-----\n)/)[1]!);
      expect(issuing.subjectName.getField("CN")).toEqual(["mtls-pki Intermediate CA"]);
      expect(keyUsage(issuing)?.usages).toBe(KU.keyCertSign | KU.cRLSign);
      expect(basicConstraints(issuing)?.ca).toBe(true);
    }
  });

  it("refuses a client certificate presented by a server", async () => {
    const client = deployment.identity("alpha");
    const result = await mtlsHandshake(client, deployment.identity("beta"), "alpha");
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
