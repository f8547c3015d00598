/**
 * `npm run bench`: the benchmark suite (docs/BENCHMARKS.md says what it measures and how).
 * Issues the PKIs with the project's own code, runs our server and nginx side by side pinned to one
 * core with the load generators on the other, keeps the results as a run file in bench/runs/, and
 * writes docs/BENCHMARKS.md, docs/benchmarks.svg and the README's Performance paragraph from the run
 * files. BENCH_QUICK=1: one short repetition, no run file, report under bench/.work/ instead.
 * `npm run bench -- floods`: the flood scenario alone (bench/floods/), its figures in
 * bench/.work/floods.json and its table on stdout.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runFloods } from "./floods/scenario.ts";
import { floodsTable } from "./floods/table.ts";
import { issuePki, KEY_ALGORITHMS, type PkiFiles } from "./pki/pki.ts";
import { readRunFiles, writeRunFile } from "./report/run-files.ts";
import { writeReport } from "./report/write-report.ts";
import type { BenchResults } from "./results.ts";
import { loadSettings, recordedSettings } from "./settings.ts";
import { runSuite } from "./suite.ts";
import { describeMachine, ensureTools } from "./system/environment.ts";
import { loadAverage } from "./system/proc-stats.ts";
import { stopAllStarted } from "./system/processes.ts";

const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

async function main(): Promise<void> {
  const settings = loadSettings();
  const installed = ensureTools(log);
  const machine = describeMachine();
  if (machine.cores < 2)
    throw new Error(
      `the benchmark pins server and load generator to different cores; this machine has ${machine.cores}`,
    );
  rmSync(join(settings.workDir, "pki"), { recursive: true, force: true });
  mkdirSync(join(settings.workDir, "logs"), { recursive: true });
  const loadAverageBefore = loadAverage();
  log(
    `${settings.quick ? "quick" : "full"} run: ${settings.runs} repetition(s); load average ${loadAverageBefore.join(" ")}`,
  );
  log(`server under test on core ${settings.serverCore}, load generators on core ${settings.loadCore}`);
  if (loadAverageBefore[0] > 0.5) {
    log(
      `note: load average ${loadAverageBefore[0]} before the run; other work on this machine will add noise (see uptime)`,
    );
  }

  if (process.argv[2] === "floods") {
    const pki = await issuePki(settings.workDir, "ECDSA-P256", settings.loadCore);
    const floods = await runFloods(settings, pki, log);
    writeFileSync(join(settings.workDir, "floods.json"), `${JSON.stringify(floods, null, 2)}\n`);
    process.stdout.write(`${floodsTable(floods)}\n`);
    return;
  }
  const pkis: Record<string, PkiFiles> = {};
  for (const keyAlgorithm of KEY_ALGORITHMS) {
    log(`issuing the ${keyAlgorithm} PKI with the library's MtlsPki under the tls provider emulation`);
    pkis[keyAlgorithm] = await issuePki(settings.workDir, keyAlgorithm, settings.loadCore);
  }
  const startedAt = new Date(started).toISOString();
  const measured = await runSuite(settings, pkis, log);
  const floods = await runFloods(settings, pkis["ECDSA-P256"]!, log);
  const results: BenchResults = {
    settings: recordedSettings(settings),
    machine,
    installed,
    startedAt,
    finishedAt: new Date().toISOString(),
    loadAverageBefore,
    loadAverageAfter: loadAverage(),
    ...measured,
    floods,
  };
  writeFileSync(join(settings.workDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  if (settings.quick) {
    writeReport(results, [results], settings);
    log(`wrote ${settings.reportFile} and ${settings.chartFile} (raw samples: bench/.work/results.json)`);
  } else {
    const runFile = writeRunFile(settings.runsDir, results);
    writeReport(results, readRunFiles(settings.runsDir), settings);
    log(
      `recorded ${runFile}; wrote ${settings.reportFile}, ${settings.chartFile} and the README's Performance paragraph`,
    );
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAllStarted().finally(() => process.exit(130));
  });
}
try {
  await main();
} catch (error) {
  await stopAllStarted();
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
