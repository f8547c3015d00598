/**
 * The policy in force (allow-list, revoked serials, TLS policy) and the one decision every request
 * goes through.
 *
 * Precedence: an `allowedClients` key in a valid policy file REPLACES MTLS_ALLOWED_CLIENTS; without
 * a file, or with a file that has no `allowedClients` key, MTLS_ALLOWED_CLIENTS applies. Why replace
 * rather than intersect: the file exists so that the allow-list can change without replacing the
 * server container, whose environment is fixed at creation. With an intersection, a client added
 * to the file would stay refused until the environment changed too, which needs exactly the
 * container replacement the file is there to avoid. Revoked serials come from the file only, and are
 * refused whatever the allow-list says. The same rule holds for `tlsPolicy` against MTLS_TLS_POLICY.
 */
import { ENV, type TlsPolicy } from "../contract.ts";
import { type AllowList, createAllowList, isAllowed } from "./authorization.ts";
import type { PeerIdentity } from "./peer-identity.ts";
import type { FilePolicy } from "./policy-file.ts";
import { canonicalSerial } from "./serial.ts";

export type PolicySource = "file" | "env";
export type AllowListSource = PolicySource;

export interface AccessPolicy {
  allowList: AllowList;
  /** The entries of the allow-list in force (empty = any certificate that chains to the bundle). */
  allowedClients: readonly string[];
  allowListSource: AllowListSource;
  /** Canonical serials (serial.ts). */
  revoked: ReadonlySet<string>;
  /** Protocol versions and suites for new handshakes (tls-policy.ts). */
  tlsPolicy: TlsPolicy;
  tlsPolicySource: PolicySource;
}

/** What the environment says, for whatever the file leaves out. */
export interface EnvPolicy {
  allowedClients: readonly string[];
  tlsPolicy: TlsPolicy;
}

export const ACCESS_REFUSAL_REASONS = ["revoked", "not_allowed"] as const;
export type AccessRefusalReason = (typeof ACCESS_REFUSAL_REASONS)[number];

export interface AccessRefusal {
  reason: AccessRefusalReason;
  /** The `code` of the JSON error body. */
  code: "revoked" | "forbidden";
  message: string;
}

/** The policy in force for a file policy (or none) and the environment's allow-list. */
export function effectivePolicy(file: FilePolicy | undefined, env: EnvPolicy): AccessPolicy {
  const fromFile = file?.allowedClients !== undefined;
  const allowedClients = fromFile ? (file?.allowedClients ?? []) : env.allowedClients;
  return {
    allowList: createAllowList(allowedClients),
    allowedClients,
    allowListSource: fromFile ? "file" : "env",
    revoked: new Set(file?.revokedSerials ?? []),
    tlsPolicy: file?.tlsPolicy ?? env.tlsPolicy,
    tlsPolicySource: file?.tlsPolicy !== undefined ? "file" : "env",
  };
}

/**
 * Whether this peer may make a request now, under the policy in force now. Called for every request
 * (not once per connection), so a policy change reaches kept-alive connections at their next request.
 */
export function refusalFor(
  policy: AccessPolicy,
  peer: PeerIdentity,
  policyFile: string,
): AccessRefusal | undefined {
  const who = peer.uris[0] ?? peer.commonName ?? "unnamed";
  // Revocation first: a revoked certificate is refused even when its name is on the allow-list.
  if (policy.revoked.size > 0 && policy.revoked.has(canonicalSerial(peer.serialNumber))) {
    return {
      reason: "revoked",
      code: "revoked",
      message: `client "${who}": certificate serial ${peer.serialNumber} is revoked (${ENV.policyFile} ${policyFile})`,
    };
  }
  if (!isAllowed(policy.allowList, peer)) {
    const source = policy.allowListSource === "file" ? `${ENV.policyFile} ${policyFile}` : ENV.allowedClients;
    return {
      reason: "not_allowed",
      code: "forbidden",
      message: `client "${who}" is not on the allow-list (${source})`,
    };
  }
  return undefined;
}
