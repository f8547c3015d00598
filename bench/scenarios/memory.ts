/**
 * How V8's settings bound our server's peak memory: for Node's own defaults and each candidate
 * NODE_OPTIONS (the image's among them), a fresh server as shipped takes a fixed number of full
 * handshakes, then as many resumed ones, and its peak RSS (VmHWM) is read after each: a count, not
 * a time, so a variant that is faster is not charged for more work. Repeated with fresh processes
 * (the peak only grows), rotating the order; the report takes medians. What each setting costs in
 * throughput is measured side by side in the server scenario ("ours" against "ours-defaults").
 */
import { runSTime } from "../load/s-time.ts";
import { median } from "../measure.ts";
import type { MemoryVariant } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenarios.ts";
import { imageNodeOptions, type OurServer } from "../servers/ours.ts";
import { serverCpuSeconds, serverRssBytes } from "../servers/server-under-test.ts";

/** Candidates around V8's default young generation (16 MiB semi-spaces on 64-bit machines). */
export const CANDIDATES = [
  "",
  "--max-semi-space-size=1",
  "--max-semi-space-size=2",
  "--max-semi-space-size=4",
  "--max-semi-space-size=8",
];

/** `count` handshakes (at least: s_time runs for whole rounds) and the server CPU they took. */
async function handshakes(context: ScenarioContext, server: OurServer, mode: "new" | "reuse", count: number) {
  const { settings } = context;
  const pki = context.pkis[server.keyAlgorithm];
  const cpuBefore = serverCpuSeconds(server);
  const round = { core: settings.loadCore, port: server.port, pki, policy: "modern" as const, mode };
  let made = 0;
  // Whole seconds: s_time takes no fractions.
  while (made < count)
    made += (await runSTime({ ...round, seconds: 1, processes: settings.sTimeProcesses })).connections;
  return ((serverCpuSeconds(server) - cpuBefore) * 1000) / made;
}

async function run(context: ScenarioContext) {
  const { settings, log } = context;
  const shipped = imageNodeOptions(settings.repoRoot);
  const variants = [...new Set([...CANDIDATES, shipped])];
  const count = settings.memoryHandshakes;
  const samples = new Map<string, Omit<MemoryVariant, "nodeOptions" | "shipped">[]>();
  for (let repetition = 0; repetition < settings.runs; repetition++) {
    for (const [index] of variants.entries()) {
      const nodeOptions = variants[(index + repetition) % variants.length]!;
      const server = await context.ours(context.pkis["ECDSA-P256"], "modern", {
        nodeOptions,
        logLabel: "memory",
      });
      const cpuPerFullMs = await handshakes(context, server, "new", count);
      const peakAfterFullBytes = serverRssBytes(server);
      const cpuPerResumedMs = await handshakes(context, server, "reuse", count);
      const peakAfterResumedBytes = serverRssBytes(server);
      await server.stop();
      const entry = { peakAfterFullBytes, peakAfterResumedBytes, cpuPerFullMs, cpuPerResumedMs };
      samples.set(nodeOptions, [...(samples.get(nodeOptions) ?? []), entry]);
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
      log(
        `  ${count} + ${count} handshakes, NODE_OPTIONS="${nodeOptions}": peak ${mib(peakAfterFullBytes)} / ${mib(peakAfterResumedBytes)} MiB`,
      );
    }
  }
  const medianOf = (list: Omit<MemoryVariant, "nodeOptions" | "shipped">[]) =>
    Object.fromEntries(
      (["peakAfterFullBytes", "peakAfterResumedBytes", "cpuPerFullMs", "cpuPerResumedMs"] as const).map(
        (key) => [key, median(list.map((entry) => entry[key]))],
      ),
    ) as Omit<MemoryVariant, "nodeOptions" | "shipped">;
  const results = variants.map((nodeOptions) => ({
    nodeOptions,
    shipped: nodeOptions === shipped,
    ...medianOf(samples.get(nodeOptions) ?? []),
  }));
  return { memory: { handshakes: count, variants: results } };
}

export const memoryScenario: Scenario = { key: "memory", run };
