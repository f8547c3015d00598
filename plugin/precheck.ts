/**
 * Checking a component's args before it declares anything, the way the library's components do,
 * when the args arrive from another language: most are plain values (checked now, with the
 * library's own checks and messages), some are Outputs (a certificate from the PKI, a digest from
 * the image), whose values do not exist yet.
 *
 * The library's checks check an Output when it resolves, by chaining onto it; a chain made only to
 * check, and then dropped, would report a bad value a second time as an unhandled rejection. So
 * the early check runs on a copy of the args in which every Output (or Promise) is replaced by one
 * that never resolves: its checks never run and never fail, and every plain value is checked at
 * once. The component then hands the real args to the library component, whose own checks cover
 * the Outputs when they resolve (same messages).
 */
import * as pulumi from "@pulumi/pulumi";
import { InvalidArgsError } from "../components/arg-checks.ts";

/** An Output that never resolves: nothing chained onto it ever runs. */
function pending(): pulumi.Output<never> {
  return pulumi.output(new Promise<never>(() => {}));
}

/** The args with every Output or Promise, at any depth, replaced by one that never resolves. */
export function plainPart<T>(args: T): T {
  const walk = (value: unknown): unknown => {
    if (pulumi.Output.isInstance(value) || value instanceof Promise) return pending();
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    }
    return value;
  };
  return walk(args) as T;
}

/** Runs a library check and returns the lines it refused the args with (none when they passed). */
export function refusals(check: () => unknown): string[] {
  try {
    check();
    return [];
  } catch (error) {
    if (error instanceof InvalidArgsError) return [...error.problems];
    throw error;
  }
}
