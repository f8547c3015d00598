/**
 * What one `npm run bench` does and for how long. BENCH_QUICK=1: one short repetition;
 * BENCH_ONLY=<scenario>,...: only those scenarios (scenarios.ts). Either is a trial: its report goes
 * under bench/.work/ and no run file is recorded, so that it never replaces the recorded results.
 */
import { join } from "node:path";

export function loadSettings(env: NodeJS.ProcessEnv = process.env) {
  const only = (env.BENCH_ONLY ?? "").split(",").filter(Boolean);
  const short = env.BENCH_QUICK === "1";
  const quick = short || only.length > 0;
  const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const workDir = join(repoRoot, "bench", ".work");
  return {
    quick,
    only,
    /** Repetitions of every measurement (of the proxy paths); the report shows the median. */
    runs: short ? 1 : 3,
    proxyRuns: short ? 1 : 3,
    /** Seconds of each s_time measurement, and parallel s_time processes (one is latency-bound). */
    handshakeSeconds: short ? 2 : 4,
    sTimeProcesses: 4,
    keepAliveSeconds: short ? 2 : 4,
    keepAliveConcurrency: 32,
    /** Bulk echo over one connection: seconds, body size; the tunnel's bytes per write. */
    bulkSeconds: short ? 2 : 4,
    bulkBodyBytes: 1024 * 1024,
    tunnelChunkBytes: 64 * 1024,
    latencySeconds: short ? 3 : 6,
    latencyConnections: 32,
    latencyWarmupSeconds: short ? 0.5 : 1,
    /** Full (then as many resumed) handshakes per V8 setting before its peak RSS is read. */
    memoryHandshakes: short ? 3000 : 10_000,
    clientRounds: 100,
    clientIntervalMs: 20,
    /** The core the server under test is pinned to, and the one the load generators get. */
    serverCore: 0,
    loadCore: 1,
    repoRoot,
    workDir,
    reportFile: quick ? join(workDir, "BENCHMARKS.quick.md") : join(repoRoot, "docs", "BENCHMARKS.md"),
    chartFile: quick ? join(workDir, "benchmarks.quick.svg") : join(repoRoot, "docs", "benchmarks.svg"),
    /** One JSON file per full run; the report's ranges come from these. */
    runsDir: join(repoRoot, "bench", "runs"),
    /** The README whose "Performance" paragraph the report rewrites (full runs only). */
    readmeFile: join(repoRoot, "README.md"),
  };
}

export type BenchSettings = ReturnType<typeof loadSettings>;
export type RecordedSettings = ReturnType<typeof recordedSettings>;

/** The settings as a run file records them: the measurement parameters, no paths of this checkout. */
export function recordedSettings(settings: BenchSettings) {
  const { repoRoot, workDir, reportFile, chartFile, runsDir, readmeFile, ...recorded } = settings;
  return recorded;
}
