/**
 * The loads a measurement applies to a server, from the load core: `load(server)` measures for the
 * settings' time, `load(server, 1)` is the short warm-up (one s_time process). Our own generators
 * (this folder's *-generator.ts) run as processes of their own and print one JSON line.
 */
import type { PkiFiles } from "../pki/pki.ts";
import type { ServerUnderTest } from "../servers/server-under-test.ts";
import type { BenchSettings } from "../settings.ts";
import { runPinned } from "../system/processes.ts";
import { type AbResult, runAb } from "./ab.ts";
import { runSTime, type STimeResult } from "./s-time.ts";

export type Load<T> = (server: ServerUnderTest, warmupSeconds?: number) => Promise<T>;

export async function runGenerator<T>(core: number, script: string, options: { port: number }): Promise<T> {
  const path = new URL(`./${script}`, import.meta.url).pathname;
  const what = `${script} against port ${options.port}`;
  const result = await runPinned(core, process.execPath, [path, JSON.stringify(options)], what);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as T;
}

export function loadsFor(settings: BenchSettings, pki: PkiFiles) {
  const core = settings.loadCore;
  return {
    /** openssl s_time: full (`new`) or resumed (`reuse`) handshakes, each fetching `path`. */
    handshakes:
      (mode: "new" | "reuse", path?: string): Load<STimeResult> =>
      (server, warmup) =>
        runSTime({
          ...{ core, port: server.port, pki, policy: server.policy, mode, path },
          seconds: warmup ?? settings.handshakeSeconds,
          processes: warmup ? 1 : settings.sTimeProcesses,
        }),
    /** ab -k, `concurrency` connections; `postFile`: POST its content (bulk echo). */
    requests:
      (path: string, concurrency = settings.keepAliveConcurrency, postFile?: string): Load<AbResult> =>
      (server, warmup) =>
        runAb({
          core,
          port: server.port,
          path,
          pki,
          policy: server.policy,
          concurrency,
          postFile,
          seconds: warmup ?? settings.keepAliveSeconds,
        }),
    /** One of our generators, with the bench client's identity and `options(warmup)`. */
    generator:
      <T>(script: string, options: (warmup: number | undefined) => object): Load<T> =>
      (server, warmup) =>
        runGenerator<T>(core, script, {
          ...{
            port: server.port,
            policy: server.policy,
            ca: pki.ca,
            cert: pki.clientCert,
            key: pki.clientKey,
          },
          ...options(warmup),
        }),
  };
}
