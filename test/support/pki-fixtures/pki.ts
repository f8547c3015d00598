/**
 * Real test PKIs for the service tests, made in-process with @peculiar/x509 on Node's WebCrypto:
 * a root CA, optional intermediates, and server/client leaves with a chosen key type, extended key
 * usage, names and validity window. Every certificate is a real X.509 certificate that OpenSSL
 * verifies, so the services under test do real chain building, purpose and date checks.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type Algorithm = webcrypto.Algorithm;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type EcdsaParams = webcrypto.EcdsaParams;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

export type KeyType = "ecdsa-p256" | "rsa-2048" | "ed25519";
/** Which extended key usage a leaf carries: one purpose, both, or no EKU extension at all. */
export type LeafPurpose = "server" | "client" | "both" | "none";

const KEY_ALGORITHMS: Record<KeyType, { generate: EcKeyGenParams | RsaHashedKeyGenParams | Algorithm }> = {
  "ecdsa-p256": { generate: { name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams },
  "rsa-2048": {
    generate: {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    } as RsaHashedKeyGenParams,
  },
  ed25519: { generate: { name: "Ed25519" } },
};

const DAY_MS = 24 * 3600 * 1000;

export interface KeyPair {
  type: KeyType;
  keys: CryptoKeyPair;
}

/** A fresh key pair. RSA takes ~100 ms: generate RSA keys once per test file, not per test. */
export async function generateKeyPair(type: KeyType): Promise<KeyPair> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHMS[type].generate, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  return { type, keys };
}

/** The algorithm used to sign with a key of this type (hash overridable, e.g. SHA-1 for refusal tests). */
function signingAlgorithm(type: KeyType, hash: "SHA-1" | "SHA-256"): Algorithm {
  switch (type) {
    case "ecdsa-p256":
      return { name: "ECDSA", hash } as EcdsaParams;
    case "rsa-2048":
      return { name: "RSASSA-PKCS1-v1_5", hash } as Algorithm;
    case "ed25519":
      return { name: "Ed25519" };
  }
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return toPem("PRIVATE KEY", der);
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive and without a leading zero byte
  return Buffer.from(bytes).toString("hex");
}

export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
}

/** A validity window relative to now, in days (negative = in the past). */
export function daysFromNow(fromDays: number, toDays: number): Required<Validity> {
  return {
    notBefore: new Date(Date.now() + fromDays * DAY_MS),
    notAfter: new Date(Date.now() + toDays * DAY_MS),
  };
}

export interface Issued {
  certificate: x509.X509Certificate;
  certPem: string;
  keyPem: string;
  keyPair: KeyPair;
  /** Serial number as lowercase hex, as Node's X509Certificate shows it (uppercased there). */
  serial: string;
}

export interface CertificateAuthority extends Issued {
  name: string;
  /** Intermediates between this CA and its root, nearest first (empty for a root). */
  chainToRoot: CertificateAuthority[];
}

export interface CaOptions extends Validity {
  commonName: string;
  keyType?: KeyType;
  keyPair?: KeyPair;
  /** Sign with this CA (makes an intermediate); omitted = self-signed root. */
  issuer?: CertificateAuthority;
  hash?: "SHA-1" | "SHA-256";
}

export async function createCa(options: CaOptions): Promise<CertificateAuthority> {
  const keyPair = options.keyPair ?? (await generateKeyPair(options.keyType ?? "ecdsa-p256"));
  const subject = `CN=${options.commonName}, O=mtls-pki tests`;
  const window = { ...daysFromNow(-1, 365), ...definedValidity(options) };
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, options.issuer ? 0 : undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keyPair.keys.publicKey),
  ];
  let certificate: x509.X509Certificate;
  if (options.issuer) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(options.issuer.keyPair.keys.publicKey));
    certificate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: options.issuer.certificate.subject,
      publicKey: keyPair.keys.publicKey,
      signingKey: options.issuer.keyPair.keys.privateKey,
      signingAlgorithm: signingAlgorithm(options.issuer.keyPair.type, options.hash ?? "SHA-256"),
      extensions,
      ...window,
    });
  } else {
    certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: subject,
      keys: keyPair.keys,
      signingAlgorithm: signingAlgorithm(keyPair.type, options.hash ?? "SHA-256"),
      extensions,
      ...window,
    });
  }
  return {
    name: options.commonName,
    certificate,
    certPem: `${certificate.toString("pem")}\n`,
    keyPem: await privateKeyPem(keyPair.keys.privateKey),
    keyPair,
    serial: certificate.serialNumber.toUpperCase(),
    chainToRoot: options.issuer ? [options.issuer, ...options.issuer.chainToRoot] : [],
  };
}

