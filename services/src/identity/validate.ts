/**
 * Validation of an identity set (certificate chain, private key, CA bundle) before it is used, at
 * start and on every reload. The checks mirror what OpenSSL will do during handshakes, in the order
 * that gives the most useful message first, and end with OpenSSL itself building a secure context
 * from the set, so anything these checks miss is still caught here and not at the first handshake.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import type { Role, TlsPolicy } from "../contract.ts";
import { tlsPolicyOptions } from "../tls-policy.ts";
import { combineIdentityErrors, describeFile, type FileRef, IdentityError } from "./errors.ts";
import {
  CERTIFICATE_LABELS,
  ENCRYPTED_KEY_LABELS,
  looksLikePem,
  PRIVATE_KEY_LABELS,
  pemBlocks,
} from "./pem.ts";
import { SIGNATURE_ALGORITHM_NAMES, signatureAlgorithmOid } from "./signature-algorithm.ts";

export interface IdentityContents {
  cert: string;
  key: string;
  ca: string;
}

export interface IdentityFileRefs {
  cert: FileRef;
  key: FileRef;
  ca: FileRef;
}

export interface Identity {
  /** The chain: certificate blocks of the cert file only, leaf first (a stray key block never travels on). */
  chainPem: string;
  keyPem: string;
  /** Certificate blocks of the CA bundle only. */
  caPem: string;
  leaf: X509Certificate;
  caCertificates: X509Certificate[];
  /** SHA-256 over the three files, to tell a real change from a repeated file event. */
  digest: string;
  /** Loggable facts about the leaf (never key material). */
  summary: CertificateSummary;
}

export interface CertificateSummary {
  subject: string;
  serialNumber: string;
  fingerprint256: string;
  notBefore: string;
  notAfter: string;
  caCertificates: number;
}

const PURPOSE_OIDS: Record<Role, { oid: string; name: string }> = {
  server: { oid: "1.3.6.1.5.5.7.3.1", name: "serverAuth (TLS Web Server Authentication)" },
  client: { oid: "1.3.6.1.5.5.7.3.2", name: "clientAuth (TLS Web Client Authentication)" },
};

const EKU_NAMES: Record<string, string> = {
  "1.3.6.1.5.5.7.3.1": "serverAuth",
  "1.3.6.1.5.5.7.3.2": "clientAuth",
  "1.3.6.1.5.5.7.3.3": "codeSigning",
  "1.3.6.1.5.5.7.3.4": "emailProtection",
  "1.3.6.1.5.5.7.3.8": "timeStamping",
  "1.3.6.1.5.5.7.3.9": "OCSPSigning",
  "2.5.29.37.0": "anyExtendedKeyUsage",
};

/** Signature algorithms that OpenSSL's default security level (2) refuses. */
const WEAK_SIGNATURES: Record<string, "SHA-1" | "MD5" | "MD2"> = {
  "1.2.840.113549.1.1.5": "SHA-1", // sha1WithRSAEncryption
  "1.3.14.3.2.29": "SHA-1", // sha1WithRSASignature (obsolete OID)
  "1.2.840.10045.4.1": "SHA-1", // ecdsa-with-SHA1
  "1.2.840.10040.4.3": "SHA-1", // dsa-with-sha1
  "1.2.840.113549.1.1.4": "MD5", // md5WithRSAEncryption
  "1.2.840.113549.1.1.2": "MD2", // md2WithRSAEncryption
};

/** `C=CN, O=org, CN=name` from Node's one-attribute-per-line subject. */
export function subjectLine(certificate: X509Certificate): string {
  return certificate.subject.split("\n").join(", ");
}

function named(certificate: X509Certificate): string {
  return `certificate "${subjectLine(certificate)}"`;
}

function parseCertificates(contents: string, file: FileRef): X509Certificate[] {
  return pemBlocks(contents)
    .filter((block) => CERTIFICATE_LABELS.has(block.label))
    .map((block, index) => {
      try {
        return new X509Certificate(block.text);
      } catch (error) {
        throw new IdentityError(
          "bad_certificate",
          `${describeFile(file)}: certificate #${index + 1} cannot be parsed (${(error as Error).message})`,
        );
      }
    });
}

function certificatesPem(certificates: X509Certificate[]): string {
  return certificates.map((certificate) => certificate.toString()).join("");
}

