/**
 * The single source of truth for protocol versions and cipher suites, used by the server and the
 * client alike so the two cannot drift apart.
 *
 * - modern: TLS 1.3 only (all its suites are AEAD with ephemeral key exchange).
 * - intermediate: TLS 1.2 and 1.3; TLS 1.2 limited to ECDHE key exchange with AEAD ciphers
 *   (AES-GCM, ChaCha20-Poly1305): no static-RSA key exchange (no forward secrecy), no CBC
 *   (padding-oracle history), no DHE (slow, weak-parameter history).
 * TLS 1.0 and 1.1 are never enabled.
 */
import type { SecureContextOptions } from "node:tls";
import type { TlsPolicy } from "./contract.ts";

const TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

/** Mozilla's "intermediate" TLS 1.2 list without its DHE entries. */
const TLS12_ECDHE_AEAD = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
];

export type PolicyOptions = Required<Pick<SecureContextOptions, "minVersion" | "maxVersion" | "ciphers">>;

export function tlsPolicyOptions(policy: TlsPolicy): PolicyOptions {
  switch (policy) {
    case "modern":
      return { minVersion: "TLSv1.3", maxVersion: "TLSv1.3", ciphers: TLS13_SUITES.join(":") };
    case "intermediate":
      // Node splits this list: TLS_* names go to TLS 1.3, the rest to TLS 1.2.
      return {
        minVersion: "TLSv1.2",
        maxVersion: "TLSv1.3",
        ciphers: [...TLS13_SUITES, ...TLS12_ECDHE_AEAD].join(":"),
      };
  }
}
