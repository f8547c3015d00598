/**
 * `MTLS_UPSTREAM=tcp://host:port`: a TLS listener (no HTTP) whose authenticated, authorized
 * connections are each joined to a new TCP connection to the upstream (PostgreSQL, Redis, any
 * protocol on TCP): half-close, backpressure, idle timeout, closed when either side closes
 * (pipe-both-ways.ts). The connection gate has already destroyed every socket whose certificate
 * did not verify; this listener is added after it, so it sees only authenticated sockets, and
 * consults the same access policy (allow-list, revocations) the HTTP path consults, once per
 * connection: a policy change reaches new connections, not a tunnel already open. A caller not on the list cannot be
 * told so in a protocol we do not speak: its connection is closed before any upstream connection
 * is opened, counted and logged.
 */
import { connect } from "node:net";
import type { Server, TLSSocket } from "node:tls";
import { createBurstLog } from "../burst-log.ts";
import type { Logger } from "../log.ts";
import { pipeBothWays } from "../pipe-both-ways.ts";
import type { ProxyConfig } from "../sidecar-config.ts";
import type { AccessRefusal } from "./access-policy.ts";
import type { ConnectionGate } from "./connection-gate.ts";
import type { PeerIdentity } from "./peer-identity.ts";
import { type ProxyMetrics, UpstreamTimeoutError, upstreamErrorReason } from "./proxy-metrics.ts";

export interface TcpForwarderOptions {
  server: Server;
  gate: ConnectionGate;
  /** The access policy's check (server/policy.ts), made once per connection: TCP has no requests. */
  authorize: (peer: PeerIdentity) => AccessRefusal | undefined;
  config: ProxyConfig;
  metrics: ProxyMetrics;
  log: Logger;
  accessLog: boolean;
}

export function installTcpForwarder(options: TcpForwarderOptions): void {
  const { config, metrics, log } = options;
  const { upstream } = config;
  const burst = createBurstLog(log, { failure: "upstream_error", recovered: "upstream_recovered" });

  options.server.on("secureConnection", (socket: TLSSocket) => {
    const state = options.gate.stateOf(socket);
    // Defence in depth: whatever the gate decides to do with a certificate that did not verify
    // (close it, or keep it for an HTTP refusal), such a socket never gets an upstream connection.
    if (!state || socket.destroyed || !socket.authorized) {
      socket.destroy();
      return;
    }
    const peer = {
      commonName: state.peer.commonName,
      uri: state.peer.uris[0],
      serialNumber: state.peer.serialNumber,
    };
    const refusal = options.authorize(state.peer);
    if (refusal) {
      metrics.tunnels.inc({ result: "forbidden" });
      log.warn("tunnel", {
        result: "forbidden",
        peer,
        remote: state.remoteAddress,
        reason: refusal.message,
        refusal: refusal.reason,
      });
      socket.destroy();
      return;
    }
    // Nothing is read from the caller until the upstream connection is up (the socket stays paused).
    socket.pause();
    const started = Date.now();
    const upstreamSocket = connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true });
    upstreamSocket.setTimeout(config.timeoutMs, () => upstreamSocket.destroy(new UpstreamTimeoutError()));
    const onConnectError = (error: Error) => {
      const reason = upstreamErrorReason(error);
      metrics.upstreamErrors.inc({ reason });
      metrics.tunnels.inc({ result: "upstream_error" });
      burst.failure(reason, {
        upstream: upstream.address,
        code: (error as { code?: string }).code,
        message: error.message.split("\n")[0],
      });
      socket.destroy();
    };
    upstreamSocket.once("error", onConnectError);
    socket.once("close", () => {
      if (upstreamSocket.connecting) upstreamSocket.destroy();
    });
    upstreamSocket.once("connect", () => {
      upstreamSocket.off("error", onConnectError);
      upstreamSocket.setTimeout(0);
      if (socket.destroyed) {
        upstreamSocket.destroy();
        return;
      }
      burst.success();
      metrics.tunnels.inc({ result: "forwarded" });
      metrics.openTunnels.inc();
      void pipeBothWays(socket, upstreamSocket, config.idleTimeoutMs, (direction, count) =>
        metrics.bytes.inc({ direction: direction === "aToB" ? "to_upstream" : "from_upstream" }, count),
      ).then((ends) => {
        metrics.openTunnels.dec();
        if (!options.accessLog) return;
        log.info("tunnel", {
          result: "closed",
          peer,
          remote: state.remoteAddress,
          bytesToUpstream: ends.aToB,
          bytesFromUpstream: ends.bToA,
          end: ends.end,
          durationMs: Date.now() - started,
        });
      });
    });
  });
}
