/**
 * Certificates and CSRs of the emulated tls plugin have the shape Go's crypto/x509 gives them
 * under the provider's templates (PROVIDERS.md §1.3-1.9), checked byte-level with the DER reader
 * and cross-checked with node's X509Certificate (OpenSSL).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { EmulatedEngine } from "./engine/engine.ts";
import { type ProgramRun, runProgram, UNKNOWN } from "./run-program.ts";
import { TlsProvider } from "./tls/provider.ts";
import { rfc3339Nano } from "./tls/time.ts";
import {
  authorityKeyId,
  basicConstraints,
  extension,
  extKeyUsageOids,
  type InspectedCertificate,
  inspectCertificate,
  inspectRequest,
  keyUsageBits,
  OIDS,
  subjectAltNames,
  subjectKeyId,
} from "./x509/inspect.ts";

let engine: EmulatedEngine;
let provider: TlsProvider;

beforeEach(() => {
  provider = new TlsProvider();
  engine = new EmulatedEngine([provider]);
});

afterEach(async () => {
  await engine.destroyAll();
});

function run(program: () => Record<string, unknown>): Promise<ProgramRun> {
  return runProgram({ engine, project: "certs", stack: "test", program: async () => program() });
}

function pem(r: ProgramRun, name: string): string {
  const v = r.exports[name];
  if (typeof v !== "string") throw new Error(`output ${name} is not a string`);
  return v;
}

/** Subject as [oid, tag, value] triples in encoded order (one RDN per entry). */
function rdns(names: InspectedCertificate["subject"]): [string, number, string][] {
  return names.flatMap((rdn) => rdn.map((a): [string, number, string] => [a.oid, a.tag, a.value]));
}

const PRINTABLE = 0x13;
const UTF8 = 0x0c;
const IA5 = 0x16;

const CA_USES = ["cert_signing", "crl_signing", "digital_signature"];

/** A self-signed CA on a new key; returns the resources for further declarations. */
function declareCa(name: string, keyArgs: tls.PrivateKeyArgs, extra: Partial<tls.SelfSignedCertArgs> = {}) {
  const key = new tls.PrivateKey(`${name}-key`, keyArgs);
  const cert = new tls.SelfSignedCert(`${name}-cert`, {
    privateKeyPem: key.privateKeyPem,
    isCaCertificate: true,
    validityPeriodHours: 48,
    allowedUses: CA_USES,
    subject: { commonName: `${name} CA`, organization: "Example" },
    ...extra,
  });
  return { key, cert };
}

/** A leaf key + CSR + certificate signed by `ca`. */
function declareLeaf(
  name: string,
  ca: { key: tls.PrivateKey; cert: tls.SelfSignedCert | tls.LocallySignedCert },
  csrArgs: Partial<tls.CertRequestArgs> = {},
  certArgs: Partial<tls.LocallySignedCertArgs> = {},
  keyArgs: tls.PrivateKeyArgs = { algorithm: "ECDSA", ecdsaCurve: "P256" },
) {
  const key = new tls.PrivateKey(`${name}-key`, keyArgs);
  const csr = new tls.CertRequest(`${name}-csr`, {
    privateKeyPem: key.privateKeyPem,
    subject: { commonName: name },
    ...csrArgs,
  });
  const cert = new tls.LocallySignedCert(`${name}-cert`, {
    certRequestPem: csr.certRequestPem,
    caCertPem: ca.cert.certPem,
    caPrivateKeyPem: ca.key.privateKeyPem,
    validityPeriodHours: 24,
    allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
    ...certArgs,
  });
  return { key, csr, cert };
}

