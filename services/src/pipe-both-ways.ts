/**
 * Joins two sockets into one tunnel, for the server's tcp:// mode and the client's local tunnel:
 *
 * - bytes flow both ways through `pipe`, so a slow reader pauses the fast writer (backpressure);
 * - half-close: when one side ends its sending (FIN, or a TLS close_notify), the other side's
 *   sending is ended too, and bytes still flow the other way (both sockets are allowHalfOpen);
 * - closed when either side closes or fails: once a socket is closed, nothing it sent is left
 *   in flight, and the other one is ended (a clean close) or destroyed (after an error);
 * - idle timeout: no byte either way for `idleTimeoutMs` (0 = never) destroys both.
 */
import type { Socket } from "node:net";

export interface TunnelEnds {
  /** Bytes read from `a` and written to `b`, and the reverse. */
  aToB: number;
  bToA: number;
  /** Why it ended: `closed`, `idle_timeout`, or an error code. */
  end: string;
}

export function pipeBothWays(
  a: Socket,
  b: Socket,
  idleTimeoutMs: number,
  onBytes?: (direction: "aToB" | "bToA", count: number) => void,
): Promise<TunnelEnds> {
  return new Promise((resolve) => {
    const ends: TunnelEnds = { aToB: 0, bToA: 0, end: "closed" };
    let closed = 0;
    a.on("data", (chunk: Buffer) => {
      ends.aToB += chunk.length;
      onBytes?.("aToB", chunk.length);
    });
    b.on("data", (chunk: Buffer) => {
      ends.bToA += chunk.length;
      onBytes?.("bToA", chunk.length);
    });
    a.pipe(b);
    b.pipe(a);
    const onError = (error: NodeJS.ErrnoException) => {
      if (ends.end === "closed") ends.end = error.code ?? "error";
      a.destroy();
      b.destroy();
    };
    a.on("error", onError);
    b.on("error", onError);
    const onClose = (other: Socket) => (hadError: boolean) => {
      if (hadError) other.destroy();
      else if (!other.writableEnded) other.end();
      // The other side cannot send to a closed socket: once its own sending is done, it is done.
      if (!other.destroyed) {
        if (other.writableFinished) other.destroy();
        else other.once("finish", () => other.destroy());
      }
      if (++closed === 2) resolve(ends);
    };
    a.once("close", onClose(b));
    b.once("close", onClose(a));
    if (idleTimeoutMs > 0) {
      // Every byte of the tunnel is read from or written to `a`, and both restart its timer.
      a.setTimeout(idleTimeoutMs, () => {
        ends.end = "idle_timeout";
        a.destroy();
        b.destroy();
      });
    }
  });
}
