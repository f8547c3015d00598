/**
 * The pure pieces the services are built from, checked on their own: configuration errors, role
 * dispatch, the log guard, the metrics text format, SAN parsing, the allow-list, the handshake
 * failure reasons and the client's backoff.
 */
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../services/src/client/backoff.ts";
import {
  ConfigError,
  parseClientConfig,
  parseListenAddress,
  parseServerConfig,
} from "../../services/src/config.ts";
import { formatLine, scrub } from "../../services/src/log.ts";
import { Registry } from "../../services/src/metrics.ts";
import { pickRole } from "../../services/src/role.ts";
import { createAllowList, isAllowed } from "../../services/src/server/authorization.ts";
import { reasonForTlsError, reasonForVerifyError } from "../../services/src/server/handshake-failures.ts";
import { type PeerIdentity, parseSubjectAltNames } from "../../services/src/server/peer-identity.ts";

describe("configuration", () => {
  it("applies the contract's defaults", () => {
    const config = parseServerConfig({});
    expect(config).toMatchObject({
      listen: { host: "0.0.0.0", port: 8443 },
      statusListen: { host: "127.0.0.1", port: 9090 },
      tlsPolicy: "modern",
      allowedClients: [],
      identity: { certFile: "/etc/mtls/tls.crt", keyFile: "/etc/mtls/tls.key", caFile: "/etc/mtls/ca.crt" },
    });
    expect(parseClientConfig({}, []).statusListen.port).toBe(9091);
    expect(parseClientConfig({ MTLS_SERVER_URL: "https://10.0.0.5:8443" }, []).serverName).toBe("10.0.0.5");
  });

  it("names the variable and the value in every error", () => {
    expect(() => parseServerConfig({ MTLS_LISTEN: "8443" })).toThrow(
      new ConfigError('MTLS_LISTEN="8443" is not a listen address: expected host:port, e.g. 0.0.0.0:8443'),
    );
    expect(() => parseServerConfig({ MTLS_MAX_BODY_BYTES: "1MB" })).toThrow(
      'MTLS_MAX_BODY_BYTES="1MB" is not a whole number',
    );
    expect(() => parseServerConfig({ MTLS_ACCESS_LOG: "maybe" })).toThrow(
      'MTLS_ACCESS_LOG="maybe" is not valid',
    );
    expect(() => parseClientConfig({ MTLS_SERVER_URL: "http://x:80" }, [])).toThrow("must use https://");
    expect(() => parseClientConfig({}, ["--twice"])).toThrow('unknown argument "--twice"');
  });

  it("reads IPv6 and all-interface listen addresses", () => {
    expect(parseListenAddress("X", "[::1]:9090")).toEqual({ host: "::1", port: 9090 });
    expect(parseListenAddress("X", ":8443")).toEqual({ host: "0.0.0.0", port: 8443 });
    expect(() => parseListenAddress("X", "host:70000")).toThrow(ConfigError);
  });

  it("splits the allow-list on commas and trims it", () => {
    expect(parseServerConfig({ MTLS_ALLOWED_CLIENTS: " client-a, ,spiffe://x/y " }).allowedClients).toEqual([
      "client-a",
      "spiffe://x/y",
    ]);
  });
});

describe("role dispatch", () => {
  it("runs the server by default and passes the rest on", () => {
    expect(pickRole([])).toEqual({ role: "server", rest: [] });
    expect(pickRole(["client", "--once"])).toEqual({ role: "client", rest: ["--once"] });
    expect(pickRole(["--once"])).toEqual({ role: "server", rest: ["--once"] });
    expect(() => pickRole(["proxy"])).toThrow('unknown role "proxy": expected server or client');
  });
});

describe("log guard", () => {
  it("never lets PEM text, bytes or key objects through", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n";
    expect(scrub({ a: pem, b: [Buffer.from("secret")], c: { export: () => "" }, d: "fine" })).toEqual({
      a: "[redacted: PEM material]",
      b: ["[redacted: bytes]"],
      c: "[redacted: key object]",
      d: "fine",
    });
    const line = JSON.parse(formatLine("server", "error", "x", { error: new Error(`bad ${pem}`) }));
    expect(line.error).toEqual({ message: "[redacted: PEM material]" });
  });
});

describe("metrics text format", () => {
  it("renders HELP, TYPE and labelled samples, escaping label values", () => {
    const registry = new Registry();
    const counter = registry.counter("x_total", "Things.", ["reason"]);
    counter.touch({ reason: "a" });
    counter.inc({ reason: 'b"\\' }, 2);
    registry.gauge("y", "A gauge.", () => 1.5);
    registry.gauge("z", "Unknown yet.", () => undefined);
    expect(registry.render()).toBe(
      '# HELP x_total Things.\n# TYPE x_total counter\nx_total{reason="a"} 0\nx_total{reason="b\\"\\\\"} 2\n' +
        "# HELP y A gauge.\n# TYPE y gauge\ny 1.5\n# HELP z Unknown yet.\n# TYPE z gauge\n",
    );
  });
});

describe("subject alternative names", () => {
  it("parses Node's text, quoted values included", () => {
    expect(
      parseSubjectAltNames('DNS:a.example, URI:spiffe://x/y, URI:"urn:a, b", IP Address:127.0.0.1'),
    ).toEqual([
      { type: "DNS", value: "a.example" },
      { type: "URI", value: "spiffe://x/y" },
      { type: "URI", value: "urn:a, b" },
      { type: "IP Address", value: "127.0.0.1" },
    ]);
    expect(parseSubjectAltNames(undefined)).toEqual([]);
  });
});

describe("allow-list", () => {
  const peer = (commonName: string | null, uris: string[] = []): PeerIdentity => ({
    commonName,
    uris,
    dnsNames: [],
    serialNumber: "01",
    fingerprint256: "",
    notAfter: "",
    issuer: null,
  });

  it("matches common names and full URI SANs exactly", () => {
    const list = createAllowList(["client-a", "spiffe://example.org/b"]);
    expect(isAllowed(list, peer("client-a"))).toBe(true);
    expect(isAllowed(list, peer("Client-A"))).toBe(false);
    expect(isAllowed(list, peer("other", ["spiffe://example.org/b"]))).toBe(true);
    expect(isAllowed(list, peer("spiffe://example.org/b"))).toBe(false); // a URI entry never matches a CN
    expect(isAllowed(list, peer("other", ["spiffe://example.org/b/c"]))).toBe(false);
    expect(isAllowed(createAllowList([]), peer(null))).toBe(true);
  });
});

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
    expect(reasonForTlsError({ code: "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA" })).toBe("rejected_by_peer");
    expect(reasonForTlsError({ code: "ERR_SSL_SSLV3_ALERT_SOMETHING_NEW" })).toBe("rejected_by_peer");
    expect(reasonForTlsError({ code: "ECONNRESET" })).toBe("closed_by_peer");
    expect(reasonForTlsError({})).toBe("other");
  });
});

describe("backoff", () => {
  it("doubles per failure, stays within [half, all] of the step, and is capped", () => {
    expect(backoffDelay(1, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(1, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(2000);
    expect(backoffDelay(30, 500, 30_000, () => 0)).toBe(15_000);
    expect(backoffDelay(1000, 500, 30_000, () => 1)).toBe(30_000);
  });
});
