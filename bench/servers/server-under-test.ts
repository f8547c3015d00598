/** What the measurements need from a running server, ours or a peer, and how one is started. */
import { createWriteStream } from "node:fs";
import type { TlsPolicy } from "../../services/src/contract.ts";
import { eventually } from "../../test/support/eventually.ts";
import type { KeyAlgorithm } from "../pki/issue-pki.ts";
import { accepts, cpuSecondsOf, spawnPinned, statusField, stopProcess } from "../system/processes.ts";

/**
 * Our server as the image runs it ("ours": the type-stripped .js with the image's NODE_OPTIONS), the
 * same on Node's own V8 defaults, its .ts sources as `npm run server` runs them, nginx (the peer), a
 * bare Node https server or proxy (what Node itself costs) and, for the proxy paths, HAProxy. (Run
 * files older than 2026-12-07 also hold "ours-tuned", with the `memoryTuning` they name.)
 */
export type ServerKind = "ours" | "ours-defaults" | "ours-ts" | "nginx" | "haproxy" | "node-bare";

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

export const serverCpuSeconds = (server: ServerUnderTest) =>
  server.pids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);

/** Peak (VmHWM) or current (VmRSS) resident memory, summed over the server's processes. */
export const serverRssBytes = (server: ServerUnderTest, field: "VmHWM" | "VmRSS" = "VmHWM") =>
  server.pids().reduce((sum, pid) => sum + statusField(pid, field), 0);

/**
 * A process started pinned to `core` with its output in `logFile` (or dropped), returned once
 * `ready` holds (by default: it accepts connections on `port`), asked every 50 ms, a throw as "not yet".
 */
type PinnedServerOptions = Pick<ServerUnderTest, "kind" | "keyAlgorithm" | "policy" | "port"> & {
  /** For error lines: "nginx (…/nginx.conf)". */
  what: string;
  core: number;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile?: string;
  ready?: () => Promise<boolean>;
  /** Every pid of the server, given the first (nginx adds its worker). */
  pids?: (pid: number) => number[];
};

export async function startPinnedServer(options: PinnedServerOptions): Promise<ServerUnderTest> {
  const { what, port, logFile } = options;
  const child = spawnPinned(options.core, options.command, options.args, { env: options.env ?? process.env });
  const log = logFile ? createWriteStream(logFile) : undefined;
  for (const stream of [child.stdout!, child.stderr!])
    if (log) stream.pipe(log);
    else stream.resume();
  const seeLog = logFile ? `; see ${logFile}` : "";
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code}${seeLog}`))),
  );
  const ready = eventually(options.ready ?? (() => accepts(port)), Boolean, 15_000).catch(() => {
    throw new Error(`${what} was not ready on 127.0.0.1:${port} within 15 s${seeLog}`);
  });
  await Promise.race([ready, exited]);
  exited.catch(() => {}); // a later exit is reported by the measurement that notices it
  const { kind, keyAlgorithm, policy } = options;
  const pids = () => options.pids?.(child.pid!) ?? [child.pid!];
  return { kind, keyAlgorithm, policy, port, pids, stop: () => stopProcess(child, "SIGTERM", 15_000) };
}
