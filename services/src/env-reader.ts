/**
 * Reads typed values from environment variables and collects every problem instead of stopping at
 * the first, so that one start reports all bad variables at once (one line each). A bad value
 * yields its fallback, keeping the rest of the parse going; the caller throws `ConfigError` with
 * all the problems once it has read everything (see `throwIfAny`).
 */
import { isIP } from "node:net";

/** Bad configuration: one problem per sentence, each naming the variable, the value and what is expected. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === "string" ? [problems] : problems;
    super(list.join("; "));
    this.problems = list;
  }
}

export type Env = Record<string, string | undefined>;

export interface ListenAddress {
  host: string;
  port: number;
}

const MAX_PORT = 65535;

/**
 * `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 picks a free port. Returns the
 * problem as a string when the text is not such an address.
 */
export function listenAddressOrProblem(name: string, raw: string): ListenAddress | string {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(raw);
  const host = match ? (match[1] ?? match[2] ?? "") : "";
  if (!match || (match[1] !== undefined && isIP(host) !== 6)) {
    return `${name}=${JSON.stringify(raw)} is not a listen address: expected host:port, e.g. 0.0.0.0:8443`;
  }
  const port = Number(match[3]);
  if (port > MAX_PORT) {
    return `${name}=${JSON.stringify(raw)} has port ${match[3]}, out of range: expected 0 to ${MAX_PORT}`;
  }
  return { host: host === "" ? "0.0.0.0" : host, port };
}

export class EnvReader {
  readonly problems: string[] = [];
  readonly #env: Env;

  constructor(env: Env) {
    this.#env = env;
  }

  /** Records a problem that is not about one variable's syntax (e.g. two variables that clash). */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** The trimmed value, or undefined when unset or blank (blank means "use the default"). */
  text(name: string): string | undefined {
    const raw = this.#env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  }

  /** The value exactly as given (for messages about blanks). */
  raw(name: string): string | undefined {
    return this.#env[name];
  }

  /** True when the variable is set to something (not blank). */
  isSet(name: string): boolean {
    return this.text(name) !== undefined;
  }

  integer(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    if (!/^[-+]?\d+$/.test(raw)) {
      this.problem(`${name}=${JSON.stringify(raw)} is not a whole number`);
      return fallback;
    }
    const parsed = Number(raw);
    if (parsed >= min && parsed <= max) return parsed;
    // "-1" is a whole number: say which bound it misses.
    this.problem(
      max === Number.MAX_SAFE_INTEGER
        ? `${name}=${raw} is too small: expected a whole number of at least ${min}`
        : `${name}=${raw} is out of range: expected a whole number from ${min} to ${max}`,
    );
    return fallback;
  }

  onOff(name: string, fallback: "on" | "off"): boolean {
    const raw = (this.text(name) ?? fallback).toLowerCase();
    if (["on", "true", "1", "yes"].includes(raw)) return true;
    if (["off", "false", "0", "no"].includes(raw)) return false;
    this.problem(`${name}=${JSON.stringify(raw)} is not valid: expected on or off`);
    return fallback === "on";
  }

  listenAddress(name: string, fallback: string): ListenAddress {
    const parsed = listenAddressOrProblem(name, this.text(name) ?? fallback);
    if (typeof parsed !== "string") return parsed;
    this.problem(parsed);
    return listenAddressOrProblem(name, fallback) as ListenAddress;
  }

  /** One of `choices`; `what` names the kind of value in the message ("a TLS policy"). */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T, what: string): T {
    const raw = this.text(name) ?? fallback;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    this.problem(`${name}=${JSON.stringify(raw)} is not ${what}: expected ${choices.join(" or ")}`);
    return fallback;
  }

  /** Throws one ConfigError holding every problem recorded so far. */
  throwIfAny(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
