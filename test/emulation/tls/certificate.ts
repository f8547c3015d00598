/**
 * Certificates built the way the provider's `createCertificate` fills a Go x509 template and Go's
 * `x509.CreateCertificate` encodes it: v3, random 128-bit serial, NotBefore = now (whole seconds in
 * the DER), extensions in Go's order (KeyUsage critical, ExtKeyUsage, BasicConstraints critical and
 * always present, SKI, AKI, SAN critical only for an empty subject), signature by the signing key.
 */
import { createPublicKey, type KeyObject, randomBytes, X509Certificate } from "node:crypto";
import * as der from "../x509/der.ts";
import { signatureParams, signStructure, spkiDer } from "./keys.ts";
import { pemDecode } from "./pem.ts";
import { encodeSans, hasSans, type Sans } from "./san.ts";

export const KEY_USAGES: Record<string, number> = {
  digital_signature: 1 << 0,
  content_commitment: 1 << 1,
  key_encipherment: 1 << 2,
  data_encipherment: 1 << 3,
  key_agreement: 1 << 4,
  cert_signing: 1 << 5,
  crl_signing: 1 << 6,
  encipher_only: 1 << 7,
  decipher_only: 1 << 8,
};

export const EXT_KEY_USAGES: Record<string, string> = {
  any_extended: "2.5.29.37.0",
  server_auth: "1.3.6.1.5.5.7.3.1",
  client_auth: "1.3.6.1.5.5.7.3.2",
  code_signing: "1.3.6.1.5.5.7.3.3",
  email_protection: "1.3.6.1.5.5.7.3.4",
  ipsec_end_system: "1.3.6.1.5.5.7.3.5",
  ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
  ipsec_user: "1.3.6.1.5.5.7.3.7",
  timestamping: "1.3.6.1.5.5.7.3.8",
  ocsp_signing: "1.3.6.1.5.5.7.3.9",
  microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
  netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
  microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
  microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

/** Sorted, as upstream `supportedKeyUsagesStr()` returns them (the validator prints this list). */
export const SUPPORTED_USES = [...Object.keys(KEY_USAGES), ...Object.keys(EXT_KEY_USAGES)].sort();

export const OID = {
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  basicConstraints: "2.5.29.19",
  subjectKeyId: "2.5.29.14",
  authorityKeyId: "2.5.29.35",
  subjectAltName: "2.5.29.17",
} as const;

/** The parts of Go's x509.Certificate template the provider sets. */
export interface Template {
  subject: Buffer;
  sans: Sans;
  keyUsage: number;
  extKeyUsage: string[];
  isCa: boolean;
  /** Go `MaxPathLen`: 0 means "no constraint" (the provider never sets MaxPathLenZero). */
  maxPathLen: number;
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
}

/** What CreateCertificate needs to know of the parent (the template itself when self-signing). */
export interface Parent {
  rawSubject: Buffer;
  subjectKeyId?: Buffer;
  /** SPKI DER of the parent's public key; undefined when self-signing (Go skips the key check). */
  spki?: Buffer;
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

function reverseBits(b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) if (b & (1 << i)) r |= 1 << (7 - i);
  return r;
}

/** Go's marshalKeyUsage: one or two bytes, bit length trimmed to the last set bit. */
function keyUsageValue(ku: number): Buffer {
  const bytes = [reverseBits(ku & 0xff), reverseBits((ku >> 8) & 0xff)];
  const used = bytes[1] !== 0 ? bytes : bytes.slice(0, 1);
  let bitLength = used.length * 8;
  for (let i = used.length - 1; i >= 0; i--) {
    const b = used[i] ?? 0;
    let stop = false;
    for (let bit = 0; bit < 8; bit++) {
      if ((b >> bit) & 1) {
        stop = true;
        break;
      }
      bitLength--;
    }
    if (stop) break;
  }
  return der.bitString(Buffer.from(used), (8 - (bitLength % 8)) % 8);
}

/** Go's marshalBasicConstraints: cA omitted when false, pathLen omitted when "unset" (0 or -1). */
function basicConstraintsValue(isCa: boolean, maxPathLen: number): Buffer {
  const fields: Buffer[] = [];
  if (isCa) fields.push(der.boolean(true));
  if (maxPathLen > 0) fields.push(der.integer(maxPathLen));
  return der.sequence(...fields);
}

export interface Issued {
  der: Buffer;
  serial: bigint;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Go's x509.CreateCertificate for the provider's templates. Throws Go's error texts
 * ("x509: only CAs are allowed to specify MaxPathLen", "x509: provided PrivateKey doesn't match
 * parent's PublicKey", IA5 errors for SANs).
 */
export function createCertificate(args: {
  template: Template;
  parent: Parent;
  publicKeySpki: Buffer;
  signingKey: KeyObject;
  now: Date;
  validityPeriodHours: number;
}): Issued {
  const { template, parent } = args;
  if (!template.isCa && template.maxPathLen !== -1 && template.maxPathLen !== 0) {
    throw new Error("x509: only CAs are allowed to specify MaxPathLen");
  }
  const serial = BigInt(`0x${randomBytes(16).toString("hex")}`);
  const notBefore = args.now;
  const notAfter = new Date(notBefore.getTime() + args.validityPeriodHours * 3_600_000);
  const issuer = parent.rawSubject;
  const subject = template.subject;
  let authorityKeyId = template.authorityKeyId;
  if (!issuer.equals(subject) && parent.subjectKeyId && parent.subjectKeyId.length > 0) {
    authorityKeyId = parent.subjectKeyId;
  }
  if (parent.spki && !spkiDer(args.signingKey).equals(canonicalSpki(parent.spki))) {
    throw new Error("x509: provided PrivateKey doesn't match parent's PublicKey");
  }
  const extensions: Buffer[] = [];
  if (template.keyUsage !== 0)
    extensions.push(extension(OID.keyUsage, true, keyUsageValue(template.keyUsage)));
  if (template.extKeyUsage.length > 0) {
    extensions.push(extension(OID.extKeyUsage, false, der.sequence(...template.extKeyUsage.map(der.oid))));
  }
  extensions.push(
    extension(OID.basicConstraints, true, basicConstraintsValue(template.isCa, template.maxPathLen)),
  );
  if (template.subjectKeyId && template.subjectKeyId.length > 0) {
    extensions.push(extension(OID.subjectKeyId, false, der.octetString(template.subjectKeyId)));
  }
  if (authorityKeyId && authorityKeyId.length > 0) {
    extensions.push(
      extension(OID.authorityKeyId, false, der.sequence(der.implicitPrimitive(0, authorityKeyId))),
    );
  }
  if (hasSans(template.sans)) {
    const subjectIsEmpty = der.parse(subject).content.length === 0;
    extensions.push(extension(OID.subjectAltName, subjectIsEmpty, encodeSans(template.sans)));
  }
  const { algorithmIdentifier } = signatureParams(args.signingKey);
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(serial),
    algorithmIdentifier,
    issuer,
    der.sequence(der.time(notBefore), der.time(notAfter)),
    subject,
    canonicalSpki(args.publicKeySpki),
    der.explicit(3, der.sequence(...extensions)),
  );
  return { der: signStructure(tbs, args.signingKey), serial, notBefore, notAfter };
}

/** Go re-marshals parsed public keys; node's SPKI export is the same canonical encoding. */
function canonicalSpki(spki: Buffer): Buffer {
  return createPublicKey({ key: spki, format: "der", type: "spki" }).export({ type: "spki", format: "der" });
}

/** The parts of a parsed CA certificate that CreateCertificate and the provider look at. */
export interface ParsedCertificate {
  rawSubject: Buffer;
  subjectKeyId?: Buffer;
  spki: Buffer;
  isCa: boolean;
}

/** upstream `parseCertificate` (+ decodePEM) with its error texts. */
export function parseCertificatePem(pem: string): ParsedCertificate {
  const block = pemDecode(pem);
  if (!block) throw new Error('failed to decode PEM of expected type "CERTIFICATE" from bytes');
  if (block.type !== "CERTIFICATE") {
    throw new Error(`invalid PEM type - expected "CERTIFICATE", got ${JSON.stringify(block.type)}`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block.der);
  } catch (err) {
    throw new Error(`failed to parse certificate: ${(err as Error).message}`);
  }
  const tbsFields = der.children(der.children(der.parse(block.der))[0] ?? der.parse(der.sequence()));
  const offset = tbsFields[0]?.tag === 0xa0 ? 1 : 0;
  const rawSubject = tbsFields[offset + 4]?.raw;
  const spkiNode = tbsFields[offset + 5];
  if (!rawSubject || !spkiNode) throw new Error("failed to parse certificate: malformed TBSCertificate");
  let subjectKeyId: Buffer | undefined;
  const extensionsNode = tbsFields.find((f) => f.tag === 0xa3);
  for (const ext of extensionsNode ? der.children(der.children(extensionsNode)[0] ?? extensionsNode) : []) {
    const parts = der.children(ext);
    const first = parts[0];
    const value = parts[parts.length - 1];
    if (first && value && der.readOid(first) === OID.subjectKeyId) {
      subjectKeyId = Buffer.from(der.parse(value.content).content);
    }
  }
  return {
    rawSubject: Buffer.from(rawSubject),
    subjectKeyId,
    spki: Buffer.from(spkiNode.raw),
    isCa: cert.ca,
  };
}
