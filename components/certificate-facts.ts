/**
 * Facts about an issued certificate that people look up (serial, fingerprint, expiry), read from
 * the certificate itself rather than from provider state, in the same format the services report
 * them (`GET /v1/whoami`), so the two can be compared directly.
 */
import { X509Certificate } from "node:crypto";

export interface CertificateFacts {
  /** Serial number in upper-case hex, as OpenSSL and Node print it. */
  serialNumber: string;
  /** SHA-256 fingerprint of the DER, colon-separated upper-case hex. */
  fingerprintSha256: string;
  /** Expiry as an ISO 8601 UTC timestamp. */
  notAfter: string;
}

/** Reads the facts of the first certificate in a PEM string (a chain starts with its leaf). */
export function certificateFacts(pem: string): CertificateFacts {
  const certificate = new X509Certificate(pem);
  return {
    serialNumber: certificate.serialNumber.toUpperCase(),
    fingerprintSha256: certificate.fingerprint256,
    notAfter: certificate.validToDate.toISOString(),
  };
}

/** Joins PEM blocks into one bundle, each ending in exactly one newline. */
export function joinPem(...blocks: string[]): string {
  return blocks
    .filter((block) => block.trim() !== "")
    .map((block) => `${block.trim()}\n`)
    .join("");
}
