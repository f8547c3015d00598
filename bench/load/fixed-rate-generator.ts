/**
 * Open-loop load at a fixed request rate: `GET /v1/whoami` is due every 1/rate seconds whatever the
 * server does, over a pool of kept-alive mTLS connections (one request in flight per connection;
 * a due request waits in a queue when every connection is busy). Each latency runs from the time
 * the request was *due* to the last byte of its response, so a stalled server is charged for the
 * requests it delayed (no coordinated omission). Percentiles come from the raw samples, sorted.
 *
 *   node bench/load/fixed-rate-generator.ts '<json options>'   → one JSON line on stdout
 */
import type { TLSSocket } from "node:tls";
import { ROUTES } from "../../services/src/contract.ts";
import { ResponseReader } from "./http-response-reader.ts";
import { connectMtls, type GeneratorTarget } from "./mtls-connect.ts";

export interface FixedRateOptions extends GeneratorTarget {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

export interface FixedRateResult {
  rate: number;
  /** Requests completed per second over the measured window. */
  achievedRate: number;
  measured: number;
  errors: number;
  /** Requests still unanswered 2 s after the last one was due. */
  unanswered: number;
  maxQueued: number;
  /**
   * How late the generator itself sent requests (sent - due), p99: its own noise floor (its GC, and
   * other processes of this shared machine taking the load core), included in every latency.
   */
  sendLatenessP99Ms: number;
  percentilesMs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

interface Connection {
  socket: TLSSocket;
  reader: ResponseReader;
  /** When the request in flight was due (ms), or undefined when idle. */
  due: number | undefined;
}

const REQUEST = Buffer.from(`GET ${ROUTES.whoami} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export async function runFixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const connections: Connection[] = [];
  for (let i = 0; i < options.connections; i++) {
    connections.push({ socket: await connectMtls(options), reader: new ResponseReader(), due: undefined });
  }
  const intervalMs = 1000 / options.rate;
  const start = performance.now();
  const measureFrom = start + options.warmupSeconds * 1000;
  const end = measureFrom + options.seconds * 1000;
  const samples = new Float64Array(Math.ceil(options.rate * options.seconds * 1.05) + 16);
  const lateness = new Float64Array(samples.length);
  let late = 0;
  let measured = 0;
  let errors = 0;
  let outstanding = 0;
  let maxQueued = 0;
  const idle: Connection[] = [...connections];
  const queue: number[] = [];
  let queueHead = 0;

  const send = (connection: Connection, due: number) => {
    connection.due = due;
    if (due >= measureFrom && due < end && late < lateness.length) lateness[late++] = performance.now() - due;
    outstanding++;
    connection.socket.write(REQUEST);
  };

  for (const connection of connections) {
    connection.socket.on("data", (chunk: Buffer) => {
      for (const response of connection.reader.feed(chunk)) {
        const now = performance.now();
        const due = connection.due!;
        connection.due = undefined;
        outstanding--;
        if (response.status !== 200) errors++;
        else if (due >= measureFrom && due < end && measured < samples.length)
          samples[measured++] = now - due;
        if (queueHead < queue.length) send(connection, queue[queueHead++]!);
        else idle.push(connection);
      }
    });
    connection.socket.on("error", () => errors++);
  }

  // Busy-polls with setImmediate (on the load core) so requests leave on time, not on 1 ms timers.
  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (start + next * intervalMs <= now && start + next * intervalMs < end) {
        const due = start + next * intervalMs;
        next++;
        const connection = idle.pop();
        if (connection) send(connection, due);
        else queue.push(due);
      }
      maxQueued = Math.max(maxQueued, queue.length - queueHead);
      if (now >= end) resolve();
      else setImmediate(tick);
    };
    tick();
  });
  const drainDeadline = performance.now() + 2000;
  while ((outstanding > 0 || queueHead < queue.length) && performance.now() < drainDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const unanswered = outstanding + (queue.length - queueHead);
  for (const connection of connections) connection.socket.destroy();

  const sorted = samples.subarray(0, measured).sort();
  return {
    rate: options.rate,
    achievedRate: measured / options.seconds,
    measured,
    errors,
    unanswered,
    maxQueued,
    sendLatenessP99Ms: percentile(lateness.subarray(0, late).sort(), 99),
    percentilesMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    },
  };
}

if (import.meta.main) {
  const result = await runFixedRate(JSON.parse(process.argv[2]!) as FixedRateOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
