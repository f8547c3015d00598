/**
 * Re-renders the report and chart from bench/.work/results.json (the last run's raw samples),
 * without measuring again: for changes to the report's wording or layout only.
 *
 *   node bench/report/from-results.ts
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults } from "../results.ts";
import { loadSettings } from "../settings.ts";
import { writeReport } from "./write-report.ts";

const file = join(loadSettings().workDir, "results.json");
writeReport(JSON.parse(readFileSync(file, "utf8")) as BenchResults);
process.stderr.write(`re-rendered the report from ${file}\n`);
