/**
 * Reloads that never overlap: while one runs, further triggers collapse into one more run after it
 * (a SIGHUP wins over a file event, since it forces a reload of unchanged files). The identity and
 * the policy file reload this way; both are written one file at a time, so bursts of events are
 * the rule, not the exception.
 */
import type { ReloadTrigger } from "./identity/watch.ts";

export class ReloadQueue {
  readonly #attempt: (trigger: ReloadTrigger) => Promise<void>;
  #running: Promise<void> | undefined;
  #pending: ReloadTrigger | undefined;

  constructor(attempt: (trigger: ReloadTrigger) => Promise<void>) {
    this.#attempt = attempt;
  }

  /** Starts a reload (or queues one behind the running one); resolves when all queued work is done. */
  reload(trigger: ReloadTrigger): Promise<void> {
    if (this.#running) {
      if (this.#pending !== "signal") this.#pending = trigger;
      return this.#running;
    }
    this.#running = (async () => {
      let next: ReloadTrigger | undefined = trigger;
      while (next) {
        this.#pending = undefined;
        await this.#attempt(next);
        next = this.#pending;
      }
      this.#running = undefined;
    })();
    return this.#running;
  }
}
