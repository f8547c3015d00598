/**
 * Renders the report from run data: docs/BENCHMARKS.md (the template benchmarks.md, its slots filled
 * by slots.ts) and its chart from the latest run, with ranges over every recorded run, and (full
 * runs) the README's Performance paragraph from the same runs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { BenchResults } from "../results.ts";
import type { BenchSettings } from "../settings.ts";
import { type ChartRow, formatRatio, renderChart } from "./chart.ts";
import { absentFigure } from "./figures.ts";
import { renderPerformanceParagraph, withPerformanceParagraph } from "./performance-paragraph.ts";
import { fillSlots } from "./slots.ts";
import { markerOf, targets } from "./targets.ts";
import { fillTemplate, readTemplate } from "./template.ts";

/** docs/BENCHMARKS.md of the latest run, `run`, with the ranges over `runs` (oldest first). */
export function renderReport(run: BenchResults, chartFile: string, runs: BenchResults[]): string {
  return fillTemplate(
    readTemplate("benchmarks.md"),
    fillSlots(run, runs, chartFile),
    "bench/report/benchmarks.md",
    absentFigure,
  );
}

/** One row per target, each with its target mark; peak RSS also for its other variants. */
export function chartRows(run: BenchResults): ChartRow[] {
  return targets(run).flatMap((goal) => {
    const byValue = goal.thresholdOn === "value";
    const sign = goal.better === "higher" ? "≥" : "≤";
    const row = {
      basis: goal.unit === "×" ? "as shipped / Node's defaults" : `ours / ${goal.peerLabel}`,
      better: goal.better,
      target: markerOf(goal),
      targetText: byValue
        ? `${sign} ${goal.threshold} ${goal.unit} (${markerOf(goal).toFixed(1)}× ${goal.peerLabel})`
        : `${sign} ${goal.threshold}×`,
    };
    // Three decimals where two would round a miss up to its threshold (a missed 0.796 is not "0.80×").
    const text = (value: number) =>
      byValue
        ? { valueText: `${value.toFixed(0)} ${goal.unit} (${formatRatio(value / goal.peer)})` }
        : Math.abs(value / goal.peer - goal.threshold) < 0.01
          ? { valueText: `${(value / goal.peer).toFixed(3)}×` }
          : {};
    const extras = (goal.extras ?? []).map((extra) => {
      const met = extra.value <= goal.threshold;
      return { ...row, label: extra.label, value: extra.value / goal.peer, met, ...text(extra.value) };
    });
    return [{ ...row, label: goal.short, value: goal.ratio, met: goal.met, ...text(goal.ours) }, ...extras];
  });
}

export function renderChartOf(run: BenchResults): string {
  const { runs } = run.settings;
  const when = run.startedAt.slice(0, 16).replace("T", " ");
  const subtitle = `median of ${runs} repetition${runs > 1 ? "s" : ""}, run of ${when} UTC; server pinned to one core, load generators to the other`;
  const peers = run.proxy ? " (nginx, HAProxy)" : "";
  return renderChart(
    chartRows(run),
    `mTLS server benchmark: our figures against their targets${peers}`,
    subtitle,
  );
}

/** Writes the report of `run` (the latest of `runs`) where the settings say. */
export function writeReport(run: BenchResults, runs: BenchResults[], paths: BenchSettings): void {
  mkdirSync(dirname(paths.reportFile), { recursive: true });
  writeFileSync(paths.chartFile, renderChartOf(run));
  writeFileSync(paths.reportFile, renderReport(run, basename(paths.chartFile), runs));
  if (!run.settings.quick) {
    const readme = readFileSync(paths.readmeFile, "utf8");
    writeFileSync(paths.readmeFile, withPerformanceParagraph(readme, renderPerformanceParagraph(runs)));
  }
}
