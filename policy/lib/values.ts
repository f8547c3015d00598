/**
 * Reading resource properties the way the engine hands them to a policy, without tripping over
 * what a preview does not know yet.
 *
 * @pulumi/policy wraps `props` in a proxy that throws on the first read of an unknown value, and
 * reports that throw as an advisory "can't run policy ... during preview". Every policy here reads
 * the plain object behind the proxy instead and decides for itself what an unknown means (usually:
 * nothing to judge yet; the engine runs the policy again at `pulumi up`, when the value is known).
 * Unknowns arrive as the engine's sentinel strings, one per kind of value.
 */

/**
 * The engine's unknown sentinels (Go `plugin.Unknown*Value`, the same strings in
 * @pulumi/policy's proxy.ts and @pulumi/pulumi's runtime): wire-protocol constants.
 */
const UNKNOWN_SENTINELS = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
  "030794c1-ac77-496b-92df-f27374a8bd58", // asset
  "e48ece36-62e2-4504-bad9-02848725956a", // archive
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

/** @pulumi/policy's proxy answers this property with the object it wraps (proxy.ts, `getSpecialProxyTarget`). */
const PROXY_TARGET = "__getSpecialProxyTarget";

export type Props = Record<string, unknown>;

/** The plain properties behind @pulumi/policy's unknown-checking proxy (or the object itself). */
export function plain(props: unknown): Props {
  if (props === null || typeof props !== "object") return {};
  const target = (props as Record<string, unknown>)[PROXY_TARGET];
  return (target ?? props) as Props;
}

export function isUnknown(value: unknown): boolean {
  return typeof value === "string" && UNKNOWN_SENTINELS.has(value);
}

/** true if the value or anything inside it is unknown (only ever at preview). */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** A known value, or undefined when it is missing or unknown. */
export function known<T>(value: T): T | undefined {
  return isUnknown(value) ? undefined : value;
}

export function asObject(value: unknown): Props | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Props) : undefined;
}

/** The elements of a known list (an unknown or missing list has none that can be judged). */
export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Known strings of a list; unknown elements are left out (see `hasUnknownElement`). */
export function knownStrings(value: unknown): string[] {
  return asList(value).filter((v): v is string => typeof v === "string" && !isUnknown(v));
}

/** A known number (the engine sends numbers as numbers; stack config may make them strings). */
export function knownNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && !isUnknown(value) && value.trim() !== "" && !Number.isNaN(Number(value))) {
    return Number(value);
  }
  return undefined;
}

/** Every string inside a value (nested lists and objects included), known ones only. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return isUnknown(value) ? [] : [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(stringsIn);
  return [];
}
