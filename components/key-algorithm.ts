/**
 * Key algorithms a stack may choose, and what each means for the tls provider's PrivateKey inputs.
 * The provider's own defaults are traps (ecdsaCurve defaults to P224, which no TLS stack accepts),
 * so every spec spells its curve or size out.
 */

export interface KeySpec {
  /** The tls provider's `algorithm` input. */
  algorithm: "ECDSA" | "RSA" | "ED25519";
  /** The tls provider's `ecdsaCurve` input (ECDSA only). */
  ecdsaCurve?: "P256" | "P384";
  /** The tls provider's `rsaBits` input (RSA only). */
  rsaBits?: 2048 | 3072 | 4096;
}

/** The key algorithms a PKI may use, by the name an arg or a stack file gives. */
export const KEY_ALGORITHMS = {
  "ECDSA-P256": { algorithm: "ECDSA", ecdsaCurve: "P256" },
  "ECDSA-P384": { algorithm: "ECDSA", ecdsaCurve: "P384" },
  "RSA-2048": { algorithm: "RSA", rsaBits: 2048 },
  "RSA-3072": { algorithm: "RSA", rsaBits: 3072 },
  "RSA-4096": { algorithm: "RSA", rsaBits: 4096 },
  ED25519: { algorithm: "ED25519" },
} as const satisfies Record<string, KeySpec>;

export type KeyAlgorithmName = keyof typeof KEY_ALGORITHMS;

/** Every supported name, strongest-default first: "ECDSA-P256", "ECDSA-P384", "RSA-2048", ... */
export const KEY_ALGORITHM_NAMES = Object.keys(KEY_ALGORITHMS) as KeyAlgorithmName[];

export type ParsedKeyAlgorithm = { name: KeyAlgorithmName; spec: KeySpec } | { error: string };

/** Accepts the names above in any case, with "-", "_" or nothing between the parts ("ecdsa_p256", "rsa3072"). */
export function parseKeyAlgorithm(text: string): ParsedKeyAlgorithm {
  const normalised = text.trim().toUpperCase().replace(/[_\s]/g, "-");
  const compact = normalised.replace(/-/g, "");
  const name = KEY_ALGORITHM_NAMES.find((known) => known.replace(/-/g, "") === compact);
  if (name) return { name, spec: KEY_ALGORITHMS[name] };

  const supported = KEY_ALGORITHM_NAMES.join(", ");
  if (/^(ECDSA)?P?-?224$/.test(compact) || compact === "ECDSAP224") {
    return {
      error: `uses curve P-224, which TLS stacks refuse (it is the tls provider's silent default); use ECDSA-P256 or ECDSA-P384`,
    };
  }
  const rsa = /^RSA(\d+)$/.exec(compact);
  if (rsa && Number(rsa[1]) < 2048) {
    return {
      error: `is RSA below 2048 bits, which is breakable and refused by OpenSSL's defaults; use RSA-2048 or larger`,
    };
  }
  return { error: `is not a supported key algorithm; use one of ${supported}` };
}

/** key_encipherment only means something for RSA key transport; ECDSA/Ed25519 keys cannot encipher. */
export function usesKeyEncipherment(spec: KeySpec): boolean {
  return spec.algorithm === "RSA";
}
