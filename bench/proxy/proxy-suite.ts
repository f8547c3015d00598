/**
 * The proxy paths (issue 9, item 4), on the default configuration (ECDSA P-256, TLS 1.3): our server
 * as shipped in its sidecar modes against nginx and HAProxy as mTLS proxies, and a bare Node proxy
 * where it explains a gap, all in front of the same upstream:
 *
 * - HTTP: `MTLS_UPSTREAM=http://` (ours), nginx `proxy_pass`, HAProxy `mode http`, bare Node, in
 *   front of nginx serving a fixed body: proxied requests with a full mTLS handshake each
 *   (s_time -new), and kept-alive proxied requests (ab -k);
 * - TCP: `MTLS_UPSTREAM=tcp://` (ours), HAProxy `mode tcp`, bare Node, in front of a TCP echo: bulk
 *   data over one tunnelled connection.
 *
 * The proxies run on the server core; the upstreams run on the load core with the load generators:
 * the proxy under test keeps its core to itself (its CPU time per request is its own), and the
 * upstream's work, the same for every peer, is charged to the side that generates the load.
 * Every peer must refuse a caller without a client certificate before it is measured.
 */
import { join } from "node:path";
import { runAb } from "../load/ab.ts";
import { runTunnelBulkGenerator } from "../load/generators.ts";
import { runSTime } from "../load/s-time.ts";
import type { PkiFiles } from "../pki/pki.ts";
import { repeat } from "../repeat.ts";
import type { ProxyResults } from "../results.ts";
import { startOurServer } from "../servers/ours.ts";
import type { ServerUnderTest } from "../servers/server-under-test.ts";
import type { BenchSettings } from "../settings.ts";
import { requireClientVerification } from "./anonymous-probe.ts";
import {
  startBareNodeProxy,
  startHaproxy,
  startNginxProxy,
  startNginxUpstream,
  startTcpEcho,
} from "./peers.ts";

/** What the HTTP upstream answers every proxied request: a small fixed body, like a JSON API's. */
export const UPSTREAM_BODY = `${"hello from the upstream, ".repeat(8).trim()}\n`;

export async function runProxySuite(
  settings: BenchSettings,
  pki: PkiFiles,
  shippedDir: string,
  log: (line: string) => void,
): Promise<ProxyResults> {
  const context = {
    runs: settings.proxyRuns,
    cores: { server: settings.serverCore, load: settings.loadCore },
    log,
  };
  const peer = { pki, core: settings.serverCore, workDir: settings.workDir };
  const upstreamSide = { pki, core: settings.loadCore, workDir: settings.workDir };
  const ours = (upstream: string, label: string) =>
    startOurServer({
      pki,
      policy: "modern",
      core: settings.serverCore,
      repoRoot: settings.repoRoot,
      logDir: join(settings.workDir, "logs"),
      maxBodyBytes: settings.bulkBodyBytes,
      shippedDir,
      env: { MTLS_UPSTREAM: upstream },
      logLabel: label,
    });
  const anonymousRefused: Record<string, string> = {};
  const verified = async (mode: string, servers: ServerUnderTest[]) => {
    for (const server of servers) {
      const what = `${server.kind} (${mode})`;
      anonymousRefused[what] = await requireClientVerification(what, server.port, pki.ca);
      log(`  ${what} refuses a caller without a client certificate: ${anonymousRefused[what]}`);
    }
  };

  const started: ServerUnderTest[] = [];
  try {
    log(
      "proxy paths, HTTP: our server with MTLS_UPSTREAM=http://, nginx proxy_pass, HAProxy mode http, bare Node",
    );
    const upstream = await startNginxUpstream({ ...upstreamSide, body: UPSTREAM_BODY });
    started.push(upstream);
    const httpPeers = [
      await ours(`http://127.0.0.1:${upstream.port}`, "proxy-http"),
      await startNginxProxy({ ...peer, upstreamPort: upstream.port }),
      await startHaproxy({ ...peer, upstreamPort: upstream.port, mode: "http" }),
      await startBareNodeProxy({ ...peer, upstreamPort: upstream.port, mode: "http" }),
    ];
    started.push(...httpPeers);
    await verified("HTTP proxy", httpPeers);

    const sTime = (seconds: number, processes: number) => (server: ServerUnderTest) =>
      runSTime({
        core: settings.loadCore,
        port: server.port,
        pki,
        policy: "modern",
        mode: "new",
        seconds,
        processes,
        path: "/",
      });
    const newConnection = await repeat(
      context,
      "proxied, new connection each",
      httpPeers,
      sTime(settings.handshakeSeconds, settings.sTimeProcesses),
      (r) => `${r.perSecond.toFixed(0)}/s`,
      sTime(1, 1),
    );
    const ab = (seconds: number) => (server: ServerUnderTest) =>
      runAb({
        core: settings.loadCore,
        port: server.port,
        path: "/",
        pki,
        policy: "modern",
        concurrency: settings.keepAliveConcurrency,
        seconds,
      });
    const keepAlive = await repeat(
      context,
      "proxied, keep-alive",
      httpPeers,
      ab(settings.keepAliveSeconds),
      (r) => `${r.requestsPerSecond.toFixed(0)} req/s`,
      ab(1),
    );
    for (const server of started.splice(0)) await server.stop();

    log("proxy paths, TCP tunnel: our server with MTLS_UPSTREAM=tcp://, HAProxy mode tcp, bare Node");
    const echo = await startTcpEcho(upstreamSide);
    started.push(echo);
    const tcpPeers = [
      await ours(`tcp://127.0.0.1:${echo.port}`, "proxy-tcp"),
      await startHaproxy({ ...peer, upstreamPort: echo.port, mode: "tcp" }),
      await startBareNodeProxy({ ...peer, upstreamPort: echo.port, mode: "tcp" }),
    ];
    started.push(...tcpPeers);
    await verified("TCP tunnel", tcpPeers);
    const bulk = (seconds: number) => (server: ServerUnderTest) =>
      runTunnelBulkGenerator(settings.loadCore, {
        port: server.port,
        policy: "modern",
        ca: pki.ca,
        cert: pki.clientCert,
        key: pki.clientKey,
        chunkBytes: settings.tunnelChunkBytes,
        seconds,
      });
    const tunnel = await repeat(
      context,
      "tunnel bulk",
      tcpPeers,
      bulk(settings.bulkSeconds),
      (r) => `${r.megabytesPerSecond.toFixed(0)} MB/s`,
      bulk(1),
    );
    return {
      anonymousRefused,
      upstreamBodyBytes: Buffer.byteLength(UPSTREAM_BODY),
      newConnection,
      keepAlive,
      tunnel,
    };
  } finally {
    for (const server of started) await server.stop();
  }
}
