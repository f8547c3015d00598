/**
 * Everything one run measured: the samples of every repetition and the machine facts the report
 * prints. A full run keeps it as its run file, bench/runs/<start time>.json (report/run-files.ts);
 * docs/BENCHMARKS.md, the chart and the README's "Performance" paragraph are rendered from those
 * files alone. Each scenario (scenarios.ts) adds its own keys; a run file lacks the keys of the
 * scenarios it did not run (a selection, or a run recorded before a scenario existed), and the
 * report says "not measured" there.
 */
import type { TlsPolicy } from "../services/src/contract.ts";
import type { FloodResults } from "./floods/scenario.ts";
import type { ClientLoopResult } from "./load/client-loop.ts";
import type { BulkEchoResult, FixedRateResult } from "./load/generators.ts";
import type { AbResult, STimeResult } from "./load/loads.ts";
import type { Sample } from "./measure.ts";
import type { KeyAlgorithm } from "./pki/issue-pki.ts";
import type { ProxyResults } from "./proxy/proxy-suite.ts";
import type { MemoryResults } from "./scenarios/memory.ts";
import type { ServerKind } from "./servers/server-under-test.ts";
import type { RecordedSettings } from "./settings.ts";
import type { MachineDescription } from "./system/environment.ts";

/** The samples of one measurement, per server measured, in run order. */
export type PerServer<T> = Partial<Record<ServerKind, Sample<T>[]>>;
export type PerKind<T> = Partial<Record<ServerKind, T>>;

export interface HandshakeCase {
  keyAlgorithm: KeyAlgorithm;
  policy: TlsPolicy;
  protocol: "TLSv1.3" | "TLSv1.2";
  full: PerServer<STimeResult>;
  /** Measured for TLS 1.3 (session tickets) only. */
  resumed?: PerServer<STimeResult>;
}

export interface LatencyAtRate {
  rate: number;
  basis: "half of nginx's maximum" | "half of our maximum";
  samples: PerServer<FixedRateResult>;
}

export interface BenchResults {
  settings: RecordedSettings;
  machine: MachineDescription;
  installed: string[];
  startedAt: string;
  finishedAt: string;
  loadAverageBefore: [number, number, number];
  loadAverageAfter: [number, number, number];
  /** The scenarios this run measured (absent from run files recorded before scenarios had names). */
  scenarios?: string[];
  /** NODE_OPTIONS the image sets (services/Dockerfile), which "ours" ran with. */
  shippedNodeOptions?: string;
  handshakes?: HandshakeCase[];
  keepAlive?: PerServer<AbResult>;
  bulk?: PerServer<BulkEchoResult>;
  bulkAb?: PerServer<AbResult>;
  latency?: LatencyAtRate[];
  /** Peak RSS in bytes: idle (VmRSS after start), after the handshake load, at the end. */
  peakRss?: {
    idle: PerKind<number>;
    /** The .ts sources started with a compile cache filled by a first start (NODE_COMPILE_CACHE). */
    idleTsWithCompileCache?: number;
    handshakes: PerKind<number>;
    whole: PerKind<number>;
  };
  clientLoop?: ClientLoopResult;
  /** Our server's full TLS 1.3 handshakes, ECDSA P-256 and RSA-2048 side by side, alternating. */
  keyAlgorithms?: Record<KeyAlgorithm, Sample<STimeResult>[]>;
  /** Our server in its sidecar modes against nginx, HAProxy and a bare Node proxy (bench/proxy/). */
  proxy?: ProxyResults;
  memory?: MemoryResults;
  /** The flood scenario (floods/scenario.ts). */
  floods?: FloodResults;
}
