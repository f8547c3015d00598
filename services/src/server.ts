/**
 * The mTLS HTTPS server. Run it with `node services/src/server.ts` (or `main.ts server`), configured
 * by the MTLS_* environment variables (docs/SERVICES.md).
 *
 * Start-up: the sequence shared with the client (service-start.ts: status listener, then the
 * identity), then the mTLS listener, then hot reload (file watch, poll, SIGHUP). SIGTERM/SIGINT
 * drain and exit 0.
 */
import { createServer, Server as HttpsServer, type ServerOptions } from "node:https";
import { createServer as createNetServer } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { ConfigError, parseServerConfig, type ServerConfig } from "./config.ts";
import { ENV, type TlsPolicy } from "./contract.ts";
import { IdentityFilesCheck } from "./identity/files-check.ts";
import { startHotReload } from "./identity/lifecycle.ts";
import type { Identity } from "./identity/validate.ts";
import { EXIT, exitWithError, formatAddress, isEntryPoint, listen, onShutdownSignal } from "./lifecycle.ts";
import { createLogger, type Logger } from "./log.ts";
import { type Admission, installAdmission } from "./server/admission.ts";
import { keepRejectedConnectionsOpen } from "./server/certificate-required.ts";
import { installConnectionGate } from "./server/connection-gate.ts";
import { drainServer } from "./server/drain.ts";
import { createRequestHandler } from "./server/http-routes.ts";
import { createServerMetrics } from "./server/metrics.ts";
import { keepReadsPausable } from "./server/pausable-reads.ts";
import { ServerPolicy } from "./server/policy.ts";
import { createHttpForwarder, refuseUpgrade } from "./server/proxy-http.ts";
import { registerProxyMetrics } from "./server/proxy-metrics.ts";
import { installTcpForwarder } from "./server/proxy-tcp.ts";
import { firstUri } from "./server/xfcc.ts";
import { startService } from "./service-start.ts";
import type { ProxyConfig } from "./sidecar-config.ts";
import { tlsPolicyOptions } from "./tls-policy.ts";

function secureContextOptions(identity: Identity, tlsPolicy: TlsPolicy): ServerOptions {
  // setSecureContext() resets every option it is not given, so reloads pass this whole set again.
  // The TLS policy is the one in force (policy file or MTLS_TLS_POLICY), not always the environment's.
  return {
    cert: identity.chainPem,
    key: identity.keyPem,
    ca: identity.caPem,
    ...tlsPolicyOptions(tlsPolicy),
  };
}

