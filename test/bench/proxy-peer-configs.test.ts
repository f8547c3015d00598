/**
 * The proxy benchmarks' peers (bench/proxy/peer-configs.ts) are only worth comparing with if they do
 * the work ours does: verify every caller's certificate against the run's CA, speak TLS 1.3 only,
 * and keep a connection pool to the upstream. These tests read the generated nginx and HAProxy
 * configurations for those directives (the bench also probes each running peer without a client
 * certificate before it measures it: see anonymous-probe.test.ts).
 */
import { describe, expect, test } from "vitest";
import type { PkiFiles } from "../../bench/pki/issue-pki.ts";
import {
  haproxyConfig,
  nginxProxyConfig,
  nginxUpstreamConfig,
  UPSTREAM_POOL,
} from "../../bench/proxy/peer-configs.ts";

const pki: PkiFiles = {
  keyAlgorithm: "ECDSA-P256",
  serverCert: "/pki/server.crt",
  serverKey: "/pki/server.key",
  serverPem: "/pki/server.pem",
  ca: "/pki/ca.crt",
  clientCert: "/pki/client.crt",
  clientKey: "/pki/client.key",
  clientPem: "/pki/client.pem",
};

/** The directive lines of a configuration, comments dropped, whitespace trimmed. */
const lines = (config: string) =>
  config
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter(Boolean);

describe("nginx as the mTLS reverse proxy", () => {
  const config = nginxProxyConfig(pki, 8080)("/run/nginx", 9443);

  test("requires a client certificate verified against the run's CA", () => {
    expect(lines(config)).toEqual(
      expect.arrayContaining(["ssl_verify_client on;", "ssl_client_certificate /pki/ca.crt;"]),
    );
    expect(config).not.toMatch(/ssl_verify_client\s+(optional|off)/);
  });

  test("speaks TLS 1.3 only, with the server identity of the run", () => {
    expect(lines(config)).toEqual(
      expect.arrayContaining([
        "ssl_protocols TLSv1.3;",
        "ssl_certificate /pki/server.crt;",
        "ssl_certificate_key /pki/server.key;",
        "listen 127.0.0.1:9443 ssl;",
      ]),
    );
  });

  test("keeps a keep-alive pool to the upstream: HTTP/1.1, no Connection header, keepalive N", () => {
    expect(lines(config)).toEqual(
      expect.arrayContaining([
        "server 127.0.0.1:8080;",
        `keepalive ${UPSTREAM_POOL};`,
        "proxy_pass http://app;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
      ]),
    );
  });

  test("replaces the caller's x-forwarded-client-cert with the verified subject", () => {
    expect(config).toContain('proxy_set_header X-Forwarded-Client-Cert "Subject=\\"$ssl_client_s_dn\\"";');
  });
});

describe("HAProxy as the mTLS proxy", () => {
  for (const mode of ["http", "tcp"] as const) {
    const config = haproxyConfig({
      mode,
      port: 9444,
      certAndKeyFile: "/run/haproxy/server.pem",
      caFile: "/pki/ca.crt",
      upstreamPort: 8081,
    });
    const bind = lines(config).find((line) => line.startsWith("bind "));

    test(`mode ${mode}: the bind requires a client certificate verified against the run's CA`, () => {
      expect(bind).toBe(
        "bind 127.0.0.1:9444 ssl crt /run/haproxy/server.pem ca-file /pki/ca.crt verify required",
      );
    });

    test(`mode ${mode}: TLS 1.3 only, one thread, forwarding to the upstream`, () => {
      expect(lines(config)).toEqual(
        expect.arrayContaining([
          `mode ${mode}`,
          "nbthread 1",
          "ssl-default-bind-options ssl-min-ver TLSv1.3",
          "server app 127.0.0.1:8081",
        ]),
      );
    });
  }

  test("mode http reuses upstream connections and sets x-forwarded-client-cert; mode tcp has no HTTP rules", () => {
    const options = { port: 1, certAndKeyFile: "/c.pem", caFile: "/ca.crt", upstreamPort: 2 };
    const http = lines(haproxyConfig({ ...options, mode: "http" }));
    const tcp = lines(haproxyConfig({ ...options, mode: "tcp" }));
    expect(http).toEqual(expect.arrayContaining(["http-reuse always"]));
    expect(http.some((line) => line.startsWith("http-request set-header X-Forwarded-Client-Cert"))).toBe(
      true,
    );
    expect(tcp.filter((line) => line.startsWith("http"))).toEqual([]);
  });
});

describe("the plain upstream", () => {
  test("answers every request with the fixed body, over plain HTTP on loopback", () => {
    const config = nginxUpstreamConfig("hello")("/run/up", 8080);
    expect(lines(config)).toEqual(
      expect.arrayContaining(["listen 127.0.0.1:8080;", "location / {", 'return 200 "hello";']),
    );
    expect(config).not.toContain("ssl");
  });

  test("refuses a body nginx would read as a variable or an end of string", () => {
    for (const body of ["$host", 'say "hi"', "back\\slash"]) {
      expect(() => nginxUpstreamConfig(body)("/run/up", 8080)).toThrow(
        /must not contain a quote, '\$' or a backslash/,
      );
    }
  });
});
