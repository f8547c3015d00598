/**
 * One measurement, repeated: an unrecorded warm-up per server (Node's JIT, nginx's caches), then
 * `runs` recorded repetitions against each server, rotating which one goes first, so a slow drift of
 * this shared machine's load does not always fall on the same server.
 */
import { measure, type Sample } from "./measure.ts";
import type { PerServer } from "./results.ts";
import type { ServerUnderTest } from "./servers/server-under-test.ts";

export interface RepeatContext {
  runs: number;
  cores: { server: number; load: number };
  log: (line: string) => void;
}

export function busyText(sample: Sample<unknown>): string {
  return `server ${((sample.serverCpuSeconds / sample.wallSeconds) * 100).toFixed(0)}% CPU, load core ${(sample.loadCoreBusy * 100).toFixed(0)}% busy`;
}

export async function repeat<T>(
  context: RepeatContext,
  what: string,
  servers: ServerUnderTest[],
  load: (server: ServerUnderTest) => Promise<T>,
  describe: (result: T) => string,
  warmup: (server: ServerUnderTest) => Promise<unknown>,
): Promise<PerServer<T>> {
  const { runs, cores, log } = context;
  for (const server of servers) await warmup(server);
  const samples: PerServer<T> = Object.fromEntries(servers.map((server) => [server.kind, []]));
  for (let run = 0; run < runs; run++) {
    const order = servers.map((_, i) => servers[(i + run) % servers.length]!);
    for (const server of order) {
      const sample = await measure(server, cores, () => load(server));
      samples[server.kind]!.push(sample);
      log(`  ${what} run ${run + 1}/${runs} ${server.kind}: ${describe(sample.result)}, ${busyText(sample)}`);
    }
  }
  return samples;
}
