/**
 * How V8's settings bound our server's peak memory: for Node's own defaults and each candidate
 * NODE_OPTIONS (the image's among them), a fresh server as shipped takes a fixed number of full
 * handshakes, then as many resumed ones, and its peak RSS (VmHWM) is read after each: a count, not
 * a time, so a variant that is faster is not charged for more work. Repeated with fresh processes
 * (the peak only grows), rotating the order; the report takes medians. What each setting costs in
 * throughput is measured side by side in the server scenario ("ours" against "ours-defaults").
 */
import { runSTime } from "../load/loads.ts";
import { median } from "../measure.ts";
import type { Scenario, ScenarioContext } from "../scenarios.ts";
import { imageNodeOptions } from "../servers/ours.ts";
import { serverCpuSeconds, serverRssBytes } from "../servers/server-under-test.ts";

/** Candidates around V8's default young generation (16 MiB semi-spaces on 64-bit machines). */
const CANDIDATES = ["", ...[1, 2, 4, 8].map((mib) => `--max-semi-space-size=${mib}`)];
const FIGURES = ["peakAfterFullBytes", "peakAfterResumedBytes", "cpuPerFullMs", "cpuPerResumedMs"] as const;
type Figures = Awaited<ReturnType<typeof measureVariant>>;
/** Peak RSS of our server after a fixed number of handshakes, per V8 setting: the run file's `memory`. */
export type MemoryResults = Awaited<ReturnType<typeof run>>["memory"];
/** NODE_OPTIONS it ran with ("" = Node's own defaults), whether the image sets it, the medians. */
export type MemoryVariant = MemoryResults["variants"][number];

/** A fresh server with `nodeOptions`: `count` full handshakes, then as many resumed, the peak after each. */
async function measureVariant(context: ScenarioContext, nodeOptions: string, count: number) {
  const [settings, pki] = [context.settings, context.pkis["ECDSA-P256"]];
  const server = await context.ours(pki, "modern", { nodeOptions, logLabel: "memory" });
  const round = { core: settings.loadCore, port: server.port, pki, policy: "modern" as const };
  const [seconds, processes] = [1, settings.sTimeProcesses];
  // At least `count`: s_time runs for whole seconds (it takes no fractions). The server CPU per one, ms.
  const handshakes = async (mode: "new" | "reuse") => {
    const cpuBefore = serverCpuSeconds(server);
    let made = 0;
    while (made < count) made += (await runSTime({ ...round, mode, seconds, processes })).connections;
    return ((serverCpuSeconds(server) - cpuBefore) * 1000) / made;
  };
  // VmHWM after `count` full handshakes, then after as many resumed ones.
  const cpuPerFullMs = await handshakes("new");
  const peakAfterFullBytes = serverRssBytes(server);
  const cpuPerResumedMs = await handshakes("reuse");
  const peakAfterResumedBytes = serverRssBytes(server);
  await server.stop();
  return { peakAfterFullBytes, peakAfterResumedBytes, cpuPerFullMs, cpuPerResumedMs };
}

async function run(context: ScenarioContext) {
  const { settings, log } = context;
  const shipped = imageNodeOptions(settings.repoRoot);
  const variants = [...new Set([...CANDIDATES, shipped])];
  const count = settings.memoryHandshakes;
  const samples = new Map<string, Figures[]>(variants.map((nodeOptions) => [nodeOptions, []]));
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  for (let repetition = 0; repetition < settings.runs; repetition++) {
    for (const index of variants.keys()) {
      const nodeOptions = variants[(index + repetition) % variants.length]!;
      const figures = await measureVariant(context, nodeOptions, count);
      samples.get(nodeOptions)!.push(figures);
      const peaks = `${mib(figures.peakAfterFullBytes)} / ${mib(figures.peakAfterResumedBytes)} MiB`;
      log(`  ${count} + ${count} handshakes, NODE_OPTIONS="${nodeOptions}": peak ${peaks}`);
    }
  }
  const medianOf = (nodeOptions: string) =>
    Object.fromEntries(
      FIGURES.map((key) => [key, median(samples.get(nodeOptions)!.map((f) => f[key]))]),
    ) as Figures;
  const results = variants.map((o) => ({ nodeOptions: o, shipped: o === shipped, ...medianOf(o) }));
  return { memory: { handshakes: count, variants: results } };
}

export const memoryScenario: Scenario = { key: "memory", run };