function keyIdOf(publicKey: KeyObject): Buffer {
  // Independent of the emulation: from the JWK / PKCS#1 export, per upstream generateSubjectKeyID.
  switch (publicKey.asymmetricKeyType) {
    case "rsa":
      return createHash("sha1")
        .update(publicKey.export({ type: "pkcs1", format: "der" }))
        .digest();
    case "ec": {
      const jwk = publicKey.export({ format: "jwk" });
      const point = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(jwk.x ?? "", "base64url"),
        Buffer.from(jwk.y ?? "", "base64url"),
      ]);
      return createHash("sha1").update(point).digest();
    }
    default: {
      const raw = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
      return createHash("sha1")
        .update(Buffer.concat([Buffer.from([0x04, 0x20]), raw]))
        .digest();
    }
  }
}

function ext(cert: InspectedCertificate, oid: string) {
  const e = extension(cert, oid);
  if (!e) throw new Error(`certificate has no extension ${oid}`);
  return e;
}

describe("SelfSignedCert", () => {
  test("a CA is v3 with a 128-bit serial whose decimal form is the id", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      return { certPem: ca.cert.certPem, id: ca.cert.id };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(cert.version).toBe(3);
    expect(cert.serial).toBeGreaterThan(0n);
    expect(cert.serial).toBeLessThan(1n << 128n);
    expect(r.exports.id).toBe(cert.serial.toString(10));
    expect(new X509Certificate(pem(r, "certPem")).serialNumber.replace(/^0+/, "")).toBe(
      cert.serial.toString(16).toUpperCase(),
    );
  });

  test("validity starts now (no back-dating) and lasts validityPeriodHours", async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      return { certPem: ca.cert.certPem, start: ca.cert.validityStartTime, end: ca.cert.validityEndTime };
    });
    const after = Date.now();
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(cert.notBefore.getTime()).toBeGreaterThanOrEqual(before);
    expect(cert.notBefore.getTime()).toBeLessThanOrEqual(after);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(48 * 3_600_000);
    expect(cert.timeTags).toEqual([0x17, 0x17]);
    // validityStartTime keeps the sub-second part the DER drops (RFC 3339, Go's MarshalText).
    const start = new Date(String(r.exports.start));
    expect(String(r.exports.start)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    expect(Math.floor(start.getTime() / 1000) * 1000).toBe(cert.notBefore.getTime());
    expect(new Date(String(r.exports.end)).getTime() - start.getTime()).toBe(48 * 3_600_000);
  });

  test("a CA has critical KeyUsage, critical BasicConstraints cA, an SKI and no AKI", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      return { certPem: ca.cert.certPem, publicKeyPem: ca.key.publicKeyPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(cert.extensions.map((e) => [e.oid, e.critical])).toEqual([
      [OIDS.keyUsage, true],
      [OIDS.basicConstraints, true],
      [OIDS.subjectKeyId, false],
    ]);
    expect(keyUsageBits(ext(cert, OIDS.keyUsage))).toEqual([0, 5, 6]);
    expect(basicConstraints(ext(cert, OIDS.basicConstraints))).toEqual({
      ca: true,
      pathLen: undefined,
      fieldCount: 1,
    });
    expect(subjectKeyId(ext(cert, OIDS.subjectKeyId))).toEqual(
      keyIdOf(createPublicKey(pem(r, "publicKeyPem"))),
    );
    expect(cert.rawIssuer).toEqual(cert.rawSubject);
  });

  test("subject attributes are encoded in Go's order, PrintableString where possible", async () => {
    const r = await run(() => {
      const ca = declareCa(
        "root",
        { algorithm: "ED25519" },
        {
          subject: {
            commonName: "Root CA",
            organization: "Example_Org",
            organizationalUnit: "PKI",
            country: "CH",
            province: "ZH",
            locality: "Zürich",
            streetAddresses: ["Main St 1", "Floor 2"],
            postalCode: "8000",
            serialNumber: "42",
            emailAddress: "pki@example.com",
          },
        },
      );
      return { certPem: ca.cert.certPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(rdns(cert.subject)).toEqual([
      [OIDS.country, PRINTABLE, "CH"],
      [OIDS.province, PRINTABLE, "ZH"],
      [OIDS.locality, UTF8, "Zürich"],
      [OIDS.street, PRINTABLE, "Floor 2"],
      [OIDS.street, PRINTABLE, "Main St 1"],
      [OIDS.postalCode, PRINTABLE, "8000"],
      [OIDS.organization, UTF8, "Example_Org"],
      [OIDS.organizationalUnit, PRINTABLE, "PKI"],
      [OIDS.commonName, PRINTABLE, "Root CA"],
      [OIDS.serialNumber, PRINTABLE, "42"],
      [OIDS.emailAddress, IA5, "pki@example.com"],
    ]);
    // Both street addresses share one multi-valued RDN (DER-sorted), as Go's appendRDNs makes it.
    expect(cert.subject[3]?.length).toBe(2);
  });

  test("ExtKeyUsage follows allowedUses order, keeps duplicates, and is not critical", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      const cert = new tls.SelfSignedCert("c", {
        privateKeyPem: key.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["client_auth", "server_auth", "digital_signature", "client_auth", "key_encipherment"],
        subject: { commonName: "x" },
      });
      return { certPem: cert.certPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    const eku = ext(cert, OIDS.extKeyUsage);
    expect(eku.critical).toBe(false);
    expect(extKeyUsageOids(eku)).toEqual(["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(keyUsageBits(ext(cert, OIDS.keyUsage))).toEqual([0, 2]);
    expect(cert.extensions.map((e) => e.oid)).toEqual([
      OIDS.keyUsage,
      OIDS.extKeyUsage,
      OIDS.basicConstraints,
    ]);
  });

  test("only extended usages means no KeyUsage extension at all", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      const cert = new tls.SelfSignedCert("c", {
        privateKeyPem: key.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["server_auth"],
      });
      return { certPem: cert.certPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(extension(cert, OIDS.keyUsage)).toBeUndefined();
    expect(basicConstraints(ext(cert, OIDS.basicConstraints))).toEqual({
      ca: false,
      pathLen: undefined,
      fieldCount: 0,
    });
  });

  test("isCaCertificate does not add cert_signing to the key usages", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ED25519" }, { allowedUses: ["digital_signature"] });
      return { certPem: ca.cert.certPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(keyUsageBits(ext(cert, OIDS.keyUsage))).toEqual([0]);
    expect(basicConstraints(ext(cert, OIDS.basicConstraints)).ca).toBe(true);
  });

  test.each([
    [2, 2],
    [1, 1],
    [0, undefined],
    [-1, undefined],
    [undefined, undefined],
  ])("maxPathLength %s on a CA gives pathLenConstraint %s", async (maxPathLength, expected) => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ED25519" }, { maxPathLength });
      return { certPem: ca.cert.certPem, maxPathLength: ca.cert.maxPathLength };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(basicConstraints(ext(cert, OIDS.basicConstraints)).pathLen).toBe(expected);
    expect(r.exports.maxPathLength).toBe(maxPathLength ?? null);
  });

  test("SANs: DNS, then IPs (IPv4 in 4 bytes), then URIs; not critical with a subject", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      const cert = new tls.SelfSignedCert("c", {
        privateKeyPem: key.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["server_auth"],
        subject: { commonName: "svc" },
        uris: ["spiffe://example.org/svc"],
        ipAddresses: ["::1", "127.0.0.1", "::ffff:10.0.0.1"],
        dnsNames: ["svc.example", "localhost"],
      });
      return { certPem: cert.certPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    const san = ext(cert, OIDS.subjectAltName);
    expect(san.critical).toBe(false);
    expect(subjectAltNames(san)).toEqual({
      dns: ["svc.example", "localhost"],
      ip: ["0:0:0:0:0:0:0:1", "127.0.0.1", "10.0.0.1"],
      uri: ["spiffe://example.org/svc"],
      order: ["dns", "dns", "ipv6", "ipv4", "ipv4", "uri"],
    });
  });

  test("SAN is critical when the subject is empty", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      const cert = new tls.SelfSignedCert("c", {
        privateKeyPem: key.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["server_auth"],
        dnsNames: ["svc.example"],
      });
      return { certPem: cert.certPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(cert.subject).toEqual([]);
    expect(ext(cert, OIDS.subjectAltName).critical).toBe(true);
  });

  test("setAuthorityKeyId puts the certificate's own SKI in the AKI", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ECDSA", ecdsaCurve: "P384" }, { setAuthorityKeyId: true });
      return { certPem: ca.cert.certPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(authorityKeyId(ext(cert, OIDS.authorityKeyId))).toEqual(
      subjectKeyId(ext(cert, OIDS.subjectKeyId)),
    );
    expect(cert.extensions.map((e) => e.oid)).toEqual([
      OIDS.keyUsage,
      OIDS.basicConstraints,
      OIDS.subjectKeyId,
      OIDS.authorityKeyId,
    ]);
  });

  test.each([
    ["RSA", { algorithm: "RSA", rsaBits: 1024 }],
    ["ECDSA P-256", { algorithm: "ECDSA", ecdsaCurve: "P256" }],
    ["ED25519", { algorithm: "ED25519" }],
  ])("the Subject Key Identifier of %s follows upstream generateSubjectKeyID", async (_, keyArgs) => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", keyArgs);
      const cert = new tls.SelfSignedCert("c", {
        privateKeyPem: key.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["server_auth"],
        setSubjectKeyId: true,
      });
      return { certPem: cert.certPem, publicKeyPem: key.publicKeyPem };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(subjectKeyId(ext(cert, OIDS.subjectKeyId))).toEqual(
      keyIdOf(createPublicKey(pem(r, "publicKeyPem"))),
    );
  });

  test.each([
    ["RSA", { algorithm: "RSA", rsaBits: 1024 }, OIDS.sha256WithRSA, "null"],
    ["ECDSA P-224", { algorithm: "ECDSA" }, OIDS.ecdsaWithSHA256, "absent"],
    ["ECDSA P-256", { algorithm: "ECDSA", ecdsaCurve: "P256" }, OIDS.ecdsaWithSHA256, "absent"],
    ["ECDSA P-384", { algorithm: "ECDSA", ecdsaCurve: "P384" }, OIDS.ecdsaWithSHA384, "absent"],
    ["ECDSA P-521", { algorithm: "ECDSA", ecdsaCurve: "P521" }, OIDS.ecdsaWithSHA512, "absent"],
    ["ED25519", { algorithm: "ED25519" }, OIDS.ed25519, "absent"],
  ])("a %s key signs with the algorithm Go picks for it", async (_, keyArgs, oid, parameters) => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", keyArgs);
      const cert = new tls.SelfSignedCert("c", {
        privateKeyPem: key.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["server_auth"],
        subject: { commonName: "self" },
      });
      const csr = new tls.CertRequest("r", {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: "self" },
      });
      return { certPem: cert.certPem, csrPem: csr.certRequestPem, keyAlgorithm: cert.keyAlgorithm };
    });
    const cert = inspectCertificate(pem(r, "certPem"));
    expect(cert.signatureAlgorithm).toBe(oid);
    expect(cert.signatureParameters).toBe(parameters);
    expect(inspectRequest(pem(r, "csrPem")).signatureAlgorithm).toBe(oid);
    expect(r.exports.keyAlgorithm).toBe(keyArgs.algorithm);
    const x509 = new X509Certificate(pem(r, "certPem"));
    expect(x509.verify(x509.publicKey)).toBe(true);
  });

  test("readyForRenewal is false, or true when validity is 0 or early renewal covers it all", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      const mk = (name: string, validityPeriodHours: number, earlyRenewalHours?: number) =>
        new tls.SelfSignedCert(name, {
          privateKeyPem: key.privateKeyPem,
          validityPeriodHours,
          earlyRenewalHours,
          allowedUses: ["server_auth"],
        }).readyForRenewal;
      return { normal: mk("a", 10, 2), zero: mk("b", 0), covered: mk("c", 10, 10) };
    });
    expect(r.exports).toEqual({ normal: false, zero: true, covered: true });
  });

  test("the certificate's private key input is secret; certPem is not and holds no key", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      return { certPem: ca.cert.certPem, privateKeyPem: ca.cert.privateKeyPem, keyPem: ca.key.privateKeyPem };
    });
    expect(r.isSecret("privateKeyPem")).toBe(true);
    expect(r.exports.privateKeyPem).toBe(r.exports.keyPem);
    expect(r.isSecret("certPem")).toBe(false);
    expect(pem(r, "certPem")).not.toContain("PRIVATE KEY");
  });

  test("a write-only key signs the certificate and is kept out of the state", async () => {
    let keyPem = "";
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      const cert = new tls.SelfSignedCert("c", {
        privateKeyPemWo: key.privateKeyPem.apply((p) => {
          keyPem = p;
          return p;
        }),
        privateKeyPemWoVersion: 1,
        validityPeriodHours: 1,
        allowedUses: ["server_auth"],
      });
      return { certPem: cert.certPem };
    });
    const x509 = new X509Certificate(pem(r, "certPem"));
    expect(x509.publicKey.export({ format: "jwk" })).toEqual(
      createPublicKey(createPrivateKey(keyPem)).export({ format: "jwk" }),
    );
    const state = engine.resource("tls:index/selfSignedCert:SelfSignedCert", "c");
    expect(state?.outputs.privateKeyPemWo).toBeUndefined();
    expect(JSON.stringify(state?.outputs)).not.toContain("PRIVATE KEY");
  });
});

