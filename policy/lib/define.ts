/**
 * The pieces every policy of the pack shares: reading its configuration with its defaults, and
 * reporting a violation as one line that names the resource's property, what is wrong and the fix.
 * The CLI prints the policy's description first, then this line.
 */
export interface PolicyText {
  /** What is wrong, naming the property and its value. */
  problem: string;
  /** What to change. */
  fix: string;
}

export function message({ problem, fix }: PolicyText): string {
  return `${problem}. Fix: ${fix}.`;
}

/**
 * The policy's configuration with its defaults filled in. The CLI validates
 * `--policy-pack-config` against each policy's schema; defaults are applied here as well so that a
 * missing key never reaches a rule as undefined.
 */
export function configWith<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
  const given = args.getConfig<Partial<T>>();
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) merged[key] = value;
  return merged as T;
}
