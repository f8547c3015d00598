/**
 * Graceful shutdown of the mTLS listener: stop accepting, let in-flight requests finish (closing
 * each keep-alive connection as soon as it is idle), and after the deadline close what is left.
 */

import { setTimeout as sleep } from "node:timers/promises";
import type { Server } from "node:tls";
import type { ConnectionGate } from "./connection-gate.ts";

export async function drainServer(
  // An HTTPS server, or the TLS server of the tcp:// mode (whose tunnels are waited for as they are).
  server: Server & { closeIdleConnections?: () => void },
  gate: ConnectionGate,
  deadlineMs: number,
): Promise<{ forced: number; waitedMs: number }> {
  const started = Date.now();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  while (gate.openConnections() > 0 && Date.now() - started < deadlineMs) {
    server.closeIdleConnections?.();
    await sleep(20);
  }
  const forced = gate.openConnections();
  if (forced > 0) gate.destroyAll();
  await closed;
  return { forced, waitedMs: Date.now() - started };
}
