/**
 * The calls a client workload's app made, from its own log: the demo app (examples/demo-app) logs
 * one JSON line per call through its tunnel, with the time it ended and its status or error. Tests
 * of faults count the calls that failed and how long the app took to succeed again, by itself.
 */
import { jsonLogs } from "./containers.ts";

export interface AppCall {
  /** When the call ended (ms since the epoch). */
  at: number;
  ok: boolean;
  /** HTTP status or error message of a failed call. */
  failure?: string;
  /** The answer's body, for a call that got one. */
  body?: string;
}

export async function appCalls(container: string): Promise<AppCall[]> {
  return (await jsonLogs(container))
    .filter((line) => line.event === "call")
    .map((line) => {
      const at = Date.parse(String(line.time));
      if (line.status === 200) return { at, ok: true, body: String(line.body) };
      return { at, ok: false, failure: line.error ? String(line.error) : `HTTP ${line.status}` };
    });
}

export interface Recovery {
  /** The first call of the first run of `streak` successes since `since`. */
  back: AppCall;
  /** Calls that ended from `since` until `back`, and how many of them failed. */
  calls: number;
  failed: number;
  /** Seconds from `since` to `back`. */
  seconds: number;
  failures: string[];
}

/**
 * Waits (polling the app's log: nothing announces a call) until the app made `streak` successful
 * calls in a row that ended after `since` (and the first of them at or after `notBefore`: e.g. once
 * the restarted container runs again, so that calls made before it stopped do not count as the
 * recovery); fails after `timeoutMs`.
 */
export async function waitForAppRecovery(
  container: string,
  since: number,
  options: { streak?: number; timeoutMs?: number; notBefore?: () => Promise<number> } = {},
): Promise<Recovery> {
  const streak = options.streak ?? 3;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let last: AppCall[] = [];
  for (;;) {
    try {
      last = (await appCalls(container)).filter((call) => call.at >= since);
      const notBefore = options.notBefore ? await options.notBefore() : since;
      for (let i = 0; i + streak <= last.length; i++) {
        if (last[i]!.at < notBefore || !last.slice(i, i + streak).every((call) => call.ok)) continue;
        const before = last.slice(0, i);
        const back = last[i]!;
        return {
          back,
          calls: before.length,
          failed: before.filter((call) => !call.ok).length,
          seconds: (back.at - since) / 1000,
          failures: [...new Set(before.filter((call) => !call.ok).map((call) => call.failure!))],
        };
      }
    } catch {
      // The engine may not answer yet (a daemon starting again): try again.
    }
    if (Date.now() > deadline) {
      const failed = last.filter((call) => !call.ok);
      throw new Error(
        `${container}: no ${streak} successful calls in a row within ${options.timeoutMs ?? 120_000} ms; ${failed.length}/${last.length} failed, last: ${last.at(-1)?.failure ?? (last.length ? "ok" : "none")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
