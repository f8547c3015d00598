/**
 * Why a TLS handshake failed, in words an operator acts on. Two sources feed it:
 *
 * - errors OpenSSL/Node raise during the handshake (`tlsClientError`): protocol or cipher
 *   mismatch, bytes that are not TLS, an alert from the peer, a timeout;
 * - the verification result of the client certificate (`socket.authorizationError`), read once
 *   the handshake is done; the connection is kept to answer its first request with 400 (see
 *   certificate-required.ts and certificate-refusal.ts).
 */

export const HANDSHAKE_FAILURE_REASONS = [
  "no_certificate",
  "unknown_ca",
  "expired",
  "not_yet_valid",
  "wrong_purpose",
  "protocol_or_cipher_mismatch",
  "timeout",
  "not_tls",
  "rejected_by_peer",
  "closed_by_peer",
  "other",
] as const;
export type HandshakeFailureReason = (typeof HANDSHAKE_FAILURE_REASONS)[number];

/** OpenSSL X509 verification results (as Node names them) → reason. */
const VERIFY_REASONS: Record<string, HandshakeFailureReason> = {
  UNABLE_TO_GET_ISSUER_CERT: "unknown_ca",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown_ca",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown_ca",
  SELF_SIGNED_CERT_IN_CHAIN: "unknown_ca",
  DEPTH_ZERO_SELF_SIGNED_CERT: "unknown_ca",
  CERT_UNTRUSTED: "unknown_ca",
  CERT_REJECTED: "unknown_ca",
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "not_yet_valid",
  INVALID_PURPOSE: "wrong_purpose",
};

/** Node error codes of handshake errors → reason. */
const ERROR_REASONS: Record<string, HandshakeFailureReason> = {
  ERR_SSL_UNSUPPORTED_PROTOCOL: "protocol_or_cipher_mismatch",
  ERR_SSL_NO_SHARED_CIPHER: "protocol_or_cipher_mismatch",
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: "protocol_or_cipher_mismatch",
  ERR_SSL_VERSION_TOO_LOW: "protocol_or_cipher_mismatch",
  ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS: "protocol_or_cipher_mismatch",
  ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM: "protocol_or_cipher_mismatch",
  ERR_SSL_NO_SUITABLE_KEY_SHARE: "protocol_or_cipher_mismatch",
  ERR_SSL_NO_SHARED_GROUPS: "protocol_or_cipher_mismatch",
  ERR_SSL_INAPPROPRIATE_FALLBACK: "protocol_or_cipher_mismatch",
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: "protocol_or_cipher_mismatch",
  ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY: "protocol_or_cipher_mismatch",
  "ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE": "protocol_or_cipher_mismatch",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: "protocol_or_cipher_mismatch",
  ERR_SSL_WRONG_VERSION_NUMBER: "not_tls",
  ERR_SSL_HTTP_REQUEST: "not_tls",
  ERR_SSL_HTTPS_PROXY_REQUEST: "not_tls",
  ERR_SSL_UNKNOWN_PROTOCOL: "not_tls",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "not_tls",
  ERR_SSL_RECORD_LENGTH_MISMATCH: "not_tls",
  ERR_SSL_UNEXPECTED_RECORD: "not_tls",
  ERR_SSL_UNEXPECTED_MESSAGE: "not_tls",
  ERR_SSL_LENGTH_MISMATCH: "not_tls",
  ERR_SSL_BAD_PACKET_LENGTH: "not_tls",
  ERR_TLS_HANDSHAKE_TIMEOUT: "timeout",
  // The server requires a certificate: OpenSSL refused the handshake with "certificate required".
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: "no_certificate",
  ECONNRESET: "closed_by_peer",
  EPIPE: "closed_by_peer",
  // A peer that refuses our certificate answers with one of these alerts.
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "rejected_by_peer",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "rejected_by_peer",
  "ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE": "rejected_by_peer",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: "rejected_by_peer",
  "ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN": "rejected_by_peer",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: "rejected_by_peer",
  "ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED": "rejected_by_peer",
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: "rejected_by_peer",
  "ERR_SSL_SSL/TLS_ALERT_UNSUPPORTED_CERTIFICATE": "rejected_by_peer",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: "rejected_by_peer",
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: "rejected_by_peer",
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: "rejected_by_peer",
  ERR_SSL_TLSV1_ALERT_BAD_CERTIFICATE: "rejected_by_peer",
};

export function reasonForTlsError(error: { code?: unknown; message?: string }): HandshakeFailureReason {
  const code = typeof error.code === "string" ? error.code : "";
  const known = ERROR_REASONS[code];
  if (known) return known;
  if (code.startsWith("ERR_SSL_") && /ALERT/.test(code)) return "rejected_by_peer";
  return "other";
}

/**
 * The reason for a completed handshake whose client certificate did not verify. Without any
 * certificate Node reports UNABLE_TO_GET_ISSUER_CERT, so presence is passed in separately.
 */
export function reasonForVerifyError(code: string, hadCertificate: boolean): HandshakeFailureReason {
  if (!hadCertificate) return "no_certificate";
  return VERIFY_REASONS[code] ?? "other";
}
