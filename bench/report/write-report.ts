/** Writes the report and its chart where the settings say (docs/ for a full run). */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { BenchResults } from "../results.ts";
import { type ChartRow, renderChart } from "./chart.ts";
import { renderMarkdown } from "./markdown.ts";
import { handshakeCase, latencyAt, med, p99, rate, targets } from "./summary.ts";

function chartRows(results: BenchResults): ChartRow[] {
  const goals = targets(results);
  const rows: ChartRow[] = [];
  for (const c of results.handshakes) {
    const full = med(c.full.ours, rate) / med(c.full.nginx, rate);
    const isMain = c.keyAlgorithm === "ECDSA-P256" && c.protocol === "TLSv1.3";
    rows.push({
      label: `Full handshakes/s, ${c.keyAlgorithm}, ${c.protocol}`,
      ratio: full,
      better: "higher",
      met: isMain ? goals[0]!.met : undefined,
      marker: isMain ? 0.8 : undefined,
    });
  }
  for (const c of results.handshakes) {
    if (!c.resumed) continue;
    rows.push({
      label: `Resumed handshakes/s, ${c.keyAlgorithm}, ${c.protocol}`,
      ratio: med(c.resumed.ours, rate) / med(c.resumed.nginx, rate),
      better: "higher",
      met: undefined,
    });
  }
  const [, , keepAlive, bulk, latency, memory] = goals;
  rows.push(
    {
      label: "Keep-alive GET requests/s",
      ratio: keepAlive!.ratio,
      better: "higher",
      met: keepAlive!.met,
      marker: 0.5,
    },
    {
      label: "Bulk POST echo MB/s, one connection",
      ratio: bulk!.ratio,
      better: "higher",
      met: bulk!.met,
      marker: 0.7,
    },
    {
      label: "p99 latency at half of nginx's maximum rate",
      ratio: latency!.ratio,
      better: "lower",
      met: latency!.met,
      marker: 2,
    },
  );
  const moderate = latencyAt(results, "half of our maximum");
  rows.push(
    {
      label: `p99 latency at ${moderate.rate} req/s (half of ours)`,
      ratio: med(moderate.samples.ours, p99) / med(moderate.samples.nginx, p99),
      better: "lower",
      met: undefined,
    },
    { label: "Peak RSS under handshake load", ratio: memory!.ratio, better: "lower", met: memory!.met },
    {
      label: "Peak RSS, ours with the memory settings",
      ratio: memory!.tunedRatio ?? Number.NaN,
      better: "lower",
      met: memory!.tunedMet,
    },
  );
  void handshakeCase;
  return rows;
}

export function writeReport(results: BenchResults): void {
  const { reportFile, chartFile, runs } = results.settings;
  mkdirSync(dirname(reportFile), { recursive: true });
  const subtitle = `ours / nginx, median of ${runs} run${runs > 1 ? "s" : ""}, ${results.startedAt.slice(0, 10)}; server pinned to one core, load generators to the other`;
  writeFileSync(
    chartFile,
    renderChart(chartRows(results), "mTLS server benchmark: ratio ours / nginx", subtitle),
  );
  writeFileSync(reportFile, renderMarkdown(results, basename(chartFile)));
}
