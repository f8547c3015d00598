/**
 * One measurement = one load run against one server, with what the machine did meanwhile: the
 * server's own CPU time, and how busy each core was (the load core near 100% means the load
 * generator, not the server, set the pace). `repeat` runs one measurement against several servers:
 * an unrecorded warm-up each (Node's JIT, nginx's caches), then `runs` recorded repetitions,
 * rotating which server goes first, so a slow drift of a shared machine's load does not always fall
 * on the same server.
 */
import type { PerServer } from "./results.ts";
import { type ServerUnderTest, serverCpuSeconds } from "./servers/server-under-test.ts";
import { busyFractions, coreTimes } from "./system/proc-stats.ts";

export interface Sample<T> {
  result: T;
  wallSeconds: number;
  serverCpuSeconds: number;
  /** Busy fraction of the server core and of the load core during the run. */
  serverCoreBusy: number;
  loadCoreBusy: number;
}

export interface Cores {
  server: number;
  load: number;
}

export async function measure<T>(server: ServerUnderTest, cores: Cores, run: () => Promise<T>) {
  const cpuBefore = serverCpuSeconds(server);
  const coresBefore = coreTimes();
  const started = performance.now();
  const result = await run();
  const wallSeconds = (performance.now() - started) / 1000;
  const busy = busyFractions(coresBefore, coreTimes());
  const sample: Sample<T> = {
    result,
    wallSeconds,
    serverCpuSeconds: serverCpuSeconds(server) - cpuBefore,
    serverCoreBusy: busy[cores.server] ?? Number.NaN,
    loadCoreBusy: busy[cores.load] ?? Number.NaN,
  };
  return sample;
}

export function busyText(sample: Sample<unknown>): string {
  const server = ((sample.serverCpuSeconds / sample.wallSeconds) * 100).toFixed(0);
  return `server ${server}% CPU, load core ${(sample.loadCoreBusy * 100).toFixed(0)}% busy`;
}

export interface RepeatContext {
  runs: number;
  cores: Cores;
  log: (line: string) => void;
}

/** `load(server, seconds)`: the measurement, given its length (the warm-up takes 1 s). */
export async function repeat<T>(
  context: RepeatContext,
  what: string,
  servers: ServerUnderTest[],
  load: (server: ServerUnderTest, seconds: number | undefined) => Promise<T>,
  describe: (result: T) => string,
): Promise<PerServer<T>> {
  const { runs, cores, log } = context;
  for (const server of servers) await load(server, 1);
  const samples: PerServer<T> = Object.fromEntries(servers.map((server) => [server.kind, []]));
  for (let run = 0; run < runs; run++) {
    for (const server of servers.map((_, i) => servers[(i + run) % servers.length]!)) {
      const sample = await measure(server, cores, () => load(server, undefined));
      samples[server.kind]!.push(sample);
      log(`  ${what} run ${run + 1}/${runs} ${server.kind}: ${describe(sample.result)}, ${busyText(sample)}`);
    }
  }
  return samples;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
