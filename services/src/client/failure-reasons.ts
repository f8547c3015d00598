/**
 * Why a client round failed, in words: the reason (a metric label) and one sentence that says what
 * happened and what to look at. Covers the client's own verification of the server, refusals by
 * the server (TLS alerts, a connection closed after the handshake, HTTP 400 for a rejected
 * certificate, HTTP 403), and the network.
 */
import { ENV } from "../contract.ts";

export const ROUND_FAILURE_REASONS = [
  "unknown_ca",
  "name_mismatch",
  "server_certificate_invalid",
  "refused_by_server",
  /** HTTP 403 with code `revoked`: the server's policy file revokes our certificate. */
  "revoked",
  "protocol_mismatch",
  "connection_refused",
  "name_not_resolved",
  "unreachable",
  "timeout",
  "unexpected_response",
  "other",
] as const;
export type RoundFailureReason = (typeof ROUND_FAILURE_REASONS)[number];

export interface RoundFailure {
  reason: RoundFailureReason;
  message: string;
}

export interface FailureContext {
  url: URL;
  serverName: string;
  caFile: string;
  timeoutMs: number;
  /** The TLS handshake had completed on the connection that failed. */
  handshakeDone: boolean;
}

/** An HTTP answer that ends the round (403, other unexpected statuses, a wrong echo). */
export class ResponseError extends Error {
  override name = "ResponseError";
  readonly status: number;
  /** The `code` of the server's JSON error body, when it sent one. */
  readonly code: string | undefined;
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class RoundTimeoutError extends Error {
  override name = "RoundTimeoutError";
  readonly code = "ERR_MTLS_ROUND_TIMEOUT";
}

const UNKNOWN_CA = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);

const SERVER_CERTIFICATE = new Map([
  ["CERT_HAS_EXPIRED", "has expired"],
  ["CERT_NOT_YET_VALID", "is not valid yet"],
  ["INVALID_PURPOSE", "is not for server use (its extended key usage lacks serverAuth)"],
  ["CERT_SIGNATURE_FAILURE", "has a bad signature"],
  ["CA_KEY_TOO_SMALL", "is signed by a CA whose key is too small"],
  ["EE_KEY_TOO_SMALL", "has a key that is too small"],
]);

const PROTOCOL = new Set([
  "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
  "ERR_SSL_UNSUPPORTED_PROTOCOL",
  "ERR_SSL_NO_PROTOCOLS_AVAILABLE",
  "ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE",
  "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
  "ERR_SSL_NO_SHARED_CIPHER",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY",
]);

function alertName(code: string): string {
  return code
    .replace(/^ERR_SSL_(SSL\/TLS|TLSV1[3]?|SSLV3)_ALERT_/, "")
    .toLowerCase()
    .replace(/_/g, " ");
}

export function classifyRoundError(error: unknown, context: FailureContext): RoundFailure {
  const target = `${context.url.host}`;
  if (error instanceof ResponseError) {
    if (error.status === 403 && error.code === "revoked")
      return {
        reason: "revoked",
        message: `revoked by the server: ${error.message}; this certificate needs replacing`,
      };
    // 403: not on the allow-list; 400: the server rejected our certificate (it says why).
    if (error.status === 403 || error.status === 400)
      return { reason: "refused_by_server", message: `refused by the server: ${error.message}` };
    return { reason: "unexpected_response", message: error.message };
  }
  if (error instanceof RoundTimeoutError) {
    return {
      reason: "timeout",
      message: `timeout: no complete answer from ${target} within ${context.timeoutMs} ms`,
    };
  }
  const code = String((error as { code?: unknown }).code ?? "");
  const detail = (error as Error).message?.split("\n")[0] ?? String(error);
  if (UNKNOWN_CA.has(code)) {
    return {
      reason: "unknown_ca",
      message:
        `unknown CA: the server's certificate does not chain to a CA in ${ENV.caFile} (${context.caFile}) ` +
        `[${code}]`,
    };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return {
      reason: "name_mismatch",
      message:
        `name mismatch: the server's certificate is not valid for "${context.serverName}" (${detail}); ` +
        `set ${ENV.serverName} to a name it carries`,
    };
  }
  const certificateProblem = SERVER_CERTIFICATE.get(code);
  if (certificateProblem) {
    return {
      reason: "server_certificate_invalid",
      message: `the server's certificate ${certificateProblem} [${code}]`,
    };
  }
  if (PROTOCOL.has(code)) {
    return {
      reason: "protocol_mismatch",
      message: `refused by the server: no TLS version or cipher in common (${ENV.tlsPolicy}?) [${alertName(code)}]`,
    };
  }
  if (code.startsWith("ERR_SSL_") && code.includes("ALERT")) {
    return {
      reason: "refused_by_server",
      message: `refused by the server: TLS alert "${alertName(code)}" (it did not accept our certificate)`,
    };
  }
  switch (code) {
    case "ECONNREFUSED":
      return { reason: "connection_refused", message: `connection refused: nothing listens on ${target}` };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return {
        reason: "name_not_resolved",
        message: `cannot resolve the host name "${context.url.hostname}"`,
      };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return { reason: "unreachable", message: `${target} is unreachable (${code})` };
    case "ETIMEDOUT":
      return { reason: "timeout", message: `timeout: connecting to ${target} timed out` };
    case "ECONNRESET":
    case "EPIPE":
      return context.handshakeDone
        ? {
            reason: "refused_by_server",
            message:
              "refused by the server: it closed the connection after the TLS handshake without answering " +
              "(it did not accept our certificate; its log says why)",
          }
        : {
            reason: "refused_by_server",
            message: `refused by the server: it closed the connection during the TLS handshake (${code})`,
          };
  }
  return { reason: "other", message: code ? `${detail} [${code}]` : detail };
}
