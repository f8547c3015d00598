/**
 * The server's live policy (allow-list, revoked serials, TLS policy): read from MTLS_POLICY_FILE at
 * start, then kept current the way the identity is (the same directory watch and safety-net poll,
 * identity/watch.ts, plus SIGHUP).
 *
 * - At start: an absent file means "no file policy" (MTLS_ALLOWED_CLIENTS alone); a broken file
 *   stops the start with one line (exit 2), since there is no earlier policy to fall back on.
 * - On reload: a valid file is in force for the next request on every connection, new or
 *   kept-alive; a broken file (not JSON, unknown keys, wrong types, malformed serials, unreadable)
 *   or a file removed after it was in force leaves the last good policy in force and is reported
 *   once per distinct problem (one log line, counted), not at every poll. Removal keeps the policy
 *   because lifting revocations by accident is worse than keeping them by accident; write `{}` to
 *   lift the file policy on purpose.
 * - A changed TLS policy is handed to `applyTls` (the server's setSecureContext): new handshakes get
 *   the new protocol limits, established connections keep the version they negotiated. If OpenSSL
 *   refuses it, the whole file is treated as broken and the last good policy stays.
 * Reloads never overlap; triggers during one are folded into one more.
 */
import { ConfigError } from "../config.ts";
import { ENV, type TlsPolicy } from "../contract.ts";
import { type ReloadTrigger, watchIdentityFiles as watchFiles } from "../identity/watch.ts";
import type { Logger } from "../log.ts";
import type { Counter, Registry } from "../metrics.ts";
import { ReloadQueue } from "../reload-queue.ts";
import {
  type AccessPolicy,
  type AccessRefusal,
  type EnvPolicy,
  effectivePolicy,
  refusalFor,
} from "./access-policy.ts";
import type { PeerIdentity } from "./peer-identity.ts";
import { type FilePolicy, PolicyFileError, type PolicyFileRead, readPolicyFile } from "./policy-file.ts";

export interface ServerPolicyOptions {
  path: string;
  /** MTLS_ALLOWED_CLIENTS and MTLS_TLS_POLICY: in force for whatever the file leaves out. */
  env: EnvPolicy;
  log: Logger;
  registry: Registry;
}

export interface PolicyWatchOptions {
  debounceMs: number;
  /** 0 = no polling. */
  pollMs: number;
}

/** What the file on disk was at the last read: absent, in force, or broken (last good kept). */
type FileState = "absent" | "valid" | "broken";

export interface PolicyStatus {
  file: string;
  fileState: FileState;
  allowListSource: AccessPolicy["allowListSource"];
  allowedClients: number;
  tlsPolicy: TlsPolicy;
  tlsPolicySource: AccessPolicy["tlsPolicySource"];
  revokedSerials: number;
  /** How often the file was read since start (watch events, polls, signals), and when last. */
  checks: number;
  checkedAt: string | null;
  lastReload: { result: "success" | "failure"; trigger: ReloadTrigger; at: string; reason?: string } | null;
}

const MAX_LISTED_SERIALS = 20;

export class ServerPolicy {
  readonly #options: ServerPolicyOptions;
  #policy: AccessPolicy;
  /** The digest of the file content in force, or undefined when no file is in force. */
  #appliedDigest: string | undefined;
  #fileState: FileState | undefined;
  #lastFailure: { key: string; kind: string } | undefined;
  #lastReload: PolicyStatus["lastReload"] = null;
  #checks = 0;
  #checkedAt: string | null = null;
  #stop: (() => void) | undefined;
  readonly #reloads: Counter<"result">;
  /**
   * Puts a TLS policy into service for new handshakes (set by the server once its listener exists;
   * the policy at start is read from `current` when the listener is created). A throw = refused.
   */
  applyTls: ((policy: TlsPolicy) => void) | undefined;

