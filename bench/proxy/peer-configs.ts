/**
 * The proxy peers, to our sidecar's policy (docs/BENCHMARKS.md, Method, "Proxy paths"): mTLS with
 * the same files, TLS 1.3 with services/src/tls-policy.ts's suites, one worker, a keep-alive pool to
 * the upstream, and the caller's verified subject in `x-forwarded-client-cert`, replacing any it
 * sent. nginx: `proxy_pass` to `upstream { keepalive N; }` over HTTP/1.1 with `Connection ""`
 * (nginx's documented recipe); HAProxy: `verify required`, `mode http` with `http-reuse always`, or
 * `mode tcp` (startHaproxy starts it); the plain upstream: nginx answering a fixed body.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";
import { freePort } from "../../test/support/free-port.ts";
import type { PkiFiles } from "../pki/issue-pki.ts";
import { nginxConf, nginxMtlsListen } from "../servers/nginx-config.ts";
import { startPinnedServer } from "../servers/server-under-test.ts";

/** Idle connections each proxy may keep to the upstream; above the load's 32 concurrent requests. */
export const UPSTREAM_POOL = 64;

/** nginx as an mTLS reverse proxy to the upstream on `upstreamPort`, passing the caller's subject. */
export const nginxProxyConfig = (pki: PkiFiles, upstreamPort: number) => (dir: string, port: number) =>
  nginxConf(
    dir,
    `  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive ${UPSTREAM_POOL};
    keepalive_requests 1000000;
    keepalive_timeout 65s;
  }
  server {
${nginxMtlsListen(port, pki, "modern")}
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-Client-Cert "Subject=\\"$ssl_client_s_dn\\"";
    }
  }`,
  );

/** The plain-HTTP upstream every HTTP proxy forwards to: a fixed body for any request. */
export function nginxUpstreamConfig(body: string) {
  if (/["$\\]/.test(body))
    throw new Error("the upstream's fixed body must not contain a quote, '$' or a backslash");
  return (dir: string, port: number) =>
    nginxConf(
      dir,
      `  server {
    listen 127.0.0.1:${port};
    location / {
      default_type text/plain;
      return 200 "${body}";
    }
  }`,
    );
}

export function haproxyConfig(options: {
  mode: "http" | "tcp";
  port: number;
  /** Server certificate chain and key in one PEM file (HAProxy's `crt`). */
  certAndKeyFile: string;
  caFile: string;
  upstreamPort: number;
}): string {
  const http = options.mode === "http";
  const suites = tlsPolicyOptions("modern").ciphers.split(":");
  return `# Written by bench/proxy/peer-configs.ts for one benchmark run: HAProxy as an mTLS ${http ? "reverse proxy" : "TCP tunnel"}.
global
  nbthread 1
  maxconn 8192
  ssl-default-bind-ciphersuites ${suites.filter((name) => name.startsWith("TLS_")).join(":")}
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

/** HAProxy from Debian's packages, in the foreground, pinned to a core. */
type HaproxyOptions = { pki: PkiFiles; core: number; workDir: string; upstreamPort: number };
export async function startHaproxy(options: HaproxyOptions & { mode: "http" | "tcp" }) {
  const { pki, mode, upstreamPort } = options;
  const port = await freePort();
  const dir = join(options.workDir, "proxy", `haproxy-${mode}`);
  mkdirSync(dir, { recursive: true });
  const confFile = join(dir, "haproxy.cfg");
  const config = { mode, port, certAndKeyFile: pki.serverPem, caFile: pki.ca, upstreamPort };
  writeFileSync(confFile, haproxyConfig(config));
  // -db: stay in the foreground (no daemon, no master process): one process, like nginx's one worker.
  return startPinnedServer({
    ...{ kind: "haproxy", what: `HAProxy (${confFile})`, port, core: options.core, policy: "modern" },
    keyAlgorithm: pki.keyAlgorithm,
    command: "haproxy",
    args: ["-db", "-f", confFile],
    logFile: join(dir, "haproxy.log"),
  });
}
