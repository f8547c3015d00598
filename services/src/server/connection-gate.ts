/**
 * Everything that happens to a connection before HTTP sees it:
 *
 * - counts open connections and connections dropped at MTLS_MAX_CONNECTIONS (a peer that never
 *   completes its handshake is released by Node's `handshakeTimeout`, counted here as `timeout`;
 *   encrypted bytes trickled during the handshake do not restart that timer, see the refusal tests);
 * - decides, once per connection, whether the client certificate verified and who the peer is,
 *   and counts and logs the handshake result with its reason. A caller without a certificate never
 *   gets here (the handshake refuses it, see certificate-required.ts). A connection whose
 *   certificate failed verification is kept only to be told why: it gets a `CertificateRefusal`
 *   (`refusalOf`), and no connection state, so no request of it can reach a handler.
 */
import type { Socket } from "node:net";
import type { Server, TLSSocket } from "node:tls";
import type { Logger } from "../log.ts";
import { type CertificateRefusal, certificateRefusal } from "./certificate-refusal.ts";
import {
  type HandshakeFailureReason,
  reasonForTlsError,
  reasonForVerifyError,
} from "./handshake-failures.ts";
import type { ServerMetrics } from "./metrics.ts";
import { type PeerIdentity, peerIdentityOf } from "./peer-identity.ts";

export interface ConnectionState {
  /** Authorization is decided per request from this (server/policy.ts), not once per connection. */
  peer: PeerIdentity;
  protocol: string;
  cipher: string;
  resumed: boolean;
  remoteAddress: string;
}

export interface ConnectionGate {
  /** The authenticated peer of a connection; undefined for a refused one. */
  stateOf(socket: Socket): ConnectionState | undefined;
  /** Why the connection's client certificate was rejected (answer 400 / close), if it was. */
  refusalOf(socket: Socket): CertificateRefusal | undefined;
  openConnections(): number;
  /** Destroys every open connection (end of the shutdown deadline). */
  destroyAll(): void;
}

export interface ConnectionGateOptions {
  server: Server;
  metrics: ServerMetrics;
  log: Logger;
}

const LOG_LINES_PER_SECOND = 20;

/** A TLS socket's peer address, also after it closed (Node keeps the raw socket as `_parent`). */
function peerAddress(socket: TLSSocket): string | undefined {
  const address = socket.remoteAddress ?? (socket as unknown as { _parent?: Socket })._parent?.remoteAddress;
  const port = socket.remotePort ?? (socket as unknown as { _parent?: Socket })._parent?.remotePort;
  return address === undefined ? undefined : `${address}:${port}`;
}

export function installConnectionGate(options: ConnectionGateOptions): ConnectionGate {
  const { server, metrics, log } = options;
  const states = new WeakMap<Socket, ConnectionState>();
  const refusals = new WeakMap<Socket, CertificateRefusal>();
  const open = new Set<Socket>();
  const failureLog = rateLimited(log);

  server.on("connection", (raw: Socket) => {
    open.add(raw);
    metrics.openConnections.inc();
    void raw.remoteAddress; // caches the peer address, so failure logs have it after the socket closed
    raw.once("close", () => {
      open.delete(raw);
      metrics.openConnections.dec();
    });
  });

  server.on("drop", (data?: { remoteAddress?: string; remotePort?: number }) => {
    metrics.droppedConnections.inc();
    failureLog("connection_dropped", {
      reason: "max_connections",
      peer: data?.remoteAddress === undefined ? undefined : `${data.remoteAddress}:${data.remotePort}`,
    });
  });

  const fail = (reason: HandshakeFailureReason, fields: Record<string, unknown>) => {
    metrics.handshakes.inc({ result: "failure" });
    metrics.handshakeFailures.inc({ reason });
    failureLog("handshake_failure", { reason, ...fields });
  };

  server.on("tlsClientError", (error: Error & { code?: string }, socket: TLSSocket) => {
    // A socket Node destroyed for its certificate (see certificate-required.ts) ends here with a
    // bare "socket hang up"; its verification result says why.
    const verifyCode = socket.authorizationError ? String(socket.authorizationError) : undefined;
    fail(verifyCode ? reasonForVerifyError(verifyCode, true) : reasonForTlsError(error), {
      code: error.code,
      message: error.message.split("\n")[0],
      peer: peerAddress(socket),
    });
  });

  server.prependListener("secureConnection", (socket: TLSSocket) => {
    const peer = peerIdentityOf(socket);
    if (!socket.authorized || !peer) {
      const code = String(socket.authorizationError ?? "NO_PEER_CERTIFICATE");
      const reason = reasonForVerifyError(code, peer !== undefined);
      fail(reason, {
        code,
        peer: peerAddress(socket),
        subject: peer?.commonName ?? undefined,
      });
      if (peer) refusals.set(socket, certificateRefusal(reason));
      else socket.destroy(); // no certificate (only a resumed session can still get here)
      return;
    }
    metrics.handshakes.inc({ result: "success" });
    states.set(socket, {
      peer,
      protocol: socket.getProtocol() ?? "unknown",
      cipher: socket.getCipher()?.name ?? "unknown",
      resumed: socket.isSessionReused(),
      remoteAddress: peerAddress(socket) ?? "unknown",
    });
  });

  return {
    stateOf: (socket) => states.get(socket),
    refusalOf: (socket) => refusals.get(socket),
    openConnections: () => open.size,
    destroyAll: () => {
      for (const socket of open) socket.destroy();
    },
  };
}

/**
 * Handshake failures are caused by peers, so a flood of them must not become a flood of log lines:
 * at most LOG_LINES_PER_SECOND per second, then one line saying how many were left out.
 */
function rateLimited(log: Logger): (event: string, fields: Record<string, unknown>) => void {
  let windowStart = 0;
  let lines = 0;
  let suppressed = 0;
  return (event, fields) => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      if (suppressed > 0) {
        log.warn("log_lines_suppressed", {
          count: suppressed,
          why: `over ${LOG_LINES_PER_SECOND} failures per second`,
        });
      }
      windowStart = now;
      lines = 0;
      suppressed = 0;
    }
    if (lines < LOG_LINES_PER_SECOND) {
      lines++;
      log.warn(event, fields);
    } else {
      suppressed++;
    }
  };
}
