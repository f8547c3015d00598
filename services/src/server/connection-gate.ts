/**
 * Everything that happens to a connection before HTTP sees it:
 *
 * - counts a peer that never completes its handshake as `timeout`: released by Node's
 *   `handshakeTimeout` (encrypted bytes trickled during the handshake do not restart that timer, see
 *   the refusal tests), or by admission when it sent nothing at all in that time. Admission also
 *   closes unauthenticated connections when its budget is full (counted there, not here);
 * - decides, once per connection, whether the client certificate verified and who the peer is,
 *   and counts and logs the handshake result with its reason. A caller without a certificate never
 *   gets here (the handshake refuses it, see certificate-required.ts). A connection whose
 *   certificate failed verification is kept only to be told why: it gets a `CertificateRefusal`
 *   (`refusalOf`), and no connection state, so no request of it can reach a handler;
 * - asks admission whether a verified connection may take a slot: one that may not (its client
 *   is at its quota, every slot is busy) gets an `AdmissionRefusal` instead of a state.
 */
import type { Socket } from "node:net";
import type { Server, TLSSocket } from "node:tls";
import type { Logger } from "../log.ts";
import type { Admission, AdmissionRefusal } from "./admission.ts";
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
  /** Counts and logs a connection closed by admission for sending nothing in time. */
  handshakeTimedOut(peer: string | undefined): void;
  /** The authenticated peer of a connection; undefined for a refused one. */
  stateOf(socket: Socket): ConnectionState | undefined;
  /**
   * Why the connection's client certificate was rejected (answer 400 / close), if it was, or
   * expired since the handshake.
   */
  refusalOf(socket: Socket): CertificateRefusal | undefined;
  /** Why a verified connection was not admitted (answer 429 or 503 / close), if it was not. */
  admissionRefusalOf(socket: Socket): AdmissionRefusal | undefined;
  openConnections(): number;
  /** Destroys every open connection (end of the shutdown deadline). */
  destroyAll(): void;
}

export interface ConnectionGateOptions {
  server: Server;
  metrics: ServerMetrics;
  log: Logger;
  admission: Admission;
}

const LOG_LINES_PER_SECOND = 20;

/** A TLS socket's peer address, also after it closed (Node keeps the raw socket as `_parent`). */
function peerAddress(socket: TLSSocket): string | undefined {
  const address = socket.remoteAddress ?? (socket as unknown as { _parent?: Socket })._parent?.remoteAddress;
  const port = socket.remotePort ?? (socket as unknown as { _parent?: Socket })._parent?.remotePort;
  return address === undefined ? undefined : `${address}:${port}`;
}

export function installConnectionGate(options: ConnectionGateOptions): ConnectionGate {
  const { server, metrics, log, admission } = options;
  const states = new WeakMap<Socket, ConnectionState>();
  const refusals = new WeakMap<Socket, CertificateRefusal>();
  const admissionRefusals = new WeakMap<Socket, AdmissionRefusal>();
  const failureLog = rateLimited(log);

  // Connections come from admission's listener once their handshake begins (admission.ts).
  server.on("connection", (raw: Socket) => {
    void raw.remoteAddress; // caches the peer address, so failure logs have it after the socket closed
  });

  const fail = (reason: HandshakeFailureReason, fields: Record<string, unknown>) => {
    metrics.handshakes.inc({ result: "failure" });
    metrics.handshakeFailures.inc({ reason });
    failureLog("handshake_failure", { reason, ...fields });
  };

  server.on("tlsClientError", (error: Error & { code?: string }, socket: TLSSocket) => {
    // Closed by admission to make room (counted there): not the peer's failure.
    if (admission.closedByServer(socket)) return;
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
      if (peer) {
        refusals.set(socket, certificateRefusal(reason));
        admission.certificateRejected(socket);
      } else socket.destroy(); // no certificate (only a resumed session can still get here)
      return;
    }
    metrics.handshakes.inc({ result: "success" });
    const refusal = admission.admit(socket, peer);
    if (refusal) {
      admissionRefusals.set(socket, refusal);
      return;
    }
    states.set(socket, {
      peer,
      protocol: socket.getProtocol() ?? "unknown",
      cipher: socket.getCipher()?.name ?? "unknown",
      resumed: socket.isSessionReused(),
      remoteAddress: peerAddress(socket) ?? "unknown",
    });
  });

  return {
    handshakeTimedOut: (peer) =>
      fail("timeout", { code: "ERR_TLS_HANDSHAKE_TIMEOUT", message: "sent nothing", peer }),
    stateOf: (socket) => states.get(socket),
    refusalOf: (socket) => refusals.get(socket) ?? admission.expiredRefusal(socket),
    admissionRefusalOf: (socket) => admissionRefusals.get(socket),
    openConnections: () => admission.openConnections(),
    destroyAll: () => admission.destroyAll(),
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
