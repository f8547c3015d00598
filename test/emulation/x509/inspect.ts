/**
 * Test-side inspection of certificates and CSRs, down to the bytes that matter for "is it shaped
 * like the Go provider's": extension order and critical flags, string types in the subject,
 * KeyUsage bits, path length, key identifiers, SANs, signature algorithm. Built on the DER reader
 * so nothing is normalised away; node's X509Certificate is used to cross-check in the tests.
 */
import { children, type DerNode, parse, readInteger, readOid, readString, TAG } from "./der.ts";

export interface Attribute {
  oid: string;
  /** DER string tag, e.g. 0x13 PrintableString, 0x0c UTF8String, 0x16 IA5String. */
  tag: number;
  value: string;
}

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export interface GeneralNames {
  dns: string[];
  ip: string[];
  uri: string[];
}

export interface InspectedCertificate {
  version: number;
  serial: bigint;
  signatureAlgorithm: string;
  /** Parameters of the signature AlgorithmIdentifier: "null", "absent". */
  signatureParameters: "null" | "absent";
  issuer: Attribute[][];
  subject: Attribute[][];
  rawIssuer: Buffer;
  rawSubject: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** Tag of the time values: 0x17 UTCTime or 0x18 GeneralizedTime. */
  timeTags: number[];
  spki: Buffer;
  extensions: Extension[];
}

export const OIDS = {
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  basicConstraints: "2.5.29.19",
  subjectKeyId: "2.5.29.14",
  authorityKeyId: "2.5.29.35",
  subjectAltName: "2.5.29.17",
  sha256WithRSA: "1.2.840.113549.1.1.11",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  ecdsaWithSHA384: "1.2.840.10045.4.3.3",
  ecdsaWithSHA512: "1.2.840.10045.4.3.4",
  ed25519: "1.3.101.112",
  commonName: "2.5.4.3",
  serialNumber: "2.5.4.5",
  country: "2.5.4.6",
  locality: "2.5.4.7",
  province: "2.5.4.8",
  street: "2.5.4.9",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
  postalCode: "2.5.4.17",
  emailAddress: "1.2.840.113549.1.9.1",
  extensionRequest: "1.2.840.113549.1.9.14",
} as const;

export function derFromPem(pem: string): Buffer {
  const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(pem);
  if (!m) throw new Error("no PEM block");
  return Buffer.from((m[1] ?? "").replace(/\s+/g, ""), "base64");
}

function at(nodes: DerNode[], i: number, what: string): DerNode {
  const n = nodes[i];
  if (!n) throw new Error(`malformed structure: missing ${what}`);
  return n;
}

export function readName(node: DerNode): Attribute[][] {
  return children(node).map((rdn) =>
    children(rdn).map((atv) => {
      const [type, value] = children(atv);
      if (!type || !value) throw new Error("malformed AttributeTypeAndValue");
      return { oid: readOid(type), tag: value.tag, value: readString(value) };
    }),
  );
}

function readTime(node: DerNode): Date {
  const s = node.content.toString("latin1");
  const full = node.tag === TAG.utcTime ? `${Number(s.slice(0, 2)) >= 50 ? "19" : "20"}${s}` : s;
  return new Date(
    Date.UTC(
      Number(full.slice(0, 4)),
      Number(full.slice(4, 6)) - 1,
      Number(full.slice(6, 8)),
      Number(full.slice(8, 10)),
      Number(full.slice(10, 12)),
      Number(full.slice(12, 14)),
    ),
  );
}

function readExtensions(node: DerNode | undefined): Extension[] {
  if (!node) return [];
  return children(node).map((ext) => {
    const parts = children(ext);
    const critical = parts.length === 3 && parts[1]?.tag === TAG.boolean && parts[1].content[0] === 0xff;
    return {
      oid: readOid(at(parts, 0, "extension id")),
      critical,
      value: Buffer.from(at(parts, parts.length - 1, "extension value").content),
    };
  });
}

