/**
 * The proxy paths (ECDSA P-256, TLS 1.3): our server as shipped with `MTLS_UPSTREAM=http://` and
 * `tcp://` against nginx, HAProxy and a bare Node proxy, in front of the same upstreams (nginx with a
 * fixed body; a TCP echo). The proxies run on the server core, the upstreams on the load core with
 * the load generators, so a proxy's CPU time is its own and the upstream's work, the same for
 * every peer, is charged to the load side. Every peer must first refuse a caller without a
 * client certificate.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:tls";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";
import type { TunnelBulkResult } from "../load/generators.ts";
import type { Scenario, ScenarioContext } from "../scenarios.ts";
import { startBareNode } from "../servers/bare-node.ts";
import { type NginxConfig, startNginx } from "../servers/nginx-config.ts";
import type { ServerUnderTest } from "../servers/server-under-test.ts";
import { nginxProxyConfig, nginxUpstreamConfig, startHaproxy } from "./peer-configs.ts";

/** What the HTTP upstream answers every proxied request: a small fixed body, like a JSON API's. */
const UPSTREAM_BODY = `${"hello from the upstream, ".repeat(8).trim()}\n`;

/**
 * The anonymous probe: a peer that accepted callers without a client certificate would be measured
 * doing less work than ours (no client verification) and would not be the peer the targets name.
 * It connects with TLS but no certificate, sends an HTTP request, and reads what comes back:
 *
 * - refused: the connection fails or closes with nothing read (TLS 1.3 sends the refusal as an alert
 *   after the client's side of the handshake), or the answer is an HTTP 4xx/5xx (nginx answers 400
 *   "No required SSL certificate was sent");
 * - accepted: anything else (a 2xx/3xx answer, or the request echoed back by a tunnel's upstream).
 *
 * `how` says it in a few words: the TLS error code, "closed", or the HTTP status line.
 */
type ProbeOutcome = { refused: boolean; how: string };

const REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

export function probeWithoutClientCertificate(port: number, caFile: string): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const decide = (outcome: ProbeOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    const socket = connect({
      host: "127.0.0.1",
      port,
      ca: readFileSync(caFile),
      servername: "localhost",
      ...tlsPolicyOptions("modern"),
    });
    socket.once("secureConnect", () => socket.write(REQUEST));
    socket.on("data", (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const head = received.toString("latin1");
      const lineEnd = head.indexOf("\r\n");
      if (lineEnd < 0 && received.length < 64) return;
      const statusLine = lineEnd < 0 ? head.slice(0, 64) : head.slice(0, lineEnd);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      decide({ refused: status !== null && Number(status[1]) >= 400, how: statusLine });
    });
    socket.once("error", (error: NodeJS.ErrnoException) =>
      decide({ refused: received.length === 0, how: error.code ?? error.message }),
    );
    socket.once("close", () => decide({ refused: received.length === 0, how: "closed" }));
  });
}

/** Throws, naming the peer, unless it refuses a caller without a client certificate. */
export async function requireClientVerification(what: string, port: number, caFile: string): Promise<string> {
  const outcome = await probeWithoutClientCertificate(port, caFile);
  if (!outcome.refused)
    throw new Error(
      `${what} on port ${port} accepted a caller without a client certificate (${outcome.how}): refusing to measure a peer that does not verify clients`,
    );
  return outcome.how;
}

/** The run file's `proxy` key. */
export type ProxyResults = Awaited<ReturnType<typeof runProxyPaths>>;

async function runProxyPaths(context: ScenarioContext) {
  const { settings, log, track, repeat, loads } = context;
  const pki = context.pkis["ECDSA-P256"];
  const [runs, core, workDir] = [settings.proxyRuns, settings.serverCore, settings.workDir];
  // What each peer answered a caller without a client certificate (each must have refused it).
  const anonymousRefused: Record<string, string> = {};
  const verified = async (mode: string, servers: ServerUnderTest[]) => {
    for (const server of servers) {
      const what = `${server.kind} (${mode})`;
      anonymousRefused[what] = await requireClientVerification(what, server.port, pki.ca);
      log(`  ${what} refuses a caller without a client certificate: ${anonymousRefused[what]}`);
    }
  };
  const ours = (upstream: string, logLabel: string) =>
    context.ours(pki, "modern", { env: { MTLS_UPSTREAM: upstream }, logLabel });

  log("proxy paths, HTTP: ours (MTLS_UPSTREAM=http://), nginx proxy_pass, HAProxy mode http, bare Node");
  const nginx = (name: string, nginxCore: number, config: NginxConfig) =>
    startNginx({ dir: join(workDir, "proxy", name), core: nginxCore, pki, config });
  const upstream = track(
    await nginx("upstream-nginx", settings.loadCore, nginxUpstreamConfig(UPSTREAM_BODY)),
  );
  const http = [
    await ours(`http://127.0.0.1:${upstream.port}`, "proxy-http"),
    track(await nginx("nginx-http", core, nginxProxyConfig(pki, upstream.port))),
    track(await startHaproxy({ pki, core, workDir, upstreamPort: upstream.port, mode: "http" })),
    track(await startBareNode("http-proxy", pki, core, { upstreamPort: upstream.port })),
  ];
  await verified("HTTP proxy", http);
  // A full mTLS handshake per proxied request (openssl s_time -new), and kept-alive ones (ab -k).
  const handshakes = loads.handshakes("new", "/");
  const newConnection = await repeat("proxied, new connection each", http, handshakes, { runs });
  const keepAlive = await repeat("proxied, keep-alive", http, loads.requests("/"), { runs });
  for (const server of [...http, upstream]) await server.stop();

  log("proxy paths, TCP tunnel: ours (MTLS_UPSTREAM=tcp://), HAProxy mode tcp, bare Node");
  const echo = track(await startBareNode("tcp-echo", pki, settings.loadCore));
  const tcp = [
    await ours(`tcp://127.0.0.1:${echo.port}`, "proxy-tcp"),
    track(await startHaproxy({ pki, core, workDir, upstreamPort: echo.port, mode: "tcp" })),
    track(await startBareNode("tcp-proxy", pki, core, { upstreamPort: echo.port })),
  ];
  await verified("TCP tunnel", tcp);
  const bulk = loads.generator<TunnelBulkResult>("tunnel-bulk", (warmup) => ({
    chunkBytes: settings.tunnelChunkBytes,
    seconds: warmup ?? settings.bulkSeconds,
  }));
  const tunnel = await repeat("tunnel bulk", tcp, bulk, { runs });
  const upstreamBodyBytes = Buffer.byteLength(UPSTREAM_BODY);
  return { anonymousRefused, upstreamBodyBytes, newConnection, keepAlive, tunnel };
}

export const proxyScenario: Scenario = {
  key: "proxy",
  run: async (context) => ({ proxy: await runProxyPaths(context) }),
};
