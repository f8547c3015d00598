/**
 * How the components refuse bad args: one line per problem, naming the component's type and name,
 * the arg and the value (never a secret), thrown from the constructor before any child is declared.
 *
 * Args given as plain values are checked at once. An arg given as an Output (or a Promise) cannot be
 * checked before its value exists: it is checked when it resolves, and a bad value then fails the
 * resources that consume it, and with them the run, with the same message. A value still unknown
 * in preview is not checked in that preview; `pulumi up` checks it. A secret Output's value is
 * never quoted: the message says "[secret]" instead.
 */
import * as pulumi from "@pulumi/pulumi";
import { requirePulumiEngine } from "./engine-check.ts";

/** A component's args were refused; `problems` holds one line per bad arg. */
export class InvalidArgsError extends pulumi.RunError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "InvalidArgsError";
    this.problems = problems;
  }
}

/** What is wrong with a value, quoting it, or undefined when it is fine. */
export type Check<T> = (value: T) => string | undefined;

/** True when nothing inside the value is an Output or a Promise (so it can be checked now). */
export function isPlain(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isPlain);
  if (value !== null && typeof value === "object") return Object.values(value).every(isPlain);
  return true;
}

/** Collects the problems of one component's args; `done()` throws them all at once. */
export class ArgChecks {
  private readonly where: string;
  private readonly problems: string[] = [];

  constructor(type: string, name: string) {
    this.where = `${type} "${name}"`;
    // Every component checks its args first: the earliest point to stop a program that no engine
    // runs, before a check fails on an output that will never resolve (engine-check.ts).
    requirePulumiEngine(this.where);
  }

  /** One line: `<type> "<name>": <arg>: <problem>`. */
  line(arg: string, problem: string): string {
    return `${this.where}: ${arg}: ${problem}`;
  }

  /** Records a problem found now. */
  add(arg: string, problem: string | undefined): void {
    if (problem !== undefined) this.problems.push(this.line(arg, problem));
  }

  /** Records lines already made with `line()`. */
  addLines(lines: readonly string[]): void {
    this.problems.push(...lines);
  }

  /**
   * Checks an arg: a plain value now; an Output when it resolves. Returns the value to use in child
   * inputs (for an Output: one that fails with the message when the value is bad).
   */
  check<T>(arg: string, value: pulumi.Input<T>, check: Check<T>): pulumi.Input<T> {
    if (isPlain(value)) {
      this.add(arg, check(value as T));
      return value;
    }
    const output = pulumi.output(value) as pulumi.Output<T>;
    const secret = pulumi.isSecret(output);
    return pulumi.all([output, secret]).apply(([resolved, isSecret]) => {
      const problem = check(resolved as T);
      if (problem === undefined) return resolved as T;
      throw new InvalidArgsError([this.line(arg, isSecret ? "[secret] is not a valid value" : problem)]);
    }) as pulumi.Output<T>;
  }

  /** Throws every problem recorded so far, if any. */
  done(): void {
    if (this.problems.length > 0) throw new InvalidArgsError(this.problems);
  }
}
