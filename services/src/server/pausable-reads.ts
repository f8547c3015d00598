/**
 * Works around a Node.js bug (seen on 24.22) that resets kept-alive HTTPS connections.
 *
 * The HTTP server stops reading a connection when a new request arrives while the previous
 * response still waits to be written out (a large echo, say): it pauses the socket and its HTTP
 * parser. On a TLS socket whose reads go straight from the TLS layer into the parser (the
 * "consumed" fast path), pausing the socket does not stop the TLS layer from handing over the
 * records it has already decrypted, so the paused parser is fed anyway, fails with HPE_PAUSED, and
 * the server destroys the connection: the client sees ECONNRESET in the middle of its next request.
 *
 * A 'data' listener on the socket makes Node hand reads to the parser through the socket's stream
 * instead, where pausing does hold (see the bench's bulk echo and test/services for the failure).
 * It must be added after Node's own HTTP connection listener has set the socket up, which is why it
 * is appended to 'secureConnection' rather than prepended like the connection gate.
 */
import type { Server } from "node:https";
import type { TLSSocket } from "node:tls";

function ignore(): void {}

export function keepReadsPausable(server: Server): void {
  server.on("secureConnection", (socket: TLSSocket) => {
    if (!socket.destroyed) socket.on("data", ignore);
  });
}