describe("CertRequest", () => {
  test("carries the subject and a non-critical SAN extension request, nothing else", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      const csr = new tls.CertRequest("r", {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: "svc", organization: "Example" },
        dnsNames: ["svc.example"],
        ipAddresses: ["192.0.2.7"],
        uris: ["spiffe://example.org/svc"],
      });
      return {
        csrPem: csr.certRequestPem,
        id: csr.id,
        keyAlgorithm: csr.keyAlgorithm,
        publicKeyPem: key.publicKeyPem,
      };
    });
    const csrPem = pem(r, "csrPem");
    expect(csrPem).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+\n-----END CERTIFICATE REQUEST-----\n$/,
    );
    const csr = inspectRequest(csrPem);
    expect(csr.version).toBe(0n);
    expect(rdns(csr.subject)).toEqual([
      [OIDS.organization, PRINTABLE, "Example"],
      [OIDS.commonName, PRINTABLE, "svc"],
    ]);
    expect(csr.extensions.map((e) => [e.oid, e.critical])).toEqual([[OIDS.subjectAltName, false]]);
    const [san] = csr.extensions;
    if (!san) throw new Error("CSR has no extensions");
    expect(subjectAltNames(san)).toMatchObject({
      dns: ["svc.example"],
      ip: ["192.0.2.7"],
      uri: ["spiffe://example.org/svc"],
    });
    expect(csr.spki).toEqual(createPublicKey(pem(r, "publicKeyPem")).export({ type: "spki", format: "der" }));
    expect(r.exports.keyAlgorithm).toBe("ECDSA");
    expect(r.exports.id).toMatch(/^[0-9a-f]{40}$/);
  });

  test("without SANs the request has no attributes", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      return {
        csrPem: new tls.CertRequest("r", { privateKeyPem: key.privateKeyPem, subject: { commonName: "a" } })
          .certRequestPem,
      };
    });
    expect(inspectRequest(pem(r, "csrPem")).attributeCount).toBe(0);
  });
});

