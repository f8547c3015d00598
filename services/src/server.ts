/**
 * The mTLS HTTPS server. Run it with `node services/src/server.ts` (or `main.ts server`), configured
 * by the MTLS_* environment variables (docs/SERVICES.md).
 *
 * Start-up: the sequence shared with the client (service-start.ts: status listener, then the
 * identity), then the mTLS listener, then hot reload (file watch, poll, SIGHUP). SIGTERM/SIGINT
 * drain and exit 0.
 */
import { createServer, type ServerOptions } from "node:https";
import { ConfigError, parseServerConfig, type ServerConfig } from "./config.ts";
import { ENV } from "./contract.ts";
import { startHotReload } from "./identity/lifecycle.ts";
import type { Identity } from "./identity/validate.ts";
import { EXIT, exitWithError, formatAddress, isEntryPoint, listen, onShutdownSignal } from "./lifecycle.ts";
import { createLogger, type Logger } from "./log.ts";
import { createAllowList } from "./server/authorization.ts";
import { keepRejectedConnectionsOpen } from "./server/certificate-required.ts";
import { installConnectionGate } from "./server/connection-gate.ts";
import { drainServer } from "./server/drain.ts";
import { createRequestHandler } from "./server/http-routes.ts";
import { createServerMetrics } from "./server/metrics.ts";
import { keepReadsPausable } from "./server/pausable-reads.ts";
import { startService } from "./service-start.ts";
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

export async function runServer(config: ServerConfig, log: Logger): Promise<void> {
  let identity: Identity | undefined;
  let listening = false;
  const shutdown = onShutdownSignal();
  const ready = () => identity !== undefined && listening && !shutdown.signal.aborted;
  const metrics = createServerMetrics(() => identity?.leaf.validToDate, ready);

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
      files: config.identity,
    },
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
  if (!started) return;
  const { status } = started;
  identity = started.identity;

  const server = createServer({
    ...secureContextOptions(identity, config),
    // A certificate is required: a caller without one is refused in the handshake (TLS alert
    // "certificate required"). One that fails verification is kept open to be told why (400).
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: config.handshakeTimeoutMs,
    ALPNProtocols: ["http/1.1"],
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
  });
  server.maxConnections = config.maxConnections;
  keepRejectedConnectionsOpen(server);
  const gate = installConnectionGate({
    server,
    allowList: createAllowList(config.allowedClients),
    metrics,
    log,
  });
  const routes = createRequestHandler({
    stateOf: (socket) => gate.stateOf(socket),
    refusalOf: (socket) => gate.refusalOf(socket),
    maxBodyBytes: config.maxBodyBytes,
    metrics,
    log,
    accessLog: config.accessLog,
  });
  server.on("request", routes.handle);
  server.on("checkContinue", routes.checkContinue);
  keepReadsPausable(server);

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
  await status.close();
  log.info("stopped", { signal: received, waitedMs, closedForcibly: forced });
}

export async function main(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  try {
    if (args.length > 0)
      throw new ConfigError(`unknown argument ${JSON.stringify(args[0])}: the server takes none`);
    const config = parseServerConfig(process.env);
    await runServer(config, createLogger({ service: "server" }));
    process.exit(EXIT.ok);
  } catch (error) {
    exitWithError("server", error);
  }
}

if (isEntryPoint(import.meta)) await main();
