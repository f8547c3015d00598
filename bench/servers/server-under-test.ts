/** What the measurements need from a running server, ours or a peer, and how one is started. */
import { createWriteStream } from "node:fs";
import type { TlsPolicy } from "../../services/src/contract.ts";
import type { KeyAlgorithm } from "../pki/pki.ts";
import { waitForPort } from "../system/ports.ts";
import { cpuSecondsOf, statusField } from "../system/proc-stats.ts";
import { spawnPinned, stopProcess } from "../system/processes.ts";

/**
 * Our server as the image runs it ("ours": the type-stripped .js with the image's NODE_OPTIONS),
 * the same with Node's own V8 defaults ("ours-defaults", how the image ran before it set any), its
 * .ts sources as `npm run server` runs them, nginx (the peer), a bare Node https server or proxy
 * (what Node itself costs) and, for the proxy paths, HAProxy. "ours-tuned" is a variant of run
 * files recorded earlier (their `memoryTuning` says its setting).
 */
export type ServerKind =
  | "ours"
  | "ours-defaults"
  | "ours-ts"
  | "ours-tuned"
  | "nginx"
  | "haproxy"
  | "node-bare";

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

/** Peak (VmHWM) or current (VmRSS) resident memory, summed over the server's processes. */
export function serverRssBytes(server: ServerUnderTest, field: "VmHWM" | "VmRSS" = "VmHWM"): number {
  return server.pids().reduce((sum, pid) => sum + statusField(pid, field), 0);
}

export interface PinnedServerOptions {
  kind: ServerKind;
  /** For error lines: "nginx (…/nginx.conf)". */
  what: string;
  port: number;
  keyAlgorithm: KeyAlgorithm;
  policy: TlsPolicy;
  core: number;
  command: string;
  args: string[];
  logFile?: string;
  /** Every pid of the server, given the first (nginx adds its worker). */
  pids?: (pid: number) => number[];
}

/** A process started pinned to `core`, returned once it accepts connections on `port`. */
export async function startPinnedServer(options: PinnedServerOptions): Promise<ServerUnderTest> {
  const child = spawnPinned(options.core, options.command, options.args);
  if (options.logFile) {
    const log = createWriteStream(options.logFile);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const seeLog = options.logFile ? `; see ${options.logFile}` : "";
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`${options.what} exited with ${code}${seeLog}`))),
  );
  await Promise.race([waitForPort(options.port, 10_000, options.what), exited]);
  exited.catch(() => {}); // a later exit is reported by the measurement that notices it
  return {
    kind: options.kind,
    keyAlgorithm: options.keyAlgorithm,
    policy: options.policy,
    port: options.port,
    pids: () => options.pids?.(child.pid!) ?? [child.pid!],
    stop: () => stopProcess(child, "SIGTERM", 10_000),
  };
}
