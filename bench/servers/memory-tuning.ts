/**
 * A setting that bounds our server's memory further, found by profiling its peak RSS under handshake
 * load (docs/BENCHMARKS.md, "Memory"), measured on top of the server as shipped. It changes no code,
 * only how Node is started, and it is not the image's default: it costs bulk throughput.
 *
 * --max-semi-space-size=1 (MiB): V8 grows its young generation up to 16 MiB per semi-space under a
 * burst of allocations (each handshake allocates certificates, sockets, buffers) and keeps it; a
 * 1 MiB one is collected more often instead.
 *
 * (The other setting once measured here, a filled NODE_COMPILE_CACHE to keep Node's TypeScript
 * stripper out of the process, is what the image now does for good by shipping type-stripped .js.)
 */
export function memoryTuningEnv(): Record<string, string> {
  return { NODE_OPTIONS: "--max-semi-space-size=1" };
}