function parseKey(contents: string, file: FileRef): { key: KeyObject; pem: string } {
  if (!looksLikePem(contents)) {
    throw new IdentityError(
      "not_pem",
      `${describeFile(file)} is not PEM: expected a PEM "BEGIN PRIVATE KEY" block`,
    );
  }
  const blocks = pemBlocks(contents);
  if (
    blocks.some(
      (block) => ENCRYPTED_KEY_LABELS.has(block.label) || block.text.includes("Proc-Type: 4,ENCRYPTED"),
    )
  ) {
    throw new IdentityError(
      "bad_key",
      `${describeFile(file)} holds an encrypted private key: the services need it unencrypted (protect it with file permissions)`,
    );
  }
  const keys = blocks.filter((block) => PRIVATE_KEY_LABELS.has(block.label));
  if (keys.length !== 1) {
    throw new IdentityError(
      keys.length === 0 ? "not_pem" : "bad_key",
      keys.length === 0
        ? `${describeFile(file)} holds no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)`
        : `${describeFile(file)} holds ${keys.length} private keys: expected exactly one`,
    );
  }
  const pem = keys[0]!.text;
  try {
    return { key: createPrivateKey(pem), pem };
  } catch {
    // Node's message may quote parser state; say only what is wrong and where.
    throw new IdentityError("bad_key", `${describeFile(file)}: the private key cannot be parsed`);
  }
}

function checkSignature(certificate: X509Certificate, file: FileRef): void {
  const oid = signatureAlgorithmOid(certificate.raw);
  const weak = WEAK_SIGNATURES[oid];
  if (!weak) return;
  const algorithm = SIGNATURE_ALGORITHM_NAMES[oid] ?? oid;
  const recipe = weak === "SHA-1" ? " (the classic openssl recipe with -sha1 makes such certificates)" : "";
  throw new IdentityError(
    "weak_signature",
    `${named(certificate)} in ${describeFile(file)} is signed with ${weak} (${algorithm}): ` +
      `OpenSSL's default security level refuses ${weak} signatures${recipe}; re-issue it with SHA-256 ` +
      "(e.g. openssl x509 -req -sha256 ...)",
  );
}

function checkDates(certificate: X509Certificate, file: FileRef, now: Date): void {
  if (certificate.validToDate.getTime() < now.getTime()) {
    throw new IdentityError(
      "expired",
      `${named(certificate)} in ${describeFile(file)} expired on ${certificate.validToDate.toISOString()}: issue a new one`,
    );
  }
  if (certificate.validFromDate.getTime() > now.getTime()) {
    throw new IdentityError(
      "not_yet_valid",
      `${named(certificate)} in ${describeFile(file)} is not valid until ${certificate.validFromDate.toISOString()} ` +
        `(now ${now.toISOString()}): check the clock, or wait`,
    );
  }
}

function checkPurpose(certificate: X509Certificate, purpose: Role, file: FileRef): void {
  const usages = certificate.keyUsage; // Node names the extended key usage list `keyUsage`
  if (!usages || usages.length === 0) return; // no EKU extension: any purpose, as OpenSSL reads it
  const needed = PURPOSE_OIDS[purpose];
  if (usages.includes(needed.oid)) return;
  const has = usages.map((oid) => EKU_NAMES[oid] ?? oid).join(", ");
  throw new IdentityError(
    "wrong_purpose",
    `${named(certificate)} in ${describeFile(file)} has an extended key usage without ${needed.name}, ` +
      `which the ${purpose} needs (it has: ${has}): issue it for ${purpose} use`,
  );
}

function isSelfSigned(certificate: X509Certificate): boolean {
  return certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);
}

function issuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
}

/** The path from the leaf to a CA of the bundle: leaf, intermediates from the cert file, anchor. */
function buildPath(
  chain: X509Certificate[],
  anchors: X509Certificate[],
  refs: IdentityFileRefs,
): { path: X509Certificate[]; anchor: X509Certificate } {
  const path: X509Certificate[] = [];
  let current = chain[0]!;
  for (let depth = 0; depth < 10; depth++) {
    path.push(current);
    const pinned = anchors.find((anchor) => anchor.raw.equals(current.raw));
    if (pinned) return { path, anchor: pinned };
    const anchor = anchors.find((candidate) => issuedBy(current, candidate));
    if (anchor) return { path, anchor };
    const next = chain.find(
      (candidate) => candidate !== current && !path.includes(candidate) && issuedBy(current, candidate),
    );
    if (!next) break;
    current = next;
  }
  const top = path.at(-1)!;
  const via =
    path.length > 1 ? ` (via ${path.length - 1} intermediate(s) from ${describeFile(refs.cert)})` : "";
  throw new IdentityError(
    "not_chained",
    `${named(chain[0]!)} in ${describeFile(refs.cert)} does not chain to any CA in ${describeFile(refs.ca)}${via}: ` +
      `none there is its issuer "${top.issuer.split("\n").join(", ")}"; put the issuing CA in the bundle, ` +
      "or append the intermediates to the certificate file",
  );
}

