/**
 * Authorization by identity: an allow-list (MTLS_ALLOWED_CLIENTS, or the policy file's
 * allowedClients, see access-policy.ts) says who may call. An entry holding a colon is
 * a full URI SAN (`spiffe://example.org/client-a`, `urn:...`), compared exactly with each URI SAN
 * of the certificate; any other entry is a common name, compared exactly with the CN. An empty
 * list allows every certificate that chains to the CA bundle (authentication already happened).
 */
import type { PeerIdentity } from "./peer-identity.ts";

export interface AllowList {
  any: boolean;
  commonNames: ReadonlySet<string>;
  uris: ReadonlySet<string>;
}

export function createAllowList(entries: readonly string[]): AllowList {
  const uris = entries.filter((entry) => entry.includes(":"));
  const commonNames = entries.filter((entry) => !entry.includes(":"));
  return { any: entries.length === 0, commonNames: new Set(commonNames), uris: new Set(uris) };
}

export function isAllowed(list: AllowList, peer: PeerIdentity): boolean {
  if (list.any) return true;
  if (peer.commonName !== null && list.commonNames.has(peer.commonName)) return true;
  return peer.uris.some((uri) => list.uris.has(uri));
}
