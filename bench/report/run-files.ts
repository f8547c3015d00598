/**
 * The recorded runs: each full `npm run bench` keeps its results in bench/runs/ as one JSON file named
 * after its start time (UTC), with the machine facts and no paths of its checkout. The report, chart
 * and README paragraph are rendered from these files alone, so every figure can be checked against them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults } from "../results.ts";

/** `2026-12-01T14:40:05.123Z` → `2026-12-01T14-40-05Z.json` (sortable, no colons). */
export function runFileName(startedAt: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(startedAt);
  if (!match) throw new Error(`not an ISO start time: ${JSON.stringify(startedAt)}`);
  return `${match[1]}T${match[2]}-${match[3]}-${match[4]}Z.json`;
}

export function writeRunFile(runsDir: string, results: BenchResults): string {
  mkdirSync(runsDir, { recursive: true });
  const file = join(runsDir, runFileName(results.startedAt));
  writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
  return file;
}

/** Every recorded run, oldest first. */
export function readRunFiles(runsDir: string): BenchResults[] {
  const names = existsSync(runsDir) ? readdirSync(runsDir).filter((name) => name.endsWith(".json")) : [];
  return names.sort().map((name) => {
    const results = JSON.parse(readFileSync(join(runsDir, name), "utf8")) as BenchResults;
    if (runFileName(results.startedAt) !== name)
      throw new Error(`bench/runs/${name}: its startedAt ${results.startedAt} names another file`);
    return results;
  });
}
