/**
 * Waiting for an event the test cannot subscribe to (a metric moving, a log line, a container
 * turning healthy): polls `probe` until `check` accepts its value, retrying while `probe` throws.
 * The timeout only bounds a wait that would otherwise hang; it is never the assertion itself.
 *
 *   await eventually(() => metric(url, "mtls_reloads_total"), (n) => n > 0);
 *   const logs = await eventually(() => jsonLogs(name), (lines) => lines.length > 0, 15_000);
 */
import { setTimeout as sleep } from "node:timers/promises";

export async function eventually<T>(
  probe: () => Promise<T>,
  check: (value: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: { value?: T; error?: unknown } = {};
  for (;;) {
    try {
      const value = await probe();
      if (check(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() > deadline) {
      const why = "error" in last ? String(last.error) : `last value: ${JSON.stringify(last.value)}`;
      throw new Error(`condition not met within ${timeoutMs} ms; ${why}`, { cause: last.error });
    }
    await sleep(50);
  }
}
