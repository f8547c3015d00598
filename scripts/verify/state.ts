/**
 * What the stack readers of both runtimes (stack.ts for containers, swarm-stack.ts for a swarm)
 * share: a resource as `pulumi stack export` lists it, the error for a stack that cannot be read,
 * and two small readers of exported values.
 */

export class StackProblem extends Error {
  override name = "StackProblem";
}

export interface StackResource {
  urn: string;
  type: string;
  id?: string;
  parent?: string;
  outputs?: Record<string, unknown>;
}

export const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
