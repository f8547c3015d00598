/**
 * Renders the report from run data: docs/BENCHMARKS.md and its chart from the latest run, with ranges
 * over every recorded run, and (full runs) the README's Performance paragraph from the same runs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { BenchResults } from "../results.ts";
import type { BenchSettings } from "../settings.ts";
import { type ChartRow, formatRatio, renderChart } from "./chart.ts";
import { renderMarkdown } from "./markdown.ts";
import { renderPerformanceParagraph, withPerformanceParagraph } from "./performance-paragraph.ts";
import { markerOf, type Target, targets } from "./summary.ts";

const BASIS: Record<Target["id"], string> = {
  full: "ours / nginx",
  resumed: "resumed / our full",
  keepAlive: "ours / nginx",
  bulk: "ours / nginx",
  p99: "ours / nginx",
  rss: "ours / nginx",
  proxyFull: "ours / nginx",
  proxyKeepAlive: "ours / nginx",
  tunnelBulk: "ours / HAProxy",
};

const SHORT_LABEL: Record<Target["id"], string> = {
  full: "Full handshakes/s, ECDSA P-256, TLS 1.3",
  resumed: "Resumed handshakes/s, TLS 1.3 tickets",
  keepAlive: "Keep-alive GET requests/s",
  bulk: "Bulk POST echo MB/s, one connection",
  p99: "p99 latency at half of nginx's maximum",
  rss: "Peak RSS, as shipped (image)",
  proxyFull: "Proxied requests/s, new connection each",
  proxyKeepAlive: "Proxied keep-alive requests/s",
  tunnelBulk: "TCP tunnel bulk MB/s, one connection",
};

/** One row per target, each with its target mark; peak RSS also as .ts sources and with the memory settings. */
export function chartRows(results: BenchResults): ChartRow[] {
  const rows: ChartRow[] = [];
  for (const goal of targets(results)) {
    const targetText =
      goal.thresholdOn === "value"
        ? `${goal.better === "higher" ? "≥" : "≤"} ${goal.threshold} ${goal.unit} (${markerOf(goal).toFixed(1)}× ${goal.peerLabel})`
        : `${goal.better === "higher" ? "≥" : "≤"} ${goal.threshold}×`;
    const row = {
      basis: BASIS[goal.id],
      better: goal.better,
      target: markerOf(goal),
      targetText,
    };
    // Three decimals where two would round a miss up to its threshold (a missed 0.796 is not "0.80×").
    const absolute = (value: number) =>
      goal.thresholdOn === "value"
        ? { valueText: `${value.toFixed(0)} ${goal.unit} (${formatRatio(value / goal.peer)})` }
        : Math.abs(value / goal.peer - goal.threshold) < 0.01
          ? { valueText: `${(value / goal.peer).toFixed(3)}×` }
          : {};
    rows.push({
      ...row,
      label: SHORT_LABEL[goal.id],
      value: goal.ratio,
      met: goal.met,
      ...absolute(goal.ours),
    });
    if (goal.id === "rss") {
      if (goal.tsSources !== undefined)
        rows.push({
          ...row,
          label: "Peak RSS, .ts sources (npm run server)",
          value: goal.tsSources / goal.peer,
          met: goal.tsSourcesMet ?? false,
          ...absolute(goal.tsSources),
        });
      if (goal.tuned !== undefined)
        rows.push({
          ...row,
          label: "Peak RSS, as shipped + memory settings",
          value: goal.tunedRatio ?? Number.NaN,
          met: goal.tunedMet ?? false,
          ...absolute(goal.tuned),
        });
    }
  }
  return rows;
}

export function renderChartOf(results: BenchResults): string {
  const { runs } = results.settings;
  const subtitle = `median of ${runs} repetition${runs > 1 ? "s" : ""}, run of ${results.startedAt.slice(0, 16).replace("T", " ")} UTC; server pinned to one core, load generators to the other`;
  return renderChart(
    chartRows(results),
    results.proxy
      ? "mTLS server benchmark: our figures against their targets (nginx, HAProxy)"
      : "mTLS server benchmark: our figures against their targets",
    subtitle,
  );
}

/** Writes the report of `results` (the latest of `runs`) where the settings say. */
export function writeReport(results: BenchResults, runs: BenchResults[], paths: BenchSettings): void {
  const { reportFile, chartFile, readmeFile } = paths;
  mkdirSync(dirname(reportFile), { recursive: true });
  writeFileSync(chartFile, renderChartOf(results));
  writeFileSync(reportFile, renderMarkdown(results, basename(chartFile), runs));
  if (!results.settings.quick) {
    const readme = readFileSync(readmeFile, "utf8");
    writeFileSync(readmeFile, withPerformanceParagraph(readme, renderPerformanceParagraph(runs)));
  }
}
