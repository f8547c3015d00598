/**
 * `MTLS_LOCAL_LISTEN=host:port`: the client as a local tunnel. It accepts plain TCP connections
 * there (loopback unless MTLS_LOCAL_LISTEN_ANY=1) and carries each one over its own mTLS
 * connection to MTLS_SERVER_URL, verifying the server's certificate and name as the rounds do,
 * resuming the last TLS session (a resumed connection costs no certificate signature), and piping
 * bytes both ways (pipe-both-ways.ts). A local connection is not read until its mTLS connection is
 * up. An application speaks its own protocol through it: HTTP to a server with
 * MTLS_UPSTREAM=http://..., anything on TCP to one with tcp://.
 *
 * At most MTLS_LOCAL_MAX_CONNECTIONS local connections are open at once: a misbehaving application
 * cannot exhaust the tunnel (nor its identity's quota on the server); one beyond is closed at once,
 * counted and logged once per burst. After an identity reload, new tunnels use the new identity and
 * the ones opened with the old one are closed MTLS_TUNNEL_CLOSE_GRACE_MS later, so a rotated-out
 * certificate stops being used within that bound.
 *
 * With MTLS_LOCAL_ALLOW_FROM, a local connection from outside those networks is reset before a
 * byte of it is read and before any mTLS connection is made for it (counted, and logged once per
 * burst): a tunnel listening beyond loopback (MtlsWorkload's, on the workload's private network)
 * must not let a neighbour on another network call as this client.
 */
import { createServer, isIP, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  checkServerIdentity,
  connect,
  createSecureContext,
  type SecureContext,
  type TLSSocket,
} from "node:tls";
import { createBurstLog } from "../burst-log.ts";
import type { ClientConfig } from "../config.ts";
import { ENV } from "../contract.ts";
import { IdentityFilesCheck } from "../identity/files-check.ts";
import { loadIdentityAtStart, startHotReload } from "../identity/lifecycle.ts";
import type { Identity } from "../identity/validate.ts";
import { formatAddress, listen, onShutdownSignal } from "../lifecycle.ts";
import type { Logger } from "../log.ts";
import { pipeBothWays } from "../pipe-both-ways.ts";
import type { TunnelConfig } from "../sidecar-config.ts";
import { startStatusServer } from "../status-server.ts";
import { tlsPolicyOptions } from "../tls-policy.ts";
import { classifyRoundError, RoundTimeoutError } from "./failure-reasons.ts";
import { createTunnelMetrics } from "./tunnel-metrics.ts";

function contextOf(identity: Identity, config: ClientConfig): SecureContext {
  return createSecureContext({
    cert: identity.chainPem,
    key: identity.keyPem,
    ca: identity.caPem,
    ...tlsPolicyOptions(config.tlsPolicy),
  });
}

