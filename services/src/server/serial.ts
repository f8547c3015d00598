/**
 * Certificate serial numbers in one canonical form, so a serial revoked in whatever shape an
 * operator copied it matches the one a client presents:
 *
 * - `openssl x509 -serial -noout` prints `serial=0A1B...` (upper case, the `serial=` prefix kept);
 * - `openssl x509 -text` prints `0a:1b:...` (lower case, colon-separated);
 * - Node's `X509Certificate.serialNumber` / `getPeerCertificate().serialNumber` give plain hex;
 * - DER pads a serial whose top bit is set with a 00 byte, which some tools print and some drop.
 *
 * Canonical form: upper-case hex without colons and without leading zeros ("0" for zero). Serials
 * are compared as numbers, never as text.
 */

/** RFC 5280 §4.1.2.2: at most 20 octets. Longer input is a copy-paste accident, not a serial. */
const MAX_SIGNIFICANT_HEX_DIGITS = 40;

export type SerialParse = { ok: true; serial: string } | { ok: false; problem: string };

/** Parses one serial as an operator may write it; says in words what is wrong when it is not one. */
export function parseSerial(raw: string): SerialParse {
  let text = raw.trim();
  if (/^serial=/i.test(text)) text = text.slice("serial=".length);
  if (/^0x/i.test(text)) text = text.slice(2);
  text = text.replaceAll(":", "");
  if (text === "") return { ok: false, problem: "is empty" };
  if (!/^[0-9a-fA-F]+$/.test(text)) {
    return { ok: false, problem: "is not a hexadecimal serial number (digits 0-9, a-f, optional colons)" };
  }
  const significant = text.replace(/^0+/, "").toUpperCase();
  if (significant.length > MAX_SIGNIFICANT_HEX_DIGITS) {
    return { ok: false, problem: "is longer than 20 bytes, the most a certificate serial can have" };
  }
  return { ok: true, serial: significant === "" ? "0" : significant };
}

/** The canonical form of a serial known to be well formed (a certificate's own). */
export function canonicalSerial(hex: string): string {
  const parsed = parseSerial(hex);
  return parsed.ok ? parsed.serial : hex.toUpperCase();
}
