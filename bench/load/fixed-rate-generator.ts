/**
 * Open-loop load at a fixed request rate: `GET /v1/whoami` is due every 1/rate seconds whatever the
 * server does, over a pool of kept-alive mTLS connections (one request in flight per connection; a
 * due request waits in the pool's queue when every connection is busy). Each latency runs from the
 * time the request was *due* to the last byte of its response, so a stalled server is charged for
 * the requests it delayed (no coordinated omission). Percentiles are nearest-rank over the sorted
 * raw samples.
 *
 *   node bench/load/fixed-rate-generator.ts '<json options>'   → one JSON line on stdout
 */
import { ROUTES } from "../../services/src/contract.ts";
import { type GeneratorTarget, mtlsPool } from "./mtls-connect.ts";

export interface FixedRateResult {
  rate: number;
  /** Requests completed per second over the measured window. */
  achievedRate: number;
  measured: number;
  errors: number;
  /** Requests still unanswered 2 s after the last one was due. */
  unanswered: number;
  /**
   * How late the generator itself sent requests (sent - due), p99: its own noise floor (its GC, and
   * other processes of the machine taking the load core), included in every latency.
   */
  sendLatenessP99Ms: number;
  percentilesMs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

type Options = GeneratorTarget & {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
};

async function runFixedRate(options: Options): Promise<FixedRateResult> {
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
  const latencies: number[] = [];
  const lateness: number[] = [];
  let errors = 0;
  let outstanding = 0;
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
    const tick = () => {
      const now = performance.now();
      for (
        let due = start + next * (1000 / options.rate);
        due <= now && due < end;
        due = start + ++next * (1000 / options.rate)
      )
        send(due);
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
  const sorted = latencies.sort((a, b) => a - b);
  return {
    rate: options.rate,
    achievedRate: sorted.length / options.seconds,
    measured: sorted.length,
    errors,
    unanswered,
    sendLatenessP99Ms: percentile(
      lateness.sort((a, b) => a - b),
      99,
    ),
    percentilesMs: {
      ...{ p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) },
      ...{ p999: percentile(sorted, 99.9), max: sorted.at(-1) ?? Number.NaN },
    },
  };
}

if (import.meta.main)
  process.stdout.write(`${JSON.stringify(await runFixedRate(JSON.parse(process.argv[2]!)))}\n`);
