/**
 * `npm run bench`: the benchmark suite (docs/BENCHMARKS.md says what it measures and how). Issues
 * the PKIs with the project's own code, runs the scenarios (scenarios.ts) with each server pinned
 * to one core and the load generators on the other, keeps the results as a run file in bench/runs/,
 * and renders docs/BENCHMARKS.md, docs/benchmarks.svg and the README's Performance paragraph from
 * the run files; a trial (BENCH_QUICK, BENCH_ONLY: settings.ts) records no run file.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { issuePki, KEY_ALGORITHMS, type KeyAlgorithm, type PkiFiles } from "./pki/issue-pki.ts";
import { readRunFiles, writeRunFile } from "./report/run-files.ts";
import { writeReport } from "./report/write-report.ts";
import type { BenchResults } from "./results.ts";
import { runScenario, selectScenarios } from "./scenarios.ts";
import { imageNodeOptions, shipServices } from "./servers/ours.ts";
import { loadSettings, recordedSettings } from "./settings.ts";
import { describeMachine, ensureTools } from "./system/environment.ts";
import { loadAverage, stopAllStarted } from "./system/processes.ts";

const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

async function main(): Promise<void> {
  const settings = loadSettings();
  const { workDir, repoRoot, quick } = settings;
  const scenarios = selectScenarios(settings.only);
  const installed = ensureTools(log);
  const machine = describeMachine();
  if (machine.cores < 2)
    throw new Error(`the bench pins server and load to different cores; this machine has ${machine.cores}`);
  rmSync(join(workDir, "pki"), { recursive: true, force: true });
  mkdirSync(join(workDir, "logs"), { recursive: true });
  const loadAverageBefore = loadAverage();
  const names = scenarios.map((s) => s.key);
  const noise = loadAverageBefore[0] > 0.5 ? ", other work will add noise" : "";
  log(`${quick ? "trial" : "full"} run of ${names.join(", ")}: ${settings.runs} repetition(s)`);
  log(`load average ${loadAverageBefore.join(" ")}${noise}`);
  const pkis = {} as Record<KeyAlgorithm, PkiFiles>;
  for (const keyAlgorithm of KEY_ALGORITHMS) {
    log(`issuing the ${keyAlgorithm} PKI with the library's MtlsPki under the tls provider emulation`);
    pkis[keyAlgorithm] = await issuePki(workDir, keyAlgorithm, settings.loadCore);
  }
  const shippedDir = shipServices(repoRoot, join(workDir, "shipped", "src"));
  log(`our server as shipped: services/src type-stripped (services/build/strip-types.ts) into ${shippedDir}`);
  const measured: Partial<BenchResults> = {};
  for (const scenario of scenarios)
    Object.assign(measured, await runScenario(scenario, { settings, pkis, shippedDir, log }));
  const [startedAt, finishedAt] = [new Date(started).toISOString(), new Date().toISOString()];
  const [loadAverageAfter, shippedNodeOptions] = [loadAverage(), imageNodeOptions(repoRoot)];
  const results: BenchResults = {
    ...{ settings: recordedSettings(settings), machine, installed, startedAt, finishedAt },
    ...{ loadAverageBefore, loadAverageAfter, scenarios: names, shippedNodeOptions },
    ...measured,
  };
  writeFileSync(join(workDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const runFile = quick ? "bench/.work/results.json" : writeRunFile(settings.runsDir, results);
  writeReport(results, quick ? [results] : readRunFiles(settings.runsDir), settings);
  const also = quick ? "" : " and the README's Performance paragraph";
  log(`${quick ? "samples:" : "recorded"} ${runFile}; wrote ${settings.reportFile}, its chart${also}`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void stopAllStarted().finally(() => process.exit(130)));
try {
  await main();
} catch (error) {
  await stopAllStarted();
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
