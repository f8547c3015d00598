/**
 * The signature algorithm of a certificate, read from its DER bytes. Node added
 * `X509Certificate.signatureAlgorithmOid` only after 22.18 (the lowest Node the services support),
 * where it is undefined; reading the one field ourselves keeps the SHA-1 diagnosis on every
 * supported Node, with no dependency.
 *
 * Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm AlgorithmIdentifier, ... }
 * AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
 */

/** Names of the signature algorithms a message may mention (OpenSSL's short names). */
export const SIGNATURE_ALGORITHM_NAMES: Record<string, string> = {
  "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.3.14.3.2.29": "sha1WithRSA",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.2.840.10040.4.3": "dsa_with_SHA1",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
  "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.2.840.113549.1.1.10": "rsassaPss",
  "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
  "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
  "1.3.101.112": "ED25519",
  "1.3.101.113": "ED448",
};

/** One DER header at `offset`: the tag, where the contents start and how long they are. */
function header(der: Uint8Array, offset: number): { tag: number; start: number; length: number } {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined) throw new Error("truncated DER");
  if (first < 0x80) return { tag, start: offset + 2, length: first };
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4) throw new Error("unsupported DER length");
  let length = 0;
  for (let index = 0; index < octets; index++) {
    const byte = der[offset + 2 + index];
    if (byte === undefined) throw new Error("truncated DER");
    length = length * 256 + byte;
  }
  return { tag, start: offset + 2 + octets, length };
}

function expectTag(der: Uint8Array, offset: number, tag: number, what: string) {
  const found = header(der, offset);
  if (found.tag !== tag || found.start + found.length > der.length) throw new Error(`bad DER: ${what}`);
  return found;
}

/** Dotted form of an OBJECT IDENTIFIER's contents. */
function decodeOid(bytes: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (byte < 0x80) {
      if (arcs.length === 0)
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join(".");
}

/** The dotted OID of the certificate's outer signatureAlgorithm (the one its issuer signed with). */
export function signatureAlgorithmOid(der: Uint8Array): string {
  const certificate = expectTag(der, 0, 0x30, "Certificate");
  const tbs = expectTag(der, certificate.start, 0x30, "tbsCertificate");
  const algorithm = expectTag(der, tbs.start + tbs.length, 0x30, "signatureAlgorithm");
  const oid = expectTag(der, algorithm.start, 0x06, "algorithm OID");
  return decodeOid(der.subarray(oid.start, oid.start + oid.length));
}