export async function runTunnel(config: ClientConfig, tunnel: TunnelConfig, log: Logger): Promise<void> {
  let identity: Identity | undefined;
  let listening = false;
  const shutdown = onShutdownSignal();
  const ready = () => identity !== undefined && listening && !shutdown.signal.aborted;
  const metrics = createTunnelMetrics(() => identity?.leaf.validToDate, ready);
  // Would the files on disk load at a restart? (gauge and /readyz detail; not readiness)
  const filesCheck = new IdentityFilesCheck(metrics.registry, log);
  const host = config.serverUrl.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(config.serverUrl.port || 443);

  log.info("start", {
    pid: process.pid,
    node: process.version,
    mode: "tunnel",
    url: config.serverUrl.origin,
    serverName: config.serverName,
    localListen: `${tunnel.listen.host}:${tunnel.listen.port}`,
    ...(tunnel.allowFrom ? { allowFrom: tunnel.allowFrom.cidrs } : {}),
    statusListen: `${config.statusListen.host}:${config.statusListen.port}`,
    tlsPolicy: config.tlsPolicy,
    files: config.identity,
  });
  const status = await startStatusServer({
    listen: config.statusListen,
    registry: metrics.registry,
    readiness: () => ({
      ready: ready(),
      reasons: [
        ...(identity ? [] : ["identity not loaded"]),
        ...(listening ? [] : ["local listener not up"]),
        ...(shutdown.signal.aborted ? ["shutting down"] : []),
      ],
      details: { identityFiles: filesCheck.status() },
    }),
  });
  log.info("status_listening", { address: formatAddress(status.address) });

  try {
    identity = await loadIdentityAtStart(config, "client", log, shutdown.signal);
  } catch (error) {
    if (!shutdown.signal.aborted) throw error;
    log.info("stopped", { signal: await shutdown.received, before: "identity was delivered" });
    await status.close();
    return;
  }
  log.info("identity_loaded", { certificate: identity.summary });

  let context = contextOf(identity, config);
  /** The last session ticket the server gave; offered by the next connection. */
  let session: Buffer | undefined;
  const burst = createBurstLog(log, { failure: "tunnel_failure", recovered: "tunnel_recovered" });
  const limitBurst = createBurstLog(log, {
    failure: "tunnel_local_limit",
    recovered: "tunnel_local_limit_recovered",
  });
  const open = new Set<Socket>();
  /** Open tunnels by the identity generation they were made with (bumped by every reload). */
  let generation = 0;
  const tunnels = new Map<{ local: Socket; remote: TLSSocket }, number>();
  /** Set on a tunnel the rotation closed, for its log line. */
  const replaced = new WeakSet<Socket>();

  // Never marked as ended: the first refusal is logged, then one summary a minute while they go on.
  const refusals = createBurstLog(log, { failure: "tunnel_refused", recovered: "tunnel_refused_ended" });

  const carry = (local: Socket) => {
    if (tunnel.allowFrom && !tunnel.allowFrom.allows(local.remoteAddress)) {
      metrics.refused.inc();
      refusals.failure("source_not_allowed", {
        remote: local.remoteAddress,
        allowFrom: tunnel.allowFrom.cidrs,
      });
      local.on("error", () => {});
      local.resetAndDestroy();
      return;
    }
    limitBurst.success();
    open.add(local);
    local.once("close", () => open.delete(local));
    local.on("error", () => {});
    const started = Date.now();
    const remote: TLSSocket = connect({
      host,
      port,
      secureContext: context,
      session,
      servername: isIP(config.serverName) ? undefined : config.serverName,
      checkServerIdentity: (_host, certificate) => checkServerIdentity(config.serverName, certificate),
      // Documented for tls.connect (Node 24) but missing from @types/node's ConnectionOptions.
      ...({ allowHalfOpen: true } as object),
    });
    open.add(remote);
    remote.once("close", () => open.delete(remote));
    const pair = { local, remote };
    tunnels.set(pair, generation);
    local.once("close", () => tunnels.delete(pair));
    remote.on("session", (ticket: Buffer) => (session = ticket));
    remote.setTimeout(config.requestTimeoutMs, () => remote.destroy(new RoundTimeoutError()));
    let handshakeDone = false;
    const onConnectError = (error: Error) => {
      const failure = classifyRoundError(error, {
        url: config.serverUrl,
        serverName: config.serverName,
        caFile: config.identity.caFile,
        timeoutMs: config.requestTimeoutMs,
        handshakeDone,
      });
      metrics.connections.inc({ result: "failure" });
      metrics.failures.inc({ reason: failure.reason });
      burst.failure(failure.reason, { message: failure.message, local: local.remoteAddress });
      local.destroy();
    };
    remote.once("error", onConnectError);
    local.once("close", () => {
      if (!handshakeDone) remote.destroy();
    });
    remote.once("secureConnect", () => {
      handshakeDone = true;
      remote.off("error", onConnectError);
      remote.setTimeout(0);
      if (local.destroyed) {
        remote.destroy();
        return;
      }
      burst.success();
      const resumed = remote.isSessionReused();
      metrics.connections.inc({ result: "success" });
      if (resumed) metrics.resumed.inc();
      metrics.open.inc();
      void pipeBothWays(local, remote, tunnel.idleTimeoutMs, (direction, count) =>
        metrics.bytes.inc({ direction: direction === "aToB" ? "sent" : "received" }, count),
      ).then((ends) => {
        metrics.open.dec();
        log.info("tunnel", {
          result: "closed",
          local: `${local.remoteAddress}:${local.remotePort}`,
          sessionReused: resumed,
          bytesSent: ends.aToB,
          bytesReceived: ends.bToA,
          end: replaced.has(local) ? "identity_replaced" : ends.end,
          durationMs: Date.now() - started,
        });
      });
    });
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, carry);
  // Node closes a connection beyond the limit as it is accepted, and counts it until its close.
  server.maxConnections = tunnel.maxConnections;
  metrics.registry.gauge(
    "mtls_tunnel_local_connections",
    "Local connections open (carried, or waiting for their mTLS connection).",
    () => tunnels.size,
  );
  metrics.registry.gauge(
    "mtls_tunnel_local_connections_limit",
    "MTLS_LOCAL_MAX_CONNECTIONS: local connections beyond it are closed at accept.",
    () => tunnel.maxConnections,
  );
  server.on("drop", (data?: { remoteAddress?: string; remotePort?: number }) => {
    metrics.connections.inc({ result: "over_limit" });
    limitBurst.failure("local_max_connections", {
      limit: tunnel.maxConnections,
      local: data?.remoteAddress === undefined ? undefined : `${data.remoteAddress}:${data.remotePort}`,
      why: `${ENV.localMaxConnections} local connections are open`,
    });
  });
  const address = await listen(server, tunnel.listen, ENV.localListen);
  listening = true;
  log.info("tunnel_listening", { address: formatAddress(address), url: config.serverUrl.origin });

  const stopReloading = startHotReload({
    config,
    purpose: "client",
    initial: identity,
    apply: (next) => {
      // New tunnels use the new identity; a session of the old one is not offered. Open ones keep
      // theirs for the grace period, then they are closed: the old certificate stops being used.
      context = contextOf(next, config);
      session = undefined;
      identity = next;
      const old = generation++;
      const stale = [...tunnels].filter(([, made]) => made <= old).map(([pair]) => pair);
      if (stale.length === 0) return;
      log.info("tunnels_rotating", { open: stale.length, closeInMs: tunnel.closeGraceMs });
      setTimeout(() => {
        const left = stale.filter(({ local }) => !local.destroyed);
        for (const { local, remote } of left) {
          replaced.add(local);
          local.destroy();
          remote.destroy();
        }
        log.info("tunnels_rotated", { closed: left.length });
      }, tunnel.closeGraceMs).unref();
    },
    log,
    reloads: metrics.reloads,
    filesCheck,
  });
  if (!shutdown.signal.aborted)
    log.info("ready", { address: formatAddress(address), certificate: identity.summary });

  const received = await shutdown.received;
  log.info("shutdown", { signal: received, deadlineMs: config.shutdownTimeoutMs, open: open.size });
  stopReloading();
  // Stop accepting; open tunnels end by themselves until the deadline, then they are closed.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const started = Date.now();
  while (open.size > 0 && Date.now() - started < config.shutdownTimeoutMs) await sleep(20);
  const forced = open.size;
  for (const socket of open) socket.destroy();
  await closed;
  await status.close();
  log.info("stopped", { signal: received, waitedMs: Date.now() - started, closedForcibly: forced });
}
