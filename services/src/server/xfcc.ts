/**
 * The caller's verified identity as request headers for the upstream:
 *
 * - `x-forwarded-client-cert` in Envoy's XFCC format, one element (this proxy is the edge):
 *   `By=<our URI SAN>;Hash=<hex SHA-256 of the client certificate DER>;Subject="<DN>";URI=<URI SAN>;DNS=<DNS SAN>...`
 *   Keys in Envoy's order; values holding `,` `;` `=` or `"` are double-quoted with `"` and `\`
 *   escaped, and Subject is always quoted, as Envoy's documentation says. The Subject is the
 *   RFC 4514/2253 string (most specific RDN first, comma-separated), as Envoy prints it with
 *   OpenSSL's XN_FLAG_RFC2253 (assumption from Envoy's source, `getRFC2253NameFromCertificate`).
 * - optionally (MTLS_UPSTREAM_CLIENT_CERT=on) the certificate itself: XFCC `Cert` (URL-encoded
 *   PEM) and RFC 9440 `Client-Cert` (the DER in base64 between colons, a structured-field byte
 *   sequence).
 *
 * Computed once per TLS connection (the certificate does not change on a connection) and kept.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { parseSubjectAltNames } from "./peer-identity.ts";

export interface ClientCertHeaders {
  xfcc: string;
  /** RFC 9440 `Client-Cert` value. */
  clientCert: string;
}

/** Quotes an XFCC value when it holds a character with a meaning in the header. */
function xfccValue(text: string, alwaysQuote = false): string {
  if (!alwaysQuote && !/[,;="\\]/.test(text)) return text;
  return `"${text.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

/**
 * RFC 4514 from Node's subject text. Node prints the subject one RDN per line, least specific
 * first, with RFC 2253 escaping already applied (OpenSSL's ASN1_STRFLGS_ESC_2253), so the lines
 * only need reversing and joining.
 */
export function rfc4514Subject(nodeSubject: string): string {
  return nodeSubject
    .split("\n")
    .filter((line) => line !== "")
    .reverse()
    .join(",");
}

function pemOf(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/**
 * `withCert` adds XFCC `Cert` (the URL-encoded PEM, quoted: what Keycloak's Envoy lookup reads).
 */
export function clientCertHeaders(
  der: Buffer,
  ownUri: string | undefined,
  withCert = false,
): ClientCertHeaders {
  const certificate = new X509Certificate(der);
  const names = parseSubjectAltNames(certificate.subjectAltName);
  const parts: string[] = [];
  if (ownUri !== undefined) parts.push(`By=${xfccValue(ownUri)}`);
  parts.push(`Hash=${createHash("sha256").update(der).digest("hex")}`);
  if (withCert) parts.push(`Cert="${encodeURIComponent(pemOf(der))}"`);
  parts.push(`Subject=${xfccValue(rfc4514Subject(certificate.subject), true)}`);
  // Envoy gives the first URI SAN and every DNS SAN.
  const uri = names.find((name) => name.type === "URI");
  if (uri) parts.push(`URI=${xfccValue(uri.value)}`);
  for (const name of names) if (name.type === "DNS") parts.push(`DNS=${xfccValue(name.value)}`);
  return { xfcc: parts.join(";"), clientCert: `:${der.toString("base64")}:` };
}

/** The first URI SAN of a certificate (the server's own, for `By`). */
export function firstUri(certificate: X509Certificate): string | undefined {
  return parseSubjectAltNames(certificate.subjectAltName).find((name) => name.type === "URI")?.value;
}

/** Per-connection cache; `ownUri` is read at first use, so a reload's new URI applies to new connections. */
export function createClientCertHeaderCache(ownUri: () => string | undefined, withCert: boolean) {
  const cache = new WeakMap<TLSSocket, ClientCertHeaders>();
  return (socket: TLSSocket): ClientCertHeaders | undefined => {
    const known = cache.get(socket);
    if (known) return known;
    const raw = socket.getPeerCertificate(false)?.raw;
    if (!raw) return undefined;
    const headers = clientCertHeaders(raw, ownUri(), withCert);
    cache.set(socket, headers);
    return headers;
  };
}
