/**
 * Property-by-property diff as the docker provider's plugins compute it: each resource type declares
 * which inputs force a replacement (Terraform `ForceNew`), which are unordered (Terraform sets: order
 * never makes a diff), and which are provider-computed (leaving them out keeps the old value).
 * Values are compared after the type's own defaults were applied to both sides.
 */
import * as pulumi from "@pulumi/pulumi";

export interface PropertyRule {
  forceNew?: boolean;
  /** Unordered collection: arrays anywhere inside are compared as sets. */
  set?: boolean;
  /** Provider-computed: an input left out means "keep what is there". */
  computed?: boolean;
}

export type PropertyRules = Readonly<Record<string, PropertyRule>>;

export interface PropertyDiff {
  changed: string[];
  /** The subset of `changed` that forces a replacement. */
  replaces: string[];
}

const UNKNOWN = "\u0000unknown";

/**
 * A canonical string for comparing two values: object keys sorted, empty collections and
 * null/undefined alike (Terraform does not tell them apart), arrays sorted inside sets.
 */
export function canonical(value: unknown, set = false): string | undefined {
  if (pulumi.isUnknown(value)) return UNKNOWN;
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => canonical(item, set) ?? "null");
    if (items.length === 0) return undefined;
    if (set) items.sort();
    return `[${items.join(",")}]`;
  }
  if (typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .flatMap((key) => {
        const text = canonical((value as Record<string, unknown>)[key], set);
        return text === undefined ? [] : [`${JSON.stringify(key)}:${text}`];
      });
    return entries.length === 0 ? undefined : `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

export function diffProperties(
  rules: PropertyRules,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): PropertyDiff {
  const changed: string[] = [];
  const replaces: string[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    const next = canonical(news[key], rule.set);
    if (next === undefined && rule.computed) continue;
    if (canonical(olds[key], rule.set) === next) continue;
    changed.push(key);
    if (rule.forceNew) replaces.push(key);
  }
  return { changed, replaces };
}

/** Inputs the emulation has no rule for: an error, so nothing passes unemulated by accident. */
export function rejectUnemulated(type: string, rules: PropertyRules, inputs: Record<string, unknown>): void {
  const unknown = Object.keys(inputs).filter((key) => !(key in rules) && inputs[key] !== undefined);
  if (unknown.length > 0) {
    throw new Error(`docker emulation: ${type} input(s) not emulated: ${unknown.join(", ")}`);
  }
}
