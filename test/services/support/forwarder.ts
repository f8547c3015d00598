/**
 * A loopback TCP forwarder in front of a service under test. It binds port 0 itself and holds that
 * port for the whole test, so a client can be pointed at it before the server exists, without the
 * race of freeing a port and binding it again later. While it has no upstream it resets every
 * connection it accepts, as a port proxy does while the container behind it is down (Docker's
 * userland proxy, a load balancer); once given an upstream port, it pipes each connection there.
 */
import { connect, createServer, type Socket } from "node:net";

export interface Forwarder {
  port: number;
  /** Forward new connections to this loopback port (undefined: reset them). */
  setUpstream(port: number | undefined): void;
  close(): Promise<void>;
}

export async function startForwarder(): Promise<Forwarder> {
  let upstream: number | undefined;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  const server = createServer((downstream) => {
    track(downstream);
    if (upstream === undefined) {
      downstream.resetAndDestroy();
      return;
    }
    const up = connect(upstream, "127.0.0.1");
    track(up);
    downstream.pipe(up).pipe(downstream);
    up.once("close", () => downstream.destroy());
    downstream.once("close", () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    setUpstream: (port) => {
      upstream = port;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
