/**
 * One measurement = one load run against one server, with what the machine did meanwhile: the
 * server's own CPU time, and how busy each core was (the load core near 100% means the load
 * generator, not the server, set the pace), and the repetitions of one measurement (repeater).
 */
import type { FixedRateResult, TunnelBulkResult } from "./load/generators.ts";
import type { AbResult, Load, STimeResult } from "./load/loads.ts";
import type { PerServer } from "./results.ts";
import { type ServerUnderTest, serverCpuSeconds } from "./servers/server-under-test.ts";
import type { BenchSettings } from "./settings.ts";
import { busyFractions, coreTimes } from "./system/processes.ts";

export interface Sample<T> {
  result: T;
  wallSeconds: number;
  serverCpuSeconds: number;
  /** Busy fraction of the server core and of the load core during the run. */
  serverCoreBusy: number;
  loadCoreBusy: number;
}

export async function measure<T>(server: ServerUnderTest, settings: BenchSettings, run: () => Promise<T>) {
  const [cpuBefore, coresBefore, started] = [serverCpuSeconds(server), coreTimes(), performance.now()];
  const result = await run();
  const wallSeconds = (performance.now() - started) / 1000;
  const busy = busyFractions(coresBefore, coreTimes());
  return {
    ...{ result, wallSeconds, serverCpuSeconds: serverCpuSeconds(server) - cpuBefore },
    serverCoreBusy: busy[settings.serverCore] ?? Number.NaN,
    loadCoreBusy: busy[settings.loadCore] ?? Number.NaN,
  } satisfies Sample<T>;
}

/** A sample in a few words for the log: the figure its load measures, and how busy server and load were. */
function describe({ result, ...sample }: Sample<unknown>): string {
  const r = result as Partial<STimeResult & AbResult & FixedRateResult & TunnelBulkResult>;
  const server = ((sample.serverCpuSeconds / sample.wallSeconds) * 100).toFixed(0);
  const busy = `server ${server}% CPU, load core ${(sample.loadCoreBusy * 100).toFixed(0)}% busy`;
  if (r.requestsPerSecond !== undefined) return `${r.requestsPerSecond.toFixed(0)} req/s, ${busy}`;
  if (r.megabytesPerSecond !== undefined) return `${r.megabytesPerSecond.toFixed(0)} MB/s, ${busy}`;
  const p = r.percentilesMs;
  if (p) return `p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, ${busy}`;
  return `${r.perSecond?.toFixed(0)}/s (${r.resumed}/${r.connections} resumed), ${busy}`;
}

/**
 * One measurement against several servers: an unrecorded warm-up each (Node's JIT, nginx's caches),
 * then `runs` recorded repetitions, rotating which server goes first, so a slow drift of a shared
 * machine's load does not always fall on the same server. Samples are kept per `key` (by default the
 * server's kind).
 */
export const repeater =
  (settings: BenchSettings, log: (line: string) => void) =>
  async <T>(
    what: string,
    servers: ServerUnderTest[],
    load: Load<T>,
    { runs = settings.runs, key = (server: ServerUnderTest): string => server.kind } = {},
  ): Promise<PerServer<T>> => {
    for (const server of servers) await load(server, 1);
    const samples: Record<string, Sample<T>[]> = Object.fromEntries(
      servers.map((server) => [key(server), []]),
    );
    for (let run = 0; run < runs; run++) {
      for (const server of servers.map((_, i) => servers[(i + run) % servers.length]!)) {
        const sample = await measure(server, settings, () => load(server));
        samples[key(server)]!.push(sample);
        log(`  ${what} run ${run + 1}/${runs} ${key(server)}: ${describe(sample)}`);
      }
    }
    return samples;
  };

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
