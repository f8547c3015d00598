/**
 * Real keys, certificate requests and certificates with the content the tls plugin gives them
 * (docs/PROVIDER-FACTS.md, "tls"), built with @peculiar/x509 on Node's WebCrypto. The content is
 * the provider's (usages, CA flag, path length, key identifiers, names, validity, signature
 * algorithm per key); byte-level choices of Go's encoder that nothing reads are not copied.
 */
import "reflect-metadata";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  webcrypto,
} from "node:crypto";
import { isIP } from "node:net";
import { promisify } from "node:util";
import * as x509 from "@peculiar/x509";
import { EXT_KEY_USAGES, KEY_USAGE_BITS, SUBJECT_FIELDS } from "./schema.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const generate = promisify(generateKeyPair);
const CURVES: Record<string, { openssl: string; web: string; hash: string }> = {
  P256: { openssl: "prime256v1", web: "P-256", hash: "SHA-256" },
  P384: { openssl: "secp384r1", web: "P-384", hash: "SHA-384" },
  P521: { openssl: "secp521r1", web: "P-521", hash: "SHA-512" },
};

/** A create-step error as the plugin reports it: `<summary>: <detail>`. */
export function diagnostic(summary: string, detail: string): Error {
  return new Error(`${summary}: ${detail}`);
}

export async function generatePrivateKey(
  algorithm: string,
  rsaBits: number,
  curve: string,
): Promise<KeyObject> {
  if (algorithm === "RSA") {
    if (rsaBits < 1024) {
      throw diagnostic(
        "Unable to generate Key from configuration",
        `crypto/rsa: ${rsaBits}-bit keys are insecure`,
      );
    }
    return (await generate("rsa", { modulusLength: rsaBits })).privateKey;
  }
  if (algorithm === "ED25519") return (await generate("ed25519")).privateKey;
  const known = CURVES[curve];
  if (!known) {
    // The provider makes P224 keys (its default curve), but no TLS stack accepts them.
    throw new Error(
      `tls emulation: ecdsaCurve ${curve} is not emulated (TLS refuses P-224); set P256 or P384`,
    );
  }
  return (await generate("ec", { namedCurve: known.openssl })).privateKey;
}

/** `privateKeyPem` (PKCS#1 for RSA, SEC1 for ECDSA, PKCS#8 for Ed25519), PKCS#8, and the PKIX public key. */
export function keyPems(key: KeyObject) {
  const type = key.asymmetricKeyType === "rsa" ? "pkcs1" : key.asymmetricKeyType === "ec" ? "sec1" : "pkcs8";
  return {
    privateKeyPem: key.export({ type, format: "pem" }) as string,
    privateKeyPemPkcs8: key.export({ type: "pkcs8", format: "pem" }) as string,
    publicKeyPem: createPublicKey(key).export({ type: "spki", format: "pem" }) as string,
  };
}

export function parsePrivateKey(pem: string, summary: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw diagnostic(summary, (error as Error).message);
  }
}

/** Hex SHA-1 of a DER structure: the ids of PrivateKey (its public key) and CertRequest. */
export function sha1Hex(der: Uint8Array | ArrayBuffer): string {
  return createHash("sha1")
    .update(Buffer.from(der as ArrayBuffer))
    .digest("hex");
}

export function spkiDer(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: "spki", format: "der" });
}

/** The WebCrypto form of a key, with the signature algorithm Go picks for it (by the signing key). */
function webKey(key: KeyObject) {
  const curve = Object.values(CURVES).find((c) => c.openssl === key.asymmetricKeyDetails?.namedCurve);
  const algorithm =
    key.asymmetricKeyType === "rsa"
      ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
      : key.asymmetricKeyType === "ec"
        ? { name: "ECDSA", namedCurve: curve?.web, hash: curve?.hash }
        : { name: "Ed25519" };
  return {
    privateKey: key.toCryptoKey(algorithm, false, ["sign"]),
    publicKey: createPublicKey(key).toCryptoKey(algorithm, true, ["verify"]),
    algorithm,
  };
}

export interface Sans {
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

/** The `subject` input as a name in Go's attribute order. */
export function subjectName(subject: Record<string, string | undefined> | undefined): x509.Name {
  const entries = Object.entries(SUBJECT_FIELDS).flatMap(([field, short]) =>
    subject?.[field] ? [{ [short]: [subject[field]!] }] : [],
  );
  return new x509.Name(entries);
}

/** SANs with the plugin's create-time error for an IP address Go cannot parse. */
function sanExtension(sans: Sans, critical: boolean): x509.Extension[] {
  for (const ip of sans.ipAddresses) {
    if (isIP(ip) === 0) throw diagnostic("Invalid IP address", `Failed to parse ${JSON.stringify(ip)}`);
  }
  const names = [
    ...sans.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...sans.ipAddresses.map((value) => ({ type: "ip" as const, value })),
    ...sans.uris.map((value) => ({ type: "url" as const, value })),
  ];
  return names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, critical)] : [];
}