  constructor(options: ServerPolicyOptions) {
    this.#options = options;
    this.#policy = effectivePolicy(undefined, options.env);
    const { registry } = options;
    this.#reloads = registry.counter(
      "mtls_policy_reloads_total",
      "Access policy file reloads by result (success or failure; failures keep the last good policy).",
      ["result"],
    );
    for (const result of ["success", "failure"]) this.#reloads.touch({ result });
    registry.gauge(
      "mtls_policy_file_valid",
      "1 when the access policy file is valid or absent, 0 while a broken file is ignored.",
      () => (this.#fileState === undefined ? undefined : this.#fileState === "broken" ? 0 : 1),
    );
    registry.gauge(
      "mtls_policy_revoked_serials",
      "Certificate serials the access policy in force refuses.",
      () => (this.#fileState === undefined ? undefined : this.#policy.revoked.size),
    );
  }

  /**
   * The per-request check (revocation, then allow-list) under the policy in force now. Every request
   * entry point calls it, so kept-alive connections get a policy change at their next request.
   */
  readonly authorize = (peer: PeerIdentity): AccessRefusal | undefined =>
    refusalFor(this.#policy, peer, this.#options.path);

  get current(): AccessPolicy {
    return this.#policy;
  }

  status(): PolicyStatus {
    return {
      file: this.#options.path,
      fileState: this.#fileState ?? "absent",
      allowListSource: this.#policy.allowListSource,
      allowedClients: this.#policy.allowedClients.length,
      tlsPolicy: this.#policy.tlsPolicy,
      tlsPolicySource: this.#policy.tlsPolicySource,
      revokedSerials: this.#policy.revoked.size,
      checks: this.#checks,
      checkedAt: this.#checkedAt,
      lastReload: this.#lastReload,
    };
  }

  /**
   * Starts watching (first, so nothing written during the first read is missed), then reads the
   * file. Throws ConfigError when the file is there but not a valid policy.
   */
  async start(watch: PolicyWatchOptions): Promise<void> {
    const watcher = watchFiles({
      files: [this.#options.path],
      debounceMs: watch.debounceMs,
      pollMs: watch.pollMs,
      onTrigger: (trigger) => void this.reload(trigger),
    });
    const onHangup = () => void this.reload("signal");
    process.on("SIGHUP", onHangup);
    this.#stop = () => {
      process.off("SIGHUP", onHangup);
      watcher.close();
    };
    let read: PolicyFileRead;
    try {
      read = await readPolicyFile(this.#options.path);
      if (read.state === "broken") throw read.error;
    } catch (error) {
      this.stop();
      if (error instanceof PolicyFileError) throw new ConfigError(error.message);
      throw error;
    }
    if (read.state === "valid") this.#apply(read.policy, read.digest);
    this.#fileState = read.state;
    this.#options.log.info("policy_loaded", {
      file: this.#options.path,
      state: read.state,
      policy: this.#summary(),
    });
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  readonly #queue = new ReloadQueue((trigger) => this.#attempt(trigger));

  /** Starts a reload (or queues one behind the running one); resolves when all queued work is done. */
  reload(trigger: ReloadTrigger): Promise<void> {
    return this.#queue.reload(trigger);
  }

  async #attempt(trigger: ReloadTrigger): Promise<void> {
    const forced = trigger === "signal";
    const { path } = this.#options;
    let read: PolicyFileRead;
    try {
      read = await readPolicyFile(path);
    } catch (error) {
      this.#checked();
      const kind = error instanceof PolicyFileError ? error.kind : "other";
      this.#fail(trigger, error as Error, kind, `read:${(error as Error).message}`, forced);
      return;
    }
    this.#checked();
    if (read.state === "broken") {
      this.#fail(trigger, read.error, read.error.kind, read.digest, forced);
      return;
    }
    if (read.state === "absent") {
      if (this.#appliedDigest === undefined) {
        // No file before, none now: nothing changed (a signal still says so).
        const wasBroken = this.#fileState === "broken";
        this.#fileState = "absent";
        if (forced || wasBroken) this.#succeed(trigger, false, []);
        return;
      }
      const missing = new PolicyFileError(
        "missing",
        `${ENV.policyFile} (${path}) was removed: the last good policy stays in force ` +
          "(write {} to lift the file policy on purpose)",
      );
      this.#fail(trigger, missing, missing.kind, "missing", forced);
      return;
    }
    if (!forced && read.digest === this.#appliedDigest && this.#fileState === "valid") return;
    const before = this.#policy;
    const changed = read.digest !== this.#appliedDigest;
    const next = effectivePolicy(read.policy, this.#options.env);
    if (next.tlsPolicy !== before.tlsPolicy) {
      try {
        this.applyTls?.(next.tlsPolicy);
      } catch (error) {
        const refused = new PolicyFileError(
          "rejected_by_openssl",
          `${ENV.policyFile} (${path}): OpenSSL refused tlsPolicy "${next.tlsPolicy}": ${(error as Error).message}`,
        );
        this.#fail(trigger, refused, refused.kind, read.digest, forced);
        return;
      }
    }
    this.#apply(read.policy, read.digest);
    this.#fileState = "valid";
    this.#succeed(trigger, changed, [...before.revoked]);
  }

  #checked(): void {
    this.#checks++;
    this.#checkedAt = new Date().toISOString();
  }

  #apply(file: FilePolicy, digest: string): void {
    this.#policy = effectivePolicy(file, this.#options.env);
    this.#appliedDigest = digest;
  }

  #succeed(trigger: ReloadTrigger, changed: boolean, revokedBefore: string[]): void {
    this.#lastFailure = undefined;
    this.#reloads.inc({ result: "success" });
    this.#lastReload = { result: "success", trigger, at: new Date().toISOString() };
    const before = new Set(revokedBefore);
    const now = this.#policy.revoked;
    this.#options.log.info("policy_reload", {
      result: "success",
      trigger,
      file: this.#options.path,
      state: this.#fileState,
      changed,
      policy: this.#summary(),
      newlyRevoked: [...now].filter((serial) => !before.has(serial)).slice(0, MAX_LISTED_SERIALS),
      noLongerRevoked: [...before].filter((serial) => !now.has(serial)).slice(0, MAX_LISTED_SERIALS),
    });
  }

  #fail(trigger: ReloadTrigger, error: Error, kind: string, key: string, forced: boolean): void {
    this.#fileState = "broken";
    if (!forced && this.#lastFailure?.key === key && this.#lastFailure.kind === kind) return;
    this.#lastFailure = { key, kind };
    this.#reloads.inc({ result: "failure" });
    this.#lastReload = { result: "failure", trigger, at: new Date().toISOString(), reason: kind };
    this.#options.log.warn("policy_reload", {
      result: "failure",
      trigger,
      file: this.#options.path,
      reason: kind,
      message: error.message,
      kept: this.#summary(),
    });
  }

  #summary() {
    return {
      allowListSource: this.#policy.allowListSource,
      allowedClients: this.#policy.allowedClients,
      revokedSerials: this.#policy.revoked.size,
      tlsPolicy: this.#policy.tlsPolicy,
      tlsPolicySource: this.#policy.tlsPolicySource,
    };
  }
}
