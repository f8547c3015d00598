/**
 * A caller that makes a new mTLS connection to the published server every `intervalMs` (default
 * 200 ms, as the measurements in docs/OPERATIONS.md) and records each call's time and outcome, so
 * a test can count the calls a fault made fail and how long the service took to answer again.
 */
import { request } from "node:https";

export interface Credentials {
  certPem: string;
  keyPem: string;
  caPem: string;
}

export interface CallRecord {
  /** When the call started (ms since the epoch). */
  at: number;
  ok: boolean;
  /** HTTP status or error message of a failed call. */
  failure?: string;
}

export interface RunningCaller {
  readonly records: readonly CallRecord[];
  /** Calls that started at or after `since`. */
  since(since: number): CallRecord[];
  stop(): Promise<void>;
}

function callOnce(port: number, credentials: Credentials): Promise<CallRecord> {
  const at = Date.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/whoami",
        servername: "localhost",
        agent: false,
        cert: credentials.certPem,
        key: credentials.keyPem,
        ca: credentials.caPem,
        timeout: 3000,
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve(
            res.statusCode === 200 ? { at, ok: true } : { at, ok: false, failure: `HTTP ${res.statusCode}` },
          ),
        );
        res.on("error", (error) => resolve({ at, ok: false, failure: error.message }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) => resolve({ at, ok: false, failure: error.message }));
    req.end();
  });
}

export function startCaller(port: number, credentials: Credentials, intervalMs = 200): RunningCaller {
  const records: CallRecord[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      records.push(await callOnce(port, credentials));
      const rest = intervalMs - (Date.now() - started);
      // The pace of the caller, not a synchronisation: one call per interval.
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  })();
  return {
    records,
    since: (since) => records.filter((r) => r.at >= since),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Resolves once the last `streak` calls all succeeded (polling the caller's records). */
export async function waitForStreak(
  caller: RunningCaller,
  since: number,
  streak: number,
  timeoutMs: number,
): Promise<CallRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const recent = caller.since(since);
    const tail = recent.slice(-streak);
    if (tail.length === streak && tail.every((r) => r.ok)) return tail[0]!;
    if (Date.now() > deadline) {
      const last = recent.at(-1);
      throw new Error(
        `no ${streak} successful calls in a row within ${timeoutMs} ms; ${recent.filter((r) => !r.ok).length}/${recent.length} failed, last: ${last?.failure ?? (last ? "ok" : "none")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