export interface LeafOptions extends Validity {
  commonName: string;
  purpose: LeafPurpose;
  keyType?: KeyType;
  keyPair?: KeyPair;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  hash?: "SHA-1" | "SHA-256";
  /** Hex serial (default random); e.g. one with leading zero digits for serial-matching tests. */
  serialNumber?: string;
}

export interface Leaf extends Issued {
  /** The leaf followed by every intermediate up to (not including) the root: what tls.crt holds. */
  chainPem: string;
}

const PURPOSE_EKUS: Record<LeafPurpose, string[] | undefined> = {
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
  both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  none: undefined,
};

export async function issueLeaf(ca: CertificateAuthority, options: LeafOptions): Promise<Leaf> {
  const keyPair = options.keyPair ?? (await generateKeyPair(options.keyType ?? "ecdsa-p256"));
  const keyUsage =
    keyPair.type === "rsa-2048"
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsage, true),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keyPair.keys.publicKey),
  ];
  const ekus = PURPOSE_EKUS[options.purpose];
  if (ekus) extensions.push(new x509.ExtendedKeyUsageExtension(ekus));
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
    ...(options.uris ?? []).map((value) => ({ type: "url" as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? randomSerial(),
    subject: `CN=${options.commonName}, O=mtls-pki tests`,
    issuer: ca.certificate.subject,
    publicKey: keyPair.keys.publicKey,
    signingKey: ca.keyPair.keys.privateKey,
    signingAlgorithm: signingAlgorithm(ca.keyPair.type, options.hash ?? "SHA-256"),
    extensions,
    ...daysFromNow(-1, 30),
    ...definedValidity(options),
  });
  const certPem = `${certificate.toString("pem")}\n`;
  const intermediates = [ca, ...ca.chainToRoot].filter((authority) => authority.chainToRoot.length > 0);
  return {
    certificate,
    certPem,
    keyPem: await privateKeyPem(keyPair.keys.privateKey),
    keyPair,
    serial: certificate.serialNumber.toUpperCase(),
    chainPem: certPem + intermediates.map((authority) => authority.certPem).join(""),
  };
}

function definedValidity(options: Validity): Validity {
  const out: Validity = {};
  if (options.notBefore) out.notBefore = options.notBefore;
  if (options.notAfter) out.notAfter = options.notAfter;
  return out;
}

/** The root at the top of a CA's chain (the CA itself for a root): what ca.crt holds. */
export function rootOf(ca: CertificateAuthority): CertificateAuthority {
  return ca.chainToRoot.at(-1) ?? ca;
}

export interface TestPki {
  root: CertificateAuthority;
  /** The CA that signs the leaves: the intermediate when there is one, else the root. */
  issuing: CertificateAuthority;
  server: Leaf;
  client: Leaf;
  /** PEM of the trust bundle (the root). */
  caPem: string;
}

export interface TestPkiOptions {
  keyType?: KeyType;
  intermediate?: boolean;
  /** Names the server certificate carries (defaults: DNS localhost, IP 127.0.0.1). */
  serverDnsNames?: string[];
  clientCommonName?: string;
  clientUris?: string[];
  /** Reuse key pairs (RSA generation is slow): at most four are used, root/intermediate/server/client. */
  keyPairs?: KeyPair[];
}

/** A complete PKI for one test: root, optional intermediate, a server and a client identity. */
export async function createTestPki(options: TestPkiOptions = {}): Promise<TestPki> {
  const keyType = options.keyType ?? "ecdsa-p256";
  const pool = [...(options.keyPairs ?? [])];
  const nextKeyPair = async () => pool.shift() ?? generateKeyPair(keyType);
  const root = await createCa({ commonName: `test root ${keyType}`, keyPair: await nextKeyPair() });
  const issuing = options.intermediate
    ? await createCa({
        commonName: `test intermediate ${keyType}`,
        issuer: root,
        keyPair: await nextKeyPair(),
      })
    : root;
  const server = await issueLeaf(issuing, {
    commonName: "mtls-server",
    purpose: "server",
    keyPair: await nextKeyPair(),
    dnsNames: options.serverDnsNames ?? ["localhost", "mtls-server"],
    ipAddresses: ["127.0.0.1"],
  });
  const client = await issueLeaf(issuing, {
    commonName: options.clientCommonName ?? "client-a",
    purpose: "client",
    keyPair: await nextKeyPair(),
    uris: options.clientUris ?? [],
  });
  return { root, issuing, server, client, caPem: root.certPem };
}
