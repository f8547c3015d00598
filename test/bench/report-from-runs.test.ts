/**
 * The published benchmark figures are the recorded data's: docs/BENCHMARKS.md, docs/benchmarks.svg
 * and the README's Performance paragraph must be exactly what the report renders from the run files
 * in bench/runs/ (regenerate with `node bench/report/write-report.ts` after changing the report's template or
 * its slots).
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { chartRows, renderChartOf } from "../../bench/report/chart.ts";
import {
  performanceParagraphOf,
  renderPerformanceParagraph,
} from "../../bench/report/performance-paragraph.ts";
import { readRunFiles } from "../../bench/report/run-files.ts";
import { markerOf, targets } from "../../bench/report/targets.ts";
import { renderReport } from "../../bench/report/write-report.ts";

const runs = readRunFiles("bench/runs");
const latest = runs.at(-1);

describe("benchmark report from the recorded runs", () => {
  test("at least one full run is recorded", () => {
    expect(runs.length).toBeGreaterThan(0);
    expect(latest!.settings.quick).toBe(false);
  });

  test("the README's Performance paragraph is the one rendered from the run files", () => {
    expect(performanceParagraphOf(readFileSync("README.md", "utf8"))).toBe(renderPerformanceParagraph(runs));
  });

  test("docs/BENCHMARKS.md is the report rendered from the latest run file", () => {
    expect(readFileSync("docs/BENCHMARKS.md", "utf8")).toBe(renderReport(latest!, "benchmarks.svg", runs));
  });

  test("docs/benchmarks.svg is the chart rendered from the latest run file", () => {
    expect(readFileSync("docs/benchmarks.svg", "utf8")).toBe(renderChartOf(latest!));
  });

  test("the chart has a row with a target for every target, resumption and peak RSS included", () => {
    const rows = chartRows(latest!);
    for (const goal of targets(latest!)) {
      const row = rows.find((r) => r.target === markerOf(goal) && r.value === goal.ratio);
      expect(row, goal.label).toBeDefined();
      expect(row!.met).toBe(goal.met);
    }
    expect(rows.every((row) => Number.isFinite(row.target) && row.target > 0)).toBe(true);
  });

  test("peak RSS is judged as shipped, in MiB, against 150 MiB", () => {
    const rss = targets(latest!).find((goal) => goal.id === "rss")!;
    const shipped = latest!.memory?.variants.find((variant) => variant.shipped);
    const bytes = shipped ? shipped.peakAfterResumedBytes : latest!.peakRss!.handshakes.ours!;
    expect(rss.ours).toBe(bytes / 2 ** 20);
    expect(rss.met).toBe(rss.ours <= 150);
  });

  test("run files hold no path of the checkout they ran in", () => {
    const text = JSON.stringify(runs);
    expect(text).not.toContain(process.cwd());
    expect(text).not.toMatch(/"(repoRoot|workDir|reportFile|chartFile)"/);
  });
});
