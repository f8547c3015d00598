/**
 * The authenticated peer as the service sees it: common name, URI SANs (SPIFFE-style IDs), serial,
 * fingerprint, expiry. Extracted once per TLS connection (certificate parsing per request would
 * cost on keep-alive connections) and kept with the connection's state.
 */
import type { PeerCertificate, TLSSocket } from "node:tls";

export interface PeerIdentity {
  commonName: string | null;
  uris: string[];
  dnsNames: string[];
  serialNumber: string;
  fingerprint256: string;
  notAfter: string;
  issuer: string | null;
}

/**
 * Splits Node's `subjectaltname` text ("DNS:a, URI:spiffe://x"). Node writes a value that holds
 * a comma or quote as a JSON string ("URI:\"a, b\""), so quoted values are decoded, not split.
 */
export function parseSubjectAltNames(text: string | undefined): Array<{ type: string; value: string }> {
  const names: Array<{ type: string; value: string }> = [];
  if (!text) return names;
  let rest = text;
  while (rest.length > 0) {
    const colon = rest.indexOf(":");
    if (colon < 0) break;
    const type = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    let value: string;
    if (rest.startsWith('"')) {
      const end = closingQuote(rest);
      try {
        value = JSON.parse(rest.slice(0, end + 1)) as string;
      } catch {
        value = rest.slice(1, end);
      }
      rest = rest.slice(end + 1);
    } else {
      const comma = rest.indexOf(", ");
      value = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? "" : rest.slice(comma);
    }
    names.push({ type, value });
    rest = rest.replace(/^, /, "");
  }
  return names;
}

function closingQuote(text: string): number {
  for (let index = 1; index < text.length; index++) {
    if (text[index] === "\\") index++;
    else if (text[index] === '"') return index;
  }
  return text.length - 1;
}

function firstValue(field: string | string[] | undefined): string | null {
  if (Array.isArray(field)) return field[0] ?? null;
  return field ?? null;
}

export function peerIdentityFromCertificate(certificate: PeerCertificate): PeerIdentity {
  const altNames = parseSubjectAltNames(certificate.subjectaltname);
  return {
    commonName: firstValue(certificate.subject?.CN),
    uris: altNames.filter((name) => name.type === "URI").map((name) => name.value),
    dnsNames: altNames.filter((name) => name.type === "DNS").map((name) => name.value),
    serialNumber: (certificate.serialNumber ?? "").toUpperCase(),
    fingerprint256: certificate.fingerprint256,
    notAfter: new Date(certificate.valid_to).toISOString(),
    issuer: firstValue(certificate.issuer?.CN),
  };
}

/** The peer's identity, or undefined when it sent no certificate. */
export function peerIdentityOf(socket: TLSSocket): PeerIdentity | undefined {
  const certificate = socket.getPeerCertificate(false);
  if (!certificate || Object.keys(certificate).length === 0) return undefined;
  return peerIdentityFromCertificate(certificate);
}
