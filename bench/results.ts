/**
 * Everything one run measured: the samples of every repetition and the machine facts the report
 * prints. A full run keeps it as its run file, bench/runs/<start time>.json (report/run-files.ts);
 * docs/BENCHMARKS.md, the chart and the README's "Performance" paragraph are rendered from those files.
 */

import type { TlsPolicy } from "../services/src/contract.ts";
import type { FloodResults } from "./floods/scenario.ts";
import type { AbResult } from "./load/ab.ts";
import type { BulkEchoResult } from "./load/bulk-echo-generator.ts";
import type { ClientLoopResult } from "./load/client-loop.ts";
import type { FixedRateResult } from "./load/fixed-rate-generator.ts";
import type { STimeResult } from "./load/s-time.ts";
import type { TunnelBulkResult } from "./load/tunnel-bulk-generator.ts";
import type { Sample } from "./measure.ts";
import type { KeyAlgorithm } from "./pki/pki.ts";
import type { ServerKind } from "./servers/server-under-test.ts";
import type { RecordedSettings } from "./settings.ts";
import type { MachineDescription } from "./system/environment.ts";

/** The samples of one measurement, per server measured, in run order. */
export type PerServer<T> = Partial<Record<ServerKind, Sample<T>[]>>;

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
  /** How the rate was chosen. */
  basis: "half of nginx's maximum" | "half of our maximum";
  samples: PerServer<FixedRateResult>;
}

/**
 * The proxy paths (issue 9): our server in its sidecar modes (MTLS_UPSTREAM=http:// and tcp://)
 * against nginx and HAProxy configured as mTLS proxies, and a bare Node proxy, all in front of the
 * same upstream; ECDSA P-256, TLS 1.3.
 */
export interface ProxyResults {
  /** What each peer answered a caller without a client certificate (each must have refused it). */
  anonymousRefused: Record<string, string>;
  /** The fixed body the HTTP upstream answers, in bytes. */
  upstreamBodyBytes: number;
  /** A full mTLS handshake per proxied request (openssl s_time -new). */
  newConnection: PerServer<STimeResult>;
  /** Kept-alive proxied requests (ab -k). */
  keepAlive: PerServer<AbResult>;
  /** One connection through the TCP tunnel to a TCP echo (bench/load/tunnel-bulk-generator.ts). */
  tunnel: PerServer<TunnelBulkResult>;
}

export interface BenchResults {
  settings: RecordedSettings;
  machine: MachineDescription;
  installed: string[];
  startedAt: string;
  finishedAt: string;
  loadAverageBefore: [number, number, number];
  loadAverageAfter: [number, number, number];
  handshakes: HandshakeCase[];
  keepAlive: PerServer<AbResult>;
  bulk: PerServer<BulkEchoResult>;
  bulkAb: PerServer<AbResult>;
  /** At half of nginx's keep-alive maximum (the target), and at half of ours (a rate both sustain). */
  latency: LatencyAtRate[];
  /** Peak RSS in bytes: after the handshake measurements, and at the end of everything. */
  peakRss: {
    /** Resident memory of the freshly started server, before any load. */
    idle: Partial<Record<ServerKind, number>>;
    /**
     * The .ts sources started with a compile cache filled by a first start (NODE_COMPILE_CACHE), the
     * other way to keep Node's TypeScript stripper out of the process: idle, for comparison only.
     */
    idleTsWithCompileCache?: number;
    handshakes: Partial<Record<ServerKind, number>>;
    whole: Partial<Record<ServerKind, number>>;
  };
  /** The extra environment of the "ours-tuned" configuration (servers/memory-tuning.ts). */
  memoryTuning: Record<string, string>;
  clientLoop: ClientLoopResult;
  /** Our server's full TLS 1.3 handshakes, ECDSA P-256 and RSA-2048 side by side, alternating. */
  keyAlgorithms: Record<KeyAlgorithm, Sample<STimeResult>[]>;
  /** The proxy paths; absent from runs recorded before they were measured. */
  proxy?: ProxyResults;
  /** The flood scenario (bench/floods/); absent from runs recorded before it was measured. */
  floods?: FloodResults;
}
