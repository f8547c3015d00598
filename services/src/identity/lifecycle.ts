/**
 * The identity's life in a running service, the same for server and client: loaded at start
 * (waiting for absent files, then validated), and then kept current by hot reload (directory
 * watch, poll, SIGHUP) with a service-specific `apply`.
 */
import type { CommonConfig } from "../config.ts";
import type { Role } from "../contract.ts";
import type { Logger } from "../log.ts";
import type { Counter } from "../metrics.ts";
import type { IdentityFilesCheck } from "./files-check.ts";
import { identityFileRefs, waitForIdentityFiles } from "./load.ts";
import { IdentityReloader } from "./reloader.ts";
import { type Identity, validateIdentity } from "./validate.ts";
import { watchIdentityFiles } from "./watch.ts";

/** Waits for the files (saying so once), then validates them; throws IdentityError. */
export async function loadIdentityAtStart(
  config: CommonConfig,
  purpose: Role,
  log: Logger,
  signal: AbortSignal,
): Promise<Identity> {
  const refs = identityFileRefs(config.identity);
  const contents = await waitForIdentityFiles(refs, {
    waitMs: config.identityWaitMs,
    settleMs: config.reloadDebounceMs,
    signal,
    onWaiting: (missing) =>
      log.warn("waiting_for_identity", {
        missing: missing.map((file) => `${file.variable}=${file.path}`),
        waitMs: config.identityWaitMs,
      }),
  });
  return validateIdentity(contents, refs, purpose, config.tlsPolicy);
}

export interface HotReloadOptions {
  config: CommonConfig;
  purpose: Role;
  initial: Identity;
  /** Puts a validated identity into service; a throw counts as a failed reload. */
  apply: (identity: Identity) => void;
  log: Logger;
  reloads: Counter<"result">;
  /** Told at every attempt whether the files on disk would load at a restart. */
  filesCheck?: IdentityFilesCheck;
}

/** Starts watching; the returned function stops it (watch, poll and SIGHUP handler). */
export function startHotReload(options: HotReloadOptions): () => void {
  const { config } = options;
  const refs = identityFileRefs(config.identity);
  const reloader = new IdentityReloader({
    refs,
    purpose: options.purpose,
    policy: config.tlsPolicy,
    initial: options.initial,
    apply: options.apply,
    log: options.log,
    reloads: options.reloads,
    filesCheck: options.filesCheck,
  });
  // The files were validated a moment ago, at start.
  options.filesCheck?.valid();
  const watcher = watchIdentityFiles({
    files: [refs.cert.path, refs.key.path, refs.ca.path],
    debounceMs: config.reloadDebounceMs,
    pollMs: config.reloadPollMs,
    onTrigger: (trigger) => void reloader.reload(trigger),
  });
  const onHangup = () => void reloader.reload("signal");
  process.on("SIGHUP", onHangup);
  return () => {
    process.off("SIGHUP", onHangup);
    watcher.close();
  };
}
