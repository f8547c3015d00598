/**
 * Renders docs/BENCHMARKS.md (the template benchmarks.md, its slots filled by slots.ts) and its chart
 * (chart.ts) from the latest run, with ranges over every recorded run, and after a full run the README's
 * Performance paragraph. Run on its own, it re-renders all three from bench/runs/ without measuring
 * again (for changes to the wording): `node bench/report/write-report.ts`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { BenchResults } from "../results.ts";
import { type BenchSettings, loadSettings } from "../settings.ts";
import { renderChartOf } from "./chart.ts";
import { absentFigure } from "./figures.ts";
import { renderPerformanceParagraph, withPerformanceParagraph } from "./performance-paragraph.ts";
import { readRunFiles } from "./run-files.ts";
import { fillSlots } from "./slots.ts";
import { fillTemplateFile } from "./template.ts";

/** docs/BENCHMARKS.md of the latest run, `run`, with the ranges over `runs` (oldest first). */
export const renderReport = (run: BenchResults, chartFile: string, runs: BenchResults[]) =>
  fillTemplateFile("benchmarks.md", fillSlots(run, runs, chartFile), absentFigure);

/** Writes the report of `run` (the latest of `runs`) where the settings say. */
export function writeReport(run: BenchResults, runs: BenchResults[], paths: BenchSettings): void {
  mkdirSync(dirname(paths.reportFile), { recursive: true });
  writeFileSync(paths.chartFile, renderChartOf(run));
  writeFileSync(paths.reportFile, renderReport(run, basename(paths.chartFile), runs));
  if (run.settings.quick) return;
  const readme = readFileSync(paths.readmeFile, "utf8");
  writeFileSync(paths.readmeFile, withPerformanceParagraph(readme, renderPerformanceParagraph(runs)));
}

if (import.meta.main) {
  const settings = loadSettings({});
  const runs = readRunFiles(settings.runsDir);
  if (runs.length === 0) throw new Error("no recorded runs in bench/runs/: run `npm run bench` first");
  writeReport(runs.at(-1)!, runs, settings);
  process.stderr.write(
    `re-rendered the report from ${runs.length} run file(s), the latest of ${runs.at(-1)!.startedAt}\n`,
  );
}
