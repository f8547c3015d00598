/**
 * What each kind of certificate may be used for. The tls provider takes these as `allowedUses`
 * in snake_case (its TypeScript doc comment shows camelCase, which the provider rejects), and
 * `isCaCertificate` alone does not add `cert_signing`: CAs must list it.
 */

import type { Role } from "../services/src/contract.ts";
import type { KeySpec } from "./key-algorithm.ts";
import { usesKeyEncipherment } from "./key-algorithm.ts";

export const CA_USES = ["cert_signing", "crl_signing"] as const;

/** Leaf usages: digital_signature always, key_encipherment for RSA only, one purpose per profile. */
export function leafUses(profile: Role, key: KeySpec): string[] {
  const purpose = profile === "server" ? "server_auth" : "client_auth";
  return ["digital_signature", ...(usesKeyEncipherment(key) ? ["key_encipherment"] : []), purpose];
}

/** The SPIFFE-style identity a workload proves with its certificate. */
export function spiffeId(trustDomain: string, name: string): string {
  return `spiffe://${trustDomain}/${name}`;
}

/**
 * A server's SANs when the caller names none: every name a client uses to reach it. Inside a Docker
 * network that is its alias (its workload name); from the host it is localhost / 127.0.0.1 (a port
 * published on loopback).
 */
export function defaultServerNames(workload: string): { dnsNames: string[]; ipAddresses: string[] } {
  return { dnsNames: [workload, "localhost"], ipAddresses: ["127.0.0.1"] };
}
