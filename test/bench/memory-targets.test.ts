/**
 * The memory targets (bench/report/targets.ts): peak RSS as shipped is judged on the fixed-count
 * measurement of the image's setting when the run made one, against 150 MiB; the V8 settings' cost
 * is the lowest throughput figure as shipped over the same with Node's defaults, against 0.95×; and
 * BENCH_ONLY refuses a scenario that does not exist, naming the ones that do.
 */
import { describe, expect, test } from "vitest";
import type { Sample } from "../../bench/measure.ts";
import { readRunFiles } from "../../bench/report/run-files.ts";
import { targets } from "../../bench/report/targets.ts";
import type { BenchResults } from "../../bench/results.ts";
import type { MemoryVariant } from "../../bench/scenarios/memory.ts";
import { selectScenarios } from "../../bench/scenarios.ts";

const MIB = 2 ** 20;
const sample = <T>(result: T, cpu = 1): Sample<T> => ({
  result,
  wallSeconds: 4,
  serverCpuSeconds: cpu,
  serverCoreBusy: 0.9,
  loadCoreBusy: 0.5,
});
const requests = (rps: number) => [
  sample({ complete: rps * 4, failed: 0, non2xx: 0, seconds: 4, requestsPerSecond: rps }),
];
const variant = (nodeOptions: string, peakMiB: number, shipped = false): MemoryVariant => ({
  nodeOptions,
  shipped,
  peakAfterFullBytes: peakMiB * MIB,
  peakAfterResumedBytes: peakMiB * MIB,
  cpuPerFullMs: 1,
  cpuPerResumedMs: 0.5,
});

const base = readRunFiles("bench/runs").at(-1)!;
const run = (over: Partial<BenchResults>): BenchResults => ({ ...base, ...over });
const goal = (r: BenchResults, id: string) => targets(r).find((g) => g.id === id);

describe("memory targets", () => {
  test("peak RSS as shipped comes from the fixed-count measurement of the image's setting", () => {
    const memory = {
      handshakes: 10_000,
      variants: [variant("", 229), variant("--max-semi-space-size=8", 150, true)],
    };
    const rss = goal(run({ memory }), "rss")!;
    expect([rss.ours, rss.met]).toEqual([150, true]);
    expect(rss.label).toContain("after 10000 full + 10000 resumed");
    expect(goal(run({ memory: { ...memory, variants: [variant("--x", 150.5, true)] } }), "rss")!.met).toBe(
      false,
    );
  });

  test("the V8 settings' cost is the lowest throughput ratio against Node's defaults, met at 0.95×", () => {
    const keepAlive = { ...base.keepAlive, ours: requests(950), "ours-defaults": requests(1000) };
    const bulk = { ...base.bulk, "ours-defaults": base.bulk!.ours };
    const handshakes = base.handshakes!.map((c) => ({
      ...c,
      full: { ...c.full, "ours-defaults": c.full.ours },
      resumed: c.resumed && { ...c.resumed, "ours-defaults": c.resumed.ours },
    }));
    const cost = goal(run({ keepAlive, bulk, handshakes }), "v8Cost")!;
    expect([cost.ours, cost.met]).toEqual([0.95, true]);
    expect(cost.label).toContain("(keep-alive requests)");
    const slower = { ...keepAlive, ours: requests(949) };
    expect(goal(run({ keepAlive: slower, bulk, handshakes }), "v8Cost")!.met).toBe(false);
    // A run without Node's defaults beside ours has no such target.
    const { "ours-defaults": _, ...withoutDefaults } = base.keepAlive!;
    expect(goal(run({ keepAlive: withoutDefaults }), "v8Cost")).toBeUndefined();
  });
});

describe("scenario selection", () => {
  test("BENCH_ONLY names scenarios; an unknown one is refused with the list of known ones", () => {
    expect(selectScenarios(["proxy", "memory"]).map((s) => s.key)).toEqual(["memory", "proxy"]);
    expect(selectScenarios([]).map((s) => s.key)).toEqual(["server", "keys", "memory", "proxy", "floods"]);
    expect(() => selectScenarios(["flood"])).toThrow(
      "BENCH_ONLY names flood: the scenarios are server, keys, memory, proxy, floods",
    );
  });
});
