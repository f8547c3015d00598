/**
 * The flood scenario's section of the report: rendered from a run file's `floods` key (one row per
 * flood and server, the verified caller's success rate and latency, the peak memory against the
 * container's limit, still serving or not), and absent from a run that did not measure floods.
 */
import { describe, expect, test } from "vitest";
import type { FloodResults } from "../../bench/floods/scenario.ts";
import { readRunFiles } from "../../bench/report/run-files.ts";
import { renderReport } from "../../bench/report/write-report.ts";

const runs = readRunFiles("bench/runs");
const recorded = runs.at(-1)!;
const calls = (ok: number, of: number) => ({ calls: of, ok, failures: {}, p50Ms: 8, p99Ms: 60 });
const flooder = { open: 0, opened: 0, closedByServer: 0, answers: {}, failedCalls: 0 };
const floods: FloodResults = {
  maxConnections: 1024,
  memoryLimitMiB: 256,
  callSeconds: 20,
  callTimeoutMs: 2000,
  cases: [
    { server: "ours", flood: "anonymous", calls: calls(262, 262), peakRssMiB: 96.3, healthy: true, flooder },
    { server: "nginx", flood: "hoard", calls: calls(489, 491), peakRssMiB: 56, healthy: false, flooder },
  ],
};

describe("the flood scenario in the report", () => {
  test("a run that measured floods gets their table", () => {
    const run = { ...recorded, scenarios: [...(recorded.scenarios ?? []), "floods"], floods };
    const report = renderReport(run, "benchmarks.svg", runs);
    expect(report).toContain("## Floods: verified callers while others hoard connections");
    expect(report).toContain(
      "| anonymous idle TCP connections, 1.1x the cap, re-opened when closed | ours | 100.0% (262 of 262) | 8 / 60 ms | 96 MiB of 256 | yes |",
    );
    expect(report).toMatch(
      /\| nginx \| 99\.6% \(489 of 491\) \| 8 \/ 60 ms \| 56 MiB of 256 \| \*\*no\*\* \|/,
    );
  });

  test("a run that did not has no floods section", () => {
    const scenarios = recorded.scenarios?.filter((scenario) => scenario !== "floods");
    const run = { ...recorded, scenarios, floods: undefined };
    expect(renderReport(recorded, "benchmarks.svg", runs)).toContain("## Floods");
    expect(renderReport(run, "benchmarks.svg", runs)).not.toContain("## Floods");
  });
});
