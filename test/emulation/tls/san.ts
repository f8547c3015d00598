/**
 * Subject Alternative Names as the provider collects them (DNS names, IPs parsed like Go's
 * `net.ParseIP`, URIs) and as Go's `marshalSANs` encodes them (DNS, then IP, then URI; IPv4 in 4 bytes).
 */
import { isIPv4, isIPv6 } from "node:net";
import * as der from "../x509/der.ts";

export interface Sans {
  dnsNames: string[];
  /** 4 bytes for IPv4 (incl. IPv4-mapped IPv6, as Go's `To4()`), 16 for IPv6. */
  ipAddresses: Buffer[];
  uris: string[];
}

function parseIPv4(text: string): Buffer | undefined {
  // Go >= 1.17 rejects leading zeros, like node's isIPv4.
  if (!isIPv4(text)) return undefined;
  return Buffer.from(text.split(".").map(Number));
}

/** Go's net.ParseIP: IPv4 dotted quad or IPv6 (no zone); undefined when it would return nil. */
export function parseIp(text: string): Buffer | undefined {
  const v4 = parseIPv4(text);
  if (v4) return v4;
  if (!isIPv6(text) || text.includes("%")) return undefined;
  let tail: number[] = [];
  let body = text;
  const lastColon = body.lastIndexOf(":");
  const maybeV4 = body.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    const embedded = parseIPv4(maybeV4);
    if (!embedded) return undefined;
    tail = [...embedded];
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const [head = "", rest] = body.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const fill = rest === undefined ? 0 : 8 - left.length - right.length;
  const words = [...left, ...Array.from({ length: fill }, () => 0), ...right];
  const bytes = Buffer.alloc(16);
  words.forEach((w, i) => {
    bytes.writeUInt16BE(w, i * 2);
  });
  if (tail.length === 4) Buffer.from(tail).copy(bytes, 12);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? Buffer.from(bytes.subarray(12)) : bytes;
}

/** Go's url.Parse failures that matter here: control characters and malformed %-escapes. */
export function uriParseError(text: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
  if (/[\x00-\x1f\x7f]/.test(text)) return "net/url: invalid control character in URL";
  const bad = /%(?![0-9A-Fa-f]{2})(.{0,2})/.exec(text);
  if (bad) return `invalid URL escape ${JSON.stringify(`%${bad[1] ?? ""}`)}`;
  return undefined;
}

function checkIa5(s: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: IA5 is 7-bit ASCII, control characters included
  if (!/^[\x00-\x7f]*$/.test(s))
    throw new Error(`x509: ${JSON.stringify(s)} cannot be encoded as an IA5String`);
}

export function hasSans(s: Sans): boolean {
  return s.dnsNames.length > 0 || s.ipAddresses.length > 0 || s.uris.length > 0;
}

/** The SubjectAltName extension value (GeneralNames). Throws Go's error for non-IA5 names. */
export function encodeSans(s: Sans): Buffer {
  const names: Buffer[] = [];
  for (const dns of s.dnsNames) {
    checkIa5(dns);
    names.push(der.implicitPrimitive(2, Buffer.from(dns, "latin1")));
  }
  for (const ip of s.ipAddresses) names.push(der.implicitPrimitive(7, ip));
  for (const uri of s.uris) {
    checkIa5(uri);
    names.push(der.implicitPrimitive(6, Buffer.from(uri, "latin1")));
  }
  return der.sequence(...names);
}

/** Reads GeneralNames back (what Go's x509 parser keeps: DNS, IP, URI). */
export function decodeSans(value: Buffer): Sans {
  const out: Sans = { dnsNames: [], ipAddresses: [], uris: [] };
  for (const name of der.children(der.parse(value))) {
    if (name.tag === 0x82) out.dnsNames.push(name.content.toString("latin1"));
    else if (name.tag === 0x86) out.uris.push(name.content.toString("latin1"));
    else if (name.tag === 0x87) {
      const ip = Buffer.from(name.content);
      const mapped =
        ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
      out.ipAddresses.push(mapped ? Buffer.from(ip.subarray(12)) : ip);
    }
  }
  return out;
}
