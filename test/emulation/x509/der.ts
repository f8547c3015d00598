/**
 * A minimal DER (ASN.1 Distinguished Encoding Rules) writer and reader.
 *
 * Why hand-written: the tls emulation must reproduce byte-level choices of Go's crypto/x509
 * (PrintableString vs UTF8String, the trimmed KeyUsage BIT STRING, omitted DEFAULT fields,
 * Ed25519's odd Subject Key Identifier, UTCTime vs GeneralizedTime) that general-purpose
 * certificate libraries decide for themselves. Tests use the reader to inspect exactly those bytes.
 */

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given identifier octet. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(items));
}

/** SET OF: DER requires the elements sorted by their encodings (Go's encoding/asn1 does so). */
export function set(...items: Uint8Array[]): Buffer {
  const sorted = [...items].map((i) => Buffer.from(i)).sort(Buffer.compare);
  return tlv(TAG.set, Buffer.concat(sorted));
}

/** INTEGER from a non-negative bigint, minimal encoding (X.509 needs no negative values). */
export function integer(value: bigint | number): Buffer {
  let v = BigInt(value);
  if (v < 0n) throw new Error("DER: negative INTEGER not supported");
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return tlv(TAG.integer, Buffer.from(bytes));
}

export function boolean(value: boolean): Buffer {
  return tlv(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
}

export function nullValue(): Buffer {
  return tlv(TAG.null, Buffer.alloc(0));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map((p) => BigInt(p));
  const [first = 0n, second = 0n, ...rest] = parts;
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i] = (chunk[i] ?? 0) | 0x80;
    out.push(...chunk);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

export function octetString(content: Uint8Array): Buffer {
  return tlv(TAG.octetString, content);
}

export function bitString(content: Uint8Array, unusedBits = 0): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), content]));
}

export function printableString(s: string): Buffer {
  return tlv(TAG.printableString, Buffer.from(s, "latin1"));
}

export function utf8String(s: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(s, "utf8"));
}

export function ia5String(s: string): Buffer {
  return tlv(TAG.ia5String, Buffer.from(s, "latin1"));
}

/** [n] EXPLICIT: a constructed context-specific wrapper around one encoded value. */
export function explicit(n: number, content: Uint8Array): Buffer {
  return tlv(0xa0 | n, content);
}

/** [n] IMPLICIT primitive: context-specific tag replacing the value's own. */
export function implicitPrimitive(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | n, content);
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** Go's rule: UTCTime for 1950 <= year < 2050, GeneralizedTime otherwise; whole seconds, UTC. */
export function time(date: Date): Buffer {
  const y = date.getUTCFullYear();
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(TAG.utcTime, Buffer.from(`${two(y % 100)}${rest}`, "latin1"));
  return tlv(TAG.generalizedTime, Buffer.from(`${String(y).padStart(4, "0")}${rest}`, "latin1"));
}

// ------------------------------------------------------------------------------------------
// Reader

export interface DerNode {
  /** The identifier octet (single-byte tags only, which is all X.509 needs). */
  tag: number;
  /** The value bytes (without tag and length). */
  content: Buffer;
  /** The whole TLV. */
  raw: Buffer;
}

/** Reads the TLV at `offset`; throws on truncated or malformed input. */
export function readNode(buf: Buffer, offset = 0): DerNode {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined) throw new Error("DER: truncated header");
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error("DER: unsupported length encoding");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] ?? 0);
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new Error("DER: truncated value");
  return { tag, content: buf.subarray(offset + header, end), raw: buf.subarray(offset, end) };
}

/** The elements of a constructed value (SEQUENCE, SET, explicit tag). */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let offset = 0; offset < node.content.length; ) {
    const child = readNode(node.content, offset);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

export function parse(buf: Uint8Array): DerNode {
  const b = Buffer.from(buf);
  const node = readNode(b, 0);
  if (node.raw.length !== b.length) throw new Error("DER: trailing data");
  return node;
}

export function readOid(node: DerNode): string {
  if (node.tag !== TAG.oid) throw new Error(`DER: expected OID, got tag 0x${node.tag.toString(16)}`);
  const arcs: bigint[] = [];
  let v = 0n;
  for (const byte of node.content) {
    v = (v << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(v);
      v = 0n;
    }
  }
  const [first = 0n, ...rest] = arcs;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...rest].join(".");
}

export function readInteger(node: DerNode): bigint {
  if (node.tag !== TAG.integer) throw new Error(`DER: expected INTEGER, got tag 0x${node.tag.toString(16)}`);
  let v = 0n;
  for (const byte of node.content) v = (v << 8n) | BigInt(byte);
  if (node.content.length > 0 && (node.content[0] ?? 0) & 0x80) v -= 1n << BigInt(node.content.length * 8);
  return v;
}

export function readString(node: DerNode): string {
  return node.tag === TAG.utf8String ? node.content.toString("utf8") : node.content.toString("latin1");
}