export async function runServer(config: ServerConfig, log: Logger, proxy?: ProxyConfig): Promise<void> {
  let identity: Identity | undefined;
  let listening = false;
  const shutdown = onShutdownSignal();
  const ready = () => identity !== undefined && listening && !shutdown.signal.aborted;
  const metrics = createServerMetrics(() => identity?.leaf.validToDate, ready);
  // Would the files on disk load at a restart? (gauge and /readyz detail; not readiness)
  const filesCheck = new IdentityFilesCheck(metrics.registry, log);
  // The reloadable policy (allow-list, revoked serials, TLS policy) from MTLS_POLICY_FILE.
  const policy = new ServerPolicy({
    path: config.policyFile,
    env: { allowedClients: config.allowedClients, tlsPolicy: config.tlsPolicy },
    log,
    registry: metrics.registry,
  });
  let policyStarted = false;
  let admission: Admission | undefined;

  const started = await startService({
    purpose: "server",
    config,
    log,
    shutdown,
    startFields: {
      listen: `${config.listen.host}:${config.listen.port}`,
      statusListen: `${config.statusListen.host}:${config.statusListen.port}`,
      tlsPolicy: config.tlsPolicy,
      allowedClients: config.allowedClients,
      policyFile: config.policyFile,
      files: config.identity,
      upstream: proxy ? `${proxy.upstream.protocol}://${proxy.upstream.address}` : undefined,
    },
    registry: metrics.registry,
    readiness: () => ({
      ready: ready(),
      reasons: [
        ...(identity ? [] : ["identity not loaded"]),
        ...(listening ? [] : ["mTLS listener not up"]),
        ...(shutdown.signal.aborted ? ["shutting down"] : []),
      ],
      details: {
        identityFiles: filesCheck.status(),
        ...(policyStarted ? { policy: policy.status() } : {}),
        ...(admission ? { connections: admission.status() } : {}),
      },
    }),
  });
  if (!started) return;
  const { status } = started;
  identity = started.identity;
  // After the identity: both come through the same volume, so by now the delivery has written it.
  await policy.start({ debounceMs: config.reloadDebounceMs, pollMs: config.reloadPollMs });
  policyStarted = true;

  const tlsOptions = {
    ...secureContextOptions(identity, policy.current.tlsPolicy),
    // A certificate is required: a caller without one is refused in the handshake (TLS alert
    // "certificate required"). One that fails verification is kept open to be told why (400;
    // in TCP mode it is closed).
    requestCert: true,
    rejectUnauthorized: true,
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
  // The listener: plain TCP, handing each connection to `server` once its handshake begins
  // (admission.ts), with the socket options the TLS server's own listener would give it.
  const tcp = proxy?.upstream.protocol === "tcp";
  const listener = createNetServer({ allowHalfOpen: tcp, noDelay: !tcp });
  // A backstop only: admission keeps the table within MTLS_MAX_CONNECTIONS, and counts a connection
  // it closed as gone at once, while Node counts it until its close event a moment later.
  listener.maxConnections = 2 * config.maxConnections;
  keepRejectedConnectionsOpen(server);
  // A tlsPolicy change in the policy file reaches new handshakes without a restart.
  policy.applyTls = (tlsPolicy) => {
    if (identity) server.setSecureContext(secureContextOptions(identity, tlsPolicy));
  };
  // The connection budgets, per-client quota, idle reclaim, maximum age and peer expiry.
  admission = installAdmission({
    listener,
    server,
    limits: {
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      maxConnections: config.maxConnections,
      maxUnauthenticatedConnections: config.maxUnauthenticatedConnections,
      maxConnectionsPerClient: config.maxConnectionsPerClient,
      maxConnectionAgeMs: config.maxConnectionAgeMs,
      refusedDeadlineMs: config.headersTimeoutMs,
    },
    mode: tcp ? "tcp" : "http",
    metrics: metrics.connections,
    registry: metrics.registry,
    log,
    onSilentTimeout: (peer) => gate.handshakeTimedOut(peer),
  });
  const gate = installConnectionGate({ server, metrics, log, admission });
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
  let tcpForwarder: { stop(): void } | undefined;
  if (proxy?.upstream.protocol === "tcp" && proxyMetrics) {
    tcpForwarder = installTcpForwarder({
      server,
      gate,
      admission,
      authorize: policy.authorize, // the same access check as every HTTP request, at connection and after
      config: proxy,
      metrics: proxyMetrics,
      log,
      accessLog: config.accessLog,
    });
  } else if (server instanceof HttpsServer) {
    const routes = createRequestHandler({
      stateOf: (socket) => gate.stateOf(socket),
      authorize: policy.authorize, // the one per-request access check
      refusalOf: (socket) => gate.refusalOf(socket),
      admissionRefusalOf: (socket) => gate.admissionRefusalOf(socket),
      maxBodyBytes: config.maxBodyBytes,
      metrics,
      log,
      accessLog: config.accessLog,
      forward: forwarder?.forward,
    });
    admission.trackRequests(server);
    server.on("request", routes.handle);
    server.on("checkContinue", routes.checkContinue);
    if (forwarder) server.on("upgrade", refuseUpgrade);
    keepReadsPausable(server);
  }

  const address = await listen(listener, config.listen, ENV.listen);
  // The HTTPS server starts enforcing MTLS_HEADERS_TIMEOUT_MS and MTLS_REQUEST_TIMEOUT_MS (its
  // connection checks) on its 'listening' event; it does not listen itself, so it is told here.
  // The limits tests fail if a Node release starts them some other way.
  server.emit("listening");
  listening = true;
  log.info("listening", { address: formatAddress(address) });

  const stopReloading = startHotReload({
    config,
    purpose: "server",
    initial: identity,
    apply: (next) => {
      // New handshakes use the new context; established connections keep theirs, none is dropped.
      server.setSecureContext(secureContextOptions(next, policy.current.tlsPolicy));
      identity = next;
    },
    log,
    reloads: metrics.reloads,
    filesCheck,
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
  policy.stop();
  admission.stop();
  tcpForwarder?.stop();
  const { forced, waitedMs } = await drainServer(server, gate, config.shutdownTimeoutMs, listener);
  forwarder?.close();
  await status.close();
  log.info("stopped", { signal: received, waitedMs, closedForcibly: forced });
}

export async function main(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  try {
    if (args.length > 0)
      throw new ConfigError(`unknown argument ${JSON.stringify(args[0])}: the server takes none`);
    const config = parseServerConfig(process.env);
    await runServer(config, createLogger({ service: "server" }), config.proxy);
    process.exit(EXIT.ok);
  } catch (error) {
    exitWithError("server", error);
  }
}

if (isEntryPoint(import.meta)) await main();
