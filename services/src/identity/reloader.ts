/**
 * Hot reload of an identity: re-read the three files, and when they changed and form a valid,
 * consistent set again, hand the new identity to `apply` (the server's setSecureContext, the
 * client's new agent). A broken set is logged with its reason and counted, and the old identity
 * stays in service. Reloads never overlap; triggers that arrive during one are folded into one more.
 *
 * Every attempt also tells the files check (files-check.ts) whether the files on disk would load at
 * a restart: they are validated even when unchanged, since a certificate can expire on disk.
 */
import type { Role, TlsPolicy } from "../contract.ts";
import type { Logger } from "../log.ts";
import type { Counter } from "../metrics.ts";
import { ReloadQueue } from "../reload-queue.ts";
import { IdentityError } from "./errors.ts";
import type { IdentityFilesCheck } from "./files-check.ts";
import { readIdentityFiles } from "./load.ts";
import {
  type Identity,
  type IdentityContents,
  type IdentityFileRefs,
  identityDigest,
  validateIdentity,
} from "./validate.ts";
import type { ReloadTrigger } from "./watch.ts";

export interface ReloaderOptions {
  refs: IdentityFileRefs;
  purpose: Role;
  policy: TlsPolicy;
  initial: Identity;
  apply: (identity: Identity) => void;
  log: Logger;
  reloads: Counter<"result">;
  filesCheck?: IdentityFilesCheck;
}

export class IdentityReloader {
  #current: Identity;
  readonly #options: ReloaderOptions;
  /** The last set that failed, so a broken set is reported once, not at every poll. */
  #lastFailure: { key: string; kind: string } | undefined;

  constructor(options: ReloaderOptions) {
    this.#options = options;
    this.#current = options.initial;
  }

  get current(): Identity {
    return this.#current;
  }

  readonly #queue = new ReloadQueue((trigger) => this.#attempt(trigger));

  /** Starts a reload (or queues one behind the running one); resolves when all queued work is done. */
  reload(trigger: ReloadTrigger): Promise<void> {
    return this.#queue.reload(trigger);
  }

  async #attempt(trigger: ReloadTrigger): Promise<void> {
    const { refs, purpose, policy, log } = this.#options;
    const forced = trigger === "signal";
    const { filesCheck } = this.#options;
    let contents: IdentityContents;
    try {
      contents = await readIdentityFiles(refs);
    } catch (error) {
      filesCheck?.broken(error, refs);
      this.#fail(trigger, error, `read:${(error as Error).message}`, forced);
      return;
    }
    const digest = identityDigest(contents);
    // The same validation a start runs, at every attempt: what a restart would load.
    let identity: Identity | undefined;
    let invalid: unknown;
    try {
      identity = validateIdentity(contents, refs, purpose, policy);
      filesCheck?.valid();
    } catch (error) {
      invalid = error;
      filesCheck?.broken(error, refs);
    }
    if (!forced && digest === this.#current.digest) return;
    // A set that failed for a reason time can cure (not yet valid) is retried; others only on change.
    if (!forced && this.#lastFailure?.key === digest && this.#lastFailure.kind !== "not_yet_valid") return;

    try {
      if (!identity) throw invalid;
      this.#options.apply(identity);
    } catch (error) {
      this.#fail(trigger, error, digest, forced);
      return;
    }
    const previous = this.#current;
    this.#current = identity;
    this.#lastFailure = undefined;
    this.#options.reloads.inc({ result: "success" });
    log.info("reload", {
      result: "success",
      trigger,
      changed: identity.digest !== previous.digest,
      certificate: identity.summary,
      previousSerialNumber: previous.summary.serialNumber,
    });
  }

  #fail(trigger: ReloadTrigger, error: unknown, key: string, forced: boolean): void {
    const kind = error instanceof IdentityError ? error.kind : "other";
    if (
      !forced &&
      this.#lastFailure?.key === key &&
      this.#lastFailure.kind === kind &&
      kind !== "not_yet_valid"
    )
      return;
    this.#lastFailure = { key, kind };
    this.#options.reloads.inc({ result: "failure" });
    this.#options.log.warn("reload", {
      result: "failure",
      trigger,
      reason: kind,
      message: (error as Error).message,
      keptSerialNumber: this.#current.summary.serialNumber,
    });
  }
}
