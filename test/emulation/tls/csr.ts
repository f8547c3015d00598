/**
 * Certificate requests as Go's `x509.CreateCertificateRequest` writes them for the provider
 * (subject + a non-critical SAN extension request, nothing else), and the parse that
 * LocallySignedCert does (the CSR's signature is not verified, as upstream does not).
 */
import type { KeyObject } from "node:crypto";
import * as der from "../x509/der.ts";
import { OID } from "./certificate.ts";
import { signStructure, spkiDer } from "./keys.ts";
import { type GoName, parseName } from "./name.ts";
import { pemDecode } from "./pem.ts";
import { decodeSans, encodeSans, hasSans, type Sans } from "./san.ts";

const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

export function createCertificateRequest(subject: Buffer, sans: Sans, key: KeyObject): Buffer {
  const attributes: Buffer[] = [];
  if (hasSans(sans)) {
    const san = der.sequence(der.oid(OID.subjectAltName), der.octetString(encodeSans(sans)));
    attributes.push(der.sequence(der.oid(OID_EXTENSION_REQUEST), der.set(der.sequence(san))));
  }
  const info = der.sequence(der.integer(0), subject, spkiDer(key), der.tlv(0xa0, Buffer.concat(attributes)));
  return signStructure(info, key);
}

export interface ParsedRequest {
  subject: GoName;
  sans: Sans;
  spki: Buffer;
}

/** upstream `parseCertificateRequest` (+ decodePEM) with its error texts. */
export function parseCertificateRequestPem(pem: string): ParsedRequest {
  const block = pemDecode(pem);
  if (!block) throw new Error('failed to decode PEM of expected type "CERTIFICATE REQUEST" from bytes');
  if (block.type !== "CERTIFICATE REQUEST") {
    throw new Error(`invalid PEM type - expected "CERTIFICATE REQUEST", got ${JSON.stringify(block.type)}`);
  }
  try {
    const [info] = der.children(der.parse(block.der));
    const [, subject, spki, attributes] = info ? der.children(info) : [];
    if (!subject || !spki) throw new Error("malformed CertificationRequestInfo");
    let sans: Sans = { dnsNames: [], ipAddresses: [], uris: [] };
    for (const attribute of attributes ? der.children(attributes) : []) {
      const [type, values] = der.children(attribute);
      if (!type || !values || der.readOid(type) !== OID_EXTENSION_REQUEST) continue;
      for (const extensions of der.children(values)) {
        for (const ext of der.children(extensions)) {
          const parts = der.children(ext);
          const id = parts[0];
          const value = parts[parts.length - 1];
          if (id && value && der.readOid(id) === OID.subjectAltName) sans = decodeSans(value.content);
        }
      }
    }
    return { subject: parseName(Buffer.from(subject.raw)), sans, spki: Buffer.from(spki.raw) };
  } catch (err) {
    throw new Error(`failed to parse certificate request: ${(err as Error).message}`);
  }
}
