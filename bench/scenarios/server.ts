/**
 * Our server's own endpoints against nginx: full and resumed handshakes for each key algorithm and
 * TLS policy; on the default configuration (ECDSA P-256, TLS 1.3) also keep-alive requests, bulk
 * echo, latency at a fixed rate, memory and our client in loop mode, with the variants that explain
 * a gap beside ours: the same code on Node's own V8 defaults, its .ts sources, and bare Node. The
 * servers of a case run side by side (an idle one costs nothing).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROUTES, type TlsPolicy } from "../../services/src/contract.ts";
import type { BulkEchoResult } from "../load/bulk-echo-generator.ts";
import { runClientLoop } from "../load/client-loop.ts";
import type { FixedRateResult } from "../load/fixed-rate-generator.ts";
import { loadsFor } from "../load/loads.ts";
import { fetchWhoami } from "../load/mtls-connect.ts";
import { protocolOf } from "../load/s-time.ts";
import { median } from "../measure.ts";
import { KEY_ALGORITHMS, type PkiFiles } from "../pki/pki.ts";
import type { BenchResults, HandshakeCase, LatencyAtRate, PerKind } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenarios.ts";
import { startBareNode } from "../servers/bare-node.ts";
import { startNginx } from "../servers/nginx.ts";
import { imageNodeOptions, type OurServer } from "../servers/ours.ts";
import { type ServerKind, type ServerUnderTest, serverRssBytes } from "../servers/server-under-test.ts";

const rssOf = (servers: ServerUnderTest[], field: "VmHWM" | "VmRSS" = "VmHWM"): PerKind<number> =>
  Object.fromEntries(servers.map((server) => [server.kind, serverRssBytes(server, field)]));
const perSecond = (r: { perSecond: number; resumed: number; connections: number }) =>
  `${r.perSecond.toFixed(0)}/s (${r.resumed}/${r.connections} resumed)`;

async function run(context: ScenarioContext): Promise<Partial<BenchResults>> {
  const { settings, log } = context;
  const handshakes: HandshakeCase[] = [];
  let main: Partial<BenchResults> = {};
  const shippedOptions = imageNodeOptions(settings.repoRoot);
  for (const keyAlgorithm of KEY_ALGORITHMS) {
    for (const policy of ["modern", "intermediate"] satisfies TlsPolicy[]) {
      const pki = context.pkis[keyAlgorithm];
      const loads = loadsFor(settings, pki);
      const isMain = keyAlgorithm === "ECDSA-P256" && policy === "modern";
      log(`${keyAlgorithm}, ${policy} policy (${protocolOf(policy)}): starting the servers`);
      const ours = await context.ours(pki, policy);
      const identity = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
      const whoamiBody = await fetchWhoami({ port: ours.port, policy, ...identity });
      const nginxOptions = { pki, policy, core: settings.serverCore, workDir: settings.workDir, whoamiBody };
      const servers: ServerUnderTest[] = [
        ours,
        context.track(await startNginx({ ...nginxOptions, maxBodyBytes: settings.bulkBodyBytes })),
      ];
      let oursTs: OurServer | undefined;
      if (isMain) {
        // With no NODE_OPTIONS in the image, "ours" already runs on Node's defaults.
        if (shippedOptions)
          servers.push(await context.ours(pki, policy, { nodeOptions: "", kind: "ours-defaults" }));
        oursTs = await context.ours(pki, policy, { shippedDir: undefined, kind: "ours-ts" });
        const bare = await startBareNode("server", pki, settings.serverCore, { policy, body: whoamiBody });
        servers.push(oursTs, context.track(bare));
      }
      const idle = isMain ? rssOf(servers, "VmRSS") : {};
      const full = await context.repeat("full handshakes", servers, loads.handshakes("new"), perSecond);
      const entry: HandshakeCase = { keyAlgorithm, policy, protocol: protocolOf(policy), full };
      if (policy === "modern") {
        const resumedOn = servers.filter((server) => server.kind !== "node-bare");
        entry.resumed = await context.repeat(
          "resumed handshakes",
          resumedOn,
          loads.handshakes("reuse"),
          perSecond,
        );
      }
      handshakes.push(entry);
      if (isMain) {
        const afterHandshakes = rssOf(servers);
        // The .ts variant is measured for memory only (same code, same throughput): stop it first.
        await oursTs!.stop();
        const rest = servers.filter((server) => server !== oursTs);
        main = await mainCase(context, rest, pki);
        const idleTsWithCompileCache = await idleWithCompileCache(context, pki);
        main.peakRss = { idle, idleTsWithCompileCache, handshakes: afterHandshakes, whole: rssOf(rest) };
      }
      for (const server of servers) await server.stop();
    }
  }
  return { handshakes, ...main };
}

/** Everything beyond handshakes, on the default configuration (ECDSA P-256, TLS 1.3). */
async function mainCase(context: ScenarioContext, servers: ServerUnderTest[], pki: PkiFiles) {
  const { settings, log } = context;
  const loads = loadsFor(settings, pki);
  const byKind = (kind: ServerKind) => servers.find((server) => server.kind === kind)!;
  const requestRate = (r: { requestsPerSecond: number }) => `${r.requestsPerSecond.toFixed(0)} req/s`;
  const mbRate = (r: BulkEchoResult) => `${r.megabytesPerSecond.toFixed(0)} MB/s`;
  const keepAlive = await context.repeat(
    "keep-alive GET",
    servers,
    loads.requests(ROUTES.whoami),
    requestRate,
  );
  const echo = loads.generator<BulkEchoResult>("bulk-echo-generator.ts", (warmup) => ({
    bodyBytes: settings.bulkBodyBytes,
    seconds: warmup ?? settings.bulkSeconds,
  }));
  const bulk = await context.repeat("bulk echo (own generator)", servers, echo, mbRate);
  const bodyFile = join(settings.workDir, "bulk-body.bin");
  writeFileSync(bodyFile, Buffer.alloc(settings.bulkBodyBytes, "mtls-bench "));
  const abEcho = loads.requests(ROUTES.echo, 1, bodyFile);
  const bulkAb = await context.repeat(
    "bulk echo (ab)",
    [byKind("ours"), byKind("nginx")],
    abEcho,
    requestRate,
  );
  const maxRate = (kind: ServerKind) =>
    median((keepAlive[kind] ?? []).map((s) => s.result.requestsPerSecond));
  const latency: LatencyAtRate[] = [];
  for (const [basis, rate] of [
    ["half of nginx's maximum", Math.round(maxRate("nginx") / 2)],
    ["half of our maximum", Math.round(maxRate("ours") / 2)],
  ] as const) {
    log(`  fixed-rate latency at ${rate} req/s (${basis} keep-alive rate)`);
    // Past our maximum only the queue is measured; the variants are compared where both keep up.
    const measured =
      basis === "half of our maximum"
        ? servers.filter((s) => s.kind !== "node-bare")
        : [byKind("ours"), byKind("nginx")];
    const fixedRate = loads.generator<FixedRateResult>("fixed-rate-generator.ts", (warmup) => ({
      rate,
      seconds: warmup ? 0.5 : settings.latencySeconds,
      warmupSeconds: warmup ? 0 : settings.latencyWarmupSeconds,
      connections: settings.latencyConnections,
    }));
    const describe = (r: FixedRateResult) =>
      `p50 ${r.percentilesMs.p50.toFixed(2)} ms, p99 ${r.percentilesMs.p99.toFixed(2)} ms`;
    const samples = await context.repeat("fixed-rate latency", measured, fixedRate, describe);
    latency.push({ rate, basis, samples });
  }
  log(`  our client in loop mode, ${settings.clientRounds} rounds every ${settings.clientIntervalMs} ms`);
  const { loadCore: core, clientRounds: rounds, clientIntervalMs: intervalMs, repoRoot } = settings;
  const server = byKind("ours") as OurServer;
  const loop = { core, server, pki, policy: "modern" as const, rounds, intervalMs, repoRoot };
  const clientLoop = await runClientLoop(loop);
  log(
    `  ${clientLoop.handshakes} handshake(s) for ${clientLoop.rounds} rounds (${clientLoop.failedRounds} failed)`,
  );
  return { keepAlive, bulk, bulkAb, latency, clientLoop } satisfies Partial<BenchResults>;
}

/**
 * Idle resident memory of the .ts sources started with NODE_COMPILE_CACHE, the cache filled by a
 * first start (as an image build could): the alternative to shipping type-stripped .js.
 */
async function idleWithCompileCache(context: ScenarioContext, pki: PkiFiles): Promise<number> {
  const env = { NODE_COMPILE_CACHE: join(context.settings.workDir, `node-compile-cache-${Date.now()}`) };
  const start = () => context.ours(pki, "modern", { shippedDir: undefined, env, kind: "ours-ts" });
  await (await start()).stop();
  const cached = await start();
  const idle = serverRssBytes(cached, "VmRSS");
  await cached.stop();
  return idle;
}

export const serverScenario: Scenario = { key: "server", run };
