/**
 * Bulk data through a TCP tunnel: ONE mTLS connection to the tunnel, in front of a TCP echo, written
 * to as fast as it takes (with backpressure) for a fixed time while the echo comes back. The first
 * chunk's echo is compared byte for byte with what was sent, so the tunnel is known to carry the
 * bytes unchanged before anything is counted.
 *
 *   node bench/load/tunnel-bulk-generator.ts '<json options>'   → one JSON line on stdout
 */
import { randomBytes } from "node:crypto";
import { connectMtls, type GeneratorTarget } from "./mtls-connect.ts";

export interface TunnelBulkOptions extends GeneratorTarget {
  /** Bytes per write. */
  chunkBytes: number;
  seconds: number;
}

export interface TunnelBulkResult {
  /** Bytes that came back (each one went through the tunnel to the echo and back). */
  bytes: number;
  /** Those bytes per second, in MB (10^6 bytes). */
  megabytesPerSecond: number;
  seconds: number;
}

export async function runTunnelBulk(options: TunnelBulkOptions): Promise<TunnelBulkResult> {
  const socket = await connectMtls(options);
  const chunk = randomBytes(options.chunkBytes);
  const closed = new Promise<never>((_, reject) => {
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("the tunnel closed the connection")));
  });
  closed.catch(() => {});

  // The first chunk, there and back, unchanged.
  const echoed: Buffer[] = [];
  const firstBack = new Promise<void>((resolve) => {
    const onData = (data: Buffer) => {
      echoed.push(data);
      if (Buffer.concat(echoed).length < chunk.length) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
  });
  socket.write(chunk);
  await Promise.race([firstBack, closed]);
  if (!Buffer.concat(echoed).equals(chunk)) throw new Error("the tunnel's echo differs from what was sent");

  let bytes = 0;
  let running = true;
  socket.on("data", (data: Buffer) => (bytes += data.length));
  // Writes until the socket asks to wait ('drain' resumes).
  const pump = () => {
    while (running && socket.write(chunk));
  };
  socket.on("drain", pump);
  const started = performance.now();
  pump();
  await Promise.race([new Promise((resolve) => setTimeout(resolve, options.seconds * 1000)), closed]);
  running = false;
  const seconds = (performance.now() - started) / 1000;
  const counted = bytes;
  socket.destroy();
  return { bytes: counted, seconds, megabytesPerSecond: counted / seconds / 1e6 };
}

if (import.meta.main) {
  const result = await runTunnelBulk(JSON.parse(process.argv[2]!) as TunnelBulkOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
