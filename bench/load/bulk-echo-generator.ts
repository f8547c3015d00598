/**
 * Bulk `POST /v1/echo` over ONE kept-alive mTLS connection, one request after another, for a fixed
 * time: the body goes out while the echo comes back. ab cannot measure this: it reads responses in
 * small pieces and saturates its core long before either server does (the report shows ab's figure
 * as well). The first echo is compared byte for byte with what was sent.
 *
 *   node bench/load/bulk-echo-generator.ts '<json options>'   → one JSON line on stdout
 */
import { randomBytes } from "node:crypto";
import { ROUTES } from "../../services/src/contract.ts";
import { type ReadResponse, ResponseReader } from "./http-response-reader.ts";
import { connectMtls, type GeneratorTarget } from "./mtls-connect.ts";

export interface BulkEchoOptions extends GeneratorTarget {
  bodyBytes: number;
  seconds: number;
}

export interface BulkEchoResult {
  requests: number;
  /** Body bytes echoed (each one went to the server and back) per second, in MB (10^6 bytes). */
  megabytesPerSecond: number;
  seconds: number;
}

export async function runBulkEcho(options: BulkEchoOptions): Promise<BulkEchoResult> {
  const socket = await connectMtls(options);
  const body = randomBytes(options.bodyBytes);
  const head = Buffer.from(
    `POST ${ROUTES.echo} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  const reader = new ResponseReader();
  let waiting: { resolve: (response: ReadResponse) => void; reject: (error: Error) => void } | undefined;
  socket.on("data", (chunk: Buffer) => {
    for (const response of reader.feed(chunk)) waiting?.resolve(response);
  });
  socket.on("error", (error) => waiting?.reject(error));
  socket.on("close", () => waiting?.reject(new Error("the server closed the connection")));
  const roundTrip = async () => {
    const response = await new Promise<ReadResponse>((resolve, reject) => {
      waiting = { resolve, reject };
      socket.write(head);
      socket.write(body);
    });
    if (response.status !== 200) throw new Error(`POST ${ROUTES.echo} answered ${response.status}`);
    if (response.bodyBytes !== body.length)
      throw new Error(`echoed ${response.bodyBytes} of ${body.length} bytes`);
    return response;
  };

  reader.keepBody = true;
  const first = await roundTrip();
  if (!first.body?.equals(body)) throw new Error("the echo differs from the body that was sent");
  reader.keepBody = false;
  const started = performance.now();
  const until = started + options.seconds * 1000;
  let requests = 0;
  while (performance.now() < until) {
    await roundTrip();
    requests++;
  }
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return { requests, seconds, megabytesPerSecond: (requests * body.length) / seconds / 1e6 };
}

if (import.meta.main) {
  const result = await runBulkEcho(JSON.parse(process.argv[2]!) as BulkEchoOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
