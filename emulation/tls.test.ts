/**
 * The emulated tls plugin gives keys, requests and certificates the provider's content
 * (docs/PROVIDER-FACTS.md, "tls"), read back with OpenSSL (node:crypto) and @peculiar/x509: PEM
 * flavours, usages only from `allowedUses`, CA constraints, key identifiers, names, validity,
 * secrets, the plugin's validation messages; it refuses what it does not model; the chains it
 * issues complete real mTLS handshakes.
 */
import "reflect-metadata";
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { afterEach, describe, expect, test } from "vitest";
import { mtlsHandshake } from "../test/support/tls-handshake.ts";
import { EmulatedEngine } from "./engine/engine.ts";
import { type ProgramRun, runProgram, UNKNOWN } from "./run-program.ts";
import { TlsProvider } from "./tls/provider.ts";

let engine: EmulatedEngine;
afterEach(async () => {
  await engine?.destroyAll();
});

function run(program: () => Record<string, unknown>, preview = false): Promise<ProgramRun> {
  engine = new EmulatedEngine([new TlsProvider()]);
  return runProgram({ engine, project: "certs", stack: "test", preview, program: async () => program() });
}

const str = (r: ProgramRun, name: string) => String(r.exports[name]);
const ECDSA: tls.PrivateKeyArgs = { algorithm: "ECDSA", ecdsaCurve: "P256" };
const SERVER_USES = ["digital_signature", "key_encipherment", "server_auth"];

/** Root CA (path length 1) -> intermediate (through a CSR) -> server and client leaves. */
function chain(
  keyArgs: tls.PrivateKeyArgs,
  leafUses = SERVER_USES,
  clientUses = ["digital_signature", "client_auth"],
) {
  return () => {
    const rootKey = new tls.PrivateKey("root", keyArgs);
    const root = new tls.SelfSignedCert("root", {
      privateKeyPem: rootKey.privateKeyPem,
      isCaCertificate: true,
      maxPathLength: 1,
      validityPeriodHours: 48,
      allowedUses: ["cert_signing", "crl_signing"],
      subject: { commonName: "Root CA", organization: "Example" },
    });
    const sign = (
      name: string,
      key: tls.PrivateKey,
      uses: string[],
      ca: { key: tls.PrivateKey; cert: { certPem: unknown } },
      extra: object,
      names: Partial<tls.CertRequestArgs>,
    ) => {
      const csr = new tls.CertRequest(name, { privateKeyPem: key.privateKeyPem, ...names });
      return new tls.LocallySignedCert(name, {
        certRequestPem: csr.certRequestPem,
        caCertPem: ca.cert.certPem as never,
        caPrivateKeyPem: ca.key.privateKeyPem,
        validityPeriodHours: 24,
        allowedUses: uses,
        ...extra,
      });
    };
    const interKey = new tls.PrivateKey("inter", keyArgs);
    const inter = sign(
      "inter",
      interKey,
      ["cert_signing"],
      { key: rootKey, cert: root },
      { isCaCertificate: true },
      {
        subject: { commonName: "Intermediate CA", organization: "Example" },
      },
    );
    const serverKey = new tls.PrivateKey("server", keyArgs);
    const server = sign(
      "server",
      serverKey,
      leafUses,
      { key: interKey, cert: inter },
      {},
      {
        subject: {
          commonName: "server",
          organization: "Example",
          organizationalUnit: "Ops",
          country: "DE",
          province: "BE",
          locality: "Berlin",
        },
        dnsNames: ["server", "localhost"],
        ipAddresses: ["127.0.0.1", "::1"],
        uris: ["spiffe://example.test/server"],
      },
    );
    const clientKey = new tls.PrivateKey("client", keyArgs);
    const client = sign(
      "client",
      clientKey,
      clientUses,
      { key: interKey, cert: inter },
      {},
      { subject: { commonName: "client" } },
    );
    return {
      root: root.certPem,
      inter: inter.certPem,
      server: server.certPem,
      serverId: server.id,
      serverEnd: server.validityEndTime,
      serverKey: serverKey.privateKeyPemPkcs8,
      client: client.certPem,
      clientKey: clientKey.privateKeyPemPkcs8,
      caKeyInput: server.caPrivateKeyPem,
    };
  };
}

