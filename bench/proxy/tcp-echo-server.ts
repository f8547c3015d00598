/**
 * The TCP tunnels' upstream: a plain TCP echo on 127.0.0.1 (every byte sent back on the same
 * connection, with backpressure), so one connection through a tunnel carries the bulk data both ways.
 *
 *   node bench/proxy/tcp-echo-server.ts <port>
 */
import { createServer } from "node:net";

if (import.meta.main) {
  const port = Number(process.argv[2]);
  createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("error", () => socket.destroy());
    socket.pipe(socket);
  }).listen(port, "127.0.0.1");
  process.once("SIGTERM", () => process.exit(0));
}
