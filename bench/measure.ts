/**
 * One measurement = one load run against one server, with what the machine did meanwhile: the
 * server's own CPU time, and how busy each core was (the load core near 100% means the load
 * generator, not the server, set the pace; busy time on the server core beyond the server's own
 * is another tenant of this shared machine).
 */
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

export async function measure<T>(
  server: ServerUnderTest,
  cores: { server: number; load: number },
  run: () => Promise<T>,
): Promise<Sample<T>> {
  const cpuBefore = serverCpuSeconds(server);
  const coresBefore = coreTimes();
  const started = performance.now();
  const result = await run();
  const wallSeconds = (performance.now() - started) / 1000;
  const busy = busyFractions(coresBefore, coreTimes());
  return {
    result,
    wallSeconds,
    serverCpuSeconds: serverCpuSeconds(server) - cpuBefore,
    serverCoreBusy: busy[cores.server] ?? Number.NaN,
    loadCoreBusy: busy[cores.load] ?? Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
