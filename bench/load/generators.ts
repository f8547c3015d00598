/** Runs the benchmark's own generators as processes pinned to the load core. */
import { expectSuccess, runPinned } from "../system/processes.ts";
import type { BulkEchoOptions, BulkEchoResult } from "./bulk-echo-generator.ts";
import type { FixedRateOptions, FixedRateResult } from "./fixed-rate-generator.ts";
import type { TunnelBulkOptions, TunnelBulkResult } from "./tunnel-bulk-generator.ts";

async function runGenerator<T>(core: number, script: string, options: object, what: string): Promise<T> {
  const path = new URL(script, import.meta.url).pathname;
  const result = expectSuccess(
    what,
    await runPinned(core, process.execPath, [path, JSON.stringify(options)]),
  );
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as T;
}

export function runFixedRateGenerator(core: number, options: FixedRateOptions): Promise<FixedRateResult> {
  return runGenerator(
    core,
    "./fixed-rate-generator.ts",
    options,
    `fixed-rate generator against port ${options.port}`,
  );
}

export function runBulkEchoGenerator(core: number, options: BulkEchoOptions): Promise<BulkEchoResult> {
  return runGenerator(
    core,
    "./bulk-echo-generator.ts",
    options,
    `bulk echo generator against port ${options.port}`,
  );
}

export function runTunnelBulkGenerator(core: number, options: TunnelBulkOptions): Promise<TunnelBulkResult> {
  return runGenerator(
    core,
    "./tunnel-bulk-generator.ts",
    options,
    `tunnel bulk generator against port ${options.port}`,
  );
}
