/**
 * A caller without a client certificate is refused in the handshake, with the TLS alert
 * "certificate required" (TLS 1.3; "handshake failure" on TLS 1.2), which curl and openssl print;
 * a caller whose certificate fails verification gets its connection, so that its first request
 * can be answered with a 400 that names the problem (see certificate-refusal.ts).
 *
 * Node ties both to one option. `rejectUnauthorized: true` on the server does two things: it asks
 * OpenSSL to require a certificate (SSL_VERIFY_FAIL_IF_NO_PEER_CERT, which sends that alert), and
 * it makes Node destroy, without a word, every socket whose certificate fails verification once
 * the handshake is done (Node verifies the chain only then; OpenSSL's verify callback accepts
 * everything during the handshake). We want the first without the second.
 *
 * So the server is created with `rejectUnauthorized: true`, and each connection is told not to
 * destroy itself before its handshake completes: Node's per-socket flag `_rejectUnauthorized`
 * (read once, when the handshake is done, in `onServerSocketSecure` of lib/internal/tls/wrap.js,
 * the same in Node 22 and 24) is cleared. The earliest moment Node hands a server's TLS socket to
 * user code during the handshake is the documented `keylog` event (`tlsSocket` is its second
 * argument); the key material it carries is ignored and never stored or logged.
 *
 * This relies on a Node internal: the refusal tests (no certificate: alert; bad certificate: 400,
 * counted with its reason) fail if a Node release changes it. If the flag stays set, the
 * connection gate still counts the reason (from the socket's `authorizationError`, on the
 * resulting `tlsClientError`), and the caller sees a closed connection instead of the 400.
 */
import type { Server, TLSSocket } from "node:tls";

export function keepRejectedConnectionsOpen(server: Server): void {
  server.on("keylog", (_line: Buffer, socket: TLSSocket) => {
    (socket as unknown as { _rejectUnauthorized?: boolean })._rejectUnauthorized = false;
  });
}