const parse = (pem: string) => new x509.X509Certificate(pem);
const ext = <T extends x509.Extension>(pem: string, type: new (raw: ArrayBuffer) => T) =>
  parse(pem).getExtension(type as never) as T | null;

describe("PrivateKey", () => {
  test.each([
    ["RSA", { algorithm: "RSA" }, "RSA PRIVATE KEY"],
    ["ECDSA", ECDSA, "EC PRIVATE KEY"],
    ["ED25519", { algorithm: "ED25519" }, "PRIVATE KEY"],
  ])(
    "%s: privateKeyPem in the provider's flavour, PKCS#8 and public PEM of the same key, id = SHA-1 of the public key",
    async (_, args, label) => {
      const r = await run(() => {
        const key = new tls.PrivateKey("k", args as tls.PrivateKeyArgs);
        return {
          pem: key.privateKeyPem,
          pkcs8: key.privateKeyPemPkcs8,
          pub: key.publicKeyPem,
          id: key.id,
          rsaBits: key.rsaBits,
        };
      });
      expect(str(r, "pem")).toMatch(new RegExp(`^-----BEGIN ${label}-----\\n[\\s\\S]+\\n$`));
      expect(str(r, "pkcs8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const spki = createPublicKey(str(r, "pub")).export({ type: "spki", format: "der" });
      expect(
        createPublicKey(createPrivateKey(str(r, "pkcs8"))).export({ type: "spki", format: "der" }),
      ).toEqual(spki);
      expect(
        createPublicKey(createPrivateKey(str(r, "pem"))).export({ type: "spki", format: "der" }),
      ).toEqual(spki);
      expect(r.exports.id).toBe(createHash("sha1").update(spki).digest("hex"));
      expect(r.exports.rsaBits).toBe(2048); // stored whatever the algorithm
      expect([r.isSecret("pem"), r.isSecret("pkcs8"), r.isSecret("pub")]).toEqual([true, true, false]);
    },
  );

  test("the provider's default curve P224 is refused, naming the curves to use", async () => {
    await expect(run(() => ({ k: new tls.PrivateKey("k", { algorithm: "ECDSA" }).id }))).rejects.toThrow(
      "ecdsaCurve P224 is not emulated (TLS refuses P-224); set P256 or P384",
    );
  });

  test("an algorithm or curve the plugin does not know fails its validator", async () => {
    await expect(run(() => ({ k: new tls.PrivateKey("k", { algorithm: "DSA" }).id }))).rejects.toThrow(
      `Attribute algorithm value must be one of: ["RSA" "ECDSA" "ED25519"], got: "DSA"`,
    );
    await expect(
      run(() => ({ k: new tls.PrivateKey("k", { algorithm: "ECDSA", ecdsaCurve: "P255" }).id })),
    ).rejects.toThrow(
      `Attribute ecdsa_curve value must be one of: ["P224" "P256" "P384" "P521"], got: "P255"`,
    );
  });
});

describe("certificates", () => {
  test("a CA has exactly the listed key usages (critical), critical BasicConstraints, an SKI and no AKI", async () => {
    const r = await run(chain(ECDSA));
    const root = str(r, "root");
    expect(ext(root, x509.KeyUsagesExtension)).toMatchObject({
      usages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
      critical: true,
    });
    expect(ext(root, x509.BasicConstraintsExtension)).toMatchObject({
      ca: true,
      pathLength: 1,
      critical: true,
    });
    expect(ext(root, x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(ext(root, x509.AuthorityKeyIdentifierExtension)).toBeNull();
  });

  test("a signed certificate names its issuer and carries the issuer's SKI as AKI; no path length unless set", async () => {
    const r = await run(chain(ECDSA));
    const inter = str(r, "inter");
    expect(parse(inter).issuer).toBe(parse(str(r, "root")).subject);
    expect(ext(inter, x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      ext(str(r, "root"), x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    expect(ext(inter, x509.BasicConstraintsExtension)).toMatchObject({ ca: true, pathLength: undefined });
    expect(ext(str(r, "server"), x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      ext(inter, x509.SubjectKeyIdentifierExtension)?.keyId,
    );
  });

  test("a leaf: usages from allowedUses only (EKU in list order, not critical), cA false, no SKI, names from the CSR", async () => {
    const r = await run(chain(ECDSA, ["client_auth", "digital_signature", "server_auth"]));
    const server = str(r, "server");
    expect(ext(server, x509.KeyUsagesExtension)).toMatchObject({
      usages: x509.KeyUsageFlags.digitalSignature,
      critical: true,
    });
    expect(ext(server, x509.ExtendedKeyUsageExtension)).toMatchObject({
      usages: ["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1"],
      critical: false,
    });
    expect(ext(server, x509.BasicConstraintsExtension)).toMatchObject({
      ca: false,
      pathLength: undefined,
      critical: true,
    });
    expect(ext(server, x509.SubjectKeyIdentifierExtension)).toBeNull();
    expect(parse(server).subject).toBe("C=DE, ST=BE, L=Berlin, O=Example, OU=Ops, CN=server");
    expect(new X509Certificate(server).subjectAltName).toBe(
      "DNS:server, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:spiffe://example.test/server",
    );
    expect(ext(server, x509.SubjectAlternativeNameExtension)?.critical).toBe(false);
  });

  test("a 128-bit random serial whose decimal form is the id; validity from now for validityPeriodHours", async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const r = await run(chain(ECDSA));
    const cert = new X509Certificate(str(r, "server"));
    expect(BigInt(`0x${cert.serialNumber}`).toString(10)).toBe(r.exports.serverId);
    expect(BigInt(`0x${cert.serialNumber}`) < 2n ** 128n).toBe(true);
    expect(cert.validFromDate.getTime()).toBeGreaterThanOrEqual(before);
    expect(cert.validToDate.getTime() - cert.validFromDate.getTime()).toBe(24 * 3_600_000);
    expect(Date.parse(str(r, "serverEnd"))).toBe(cert.validToDate.getTime());
  });

  test("only extended usages means no KeyUsage extension; isCaCertificate adds no cert_signing", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", ECDSA);
      const cert = (name: string, allowedUses: string[], isCaCertificate: boolean) =>
        new tls.SelfSignedCert(name, {
          privateKeyPem: key.privateKeyPem,
          validityPeriodHours: 1,
          allowedUses,
          isCaCertificate,
          subject: { commonName: name },
        }).certPem;
      return { ekuOnly: cert("e", ["server_auth"], false), ca: cert("c", ["digital_signature"], true) };
    });
    expect(ext(str(r, "ekuOnly"), x509.KeyUsagesExtension)).toBeNull();
    expect(ext(str(r, "ca"), x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
  });

  test("maxPathLength 0 means no constraint (Go's zero); 1 or more on a non-CA is Go's error", async () => {
    const selfSigned = (maxPathLength: number, isCaCertificate: boolean) => () => {
      const key = new tls.PrivateKey("k", ECDSA);
      return {
        pem: new tls.SelfSignedCert("c", {
          privateKeyPem: key.privateKeyPem,
          validityPeriodHours: 1,
          allowedUses: ["cert_signing"],
          isCaCertificate,
          maxPathLength,
          subject: { commonName: "c" },
        }).certPem,
      };
    };
    expect(
      ext(str(await run(selfSigned(0, true)), "pem"), x509.BasicConstraintsExtension)?.pathLength,
    ).toBeUndefined();
    await expect(run(selfSigned(1, false))).rejects.toThrow(
      "Failed to create certificate: x509: only CAs are allowed to specify MaxPathLen",
    );
  });

  test("the CA key input is secret; certificates are not and hold no key", async () => {
    const r = await run(chain(ECDSA));
    expect(r.isSecret("caKeyInput")).toBe(true);
    expect(r.isSecret("server")).toBe(false);
    expect(str(r, "server")).not.toContain("PRIVATE KEY");
  });

  test("a preview knows the inputs, the defaults and readyForRenewal (validity 0 or all early), nothing computed", async () => {
    const r = await run(() => {
      const key = new tls.PrivateKey("k", { algorithm: "RSA" });
      const cert = (name: string, validityPeriodHours: number, earlyRenewalHours?: number) =>
        new tls.SelfSignedCert(name, {
          privateKeyPem: key.privateKeyPem,
          validityPeriodHours,
          earlyRenewalHours,
          allowedUses: ["server_auth"],
        });
      const [normal, zero, covered] = [cert("a", 10, 2), cert("b", 0), cert("c", 10, 10)];
      const ready = [normal, zero, covered].map((c) => c.readyForRenewal);
      return {
        rsaBits: key.rsaBits,
        pub: key.publicKeyPem,
        early: zero.earlyRenewalHours,
        isCa: zero.isCaCertificate,
        certPem: normal.certPem,
        ready,
      };
    }, true);
    expect(r.exports).toEqual({
      rsaBits: 2048,
      pub: UNKNOWN,
      early: 0,
      isCa: false,
      certPem: UNKNOWN,
      ready: [false, true, true],
    });
    expect(engine.resources()).toEqual([]);
  });
});

describe("errors: the plugin's, and what the emulation refuses", () => {
  const selfSigned = (args: Partial<tls.SelfSignedCertArgs> & Record<string, unknown>) => () => {
    const key = new tls.PrivateKey("k", ECDSA);
    return {
      pem: new tls.SelfSignedCert("c", {
        privateKeyPem: key.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["server_auth"],
        ...args,
      }).certPem,
    };
  };

  test("camelCase allowedUses are rejected with the list of snake_case values", async () => {
    await expect(run(selfSigned({ allowedUses: ["digital_signature", "certSigning"] }))).rejects.toThrow(
      `tls:index/selfSignedCert:SelfSignedCert resource 'c' has a problem: Invalid Attribute Value Match. Attribute allowed_uses[1] value must be one of: ["any_extended" "cert_signing" "client_auth" "code_signing" "content_commitment" "crl_signing" "data_encipherment" "decipher_only" "digital_signature" "email_protection" "encipher_only" "ipsec_end_system" "ipsec_tunnel" "ipsec_user" "key_agreement" "key_encipherment" "microsoft_commercial_code_signing" "microsoft_kernel_code_signing" "microsoft_server_gated_crypto" "netscape_server_gated_crypto" "ocsp_signing" "server_auth" "timestamping"], got: "certSigning". Examine values at 'c.allowedUses[1]'.`,
    );
  });

  test.each([
    [
      "a write-only key",
      { privateKeyPemWo: "x", privateKeyPemWoVersion: 1 },
      "privateKeyPemWo, privateKeyPemWoVersion",
    ],
    ["a key identifier option", { setSubjectKeyId: true }, "setSubjectKeyId"],
    [
      "a subject field",
      { subject: { commonName: "c", emailAddress: "a@example.test" } },
      "subject.emailAddress",
    ],
  ])("an input it does not model is refused, not ignored: %s", async (_, args, names) => {
    await expect(run(selfSigned(args))).rejects.toThrow(
      `tls emulation: tls:index/selfSignedCert:SelfSignedCert input(s) not emulated: ${names}`,
    );
  });

  test("validity below 0 and a missing key are the plugin's validation failures", async () => {
    await expect(run(selfSigned({ validityPeriodHours: -1 }))).rejects.toThrow(
      "Attribute validity_period_hours value must be at least 0, got: -1",
    );
    await expect(
      run(() => ({
        pem: new tls.SelfSignedCert("c", { validityPeriodHours: 1, allowedUses: ["server_auth"] }).certPem,
      })),
    ).rejects.toThrow(`The argument "private_key_pem" is required`);
  });

  test("an unparseable IP address fails the create with the plugin's message", async () => {
    await expect(run(selfSigned({ ipAddresses: ["10.0.0.300"] }))).rejects.toThrow(
      'Invalid IP address: Failed to parse "10.0.0.300"',
    );
  });

  test("a CA key that does not match the CA certificate is Go's error", async () => {
    const program = () => {
      const [caKey, otherKey, leafKey] = ["ca", "other", "leaf"].map((n) => new tls.PrivateKey(n, ECDSA)) as [
        tls.PrivateKey,
        tls.PrivateKey,
        tls.PrivateKey,
      ];
      const ca = new tls.SelfSignedCert("ca", {
        privateKeyPem: caKey.privateKeyPem,
        isCaCertificate: true,
        validityPeriodHours: 1,
        allowedUses: ["cert_signing"],
        subject: { commonName: "CA" },
      });
      const csr = new tls.CertRequest("leaf", {
        privateKeyPem: leafKey.privateKeyPem,
        subject: { commonName: "leaf" },
      });
      const leaf = new tls.LocallySignedCert("leaf", {
        certRequestPem: csr.certRequestPem,
        caCertPem: ca.certPem,
        caPrivateKeyPem: otherKey.privateKeyPem,
        validityPeriodHours: 1,
        allowedUses: ["client_auth"],
      });
      return { pem: leaf.certPem };
    };
    await expect(run(program)).rejects.toThrow("x509: provided PrivateKey doesn't match parent's PublicKey");
  });

  test("a resource type it does not model is refused", async () => {
    class Unmodelled extends pulumi.CustomResource {}
    const program = () => ({ id: new Unmodelled("tls:index/getPublicKey:GetPublicKey", "p", {}).id });
    await expect(run(program)).rejects.toThrow(
      "tls emulation: resource type tls:index/getPublicKey:GetPublicKey is not emulated",
    );
  });
});

describe.each([
  ["ECDSA P-256", ECDSA],
  ["ECDSA P-384", { algorithm: "ECDSA", ecdsaCurve: "P384" }],
  ["RSA 2048", { algorithm: "RSA" }],
  ["ED25519", { algorithm: "ED25519" }],
])("a %s chain", (_, keyArgs) => {
  test("verifies leaf -> intermediate -> root and completes a mutual TLS handshake", async () => {
    const r = await run(chain(keyArgs as tls.PrivateKeyArgs));
    const [root, inter, server] = ["root", "inter", "server"].map(
      (n) => new X509Certificate(str(r, n)),
    ) as X509Certificate[];
    expect(
      server!.verify(inter!.publicKey) && inter!.verify(root!.publicKey) && root!.verify(root!.publicKey),
    ).toBe(true);
    const bundle = (leaf: string) => ({
      cert: str(r, leaf) + str(r, "inter"),
      key: str(r, `${leaf}Key`),
      ca: str(r, "root"),
    });
    const result = await mtlsHandshake(bundle("server"), bundle("client"), "server");
    expect(result).toMatchObject({ ok: true, clientCommonName: "client", protocol: "TLSv1.3" });
  });
});

test("a client certificate without client_auth is refused by the server (INVALID_PURPOSE)", async () => {
  const r = await run(chain(ECDSA, SERVER_USES, ["digital_signature", "server_auth"]));
  const bundle = (leaf: string) => ({
    cert: str(r, leaf) + str(r, "inter"),
    key: str(r, `${leaf}Key`),
    ca: str(r, "root"),
  });
  const result = await mtlsHandshake(bundle("server"), bundle("client"), "server");
  expect(result.ok).toBe(false);
  expect(result.serverError).toBe("INVALID_PURPOSE");
});
