/** PEM framing exactly as Go's encoding/pem writes it, and the provider's state-ID hash. */
import { createHash } from "node:crypto";

/** `pem.EncodeToMemory`: 64-column base64 body, every line (the last too) ends in "\n". */
export function pemEncode(type: string, der: Uint8Array): string {
  const body = Buffer.from(der).toString("base64");
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.map((l) => `${l}\n`).join("")}-----END ${type}-----\n`;
}

export interface PemBlock {
  type: string;
  der: Buffer;
}

/** The first PEM block in `text` (text around it is ignored, as `pem.Decode` does). */
export function pemDecode(text: string): PemBlock | undefined {
  const match = /-----BEGIN ([^\r\n-]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) return undefined;
  const body = (match[2] ?? "").replace(/\s+/g, "");
  return { type: match[1] ?? "", der: Buffer.from(body, "base64") };
}

/** Bytes Go's strings.TrimSpace removes: ASCII white space and the Unicode spaces in UTF-8. */
const UNICODE_SPACES = [
  [0xc2, 0x85],
  [0xc2, 0xa0],
  [0xe1, 0x9a, 0x80],
  ...Array.from({ length: 11 }, (_, i) => [0xe2, 0x80, 0x80 + i]),
  [0xe2, 0x80, 0xa8],
  [0xe2, 0x80, 0xa9],
  [0xe2, 0x80, 0xaf],
  [0xe2, 0x81, 0x9f],
  [0xe3, 0x80, 0x80],
];
const ASCII_SPACES = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);

function spaceAt(buf: Buffer, i: number, fromEnd: boolean): number {
  const b = buf[i];
  if (b === undefined) return 0;
  if (ASCII_SPACES.has(b)) return 1;
  for (const seq of UNICODE_SPACES) {
    const start = fromEnd ? i - seq.length + 1 : i;
    if (start < 0) continue;
    if (seq.every((byte, k) => buf[start + k] === byte)) return seq.length;
  }
  return 0;
}

function trimSpace(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes);
  let start = 0;
  let end = buf.length;
  for (let n = spaceAt(buf, start, false); n > 0 && start < end; n = spaceAt(buf, start, false)) start += n;
  for (let n = spaceAt(buf, end - 1, true); n > 0 && end > start; n = spaceAt(buf, end - 1, true)) end -= n;
  return buf.subarray(start, end);
}

/**
 * The provider's `hashForState`: hex SHA-1 of the value after `strings.TrimSpace`. It is applied to
 * raw DER (public keys, CSRs), so a DER blob that happens to end in a "space" byte is hashed
 * without it, exactly as the provider does.
 */
export function hashForState(bytes: Uint8Array): string {
  if (bytes.length === 0) return "";
  return createHash("sha1").update(trimSpace(bytes)).digest("hex");
}
