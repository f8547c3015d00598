/**
 * The signature algorithm read from a certificate's DER (services/src/identity/signature-algorithm.ts)
 * matches what the certificate was signed with, for each key type and for SHA-1, and what
 * OpenSSL's own parser says (Node's X509Certificate, where it has the field). RSA with SHA-1 is
 * covered end to end by the classic openssl recipe in server-startup-errors.test.ts.
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  SIGNATURE_ALGORITHM_NAMES,
  signatureAlgorithmOid,
} from "../../../services/src/identity/signature-algorithm.ts";
import { createCa, type KeyType } from "../../support/pki-fixtures/pki.ts";

const cases: Array<{ keyType: KeyType; hash: "SHA-1" | "SHA-256"; oid: string }> = [
  { keyType: "rsa-2048", hash: "SHA-256", oid: "1.2.840.113549.1.1.11" },
  { keyType: "ecdsa-p256", hash: "SHA-256", oid: "1.2.840.10045.4.3.2" },
  { keyType: "ecdsa-p256", hash: "SHA-1", oid: "1.2.840.10045.4.1" },
  { keyType: "ed25519", hash: "SHA-256", oid: "1.3.101.112" },
];

describe("signature algorithm from the DER", () => {
  for (const { keyType, hash, oid } of cases) {
    it(`reads ${SIGNATURE_ALGORITHM_NAMES[oid]} from a ${keyType} certificate signed with ${hash}`, async () => {
      const ca = await createCa({ commonName: `sig ${keyType} ${hash}`, keyType, hash });
      const certificate = new X509Certificate(ca.certPem);
      expect(signatureAlgorithmOid(certificate.raw)).toBe(oid);
      // Where Node has the field (24), it agrees.
      const nodeOid = (certificate as { signatureAlgorithmOid?: string }).signatureAlgorithmOid;
      if (nodeOid !== undefined) expect(nodeOid).toBe(oid);
    });
  }

  it("refuses bytes that are not a certificate", () => {
    expect(() => signatureAlgorithmOid(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]))).toThrow(/bad DER/);
    expect(() => signatureAlgorithmOid(Buffer.from([0x30]))).toThrow(/truncated DER/);
  });
});
