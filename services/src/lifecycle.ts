/**
 * Process-level plumbing shared by both services: exit codes, the one-line fatal error, listening
 * with a clear error, shutdown signals, and "am I the entry point" for files that are both
 * runnable and importable.
 */
import { realpathSync } from "node:fs";
import type { AddressInfo, Server } from "node:net";
import { ConfigError, type ListenAddress } from "./config.ts";
import { IdentityError } from "./identity/errors.ts";
import { formatLine } from "./log.ts";

/** Exit codes (documented in docs/SERVICES.md). */
export const EXIT = {
  ok: 0,
  internal: 1,
  config: 2,
  identity: 3,
  roundFailed: 4,
  listen: 5,
} as const;

export class ListenError extends Error {
  override name = "ListenError";
}

export function formatAddress(address: AddressInfo | string | null): string {
  if (address === null) return "unknown";
  if (typeof address === "string") return address;
  return address.family === "IPv6"
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}

export async function listen(server: Server, address: ListenAddress, variable: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const why = error.code === "EADDRINUSE" ? "the address is in use" : (error.code ?? error.message);
      reject(new ListenError(`cannot listen on ${address.host}:${address.port} (${variable}): ${why}`));
    };
    server.once("error", onError);
    server.listen(address.port, address.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/** The exit code and the `event` word for an error that ends the process. */
export function classifyFatal(error: unknown): { code: number; event: string; kind?: string } {
  if (error instanceof ConfigError) return { code: EXIT.config, event: "config_error" };
  if (error instanceof IdentityError)
    return { code: EXIT.identity, event: "identity_error", kind: error.kind };
  if (error instanceof ListenError) return { code: EXIT.listen, event: "listen_error" };
  return { code: EXIT.internal, event: "internal_error" };
}

/** The problems an error stands for: several for a configuration or identity with many, else one. */
function problemsOf(error: unknown): Array<{ message: string; kind?: string }> {
  if (error instanceof ConfigError) return error.problems.map((message) => ({ message }));
  if (error instanceof IdentityError)
    return error.problems.map((problem) => ({ message: problem.message, kind: problem.kind }));
  return [{ message: error instanceof Error ? error.message : String(error) }];
}

/**
 * Writes why the process ends (stderr, JSON like every log line: one line per problem, so a start
 * with three bad variables names all three) and exits.
 */
export function exitWithError(service: string, error: unknown): never {
  const { code, event } = classifyFatal(error);
  for (const { message, kind } of problemsOf(error)) {
    process.stderr.write(formatLine(service, "error", event, { kind, message, exitCode: code }));
  }
  process.exit(code);
}

export interface Shutdown {
  /** The first SIGTERM or SIGINT. */
  received: Promise<NodeJS.Signals>;
  /** Aborted when it arrives: stops waits and loops. */
  signal: AbortSignal;
}

/** Listens for SIGTERM and SIGINT (the first one counts). */
export function onShutdownSignal(): Shutdown {
  const controller = new AbortController();
  const received = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      controller.abort();
      resolve(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  return { received, signal: controller.signal };
}

/** True when the module is the program Node was asked to run (not merely imported). */
export function isEntryPoint(meta: ImportMeta): boolean {
  if (typeof meta.main === "boolean") return meta.main;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(meta.filename);
  } catch {
    return false;
  }
}