describe("LocallySignedCert", () => {
  test("a leaf gets an AKI equal to the CA's SKI, no SKI, and the CA's subject as issuer", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      const leaf = declareLeaf("server", ca, { dnsNames: ["server.example"] });
      return { caPem: ca.cert.certPem, leafPem: leaf.cert.certPem, caKeyAlgorithm: leaf.cert.caKeyAlgorithm };
    });
    const ca = inspectCertificate(pem(r, "caPem"));
    const leaf = inspectCertificate(pem(r, "leafPem"));
    expect(leaf.rawIssuer).toEqual(ca.rawSubject);
    expect(authorityKeyId(ext(leaf, OIDS.authorityKeyId))).toEqual(subjectKeyId(ext(ca, OIDS.subjectKeyId)));
    expect(extension(leaf, OIDS.subjectKeyId)).toBeUndefined();
    expect(leaf.extensions.map((e) => [e.oid, e.critical])).toEqual([
      [OIDS.keyUsage, true],
      [OIDS.extKeyUsage, false],
      [OIDS.basicConstraints, true],
      [OIDS.authorityKeyId, false],
      [OIDS.subjectAltName, false],
    ]);
    expect(basicConstraints(ext(leaf, OIDS.basicConstraints))).toEqual({
      ca: false,
      pathLen: undefined,
      fieldCount: 0,
    });
    expect(r.exports.caKeyAlgorithm).toBe("ECDSA");
  });

  test("only subject and SANs come from the CSR: its emailAddress is dropped, usages come from allowedUses", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ED25519" });
      const leaf = declareLeaf(
        "client",
        ca,
        {
          subject: { commonName: "client", emailAddress: "c@example.com", country: "CH" },
          uris: ["spiffe://x/client"],
        },
        { allowedUses: ["client_auth"] },
      );
      return { leafPem: leaf.cert.certPem };
    });
    const leaf = inspectCertificate(pem(r, "leafPem"));
    expect(rdns(leaf.subject)).toEqual([
      [OIDS.country, PRINTABLE, "CH"],
      [OIDS.commonName, PRINTABLE, "client"],
    ]);
    expect(subjectAltNames(ext(leaf, OIDS.subjectAltName)).uri).toEqual(["spiffe://x/client"]);
    expect(extension(leaf, OIDS.keyUsage)).toBeUndefined();
    expect(extKeyUsageOids(ext(leaf, OIDS.extKeyUsage))).toEqual(["1.3.6.1.5.5.7.3.2"]);
  });

  test("the CA private key input is secret", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ED25519" });
      const leaf = declareLeaf("server", ca);
      return { caPrivateKeyPem: leaf.cert.caPrivateKeyPem, certPem: leaf.cert.certPem };
    });
    expect(r.isSecret("caPrivateKeyPem")).toBe(true);
    expect(r.isSecret("certPem")).toBe(false);
  });

  test("signing with a certificate that is not a CA only warns", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      const notCa = new tls.SelfSignedCert("not-ca", {
        privateKeyPem: key.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["cert_signing"],
        subject: { commonName: "not a CA" },
      });
      const leaf = declareLeaf("server", { key, cert: notCa });
      return { leafPem: leaf.cert.certPem };
    });
    expect(pem(r, "leafPem")).toContain("BEGIN CERTIFICATE");
    expect(provider.warnings).toEqual([
      expect.stringMatching(/^Potentially Invalid Certificate Authority: /),
    ]);
  });
});

