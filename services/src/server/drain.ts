/**
 * Graceful shutdown of the mTLS listener: stop accepting, let in-flight requests finish (closing
 * each keep-alive connection as soon as it is idle), and after the deadline close what is left.
 */

import type { Server as NetServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Server } from "node:tls";
import type { ConnectionGate } from "./connection-gate.ts";

export async function drainServer(
  // An HTTPS server, or the TLS server of the tcp:// mode (whose tunnels are waited for as they are).
  server: Server & { closeIdleConnections?: () => void },
  gate: ConnectionGate,
  deadlineMs: number,
  // The TCP listener in front of `server` (admission.ts), when `server` does not listen itself.
  listener: NetServer = server,
): Promise<{ forced: number; waitedMs: number }> {
  const started = Date.now();
  const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
  if (listener !== server) server.close(); // it accepts nothing itself: this ends its idle keep-alive connections
  while (gate.openConnections() > 0 && Date.now() - started < deadlineMs) {
    server.closeIdleConnections?.();
    await sleep(20);
  }
  const forced = gate.openConnections();
  if (forced > 0) gate.destroyAll();
  await closed;
  return { forced, waitedMs: Date.now() - started };
}
