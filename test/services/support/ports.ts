/**
 * Loopback ports for the services' tests that no other process can take while a test uses them:
 * each is bound by the test itself (port 0, read back) and held until it is released.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface HeldPort {
  port: number;
  release(): Promise<void>;
}

/**
 * A port that refuses connections (ECONNREFUSED, as when nothing listens) and cannot be bound by
 * anyone else while held: the local end of a connected socket. Linux answers a connection attempt
 * to a port without a listening socket with a reset, and refuses to bind a port that a socket
 * without SO_REUSEADDR uses.
 */
export async function refusingPort(): Promise<HeldPort> {
  const peer: Server = createServer();
  const accepted: Socket[] = [];
  peer.on("connection", (socket) => accepted.push(socket));
  await new Promise<void>((resolve) => peer.listen(0, "127.0.0.1", resolve));
  const { port: peerPort } = peer.address() as { port: number };
  const holder = await new Promise<Socket>((resolve, reject) => {
    const socket = connect(peerPort, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
  return {
    port: holder.localPort!,
    release: async () => {
      holder.destroy();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => peer.close(resolve));
    },
  };
}
