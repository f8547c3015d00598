/**
 * Value plumbing between the Pulumi SDK's mock wire format and the emulated providers: secrets
 * arrive wrapped (`{ [specialSigKey]: specialSecretSig, value }`) and leave wrapped; in preview,
 * unknown inputs arrive as the SDK's `unknown` sentinel.
 */
import * as pulumi from "@pulumi/pulumi";

export function isUnknownValue(v: unknown): boolean {
  return pulumi.isUnknown(v);
}

/** true if `v` or anything inside it is unknown (only ever in preview). */
export function containsUnknown(v: unknown): boolean {
  if (isUnknownValue(v)) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

/** Removes every secret wrapper, recursively; reports whether there was any. */
export function unwrapSecrets(v: unknown): { value: unknown; secret: boolean } {
  if (pulumi.runtime.isRpcSecret(v)) {
    const inner = unwrapSecrets(pulumi.runtime.unwrapRpcSecret(v));
    return { value: inner.value, secret: true };
  }
  if (Array.isArray(v)) {
    let secret = false;
    const value = v.map((item) => {
      const r = unwrapSecrets(item);
      secret ||= r.secret;
      return r.value;
    });
    return { value, secret };
  }
  if (v !== null && typeof v === "object" && !isUnknownValue(v)) {
    let secret = false;
    const value: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) {
      const r = unwrapSecrets(item);
      secret ||= r.secret;
      value[k] = r.value;
    }
    return { value, secret };
  }
  return { value: v, secret: false };
}

/** The wire form of a secret value, which the SDK turns into a secret Output. */
export function secretWire(value: unknown): Record<string, unknown> {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/** Structural equality of plain JSON-like values (undefined and missing keys are equal). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isUnknownValue(a) || isUnknownValue(b)) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    return [...keys].every((k) => deepEqual(ao[k], bo[k]));
  }
  return false;
}

/** Top-level keys whose values differ (or are unknown in the new inputs), sorted. */
export function changedKeys(
  oldInputs: Record<string, unknown>,
  newInputs: Record<string, unknown>,
): string[] {
  const keys = new Set([...Object.keys(oldInputs), ...Object.keys(newInputs)]);
  return [...keys]
    .filter((k) => containsUnknown(newInputs[k]) || !deepEqual(oldInputs[k], newInputs[k]))
    .sort();
}
