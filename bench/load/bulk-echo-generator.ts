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
import { type GeneratorTarget, mtlsPool } from "./mtls-connect.ts";

export interface BulkEchoResult {
  requests: number;
  /** Body bytes echoed (each one went to the server and back) per second, in MB (10^6 bytes). */
  megabytesPerSecond: number;
  seconds: number;
}

async function runBulkEcho(options: GeneratorTarget & { bodyBytes: number; seconds: number }) {
  const pool = mtlsPool(options);
  const body = randomBytes(options.bodyBytes);
  const headers = { "content-type": "application/octet-stream" };
  const roundTrip = async (keep: boolean) => {
    const answer = await pool.request({ method: "POST", path: ROUTES.echo, body, headers });
    if (answer.statusCode !== 200) throw new Error(`POST ${ROUTES.echo} answered ${answer.statusCode}`);
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of answer.body) {
      bytes += chunk.length;
      if (keep) chunks.push(chunk);
    }
    if (bytes !== body.length) throw new Error(`echoed ${bytes} of ${body.length} bytes`);
    return keep ? Buffer.concat(chunks) : undefined;
  };
  if (!(await roundTrip(true))!.equals(body)) throw new Error("the echo differs from the body that was sent");
  const started = performance.now();
  let requests = 0;
  while (performance.now() < started + options.seconds * 1000) {
    await roundTrip(false);
    requests++;
  }
  const seconds = (performance.now() - started) / 1000;
  await pool.destroy();
  const result: BulkEchoResult = {
    requests,
    seconds,
    megabytesPerSecond: (requests * body.length) / seconds / 1e6,
  };
  return result;
}

if (import.meta.main)
  process.stdout.write(`${JSON.stringify(await runBulkEcho(JSON.parse(process.argv[2]!)))}\n`);
