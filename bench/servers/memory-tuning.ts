/**
 * Two settings that bound our server's memory, found by profiling its peak RSS under handshake load
 * (docs/BENCHMARKS.md, "Memory"): neither changes the code, both belong in how the server is started.
 *
 * - NODE_COMPILE_CACHE with a cache filled beforehand: Node then takes the services' already
 *   type-stripped code from the cache and never loads its TypeScript stripper, a WebAssembly module
 *   whose memory (about 36 MiB for the services' sources) stays resident for the process's life.
 * - --max-semi-space-size=1 (MiB): V8 grows its young generation up to 16 MiB per semi-space
 *   under a burst of allocations (each handshake allocates certificates, sockets, buffers) and keeps
 *   it; a 1 MiB one is collected more often instead. It also keeps short-lived stream buffers (bulk
 *   echo) in cheap scavenges rather than full mark-compacts triggered by their external memory.
 */
export function memoryTuningEnv(compileCacheDir: string): Record<string, string> {
  return {
    NODE_COMPILE_CACHE: compileCacheDir,
    NODE_OPTIONS: "--max-semi-space-size=1",
  };
}
