/**
 * The proxy peers of the proxy benchmarks, configured to the same policy as our server in sidecar
 * mode: mutual TLS required with the same certificate, key and CA files, TLS 1.3 with the cipher
 * suites of services/src/tls-policy.ts, one worker, 127.0.0.1 only, no access log, and a keep-alive
 * pool to the upstream (ours keeps one too). Both pass the caller's verified subject to the upstream
 * in `x-forwarded-client-cert`, replacing any the caller sent, as ours does (ours adds more: the
 * certificate's SHA-256, its URI SAN and its own; see docs/BENCHMARKS.md for that bias).
 *
 * - nginx: `proxy_pass` to an `upstream { keepalive N; }` block over HTTP/1.1 with
 *   `proxy_set_header Connection ""` (nginx's documented recipe for upstream keep-alive), and
 *   `ssl_verify_client on`.
 * - HAProxy: `bind ... ssl crt ... ca-file ... verify required`, `mode http` with `http-reuse always`
 *   for the HTTP paths, `mode tcp` for the tunnel.
 * - the plain upstream: nginx answering every request with a fixed body (no TLS, no per-request work).
 */
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";
import type { PkiFiles } from "../pki/pki.ts";
import { nginxConf, nginxMtlsListen } from "../servers/nginx-config.ts";

/** Idle connections each proxy may keep to the upstream; above the load's 32 concurrent requests. */
export const UPSTREAM_POOL = 64;

const TLS13_SUITES = tlsPolicyOptions("modern")
  .ciphers.split(":")
  .filter((name) => name.startsWith("TLS_"));

/** nginx as an mTLS reverse proxy to the upstream on `upstreamPort`, passing the caller's subject. */
export function nginxProxyConfig(options: {
  dir: string;
  port: number;
  pki: PkiFiles;
  upstreamPort: number;
}) {
  return nginxConf(
    options.dir,
    `  upstream app {
    server 127.0.0.1:${options.upstreamPort};
    keepalive ${UPSTREAM_POOL};
    keepalive_requests 1000000;
    keepalive_timeout 65s;
  }
  server {
${nginxMtlsListen(options.port, options.pki, "modern")}
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-Client-Cert "Subject=\\"$ssl_client_s_dn\\"";
    }
  }`,
  );
}

/** The plain-HTTP upstream every HTTP proxy forwards to: a fixed body for any request. */
export function nginxUpstreamConfig(options: { dir: string; port: number; body: string }): string {
  if (/["$\\]/.test(options.body))
    throw new Error("the upstream's fixed body must not contain a quote, '$' or a backslash");
  return nginxConf(
    options.dir,
    `  server {
    listen 127.0.0.1:${options.port};
    location / {
      default_type text/plain;
      return 200 "${options.body}";
    }
  }`,
  );
}

export interface HaproxyConfigOptions {
  mode: "http" | "tcp";
  port: number;
  /** Server certificate chain and key in one PEM file (HAProxy's `crt`). */
  certAndKeyFile: string;
  caFile: string;
  upstreamPort: number;
}

export function haproxyConfig(options: HaproxyConfigOptions): string {
  const http = options.mode === "http";
  return `# Written by bench/proxy/peer-configs.ts for one benchmark run: HAProxy as an mTLS ${http ? "reverse proxy" : "TCP tunnel"}.
global
  nbthread 1
  maxconn 8192
  ssl-default-bind-ciphersuites ${TLS13_SUITES.join(":")}
  ssl-default-bind-options ssl-min-ver TLSv1.3

defaults
  mode ${options.mode}
  timeout connect 5s
  timeout client 65s
  timeout server 65s
${http ? "  timeout http-keep-alive 65s\n" : ""}
frontend mtls
  bind 127.0.0.1:${options.port} ssl crt ${options.certAndKeyFile} ca-file ${options.caFile} verify required
${http ? '  http-request set-header X-Forwarded-Client-Cert "Subject=\\"%[ssl_c_s_dn]\\""\n' : ""}  default_backend app

backend app
${http ? "  http-reuse always\n" : ""}  server app 127.0.0.1:${options.upstreamPort}
`;
}