/** A CSR carries the subject and the SANs only (no usages). */
export async function createRequest(
  key: KeyObject,
  name: x509.Name,
  sans: Sans,
): Promise<x509.Pkcs10CertificateRequest> {
  const { privateKey, publicKey, algorithm } = webKey(key);
  return x509.Pkcs10CertificateRequestGenerator.create({
    name,
    keys: { privateKey, publicKey },
    signingAlgorithm: algorithm,
    extensions: sanExtension(sans, false),
  });
}

/** What LocallySignedCert takes from a CSR (its signature is not verified, as upstream): subject, SANs, key. */
export function readRequest(pem: string) {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (error) {
    throw diagnostic("Failed to parse certificate request PEM", (error as Error).message);
  }
  const sans: Sans = { dnsNames: [], ipAddresses: [], uris: [] };
  const san = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension);
  for (const n of (san as x509.SubjectAlternativeNameExtension | undefined)?.names.items ?? []) {
    if (n.type === "dns") sans.dnsNames.push(n.value);
    if (n.type === "ip") sans.ipAddresses.push(n.value);
    if (n.type === "url") sans.uris.push(n.value);
  }
  return { name: csr.subjectName, sans, publicKey: csr.publicKey };
}

export function publicKeyOf(key: KeyObject): x509.PublicKey {
  return new x509.PublicKey(spkiDer(key));
}

export function isCa(cert: x509.X509Certificate): boolean {
  return cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

export function readCaCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (error) {
    throw diagnostic("Failed to parse CA certificate PEM", (error as Error).message);
  }
}

export interface CertificateTemplate {
  name: x509.Name;
  sans: Sans;
  publicKey: x509.PublicKey;
  allowedUses: string[];
  isCa: boolean;
  maxPathLength: number | null | undefined;
  validityPeriodHours: number;
  now: Date;
}

/**
 * The provider's createCertificate + Go's CreateCertificate: a random 128-bit serial, NotBefore =
 * now, KeyUsage (critical) and ExtKeyUsage (in list order) from `allowedUses` only, BasicConstraints
 * always (critical), a path length only when > 0 (Go reads 0 as unset) and only on a CA, an SKI on a
 * CA, an AKI = the issuer's SKI, SANs (critical only with an empty subject).
 */
export async function issueCertificate(
  template: CertificateTemplate,
  signingKey: KeyObject,
  issuer?: x509.X509Certificate,
) {
  const { isCa, maxPathLength } = template;
  if (!isCa && typeof maxPathLength === "number" && maxPathLength > 0) {
    throw diagnostic("Failed to create certificate", "x509: only CAs are allowed to specify MaxPathLen");
  }
  const keyUsage = template.allowedUses.reduce(
    (bits, use) => bits | (use in KEY_USAGE_BITS ? 1 << KEY_USAGE_BITS[use]! : 0),
    0,
  );
  const ekus = template.allowedUses.flatMap((use) => (EXT_KEY_USAGES[use] ? [EXT_KEY_USAGES[use]] : []));
  const extensions: x509.Extension[] = [];
  // RFC 5280 bit n is peculiar's flag 1 << n.
  if (keyUsage !== 0) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  if (ekus.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(ekus, false));
  const pathLength =
    isCa && typeof maxPathLength === "number" && maxPathLength > 0 ? maxPathLength : undefined;
  extensions.push(new x509.BasicConstraintsExtension(isCa, pathLength, true));
  if (isCa) extensions.push(await x509.SubjectKeyIdentifierExtension.create(template.publicKey));
  const issuerKeyId = issuer?.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  if (issuerKeyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(issuerKeyId));
  extensions.push(...sanExtension(template.sans, template.name.toJSON().length === 0));

  const notBefore = new Date(Math.floor(template.now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + template.validityPeriodHours * 3_600_000);
  const { privateKey, algorithm } = webKey(signingKey);
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex");
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: template.name,
    issuer: issuer ? issuer.subjectName : template.name,
    notBefore,
    notAfter,
    publicKey: template.publicKey,
    signingKey: privateKey,
    signingAlgorithm: algorithm,
    extensions,
  });
  return { pem: `${cert.toString("pem")}\n`, serial: BigInt(`0x${serial}`), notBefore, notAfter };
}
