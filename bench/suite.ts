/**
 * The measurements, in order. The servers of a case run side by side (an idle one costs nothing)
 * and every repetition rotates which one goes first, so a slow drift of this shared machine's load
 * does not always fall on the same server. Each measurement starts with an unrecorded warm-up per
 * server (Node's JIT, nginx's caches), then settings.runs recorded repetitions.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TlsPolicy } from "../services/src/contract.ts";
import { ROUTES } from "../services/src/contract.ts";
import { runAb } from "./load/ab.ts";
import { runClientLoop } from "./load/client-loop.ts";
import { runBulkEchoGenerator, runFixedRateGenerator } from "./load/generators.ts";
import type { GeneratorTarget } from "./load/mtls-connect.ts";
import { protocolOf, runSTime, type STimeResult } from "./load/s-time.ts";
import { fetchWhoami } from "./load/whoami.ts";
import { measure, median, type Sample } from "./measure.ts";
import { KEY_ALGORITHMS, type KeyAlgorithm, type PkiFiles } from "./pki/pki.ts";
import { runProxySuite } from "./proxy/proxy-suite.ts";
import { busyText, repeat as repeatRuns } from "./repeat.ts";
import type { BenchResults, HandshakeCase, LatencyAtRate, PerServer } from "./results.ts";
import { startBareNode } from "./servers/bare-node.ts";
import { memoryTuningEnv } from "./servers/memory-tuning.ts";
import { startNginx } from "./servers/nginx.ts";
import { type OurServer, type OurServerOptions, shipServices, startOurServer } from "./servers/ours.ts";
import { type ServerKind, type ServerUnderTest, serverPeakRssBytes } from "./servers/server-under-test.ts";
import type { BenchSettings } from "./settings.ts";
import { statusField } from "./system/proc-stats.ts";

type Measured = Pick<
  BenchResults,
  | "handshakes"
  | "keepAlive"
  | "bulk"
  | "bulkAb"
  | "latency"
  | "peakRss"
  | "memoryTuning"
  | "clientLoop"
  | "keyAlgorithms"
  | "proxy"
>;

const POLICIES: TlsPolicy[] = ["modern", "intermediate"];

export async function runSuite(
  settings: BenchSettings,
  pkis: Record<string, PkiFiles>,
  log: (line: string) => void,
): Promise<Measured> {
  const cores = { server: settings.serverCore, load: settings.loadCore };
  const target = (server: ServerUnderTest, pki: PkiFiles): GeneratorTarget => ({
    port: server.port,
    policy: server.policy,
    ca: pki.ca,
    cert: pki.clientCert,
    key: pki.clientKey,
  });
  const busy = busyText;
  const repeatContext = { runs: settings.runs, cores, log };
  const repeat = <T>(
    what: string,
    servers: ServerUnderTest[],
    load: (server: ServerUnderTest) => Promise<T>,
    describe: (result: T) => string,
    warmup: (server: ServerUnderTest) => Promise<unknown>,
  ): Promise<PerServer<T>> => repeatRuns(repeatContext, what, servers, load, describe, warmup);

  const handshakes: HandshakeCase[] = [];
  let main: Omit<Measured, "handshakes" | "keyAlgorithms" | "proxy"> | undefined;
  let idleRss: Partial<Record<ServerKind, number>> = {};
  let idleTsWithCompileCache: number | undefined;
  const shippedDir = shipServices(settings.repoRoot, join(settings.workDir, "shipped", "src"));
  log(
    `our server as shipped: services/src type-stripped by services/build/strip-types.ts into ${shippedDir}`,
  );
  const ourOptions = (pki: PkiFiles, policy: TlsPolicy): OurServerOptions => ({
    pki,
    policy,
    core: settings.serverCore,
    repoRoot: settings.repoRoot,
    logDir: join(settings.workDir, "logs"),
    maxBodyBytes: settings.bulkBodyBytes,
    shippedDir,
  });
  const currentRss = (servers: ServerUnderTest[]) =>
    Object.fromEntries(
      servers.map((server) => [
        server.kind,
        server.pids().reduce((sum, pid) => sum + statusField(pid, "VmRSS"), 0),
      ]),
    ) as Partial<Record<ServerKind, number>>;

  for (const keyAlgorithm of KEY_ALGORITHMS) {
    for (const policy of POLICIES) {
      const pki = pkis[keyAlgorithm]!;
      const isMainCase = keyAlgorithm === "ECDSA-P256" && policy === "modern";
      log(`${keyAlgorithm}, ${policy} policy (${protocolOf(policy)}): starting the servers`);
      const started: ServerUnderTest[] = [];
      try {
        const ours = await startOurServer(ourOptions(pki, policy));
        started.push(ours);
        const whoamiBody = await fetchWhoami(target(ours, pki));
        const nginx = await startNginx({
          pki,
          policy,
          core: settings.serverCore,
          workDir: settings.workDir,
          whoamiBody,
          maxBodyBytes: settings.bulkBodyBytes,
        });
        started.push(nginx);
        const bare = isMainCase
          ? await startBareNode({ pki, policy, core: settings.serverCore, body: whoamiBody })
          : undefined;
        if (bare) started.push(bare);
        const tuned = isMainCase
          ? await startOurServer({ ...ourOptions(pki, policy), env: memoryTuningEnv(), kind: "ours-tuned" })
          : undefined;
        if (tuned) started.push(tuned);
        const oursTs = isMainCase
          ? await startOurServer({ ...ourOptions(pki, policy), shippedDir: undefined, kind: "ours-ts" })
          : undefined;
        if (oursTs) started.push(oursTs);
        if (isMainCase) {
          idleRss = currentRss([ours, oursTs!, tuned!, nginx, bare!]);
          idleTsWithCompileCache = await idleWithCompileCache(pki);
        }

        const sTime =
          (mode: "new" | "reuse", seconds: number, processes: number) => (server: ServerUnderTest) =>
            runSTime({ core: settings.loadCore, port: server.port, pki, policy, mode, seconds, processes });
        const entry: HandshakeCase = {
          keyAlgorithm,
          policy,
          protocol: protocolOf(policy),
          full: await repeat(
            "full handshakes",
            isMainCase ? [ours, oursTs!, tuned!, nginx, bare!] : [ours, nginx],
            sTime("new", settings.handshakeSeconds, settings.sTimeProcesses),
            (r) => `${r.perSecond.toFixed(0)}/s`,
            sTime("new", 1, 1),
          ),
        };
        if (policy === "modern") {
          entry.resumed = await repeat(
            "resumed handshakes",
            isMainCase ? [ours, oursTs!, tuned!, nginx] : [ours, nginx],
            sTime("reuse", settings.handshakeSeconds, settings.sTimeProcesses),
            (r) => `${r.perSecond.toFixed(0)}/s (${r.resumed}/${r.connections} resumed)`,
            sTime("reuse", 1, 1),
          );
        }
        handshakes.push(entry);
        if (isMainCase) {
          // The .ts variant is measured for memory only (same code, same throughput): stop it first.
          const peakTs = serverPeakRssBytes(oursTs!);
          await oursTs!.stop();
          started.splice(started.indexOf(oursTs!), 1);
          main = await mainCaseMeasurements(ours, tuned!, nginx, bare!, pki);
          main.peakRss.handshakes["ours-ts"] = peakTs;
          main.peakRss.idleTsWithCompileCache = idleTsWithCompileCache;
        }
      } finally {
        for (const server of started) await server.stop();
      }
    }
  }
  const keyAlgorithms = await compareKeyAlgorithms();
  const proxy = await runProxySuite(settings, pkis["ECDSA-P256"]!, shippedDir, log);
  return { handshakes, ...main!, keyAlgorithms, proxy };

  /**
   * Our server with each PKI side by side, alternating run by run: the per-case measurements above
   * happen minutes apart, too far apart on a shared machine to compare key algorithms with.
   */
  async function compareKeyAlgorithms(): Promise<Record<KeyAlgorithm, Sample<STimeResult>[]>> {
    log("ECDSA P-256 vs RSA-2048, our server, TLS 1.3, side by side");
    const servers: [KeyAlgorithm, OurServer][] = [];
    const samples = Object.fromEntries(KEY_ALGORITHMS.map((k) => [k, []])) as unknown as Record<
      KeyAlgorithm,
      Sample<STimeResult>[]
    >;
    try {
      for (const keyAlgorithm of KEY_ALGORITHMS) {
        const server = await startOurServer(ourOptions(pkis[keyAlgorithm]!, "modern"));
        servers.push([keyAlgorithm, server]);
      }
      const run = (keyAlgorithm: KeyAlgorithm, server: OurServer, seconds: number, processes: number) =>
        runSTime({
          core: settings.loadCore,
          port: server.port,
          pki: pkis[keyAlgorithm]!,
          policy: "modern",
          mode: "new",
          seconds,
          processes,
        });
      for (const [keyAlgorithm, server] of servers) await run(keyAlgorithm, server, 1, 1);
      for (let i = 0; i < settings.runs; i++) {
        const order = i % 2 === 0 ? servers : [...servers].reverse();
        for (const [keyAlgorithm, server] of order) {
          const sample = await measure(server, cores, () =>
            run(keyAlgorithm, server, settings.handshakeSeconds, settings.sTimeProcesses),
          );
          samples[keyAlgorithm].push(sample);
          log(
            `  full handshakes run ${i + 1}/${settings.runs} ${keyAlgorithm}: ${sample.result.perSecond.toFixed(0)}/s, ${busy(sample)}`,
          );
        }
      }
    } finally {
      for (const [, server] of servers) await server.stop();
    }
    return samples;
  }

  /** Everything beyond handshakes, on the default configuration (ECDSA P-256, TLS 1.3). */
  async function mainCaseMeasurements(
    ours: OurServer,
    tuned: OurServer,
    nginx: ServerUnderTest,
    bare: ServerUnderTest,
    pki: PkiFiles,
  ): Promise<Omit<Measured, "handshakes" | "keyAlgorithms" | "proxy">> {
    const rss = (servers: ServerUnderTest[]) =>
      Object.fromEntries(servers.map((server) => [server.kind, serverPeakRssBytes(server)])) as Partial<
        Record<ServerKind, number>
      >;
    const peakAfterHandshakes = rss([ours, tuned, nginx, bare]);

    const keepAliveRun = (seconds: number) => (server: ServerUnderTest) =>
      runAb({
        core: settings.loadCore,
        port: server.port,
        path: ROUTES.whoami,
        pki,
        policy: server.policy,
        concurrency: settings.keepAliveConcurrency,
        seconds,
      });
    const keepAlive = await repeat(
      "keep-alive GET",
      [ours, tuned, nginx, bare],
      keepAliveRun(settings.keepAliveSeconds),
      (r) => `${r.requestsPerSecond.toFixed(0)} req/s`,
      keepAliveRun(1),
    );

    const bulkRun = (seconds: number) => (server: ServerUnderTest) =>
      runBulkEchoGenerator(settings.loadCore, {
        ...target(server, pki),
        bodyBytes: settings.bulkBodyBytes,
        seconds,
      });
    const bulk = await repeat(
      "bulk echo (own generator)",
      [ours, tuned, nginx, bare],
      bulkRun(settings.bulkSeconds),
      (r) => `${r.megabytesPerSecond.toFixed(0)} MB/s`,
      bulkRun(1),
    );
    const bodyFile = join(settings.workDir, "bulk-body.bin");
    writeFileSync(bodyFile, Buffer.alloc(settings.bulkBodyBytes, "mtls-bench "));
    const bulkAbRun = (seconds: number) => (server: ServerUnderTest) =>
      runAb({
        core: settings.loadCore,
        port: server.port,
        path: ROUTES.echo,
        pki,
        policy: server.policy,
        concurrency: 1,
        seconds,
        postFile: bodyFile,
      });
    const bulkAb = await repeat(
      "bulk echo (ab)",
      [ours, nginx],
      bulkAbRun(settings.bulkSeconds),
      (r) => `${((r.requestsPerSecond * settings.bulkBodyBytes) / 1e6).toFixed(0)} MB/s`,
      bulkAbRun(1),
    );

    const maxRate = (kind: ServerKind) =>
      median((keepAlive[kind] ?? []).map((sample) => sample.result.requestsPerSecond));
    const latency: LatencyAtRate[] = [];
    for (const [basis, rate] of [
      ["half of nginx's maximum", Math.round(maxRate("nginx") / 2)],
      ["half of our maximum", Math.round(maxRate("ours") / 2)],
    ] as const) {
      log(`  fixed-rate latency at ${rate} req/s (${basis} keep-alive rate)`);
      const fixedRate = (seconds: number, warmupSeconds: number) => (server: ServerUnderTest) =>
        runFixedRateGenerator(settings.loadCore, {
          ...target(server, pki),
          rate,
          seconds,
          warmupSeconds,
          connections: settings.latencyConnections,
        });
      const samples = await repeat(
        "fixed-rate latency",
        // Past our maximum only the queue is measured; the tuned server is compared where both keep up.
        basis === "half of our maximum" ? [ours, tuned, nginx] : [ours, nginx],
        fixedRate(settings.latencySeconds, settings.latencyWarmupSeconds),
        (r) =>
          `p50 ${r.percentilesMs.p50.toFixed(2)} ms, p99 ${r.percentilesMs.p99.toFixed(2)} ms, ${r.achievedRate.toFixed(0)} req/s`,
        fixedRate(0.5, 0),
      );
      latency.push({ rate, basis, samples });
    }

    log(`  our client in loop mode, ${settings.clientRounds} rounds every ${settings.clientIntervalMs} ms`);
    const clientLoop = await runClientLoop({
      core: settings.loadCore,
      server: ours,
      pki,
      policy: "modern",
      rounds: settings.clientRounds,
      intervalMs: settings.clientIntervalMs,
      repoRoot: settings.repoRoot,
    });
    log(
      `  ${clientLoop.handshakes} handshake(s) for ${clientLoop.rounds} rounds (${clientLoop.failedRounds} failed)`,
    );
    const whole = rss([ours, tuned, nginx, bare]);
    return {
      keepAlive,
      bulk,
      bulkAb,
      latency,
      peakRss: { idle: idleRss, handshakes: peakAfterHandshakes, whole },
      memoryTuning: tuned.env ?? {},
      clientLoop,
    };
  }

  /**
   * Idle resident memory of the .ts sources started with NODE_COMPILE_CACHE, the cache filled by a
   * first start (as an image build could): the alternative to shipping type-stripped .js.
   */
  async function idleWithCompileCache(pki: PkiFiles): Promise<number> {
    const cacheDir = join(settings.workDir, "node-compile-cache");
    rmSync(cacheDir, { recursive: true, force: true });
    const start = () =>
      startOurServer({
        ...ourOptions(pki, "modern"),
        shippedDir: undefined,
        env: { NODE_COMPILE_CACHE: cacheDir },
        kind: "ours-ts",
      });
    await (await start()).stop();
    const cached = await start();
    try {
      return currentRss([cached])["ours-ts"]!;
    } finally {
      await cached.stop();
    }
  }
}
