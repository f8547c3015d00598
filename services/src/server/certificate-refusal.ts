/**
 * The one place that decides how a connection whose client certificate was rejected is answered.
 * Node verifies the client's chain only after the handshake, when no TLS alert can be sent any
 * more, so the connection is kept and its first HTTP request gets `400` with a one-line body that
 * names the problem (as nginx does with `ssl_verify_client on`), then the connection is closed.
 * The request never reaches a route or an upstream. A listener that does not speak HTTP (a TCP
 * tunnel) closes such a connection instead: `refusalOf(socket)` on the connection gate tells it.
 */
import type { ServerResponse } from "node:http";
import type { HandshakeFailureReason } from "./handshake-failures.ts";

export interface CertificateRefusal {
  reason: HandshakeFailureReason;
  /** One line for the caller: "client certificate rejected: issued by an unknown CA". */
  message: string;
}

/** What the caller is told, per reason (nothing here that the caller's own certificate does not show). */
const PROBLEMS: Partial<Record<HandshakeFailureReason, string>> = {
  unknown_ca: "issued by an unknown CA",
  expired: "it has expired",
  not_yet_valid: "it is not valid yet",
  wrong_purpose: "it is not for client use (its extended key usage lacks clientAuth)",
};

export function certificateRefusal(reason: HandshakeFailureReason): CertificateRefusal {
  return { reason, message: `client certificate rejected: ${PROBLEMS[reason] ?? "it failed verification"}` };
}

/** Answers the request with the refusal and closes the connection once the answer is sent. */
export function answerRefusal(res: ServerResponse, refusal: CertificateRefusal): void {
  const body = `${refusal.message}\n`;
  res.writeHead(400, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  res.end(body);
}
