/**
 * The start-up sequence both services share: say what is starting, open the status listener first
 * (so /readyz can say "not ready" while waiting), then load the identity (waiting for absent files
 * at the delivered paths, validating with one line per problem). A shutdown signal during the wait
 * ends the start quietly: the status listener is closed and nothing else was opened.
 */
import type { CommonConfig } from "./config.ts";
import type { Role } from "./contract.ts";
import { loadIdentityAtStart } from "./identity/lifecycle.ts";
import type { Identity } from "./identity/validate.ts";
import { formatAddress, type Shutdown } from "./lifecycle.ts";
import type { Logger } from "./log.ts";
import type { Registry } from "./metrics.ts";
import { type Readiness, type StatusServer, startStatusServer } from "./status-server.ts";

export interface StartOptions {
  purpose: Role;
  config: CommonConfig;
  log: Logger;
  shutdown: Shutdown;
  /** Fields of the `start` line besides pid and node (addresses, policy, files, ...). */
  startFields: Record<string, unknown>;
  registry: Registry;
  readiness: () => Readiness;
}

export interface Started {
  identity: Identity;
  status: StatusServer;
}

/** The identity and the open status listener; undefined when a shutdown signal came first. */
export async function startService(options: StartOptions): Promise<Started | undefined> {
  const { config, log, shutdown } = options;
  log.info("start", { pid: process.pid, node: process.version, ...options.startFields });
  const status = await startStatusServer({
    listen: config.statusListen,
    registry: options.registry,
    readiness: options.readiness,
  });
  log.info("status_listening", { address: formatAddress(status.address) });

  let identity: Identity;
  try {
    identity = await loadIdentityAtStart(config, options.purpose, log, shutdown.signal);
  } catch (error) {
    if (!shutdown.signal.aborted) {
      await status.close();
      throw error;
    }
    log.info("stopped", { signal: await shutdown.received, before: "identity was delivered" });
    await status.close();
    return undefined;
  }
  log.info("identity_loaded", { certificate: identity.summary });
  return { identity, status };
}
