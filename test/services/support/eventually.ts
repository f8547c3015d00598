/**
 * Waiting for events the tests cannot subscribe to (a counter the server updates once it has
 * processed something, a port that starts to accept): poll until the condition holds, and fail
 * with the last value seen. The one polling helper of the services' and interop tests.
 */
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Polls `probe` until `check` accepts its value (or throws the last value after `timeoutMs`). */
export async function eventually<T>(
  probe: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (check(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

/** True when something accepts TCP connections on the loopback port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until something accepts TCP connections on a loopback port. */
export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  await eventually(
    () => accepts(port),
    (open) => open,
    timeoutMs,
  ).catch(() => {
    throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
  });
}
