/**
 * Our server's own endpoints against nginx: full and resumed handshakes for each key algorithm and
 * TLS policy; on the default configuration (ECDSA P-256, TLS 1.3) also keep-alive requests, bulk
 * echo, latency at a fixed rate, memory and our client in loop mode, with the variants that explain
 * a gap beside ours: the same code on Node's own V8 defaults, its .ts sources, and bare Node. The
 * servers of a case run side by side (an idle one costs nothing). The key-algorithm scenario runs
 * our server with each PKI side by side instead, alternating: the per-case measurements happen
 * minutes apart, too far apart on a shared machine to compare key algorithms with.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROUTES, type TlsPolicy } from "../../services/src/contract.ts";
import { runClientLoop } from "../load/client-loop.ts";
import { type BulkEchoResult, type FixedRateResult, fetchWhoami } from "../load/generators.ts";
import { generatorTarget, protocolOf } from "../load/loads.ts";
import { median } from "../measure.ts";
import { KEY_ALGORITHMS, type PkiFiles } from "../pki/issue-pki.ts";
import type { BenchResults, HandshakeCase, LatencyAtRate } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenarios.ts";
import { startBareNode } from "../servers/bare-node.ts";
import { nginxConfig, startNginx } from "../servers/nginx-config.ts";
import { imageNodeOptions, type OurServer } from "../servers/ours.ts";
import { type ServerKind, type ServerUnderTest, serverRssBytes } from "../servers/server-under-test.ts";

const rssOf = (servers: ServerUnderTest[], field: "VmHWM" | "VmRSS" = "VmHWM") =>
  Object.fromEntries(servers.map((server) => [server.kind, serverRssBytes(server, field)]));

async function run(context: ScenarioContext): Promise<Partial<BenchResults>> {
  const { settings, log, loads } = context;
  const [handshakes, core]: [HandshakeCase[], number] = [[], settings.serverCore];
  let main: Partial<BenchResults> = {};
  for (const keyAlgorithm of KEY_ALGORITHMS) {
    for (const policy of ["modern", "intermediate"] satisfies TlsPolicy[]) {
      const pki = context.pkis[keyAlgorithm];
      const isMain = keyAlgorithm === "ECDSA-P256" && policy === "modern";
      log(`${keyAlgorithm}, ${policy} policy (${protocolOf(policy)}): starting the servers`);
      const ours = await context.ours(pki, policy);
      const whoamiBody = await fetchWhoami(generatorTarget(ours, pki));
      const dir = join(settings.workDir, "nginx", `${keyAlgorithm}-${policy}`);
      const config = nginxConfig({ pki, policy, whoamiBody, maxBodyBytes: settings.bulkBodyBytes });
      const nginx = context.track(await startNginx({ dir, core, pki, policy, config }));
      const servers: ServerUnderTest[] = [ours, nginx];
      let oursTs: OurServer | undefined;
      if (isMain) {
        // With no NODE_OPTIONS in the image, "ours" already runs on Node's defaults.
        if (imageNodeOptions(settings.repoRoot))
          servers.push(await context.ours(pki, policy, { nodeOptions: "", kind: "ours-defaults" }));
        oursTs = await context.ours(pki, policy, { shippedDir: undefined, kind: "ours-ts" });
        servers.push(
          oursTs,
          context.track(await startBareNode("server", pki, core, { policy, body: whoamiBody })),
        );
      }
      const idle = isMain ? rssOf(servers, "VmRSS") : {};
      const full = await context.repeat("full handshakes", servers, loads.handshakes("new"));
      const entry: HandshakeCase = { keyAlgorithm, policy, protocol: protocolOf(policy), full };
      const resumedOn = servers.filter((server) => server.kind !== "node-bare");
      if (policy === "modern")
        entry.resumed = await context.repeat("resumed handshakes", resumedOn, loads.handshakes("reuse"));
      handshakes.push(entry);
      if (oursTs) {
        const afterHandshakes = rssOf(servers);
        // The .ts variant is measured for memory only (same code, same throughput): stop it first.
        await oursTs.stop();
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
  const { settings, log, repeat, loads } = context;
  const byKind = (kind: ServerKind) => servers.find((server) => server.kind === kind)!;
  const keepAlive = await repeat("keep-alive GET", servers, loads.requests(ROUTES.whoami));
  const echo = loads.generator<BulkEchoResult>("bulk-echo", (warmup) => ({
    bodyBytes: settings.bulkBodyBytes,
    seconds: warmup ?? settings.bulkSeconds,
  }));
  const bulk = await repeat("bulk echo (own generator)", servers, echo);
  const bodyFile = join(settings.workDir, "bulk-body.bin");
  writeFileSync(bodyFile, Buffer.alloc(settings.bulkBodyBytes, "mtls-bench "));
  const abEcho = loads.requests(ROUTES.echo, 1, bodyFile);
  const pair = [byKind("ours"), byKind("nginx")];
  const bulkAb = await repeat("bulk echo (ab)", pair, abEcho);
  const latency: LatencyAtRate[] = [];
  // Past our maximum only the queue is measured; the variants are compared where both keep up.
  const rates: [LatencyAtRate["basis"], ServerKind, ServerUnderTest[]][] = [
    ["half of nginx's maximum", "nginx", pair],
    ["half of our maximum", "ours", servers.filter((s) => s.kind !== "node-bare")],
  ];
  for (const [basis, whose, measured] of rates) {
    const rate = Math.round(median((keepAlive[whose] ?? []).map((s) => s.result.requestsPerSecond)) / 2);
    log(`  fixed-rate latency at ${rate} req/s (${basis} keep-alive rate)`);
    const fixedRate = loads.generator<FixedRateResult>("fixed-rate", (warmup) => ({
      rate,
      seconds: warmup ? 0.5 : settings.latencySeconds,
      warmupSeconds: warmup ? 0 : settings.latencyWarmupSeconds,
      connections: settings.latencyConnections,
    }));
    latency.push({ rate, basis, samples: await repeat("fixed-rate latency", measured, fixedRate) });
  }
  log(`  our client in loop mode, ${settings.clientRounds} rounds every ${settings.clientIntervalMs} ms`);
  const clientLoop = await runClientLoop(settings, byKind("ours") as OurServer, pki);
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

export const keyAlgorithmsScenario: Scenario = {
  key: "keys",
  run: async ({ pkis, log, ...context }) => {
    log("ECDSA P-256 vs RSA-2048, our server, TLS 1.3, side by side");
    const servers = [];
    for (const keyAlgorithm of KEY_ALGORITHMS) servers.push(await context.ours(pkis[keyAlgorithm], "modern"));
    const handshakes = context.loads.handshakes("new");
    const key = (server: ServerUnderTest) => server.keyAlgorithm;
    const keyAlgorithms = await context.repeat("full handshakes", servers, handshakes, { key });
    return { keyAlgorithms } as Partial<BenchResults>;
  },
};
