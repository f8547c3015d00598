/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; then it is released).
 *
 * Prefer binding port 0 yourself and reading the port back (`server.listen(0)`, a container
 * port published without a host port): nothing can take the port in between. Use this only to
 * tell a port to something that cannot report the one it got (a child process's listen address,
 * an external tool's command line), and accept the small race that remains.
 */
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}
