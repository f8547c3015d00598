/** What the measurements need from a running server, ours or nginx. */
import type { TlsPolicy } from "../../services/src/contract.ts";
import type { KeyAlgorithm } from "../pki/pki.ts";
import { cpuSecondsOf, statusField } from "../system/proc-stats.ts";

/**
 * Our server as the image runs it (the type-stripped .js, ours.ts), the same code as its .ts sources
 * the way `npm run server` runs it on a host, our server as shipped with the memory settings of
 * memory-tuning.ts, nginx (the peer), and a bare Node https server (what Node itself costs); for the
 * proxy benchmarks also HAProxy (the tunnel's peer) and, as "node-bare", a bare Node proxy.
 */
export type ServerKind = "ours" | "ours-ts" | "ours-tuned" | "nginx" | "haproxy" | "node-bare";

export interface ServerUnderTest {
  kind: ServerKind;
  keyAlgorithm: KeyAlgorithm;
  policy: TlsPolicy;
  /** mTLS port on 127.0.0.1. */
  port: number;
  /** Every process of the server (nginx: master and worker). */
  pids(): number[];
  stop(): Promise<void>;
}

export function serverCpuSeconds(server: ServerUnderTest): number {
  return server.pids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
}

/** Peak resident memory since start, summed over the server's processes. */
export function serverPeakRssBytes(server: ServerUnderTest): number {
  return server.pids().reduce((sum, pid) => sum + statusField(pid, "VmHWM"), 0);
}
