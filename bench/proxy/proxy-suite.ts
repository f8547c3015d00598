/**
 * The proxy paths, on the default configuration (ECDSA P-256, TLS 1.3): our server as shipped in
 * its sidecar modes against nginx and HAProxy as mTLS proxies and a bare Node proxy (what Node
 * itself costs), all in front of the same upstream: `MTLS_UPSTREAM=http://` in front of nginx
 * serving a fixed body (a full handshake per request, and kept-alive requests), and
 * `MTLS_UPSTREAM=tcp://` in front of a TCP echo (bulk over one tunnelled connection).
 *
 * The proxies run on the server core; the upstreams on the load core with the load generators: the
 * proxy under test keeps its core to itself (its CPU time per request is its own), and the
 * upstream's work, the same for every peer, is charged to the side that generates the load.
 * Every peer must refuse a caller without a client certificate before it is measured.
 */
import { loadsFor } from "../load/loads.ts";
import type { TunnelBulkResult } from "../load/tunnel-bulk-generator.ts";
import type { ProxyResults } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenarios.ts";
import { startBareNode } from "../servers/bare-node.ts";
import type { ServerUnderTest } from "../servers/server-under-test.ts";
import { requireClientVerification } from "./anonymous-probe.ts";
import { startHaproxy, startNginxProxy, startNginxUpstream } from "./peers.ts";

/** What the HTTP upstream answers every proxied request: a small fixed body, like a JSON API's. */
export const UPSTREAM_BODY = `${"hello from the upstream, ".repeat(8).trim()}\n`;

async function runProxyPaths(context: ScenarioContext): Promise<ProxyResults> {
  const { settings, log, track } = context;
  const pki = context.pkis["ECDSA-P256"];
  const runs = settings.proxyRuns;
  const peer = { pki, core: settings.serverCore, workDir: settings.workDir };
  const loads = loadsFor(settings, pki);
  const anonymousRefused: Record<string, string> = {};
  const verified = async (mode: string, servers: ServerUnderTest[]) => {
    for (const server of servers) {
      const what = `${server.kind} (${mode})`;
      anonymousRefused[what] = await requireClientVerification(what, server.port, pki.ca);
      log(`  ${what} refuses a caller without a client certificate: ${anonymousRefused[what]}`);
    }
  };

  log("proxy paths, HTTP: ours (MTLS_UPSTREAM=http://), nginx proxy_pass, HAProxy mode http, bare Node");
  const upstream = track(await startNginxUpstream({ ...peer, core: settings.loadCore, body: UPSTREAM_BODY }));
  const upstreamPort = upstream.port;
  const http = [
    await context.ours(pki, "modern", {
      env: { MTLS_UPSTREAM: `http://127.0.0.1:${upstreamPort}` },
      logLabel: "proxy-http",
    }),
    track(await startNginxProxy({ ...peer, upstreamPort })),
    track(await startHaproxy({ ...peer, upstreamPort, mode: "http" })),
    track(await startBareNode("http-proxy", pki, settings.serverCore, { upstreamPort })),
  ];
  await verified("HTTP proxy", http);
  const perSecond = (r: { perSecond: number }) => `${r.perSecond.toFixed(0)}/s`;
  const newConnection = await context.repeat(
    "proxied, new connection each",
    http,
    loads.handshakes("new", "/"),
    perSecond,
    runs,
  );
  const keepAlive = await context.repeat(
    "proxied, keep-alive",
    http,
    loads.requests("/"),
    (r) => `${r.requestsPerSecond.toFixed(0)} req/s`,
    runs,
  );
  for (const server of [...http, upstream]) await server.stop();

  log("proxy paths, TCP tunnel: ours (MTLS_UPSTREAM=tcp://), HAProxy mode tcp, bare Node");
  const echo = track(await startBareNode("tcp-echo", pki, settings.loadCore));
  const tcp = [
    await context.ours(pki, "modern", {
      env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${echo.port}` },
      logLabel: "proxy-tcp",
    }),
    track(await startHaproxy({ ...peer, upstreamPort: echo.port, mode: "tcp" })),
    track(await startBareNode("tcp-proxy", pki, settings.serverCore, { upstreamPort: echo.port })),
  ];
  await verified("TCP tunnel", tcp);
  const bulk = loads.generator<TunnelBulkResult>("tunnel-bulk-generator.ts", (warmup) => ({
    chunkBytes: settings.tunnelChunkBytes,
    seconds: warmup ?? settings.bulkSeconds,
  }));
  const tunnel = await context.repeat(
    "tunnel bulk",
    tcp,
    bulk,
    (r) => `${r.megabytesPerSecond.toFixed(0)} MB/s`,
    runs,
  );
  return {
    anonymousRefused,
    upstreamBodyBytes: Buffer.byteLength(UPSTREAM_BODY),
    newConnection,
    keepAlive,
    tunnel,
  };
}

export const proxyScenario: Scenario = {
  key: "proxy",
  run: async (context) => ({ proxy: await runProxyPaths(context) }),
};