function parseCertificateFile(contents: string, file: FileRef): X509Certificate[] {
  if (!looksLikePem(contents)) {
    throw new IdentityError(
      "not_pem",
      `${describeFile(file)} is not PEM: expected PEM "BEGIN CERTIFICATE" blocks, leaf first`,
    );
  }
  const chain = parseCertificates(contents, file);
  if (chain.length === 0) {
    throw new IdentityError("not_pem", `${describeFile(file)} holds no PEM certificate block`);
  }
  return chain;
}

function parseCaBundle(contents: string, file: FileRef): X509Certificate[] {
  if (contents.trim() !== "" && !looksLikePem(contents)) {
    throw new IdentityError(
      "not_pem",
      `${describeFile(file)} is not PEM: expected PEM "BEGIN CERTIFICATE" blocks`,
    );
  }
  const certificates = parseCertificates(contents, file);
  if (certificates.length === 0) {
    throw new IdentityError(
      "empty_ca_bundle",
      `${describeFile(file)} holds no certificate: it must contain the PEM certificate(s) of the CA(s) to trust`,
    );
  }
  return certificates;
}

export function validateIdentity(
  contents: IdentityContents,
  refs: IdentityFileRefs,
  purpose: Role,
  policy: TlsPolicy,
  now = new Date(),
): Identity {
  // The three files are parsed independently, so a start reports the problems of all of them.
  const problems: IdentityError[] = [];
  const collect = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof IdentityError)) throw error;
      problems.push(error);
      return undefined;
    }
  };
  const chain = collect(() => parseCertificateFile(contents.cert, refs.cert));
  const parsedKey = collect(() => parseKey(contents.key, refs.key));
  const caCertificates = collect(() => parseCaBundle(contents.ca, refs.ca));
  if (!chain || !parsedKey || !caCertificates) throw combineIdentityErrors(problems);
  const { key, pem: keyPem } = parsedKey;
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) {
    throw new IdentityError(
      "key_mismatch",
      `${describeFile(refs.key)} does not match the certificate "${subjectLine(leaf)}" in ${describeFile(refs.cert)}: ` +
        "deliver the key and certificate of the same issuance",
    );
  }
  for (const certificate of chain) {
    if (!isSelfSigned(certificate)) checkSignature(certificate, refs.cert);
  }
  const { path, anchor } = buildPath(chain, caCertificates, refs);
  for (const certificate of path) checkDates(certificate, refs.cert, now);
  checkDates(anchor, refs.ca, now);
  if (!isSelfSigned(anchor)) checkSignature(anchor, refs.ca);
  for (const certificate of path) checkPurpose(certificate, purpose, refs.cert);

  const identity: Identity = {
    chainPem: certificatesPem(chain),
    keyPem,
    caPem: certificatesPem(caCertificates),
    leaf,
    caCertificates,
    digest: identityDigest(contents),
    summary: {
      subject: subjectLine(leaf),
      serialNumber: leaf.serialNumber.toUpperCase(),
      fingerprint256: leaf.fingerprint256,
      notBefore: leaf.validFromDate.toISOString(),
      notAfter: leaf.validToDate.toISOString(),
      caCertificates: caCertificates.length,
    },
  };
  try {
    createSecureContext({
      cert: identity.chainPem,
      key: identity.keyPem,
      ca: identity.caPem,
      ...tlsPolicyOptions(policy),
    });
  } catch (error) {
    throw new IdentityError(
      "rejected_by_openssl",
      `OpenSSL refused the identity from ${describeFile(refs.cert)}, ${describeFile(refs.key)} and ${describeFile(refs.ca)}: ` +
        `${(error as Error).message}`,
    );
  }
  return identity;
}

export function identityDigest(contents: IdentityContents): string {
  const hash = createHash("sha256");
  for (const part of [contents.cert, contents.key, contents.ca]) hash.update(part).update("\0");
  return hash.digest("hex");
}
