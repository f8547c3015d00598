/**
 * What one `npm run bench` does and for how long. A full run stays under about ten minutes on a
 * 2-core machine; BENCH_QUICK=1 is a one-repetition smoke run for development (it writes its report
 * under bench/.work/ and records no run file, so that it never replaces the recorded results).
 */
import { join } from "node:path";

export interface BenchSettings {
  quick: boolean;
  /** Repetitions of every measurement; the report shows the median. */
  runs: number;
  /** Seconds of load per handshake (s_time) measurement. */
  handshakeSeconds: number;
  /** Parallel s_time processes: one is latency-bound, a few keep the server busy. */
  sTimeProcesses: number;
  /** Seconds and concurrency of the keep-alive (ab -k) measurement. */
  keepAliveSeconds: number;
  keepAliveConcurrency: number;
  /** Seconds and body size of the bulk echo measurement over one connection. */
  bulkSeconds: number;
  bulkBodyBytes: number;
  /** Seconds, connections and warm-up of the fixed-rate latency measurement. */
  latencySeconds: number;
  latencyConnections: number;
  latencyWarmupSeconds: number;
  /** Repetitions of each proxy measurement (fewer than `runs` if a full run must be shortened). */
  proxyRuns: number;
  /** Bytes per write of the TCP-tunnel bulk generator. */
  tunnelChunkBytes: number;
  /** Rounds of our client in loop mode, and the pause between them. */
  clientRounds: number;
  clientIntervalMs: number;
  /** The core the server under test is pinned to, and the one the load generators get. */
  serverCore: number;
  loadCore: number;
  repoRoot: string;
  workDir: string;
  /** Where the report and its chart go. */
  reportFile: string;
  chartFile: string;
  /** One JSON file per full run (bench/runs/); the report's ranges come from these. */
  runsDir: string;
  /** The README whose "Performance" paragraph the report rewrites (full runs only). */
  readmeFile: string;
}

/** The settings as a run file records them: the measurement parameters, no paths of this checkout. */
export type RecordedSettings = Omit<
  BenchSettings,
  "repoRoot" | "workDir" | "reportFile" | "chartFile" | "runsDir" | "readmeFile"
>;

export function recordedSettings(settings: BenchSettings): RecordedSettings {
  const { repoRoot, workDir, reportFile, chartFile, runsDir, readmeFile, ...recorded } = settings;
  return recorded;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const quick = env.BENCH_QUICK === "1";
  const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const workDir = join(repoRoot, "bench", ".work");
  const docs = join(repoRoot, "docs");
  return {
    quick,
    runs: quick ? 1 : 3,
    handshakeSeconds: quick ? 2 : 4,
    sTimeProcesses: 4,
    keepAliveSeconds: quick ? 2 : 4,
    keepAliveConcurrency: 32,
    bulkSeconds: quick ? 2 : 4,
    bulkBodyBytes: 1024 * 1024,
    latencySeconds: quick ? 3 : 6,
    latencyConnections: 32,
    latencyWarmupSeconds: quick ? 0.5 : 1,
    proxyRuns: quick ? 1 : 3,
    tunnelChunkBytes: 64 * 1024,
    clientRounds: 100,
    clientIntervalMs: 20,
    serverCore: 0,
    loadCore: 1,
    repoRoot,
    workDir,
    reportFile: quick ? join(workDir, "BENCHMARKS.quick.md") : join(docs, "BENCHMARKS.md"),
    chartFile: quick ? join(workDir, "benchmarks.quick.svg") : join(docs, "benchmarks.svg"),
    runsDir: join(repoRoot, "bench", "runs"),
    readmeFile: join(repoRoot, "README.md"),
  };
}