describe("errors the plugin reports", () => {
  test("camelCase allowedUses are rejected with the list of snake_case values", async () => {
    const failing = run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      return {
        certPem: new tls.SelfSignedCert("c", {
          privateKeyPem: key.privateKeyPem,
          validityPeriodHours: 1,
          allowedUses: ["digital_signature", "certSigning"],
        }).certPem,
      };
    });
    await expect(failing).rejects.toThrow(
      `tls:index/selfSignedCert:SelfSignedCert resource 'c' has a problem: Invalid Attribute Value Match. Attribute allowed_uses[1] value must be one of: ["any_extended" "cert_signing" "client_auth" "code_signing" "content_commitment" "crl_signing" "data_encipherment" "decipher_only" "digital_signature" "email_protection" "encipher_only" "ipsec_end_system" "ipsec_tunnel" "ipsec_user" "key_agreement" "key_encipherment" "microsoft_commercial_code_signing" "microsoft_kernel_code_signing" "microsoft_server_gated_crypto" "netscape_server_gated_crypto" "ocsp_signing" "server_auth" "timestamping"], got: "certSigning". Examine values at 'c.allowedUses[1]'.`,
    );
  });

  test("a certificate needs exactly one of privateKeyPem and privateKeyPemWo", async () => {
    const none = run(() => ({
      certPem: new tls.SelfSignedCert("c", { validityPeriodHours: 1, allowedUses: ["server_auth"] }).certPem,
    }));
    await expect(none).rejects.toThrow(
      "Missing Attribute Configuration. Exactly one of these attributes must be configured: [private_key_pem,private_key_pem_wo].",
    );
    const both = run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      return {
        certPem: new tls.LocallySignedCert("l", {
          certRequestPem: "x",
          caCertPem: "y",
          caPrivateKeyPem: key.privateKeyPem,
          caPrivateKeyPemWo: key.privateKeyPem,
          caPrivateKeyPemWoVersion: 1,
          validityPeriodHours: 1,
          allowedUses: ["server_auth"],
        }).certPem,
      };
    });
    await expect(both).rejects.toThrow(
      "Invalid Attribute Combination. Exactly one of these attributes must be configured: [ca_private_key_pem,ca_private_key_pem_wo]. Examine values at 'l.caPrivateKeyPem'.",
    );
  });

  test("a CA without a subject is refused", async () => {
    const failing = run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      return {
        certPem: new tls.SelfSignedCert("c", {
          privateKeyPem: key.privateKeyPem,
          isCaCertificate: true,
          validityPeriodHours: 1,
          allowedUses: CA_USES,
        }).certPem,
      };
    });
    await expect(failing).rejects.toThrow(
      "Invalid Certificate Subject: Must contain at least one Distinguished Name when creating Certificate Authority (CA)",
    );
  });

  test("maxPathLength of 1 or more on a non-CA certificate is Go's error", async () => {
    const failing = run(() => {
      const ca = declareCa("root", { algorithm: "ED25519" });
      return { certPem: declareLeaf("server", ca, {}, { maxPathLength: 1 }).cert.certPem };
    });
    await expect(failing).rejects.toThrow(
      "Failed to create certificate: x509: only CAs are allowed to specify MaxPathLen",
    );
  });

  test("maxPathLength 0 on a non-CA certificate is accepted (0 means no constraint)", async () => {
    const r = await run(() => {
      const ca = declareCa("root", { algorithm: "ED25519" });
      return { certPem: declareLeaf("server", ca, {}, { maxPathLength: 0 }).cert.certPem };
    });
    expect(
      basicConstraints(ext(inspectCertificate(pem(r, "certPem")), OIDS.basicConstraints)).pathLen,
    ).toBeUndefined();
  });

  test("maxPathLength below -1 is rejected", async () => {
    const failing = run(() => ({
      certPem: declareCa("root", { algorithm: "ED25519" }, { maxPathLength: -2 }).cert.certPem,
    }));
    await expect(failing).rejects.toThrow("Attribute max_path_length value must be at least -1, got: -2");
  });

  test("a CA key that does not match the CA certificate is Go's error", async () => {
    const failing = run(() => {
      const ca = declareCa("root", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      const otherKey = new tls.PrivateKey("other", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      return { certPem: declareLeaf("server", { key: otherKey, cert: ca.cert }).cert.certPem };
    });
    await expect(failing).rejects.toThrow(
      "Failed to create certificate: x509: provided PrivateKey doesn't match parent's PublicKey",
    );
  });

  test("setAuthorityKeyId without a Subject Key Identifier is refused", async () => {
    const failing = run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      return {
        certPem: new tls.SelfSignedCert("c", {
          privateKeyPem: key.privateKeyPem,
          validityPeriodHours: 1,
          allowedUses: ["server_auth"],
          setAuthorityKeyId: true,
        }).certPem,
      };
    });
    await expect(failing).rejects.toThrow(
      "Invalid Certificate Authority: Could not determine Authority Key Identifier",
    );
  });

  test.each([
    [
      "validityPeriodHours",
      { validityPeriodHours: -1 },
      "Attribute validity_period_hours value must be at least 0, got: -1",
    ],
    [
      "earlyRenewalHours",
      { earlyRenewalHours: -1 },
      "Attribute early_renewal_hours value must be at least 0, got: -1",
    ],
  ])("negative %s is rejected", async (_, args, message) => {
    const failing = run(() => ({ certPem: declareCa("root", { algorithm: "ED25519" }, args).cert.certPem }));
    await expect(failing).rejects.toThrow(message);
  });

  test("an invalid IP address fails the create with the plugin's message", async () => {
    const failing = run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "ED25519" });
      return {
        csrPem: new tls.CertRequest("r", { privateKeyPem: key.privateKeyPem, ipAddresses: ["10.0.0.300"] })
          .certRequestPem,
      };
    });
    await expect(failing).rejects.toThrow('Invalid IP address: Failed to parse "10.0.0.300"');
  });

  test("an empty IP address string fails validation", async () => {
    const failing = run(() => ({
      certPem: declareCa("root", { algorithm: "ED25519" }, { ipAddresses: [""] }).cert.certPem,
    }));
    await expect(failing).rejects.toThrow(
      "Attribute ip_addresses[0] string length must be at least 1, got: 0",
    );
  });

  test("a failed resource stops the run: nothing that depends on it is created", async () => {
    const failing = run(() => {
      const ca = declareCa("root", { algorithm: "ED25519" }, { validityPeriodHours: -5 });
      return { leaf: declareLeaf("server", ca).cert.certPem };
    });
    await expect(failing).rejects.toThrow("validity_period_hours");
    expect(engine.ops.map((o) => o.name)).not.toContain("server-cert");
  });
});