export function inspectCertificate(pem: string): InspectedCertificate {
  const [tbs, sigAlg] = children(parse(derFromPem(pem)));
  if (!tbs || !sigAlg) throw new Error("malformed Certificate");
  const f = children(tbs);
  const hasVersion = f[0]?.tag === 0xa0;
  const o = hasVersion ? 1 : 0;
  const version = hasVersion ? Number(readInteger(at(children(at(f, 0, "version")), 0, "version"))) + 1 : 1;
  const validity = children(at(f, o + 3, "validity"));
  const sigParts = children(sigAlg);
  const extWrapper = f.find((n) => n.tag === 0xa3);
  return {
    version,
    serial: readInteger(at(f, o, "serial")),
    signatureAlgorithm: readOid(at(sigParts, 0, "signature algorithm")),
    signatureParameters: sigParts[1]?.tag === TAG.null ? "null" : "absent",
    issuer: readName(at(f, o + 2, "issuer")),
    subject: readName(at(f, o + 4, "subject")),
    rawIssuer: Buffer.from(at(f, o + 2, "issuer").raw),
    rawSubject: Buffer.from(at(f, o + 4, "subject").raw),
    notBefore: readTime(at(validity, 0, "notBefore")),
    notAfter: readTime(at(validity, 1, "notAfter")),
    timeTags: validity.map((v) => v.tag),
    spki: Buffer.from(at(f, o + 5, "subjectPublicKeyInfo").raw),
    extensions: readExtensions(extWrapper ? children(extWrapper)[0] : undefined),
  };
}

export interface InspectedRequest {
  version: bigint;
  subject: Attribute[][];
  spki: Buffer;
  signatureAlgorithm: string;
  /** Extensions from the extensionRequest attribute. */
  extensions: Extension[];
  attributeCount: number;
}

export function inspectRequest(pem: string): InspectedRequest {
  const [info, sigAlg] = children(parse(derFromPem(pem)));
  if (!info || !sigAlg) throw new Error("malformed CertificationRequest");
  const [version, subject, spki, attributes] = children(info);
  if (!version || !subject || !spki || !attributes) throw new Error("malformed CertificationRequestInfo");
  let extensions: Extension[] = [];
  const attrs = children(attributes);
  for (const attr of attrs) {
    const [type, values] = children(attr);
    if (type && values && readOid(type) === OIDS.extensionRequest)
      extensions = readExtensions(children(values)[0]);
  }
  return {
    version: readInteger(version),
    subject: readName(subject),
    spki: Buffer.from(spki.raw),
    signatureAlgorithm: readOid(at(children(sigAlg), 0, "signature algorithm")),
    extensions,
    attributeCount: attrs.length,
  };
}

export function extension(cert: { extensions: Extension[] }, oid: string): Extension | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}

/** KeyUsage as RFC 5280 bit numbers (0 = digitalSignature ... 8 = decipherOnly), plus the raw value. */
export function keyUsageBits(ext: Extension): number[] {
  const bits = parse(ext.value).content;
  const unused = bits[0] ?? 0;
  const bytes = bits.subarray(1);
  const out: number[] = [];
  for (let i = 0; i < bytes.length * 8 - unused; i++) {
    if (((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) out.push(i);
  }
  return out;
}

export function extKeyUsageOids(ext: Extension): string[] {
  return children(parse(ext.value)).map(readOid);
}

export function basicConstraints(ext: Extension): { ca: boolean; pathLen?: number; fieldCount: number } {
  const fields = children(parse(ext.value));
  const ca = fields[0]?.tag === TAG.boolean && fields[0].content[0] === 0xff;
  const lenNode = fields.find((f) => f.tag === TAG.integer);
  return { ca, pathLen: lenNode ? Number(readInteger(lenNode)) : undefined, fieldCount: fields.length };
}

export function subjectKeyId(ext: Extension): Buffer {
  return Buffer.from(parse(ext.value).content);
}

export function authorityKeyId(ext: Extension): Buffer {
  const [keyId] = children(parse(ext.value));
  if (keyId?.tag !== 0x80) throw new Error("AKI without keyIdentifier");
  return Buffer.from(keyId.content);
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(":");
}

/** SAN entries in encoded order, with the tag order kept in `order`. */
export function subjectAltNames(ext: Extension): GeneralNames & { order: string[] } {
  const out = { dns: [] as string[], ip: [] as string[], uri: [] as string[], order: [] as string[] };
  for (const n of children(parse(ext.value))) {
    if (n.tag === 0x82) {
      out.dns.push(n.content.toString("latin1"));
      out.order.push("dns");
    } else if (n.tag === 0x87) {
      out.ip.push(ipText(Buffer.from(n.content)));
      out.order.push(n.content.length === 4 ? "ipv4" : "ipv6");
    } else if (n.tag === 0x86) {
      out.uri.push(n.content.toString("latin1"));
      out.order.push("uri");
    }
  }
  return out;
}
