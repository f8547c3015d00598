/** Handshake failure reasons of services/src/server/handshake-failures.ts. */
import { describe, expect, it } from "vitest";
import { reasonForTlsError, reasonForVerifyError } from "../../../services/src/server/handshake-failures.ts";

describe("handshake failure reasons", () => {
  it("maps verification results and handshake errors", () => {
    expect(reasonForVerifyError("UNABLE_TO_GET_ISSUER_CERT", false)).toBe("no_certificate");
    expect(reasonForVerifyError("UNABLE_TO_GET_ISSUER_CERT", true)).toBe("unknown_ca");
    expect(reasonForVerifyError("SELF_SIGNED_CERT_IN_CHAIN", true)).toBe("unknown_ca");
    expect(reasonForVerifyError("CERT_HAS_EXPIRED", true)).toBe("expired");
    expect(reasonForVerifyError("CERT_NOT_YET_VALID", true)).toBe("not_yet_valid");
    expect(reasonForVerifyError("INVALID_PURPOSE", true)).toBe("wrong_purpose");
    expect(reasonForVerifyError("UNSPECIFIED", true)).toBe("other");
    expect(reasonForTlsError({ code: "ERR_SSL_NO_SHARED_CIPHER" })).toBe("protocol_or_cipher_mismatch");
    expect(reasonForTlsError({ code: "ERR_SSL_HTTP_REQUEST" })).toBe("not_tls");
    expect(reasonForTlsError({ code: "ERR_TLS_HANDSHAKE_TIMEOUT" })).toBe("timeout");
    expect(reasonForTlsError({ code: "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE" })).toBe("no_certificate");
    expect(reasonForTlsError({ code: "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA" })).toBe("rejected_by_peer");
    expect(reasonForTlsError({ code: "ERR_SSL_SSLV3_ALERT_SOMETHING_NEW" })).toBe("rejected_by_peer");
    expect(reasonForTlsError({ code: "ECONNRESET" })).toBe("closed_by_peer");
    expect(reasonForTlsError({})).toBe("other");
  });
});
