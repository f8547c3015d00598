/**
 * Waits until something accepts TCP connections on a loopback port: for a process that reports no
 * "listening" event of its own (openssl s_server, an external tool).
 */
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}
