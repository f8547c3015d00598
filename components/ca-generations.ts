/**
 * CA generations: the roots a PKI's workloads trust (each its own root, plus its own intermediate
 * with `intermediateCa`) and the one that signs leaves. A CA rotation is a sequence of these
 * settings, one `pulumi up` each: add the new generation (bundles trust both), make it the issuing
 * one (leaves re-issued by it, trusted everywhere), drop the old one.
 *
 * The rules are shared by MtlsPki (which names its args) and the stack-config reader (which names
 * the config keys and the stack file); each rule returns a problem without the "where".
 */

/** The generation every PKI had before rotation existed; it keeps the CA's original child names. */
export const FIRST_GENERATION = "1";

// A DNS label: a generation name becomes part of resource names and of the CA's common name.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const quote = (value: unknown): string => JSON.stringify(value);

/**
 * Prefix of a generation's CA children under a PKI named `pki`: generation "1" keeps the names
 * stacks had before rotation existed (`<pki>-root`, ...), so they upgrade with nothing replaced;
 * any other generation is `<pki>-ca-<generation>` (`<pki>-ca-2-root`, ...). Names derive from the
 * generation's name, never its position, so adding or removing a generation renames nothing.
 */
export function generationPrefix(pki: string, generation: string): string {
  return generation === FIRST_GENERATION ? pki : `${pki}-ca-${generation}`;
}

/**
 * The CA's common name suffix: none for generation "1" (its certificates keep today's subject),
 * " <generation>" for others, so two roots trusted side by side never share a subject name (chain
 * building picks issuers by subject first).
 */
export function generationCommonNameSuffix(generation: string): string {
  return generation === FIRST_GENERATION ? "" : ` ${generation}`;
}

export interface GenerationProblems {
  generations: string[];
  issuing: string[];
}

/**
 * What is wrong with a list of generations and the issuing one (undefined = the first listed).
 * An issuing generation missing from the list is the one way to drop it by mistake, so its message
 * says which step comes first.
 */
export function generationProblems(
  generations: unknown,
  issuing: unknown,
  keys: { generations: string; issuing: string },
): GenerationProblems {
  const problems: GenerationProblems = { generations: [], issuing: [] };
  if (!Array.isArray(generations)) {
    problems.generations.push(`${quote(generations)} is not a list of generation names`);
    return problems;
  }
  if (generations.length === 0) {
    problems.generations.push(`the list is empty; name at least one generation (the default is ["1"])`);
  }
  const seen = new Set<unknown>();
  for (const generation of generations) {
    if (typeof generation !== "string" || !LABEL.test(generation)) {
      problems.generations.push(
        `${quote(generation)} is not a valid generation name (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit)`,
      );
    } else if (seen.has(generation)) {
      problems.generations.push(`${quote(generation)} is listed more than once; names must be unique`);
    }
    seen.add(generation);
  }
  if (issuing !== undefined && generations.length > 0 && !generations.includes(issuing)) {
    const others = generations.filter((g) => g !== issuing);
    const next = others[others.length - 1];
    problems.issuing.push(
      typeof issuing === "string" && next !== undefined
        ? `${quote(issuing)} is not in ${keys.generations} (${generations.join(", ")}): the issuing generation is dropped last. First set ${keys.issuing} to ${quote(next)} and run pulumi up (leaves are re-issued by it), then remove ${quote(issuing)} from ${keys.generations}`
        : `${quote(issuing)} is not one of ${keys.generations} (${generations.join(", ")})`,
    );
  }
  return problems;
}
