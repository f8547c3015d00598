/**
 * The mTLS HTTPS server. Run it with `node services/src/server.ts` (or `main.ts server`), configured
 * by the MTLS_* environment variables (docs/SERVICES.md).
 *
 * Start-up: status listener first (so /readyz can say "not ready" while waiting), then the identity
 * (waiting for absent files, validating with one clear message per problem), then the mTLS
 * listener, then hot reload (file watch, poll, SIGHUP). SIGTERM/SIGINT drain and exit 0.
 */
import { createServer, Server as HttpsServer, type ServerOptions } from "node:https";
import { createServer as createTlsServer } from "node:tls";
import { ConfigError, parseServerConfig, type ServerConfig } from "./config.ts";
import { ENV } from "./contract.ts";
import { loadIdentityAtStart, startHotReload } from "./identity/lifecycle.ts";
import type { Identity } from "./identity/validate.ts";
import { EXIT, exitWithError, formatAddress, isEntryPoint, listen, onShutdownSignal } from "./lifecycle.ts";
import { createLogger, type Logger } from "./log.ts";
import { createAllowList } from "./server/authorization.ts";
import { installConnectionGate } from "./server/connection-gate.ts";
import { drainServer } from "./server/drain.ts";
import { createRequestHandler } from "./server/http-routes.ts";
import { createServerMetrics } from "./server/metrics.ts";
import { keepReadsPausable } from "./server/pausable-reads.ts";
import { createHttpForwarder, refuseUpgrade } from "./server/proxy-http.ts";
import { registerProxyMetrics } from "./server/proxy-metrics.ts";
import { installTcpForwarder } from "./server/proxy-tcp.ts";
import { firstUri } from "./server/xfcc.ts";
import { type ProxyConfig, parseProxyConfig } from "./sidecar-config.ts";
import { startStatusServer } from "./status-server.ts";
import { tlsPolicyOptions } from "./tls-policy.ts";

function secureContextOptions(identity: Identity, config: ServerConfig): ServerOptions {
  // setSecureContext() resets every option it is not given, so reloads pass this whole set again.
  return {
    cert: identity.certPem,
    key: identity.keyPem,
    ca: identity.caPem,
    ...tlsPolicyOptions(config.tlsPolicy),
  };
}

export async function runServer(config: ServerConfig, log: Logger, proxy?: ProxyConfig): Promise<void> {
  let identity: Identity | undefined;
  let listening = false;
  const shutdown = onShutdownSignal();
  const ready = () => identity !== undefined && listening && !shutdown.signal.aborted;
  const metrics = createServerMetrics(() => identity?.leaf.validToDate, ready);

  log.info("start", {
    pid: process.pid,
    node: process.version,
    listen: `${config.listen.host}:${config.listen.port}`,
    statusListen: `${config.statusListen.host}:${config.statusListen.port}`,
    tlsPolicy: config.tlsPolicy,
    allowedClients: config.allowedClients,
    files: config.identity,
    upstream: proxy ? `${proxy.upstream.protocol}://${proxy.upstream.address}` : undefined,
  });

  const status = await startStatusServer({
    listen: config.statusListen,
    registry: metrics.registry,
    readiness: () => ({
      ready: ready(),
      reasons: [
        ...(identity ? [] : ["identity not loaded"]),
        ...(listening ? [] : ["mTLS listener not up"]),
        ...(shutdown.signal.aborted ? ["shutting down"] : []),
      ],
    }),
  });
  log.info("status_listening", { address: formatAddress(status.address) });

  try {
    identity = await loadIdentityAtStart(config, "server", log, shutdown.signal);
  } catch (error) {
    if (shutdown.signal.aborted) {
      log.info("stopped", { signal: await shutdown.received, before: "identity was delivered" });
      await status.close();
      return;
    }
    throw error;
  }
  log.info("identity_loaded", { certificate: identity.summary });

  const tlsOptions = {
    ...secureContextOptions(identity, config),
    requestCert: true,
    // Verification still happens; the connection gate reads its result and closes failed sockets
    // itself, which is the only way to learn (and count) why a client certificate was refused.
    rejectUnauthorized: false,
    handshakeTimeout: config.handshakeTimeoutMs,
  };
  // Sidecar hook (MTLS_UPSTREAM=tcp://): a TLS listener without HTTP, for any TCP protocol.
  const server =
    proxy?.upstream.protocol === "tcp"
      ? createTlsServer({ ...tlsOptions, allowHalfOpen: true })
      : createServer({
          ...tlsOptions,
          ALPNProtocols: ["http/1.1"],
          headersTimeout: config.headersTimeoutMs,
          requestTimeout: config.requestTimeoutMs,
          keepAliveTimeout: config.keepAliveTimeoutMs,
          connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
        });
  server.maxConnections = config.maxConnections;
  const gate = installConnectionGate({
    server,
    allowList: createAllowList(config.allowedClients),
    metrics,
    log,
  });
  // Sidecar hooks: the proxy modes' metrics and forwarders (sidecar-config.ts, server/proxy-*.ts).
  const proxyMetrics = proxy ? registerProxyMetrics(metrics.registry) : undefined;
  const forwarder =
    proxy?.upstream.protocol === "http" && proxyMetrics
      ? createHttpForwarder({
          config: proxy,
          metrics: proxyMetrics,
          log,
          ownUri: () => identity && firstUri(identity.leaf),
        })
      : undefined;
  if (proxy?.upstream.protocol === "tcp" && proxyMetrics) {
    installTcpForwarder({
      server,
      gate,
      config: proxy,
      metrics: proxyMetrics,
      log,
      accessLog: config.accessLog,
    });
  } else if (server instanceof HttpsServer) {
    const routes = createRequestHandler({
      stateOf: (socket) => gate.stateOf(socket),
      maxBodyBytes: config.maxBodyBytes,
      metrics,
      log,
      accessLog: config.accessLog,
      forward: forwarder?.forward,
    });
    server.on("request", routes.handle);
    server.on("checkContinue", routes.checkContinue);
    if (forwarder) server.on("upgrade", refuseUpgrade);
    keepReadsPausable(server);
  }

  const address = await listen(server, config.listen, ENV.listen);
  listening = true;
  log.info("listening", { address: formatAddress(address) });

  const stopReloading = startHotReload({
    config,
    purpose: "server",
    initial: identity,
    apply: (next) => {
      // New handshakes use the new context; established connections keep theirs, none is dropped.
      server.setSecureContext(secureContextOptions(next, config));
      identity = next;
    },
    log,
    reloads: metrics.reloads,
  });

  if (!shutdown.signal.aborted)
    log.info("ready", { address: formatAddress(address), certificate: identity.summary });

  const received = await shutdown.received;
  log.info("shutdown", {
    signal: received,
    deadlineMs: config.shutdownTimeoutMs,
    open: gate.openConnections(),
  });
  stopReloading();
  const { forced, waitedMs } = await drainServer(server, gate, config.shutdownTimeoutMs);
  forwarder?.close();
  await status.close();
  log.info("stopped", { signal: received, waitedMs, closedForcibly: forced });
}

export async function main(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  try {
    if (args.length > 0)
      throw new ConfigError(`unknown argument ${JSON.stringify(args[0])}: the server takes none`);
    const config = parseServerConfig(process.env);
    const proxy = parseProxyConfig(process.env, config.listen); // sidecar hook: MTLS_UPSTREAM
    await runServer(config, createLogger({ service: "server" }), proxy);
    process.exit(EXIT.ok);
  } catch (error) {
    exitWithError("server", error);
  }
}

if (isEntryPoint(import.meta)) await main();