describe("preview", () => {
  test("knows the configuration, defaults and readyForRenewal, not the computed values", async () => {
    const r = await runProgram({
      engine,
      project: "certs",
      stack: "test",
      preview: true,
      program: async () => {
        const key = new tls.PrivateKey("k", { algorithm: "RSA" });
        const cert = new tls.SelfSignedCert("c", {
          privateKeyPem: key.privateKeyPem,
          validityPeriodHours: 5,
          allowedUses: ["server_auth"],
        });
        return {
          rsaBits: key.rsaBits,
          ecdsaCurve: key.ecdsaCurve,
          publicKeyPem: key.publicKeyPem,
          validityPeriodHours: cert.validityPeriodHours,
          earlyRenewalHours: cert.earlyRenewalHours,
          isCaCertificate: cert.isCaCertificate,
          readyForRenewal: cert.readyForRenewal,
          certPem: cert.certPem,
          validityEndTime: cert.validityEndTime,
          id: cert.id,
        };
      },
    });
    expect(r.exports).toEqual({
      rsaBits: 2048,
      ecdsaCurve: "P224",
      publicKeyPem: UNKNOWN,
      validityPeriodHours: 5,
      earlyRenewalHours: 0,
      isCaCertificate: false,
      readyForRenewal: false,
      certPem: UNKNOWN,
      validityEndTime: UNKNOWN,
      id: UNKNOWN,
    });
    expect(engine.resources()).toEqual([]);
  });
});

describe("validity times", () => {
  test("are RFC 3339 with the fraction trimmed, in the process's zone", () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = "UTC";
      expect(rfc3339Nano(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 120)))).toBe("2026-01-02T03:04:05.12Z");
      expect(rfc3339Nano(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 0)))).toBe("2026-01-02T03:04:05Z");
      process.env.TZ = "America/New_York";
      expect(rfc3339Nano(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 7)))).toBe("2026-01-01T22:04:05.007-05:00");
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

test("program outputs of unrelated types are untouched (sanity of the harness)", async () => {
  const r = await run(() => ({ plain: pulumi.output("x") }));
  expect(r.exports.plain).toBe("x");
});
