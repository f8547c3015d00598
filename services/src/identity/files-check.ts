/**
 * Are the identity files on disk the ones the service could load if it restarted now? The running
 * service keeps serving with the identity in memory whatever happens to the files; this check is
 * what makes drift visible before a restart turns it into an outage (a corrupted or removed file,
 * a key that no longer matches, a certificate that expired on disk).
 *
 * It is fed by the hot reload (reloader.ts) at every attempt: each file-change event, each poll
 * (MTLS_RELOAD_POLL_MS, the timer) and SIGHUP, with the result of the same read and validation a
 * start runs (load.ts, validate.ts). It reports:
 * - `mtls_identity_files_valid` 1/0 (absent until the first check), like `mtls_policy_file_valid`;
 * - `identityFiles` in /readyz: the state, and when broken the files named by the problem, its
 *   reason and message (messages name files by variable and path and never carry their contents);
 * - one warn line `identity_files` when the files turn broken (or break differently) and one info
 *   line when they are valid again.
 *
 * It does not change readiness: a service whose in-memory identity works is ready, as with a broken
 * policy file (docs/OPERATIONS.md says why and how to alert on the gauge).
 */
import type { Logger } from "../log.ts";
import type { Registry } from "../metrics.ts";
import { describeFile, IdentityError } from "./errors.ts";
import type { IdentityFileRefs } from "./validate.ts";

export interface IdentityFilesStatus {
  state: "unchecked" | "valid" | "broken";
  /** Paths of the files the problem names (empty when valid). */
  files: string[];
  reason: string | null;
  message: string | null;
  checks: number;
  checkedAt: string | null;
}

export class IdentityFilesCheck {
  readonly #log: Logger;
  #status: IdentityFilesStatus = {
    state: "unchecked",
    files: [],
    reason: null,
    message: null,
    checks: 0,
    checkedAt: null,
  };

  constructor(registry: Registry, log: Logger) {
    this.#log = log;
    registry.gauge(
      "mtls_identity_files_valid",
      "1 when the identity files on disk would load at a restart, 0 while they would not (the identity in memory stays in service).",
      () => (this.#status.state === "unchecked" ? undefined : this.#status.state === "valid" ? 1 : 0),
    );
  }

  status(): IdentityFilesStatus {
    return { ...this.#status, files: [...this.#status.files] };
  }

  /** The files read and validated. */
  valid(): void {
    const was = this.#status.state;
    this.#record({ state: "valid", files: [], reason: null, message: null });
    if (was === "broken") this.#log.info("identity_files", { state: "valid" });
  }

  /** Reading or validating the files failed with `error`. */
  broken(error: unknown, refs: IdentityFileRefs): void {
    const message = (error as Error).message;
    const reason = error instanceof IdentityError ? error.kind : "other";
    // Every IdentityError message names its files by variable and path (errors.ts).
    const files = [refs.cert, refs.key, refs.ca].filter((ref) => message.includes(describeFile(ref)));
    const previous = this.#status;
    this.#record({ state: "broken", files: files.map((ref) => ref.path), reason, message });
    if (previous.state !== "broken" || previous.message !== message) {
      this.#log.warn("identity_files", {
        state: "broken",
        files: files.map((ref) => `${ref.variable}=${ref.path}`),
        reason,
        message,
        note: "the identity in memory stays in service; a restart would fail until the files are repaired",
      });
    }
  }

  #record(result: Pick<IdentityFilesStatus, "state" | "files" | "reason" | "message">): void {
    this.#status = {
      ...result,
      checks: this.#status.checks + 1,
      checkedAt: new Date().toISOString(),
    };
  }
}
