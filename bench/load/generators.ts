/**
 * Our own load generators, each run as a process of its own on the load core (loads.ts, `generator`)
 * that prints one JSON line, over mTLS with the bench client's identity and our client's TLS policy:
 *
 * - `bulk-echo`: `POST /v1/echo` over ONE kept-alive connection, one request after another, the body
 *   going out while the echo comes back (ab reads responses in small pieces and saturates its core
 *   long before either server does); the first echo is compared byte for byte.
 * - `fixed-rate`: open loop, `GET /v1/whoami` due every 1/rate s whatever the server does, over a
 *   pool of kept-alive connections (one request in flight each; a due request waits in the pool's
 *   queue); a latency runs from when its request was *due* to the last byte of the answer, so a
 *   stalled server is charged for the requests it delayed (no coordinated omission).
 * - `tunnel-bulk`: ONE connection through a TCP tunnel to a TCP echo, written to as fast as it takes
 *   (with backpressure), after the first chunk's echo was compared byte for byte.
 *
 *   node bench/load/generators.ts '<json options>'
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { Pool } from "undici";
import { ROUTES, type TlsPolicy } from "../../services/src/contract.ts";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";

/** The server's port and policy; the files of the CA and of the client identity to call it with. */
export type GeneratorTarget = { port: number; policy: TlsPolicy; ca: string; cert: string; key: string };
export type BulkEchoResult = Awaited<ReturnType<typeof bulkEcho>>;
export type FixedRateResult = Awaited<ReturnType<typeof fixedRate>>;
export type TunnelBulkResult = Awaited<ReturnType<typeof tunnelBulk>>;

const tlsOf = ({ ca, cert, key, policy }: GeneratorTarget) => ({
  ...{ ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) },
  ...tlsPolicyOptions(policy),
});

/** An HTTP/1.1 pool of up to `connections` kept-alive mTLS connections, one request at a time each. */
const mtlsPool = (target: GeneratorTarget, connections = 1) =>
  new Pool(`https://127.0.0.1:${target.port}`, { connections, pipelining: 1, connect: tlsOf(target) });

/** One `GET /v1/whoami` with the benchmark client's identity: the body nginx will serve verbatim. */
export async function fetchWhoami(target: GeneratorTarget): Promise<string> {
  const pool = mtlsPool(target);
  try {
    const { statusCode, body } = await pool.request({ method: "GET", path: ROUTES.whoami });
    if (statusCode !== 200) throw new Error(`GET ${ROUTES.whoami} answered ${statusCode}`);
    return await body.text();
  } finally {
    await pool.destroy();
  }
}

async function bulkEcho(options: GeneratorTarget & { bodyBytes: number; seconds: number }) {
  const pool = mtlsPool(options);
  const body = randomBytes(options.bodyBytes);
  const headers = { "content-type": "application/octet-stream" };
  /** One echo; its bytes if `keep`. */
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
    return Buffer.concat(chunks);
  };
  if (!(await roundTrip(true)).equals(body)) throw new Error("the echo differs from the body that was sent");
  const started = performance.now();
  let requests = 0;
  for (; performance.now() < started + options.seconds * 1000; requests++) await roundTrip(false);
  const seconds = (performance.now() - started) / 1000;
  await pool.destroy();
  // MB/s: body bytes echoed (each went to the server and back) per second, in 10^6 bytes.
  return { requests, seconds, megabytesPerSecond: (requests * body.length) / seconds / 1e6 };
}

const ascending = (a: number, b: number) => a - b;
/** Nearest rank. */
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;

async function fixedRate(
  options: GeneratorTarget & { rate: number; seconds: number; warmupSeconds: number; connections: number },
) {
  const pool = mtlsPool(options, options.connections);
  const get = () =>
    pool.request({ method: "GET", path: ROUTES.whoami }).then(async ({ statusCode, body }) => {
      await body.dump();
      return statusCode;
    });
  await Promise.all(Array.from({ length: options.connections }, get)); // every connection opened first
  const start = performance.now();
  const measureFrom = start + options.warmupSeconds * 1000;
  const end = measureFrom + options.seconds * 1000;
  const [latencies, lateness]: [number[], number[]] = [[], []];
  let [errors, outstanding] = [0, 0];
  const send = (due: number) => {
    const measured = due >= measureFrom && due < end;
    if (measured) lateness.push(performance.now() - due);
    outstanding++;
    get()
      .then(
        (status) => {
          if (status !== 200) errors++;
          else if (measured) latencies.push(performance.now() - due);
        },
        () => errors++,
      )
      .finally(() => outstanding--);
  };
  // Busy-polls with setImmediate (on the load core) so requests leave on time, not on 1 ms timers.
  await new Promise<void>((resolve) => {
    let next = 0;
    const dueAt = (index: number) => start + index * (1000 / options.rate);
    const tick = () => {
      const now = performance.now();
      for (let due = dueAt(next); due <= now && due < end; due = dueAt(++next)) send(due);
      if (now >= end) resolve();
      else setImmediate(tick);
    };
    tick();
  });
  const drainDeadline = performance.now() + 2000;
  while (outstanding > 0 && performance.now() < drainDeadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  const unanswered = outstanding;
  await pool.destroy();
  const sorted = latencies.sort(ascending);
  const [p50, p90, p99, p999] = [50, 90, 99, 99.9].map((p) => percentile(sorted, p)) as number[];
  return {
    /** `achievedRate`: requests completed per second of the measured window. */
    ...{ rate: options.rate, achievedRate: sorted.length / options.seconds, measured: sorted.length, errors },
    /** Still unanswered 2 s after the last request was due. */
    unanswered,
    /** How late the generator itself sent (sent - due), p99: its own noise floor, in every latency. */
    sendLatenessP99Ms: percentile(lateness.sort(ascending), 99),
    percentilesMs: { p50: p50!, p90: p90!, p99: p99!, p999: p999!, max: sorted.at(-1) ?? Number.NaN },
  };
}

/** `chunkBytes`: bytes per write. */
async function tunnelBulk(options: GeneratorTarget & { chunkBytes: number; seconds: number }) {
  const socket = connect({ host: "127.0.0.1", port: options.port, ...tlsOf(options) }).setNoDelay(true);
  await once(socket, "secureConnect");
  const chunk = randomBytes(options.chunkBytes);
  const closed = new Promise<never>((_, reject) => {
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("the tunnel closed the connection")));
  });
  closed.catch(() => {});
  let echoed = Buffer.alloc(0);
  const firstBack = new Promise<void>((resolve) => {
    const onData = (data: Buffer) => {
      echoed = Buffer.concat([echoed, data]);
      if (echoed.length < chunk.length) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
  });
  socket.write(chunk);
  await Promise.race([firstBack, closed]);
  if (!echoed.equals(chunk)) throw new Error("the tunnel's echo differs from what was sent");
  let [bytes, running] = [0, true];
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
  const [seconds, counted] = [(performance.now() - started) / 1000, bytes];
  socket.destroy();
  // The bytes that came back (each went through the tunnel to the echo and back), and MB (10^6) per second.
  return { bytes: counted, seconds, megabytesPerSecond: counted / seconds / 1e6 };
}

if (import.meta.main) {
  const options = JSON.parse(process.argv[2]!);
  const generators = { "bulk-echo": bulkEcho, "fixed-rate": fixedRate, "tunnel-bulk": tunnelBulk };
  const generator = generators[options.generator as keyof typeof generators];
  if (!generator) throw new Error(`no generator named ${options.generator}`);
  process.stdout.write(`${JSON.stringify(await generator(options))}\n`);
}
