/**
 * Re-renders docs/BENCHMARKS.md, its chart and the README's Performance paragraph from the recorded
 * runs (bench/runs/, the latest for the report), without measuring again: for changes to the
 * report's wording or layout.
 *
 *   node bench/report/from-results.ts
 */
import { loadSettings } from "../settings.ts";
import { readRunFiles } from "./run-files.ts";
import { writeReport } from "./write-report.ts";

const settings = loadSettings({});
const runs = readRunFiles(settings.runsDir);
const latest = runs.at(-1);
if (!latest) {
  process.stderr.write("no recorded runs in bench/runs/: run `npm run bench` first\n");
  process.exit(1);
}
writeReport(latest, runs, settings);
process.stderr.write(
  `re-rendered the report from ${runs.length} run file(s), the latest of ${latest.startedAt}\n`,
);
