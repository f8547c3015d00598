/**
 * `MTLS_UPSTREAM=tcp://host:port`: a TLS listener (no HTTP) whose authenticated, authorized
 * connections are each joined to a new TCP connection to the upstream (PostgreSQL, Redis, any
 * protocol on TCP): half-close, backpressure, idle timeout, closed when either side closes
 * (pipe-both-ways.ts). The connection gate has already destroyed every socket whose certificate
 * did not verify; this listener is added after it, so it sees only authenticated sockets, and
 * consults the same access policy (allow-list, revocations) the HTTP path consults: when the
 * connection arrives, and again about once a second for every open tunnel. A caller not on the list
 * cannot be told so in a protocol we do not speak: its connection is closed before any upstream
 * connection is opened, counted and logged. A tunnel whose peer becomes refused (revoked, taken off
 * the allow-list) or whose peer certificate expires is closed MTLS_TUNNEL_CLOSE_GRACE_MS later, so
 * work in flight can finish (unless the refusal is lifted meanwhile), counted and logged.
 */
import { connect } from "node:net";
import type { Server, TLSSocket } from "node:tls";
import { createBurstLog } from "../burst-log.ts";
import type { Logger } from "../log.ts";
import { pipeBothWays } from "../pipe-both-ways.ts";
import type { ProxyConfig } from "../sidecar-config.ts";
import type { AccessRefusal } from "./access-policy.ts";
import type { Admission } from "./admission.ts";
import type { ConnectionGate } from "./connection-gate.ts";
import type { PeerIdentity } from "./peer-identity.ts";
import { type ProxyMetrics, UpstreamTimeoutError, upstreamErrorReason } from "./proxy-metrics.ts";

export interface TcpForwarderOptions {
  server: Server;
  gate: ConnectionGate;
  /** Counts the tunnels closed by revalidation. */
  admission: Pick<Admission, "countClosed">;
  /** The access policy's check (server/policy.ts), per connection and then about once a second: TCP has no requests. */
  authorize: (peer: PeerIdentity) => AccessRefusal | undefined;
  config: ProxyConfig;
  metrics: ProxyMetrics;
  log: Logger;
  accessLog: boolean;
}

/** An open tunnel, re-checked against the policy and its peer's expiry. */
interface OpenTunnel {
  peer: PeerIdentity;
  notAfter: number;
  close(): void;
  /** Set while it is being closed for a refusal, until the grace period ends. */
  closing?: { reason: string; timer: NodeJS.Timeout };
  /** Why the server closed it, once it has. */
  closedFor?: string;
  log: Record<string, unknown>;
}

export function installTcpForwarder(options: TcpForwarderOptions): { stop(): void } {
  const { config, metrics, log } = options;
  const { upstream } = config;
  const burst = createBurstLog(log, { failure: "upstream_error", recovered: "upstream_recovered" });
  const tunnels = new Set<OpenTunnel>();

  /** Why this tunnel's peer may no longer be connected, or undefined. */
  const refusalOf = (
    tunnel: OpenTunnel,
  ): { reason: "certificate_expired" | "revoked" | "not_allowed"; message: string } | undefined => {
    if (tunnel.notAfter <= Date.now()) {
      return { reason: "certificate_expired", message: `its certificate expired at ${tunnel.peer.notAfter}` };
    }
    const refusal = options.authorize(tunnel.peer);
    return refusal && { reason: refusal.reason, message: refusal.message };
  };
  const revalidate = () => {
    for (const tunnel of tunnels) {
      const refusal = refusalOf(tunnel);
      if (refusal && !tunnel.closing) {
        log.warn("tunnel", {
          result: "closing",
          ...tunnel.log,
          refusal: refusal.reason,
          reason: refusal.message,
          graceMs: config.closeGraceMs,
        });
        const timer = setTimeout(() => {
          options.admission.countClosed(refusal.reason);
          tunnels.delete(tunnel);
          tunnel.closedFor = refusal.reason;
          tunnel.close();
        }, config.closeGraceMs);
        tunnel.closing = { reason: refusal.reason, timer };
      } else if (!refusal && tunnel.closing) {
        // The policy was put back within the grace period: the tunnel stays.
        clearTimeout(tunnel.closing.timer);
        tunnel.closing = undefined;
        log.info("tunnel", {
          result: "kept",
          ...tunnel.log,
          why: "the refusal was lifted within the grace period",
        });
      }
    }
  };
  const revalidation = setInterval(revalidate, Math.min(1000, config.closeGraceMs));
  revalidation.unref();

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
      const tunnel: OpenTunnel = {
        peer: state.peer,
        notAfter: Date.parse(state.peer.notAfter),
        close: () => {
          socket.destroy();
          upstreamSocket.destroy();
        },
        log: { peer, remote: state.remoteAddress },
      };
      tunnels.add(tunnel);
      void pipeBothWays(socket, upstreamSocket, config.idleTimeoutMs, (direction, count) =>
        metrics.bytes.inc({ direction: direction === "aToB" ? "to_upstream" : "from_upstream" }, count),
      ).then((ends) => {
        metrics.openTunnels.dec();
        tunnels.delete(tunnel);
        if (tunnel.closing) clearTimeout(tunnel.closing.timer);
        if (!options.accessLog) return;
        log.info("tunnel", {
          result: "closed",
          peer,
          remote: state.remoteAddress,
          bytesToUpstream: ends.aToB,
          bytesFromUpstream: ends.bToA,
          end: tunnel.closedFor ?? ends.end,
          durationMs: Date.now() - started,
        });
      });
    });
  });
  return { stop: () => clearInterval(revalidation) };
}
