/**
 * nginx configured to the same policy as our server: mTLS required (`ssl_verify_client on`) with the
 * same certificate, key and CA files, the same protocol versions and cipher suites (taken from
 * services/src/tls-policy.ts, the list our server uses), session tickets on, one worker, 127.0.0.1
 * only, no access log. `GET /v1/whoami` returns a fixed body: the very bytes our server answered
 * for the benchmark client (same size, no per-request work). `POST /v1/echo` uses the echo module
 * (libnginx-mod-http-echo), which reads the whole body into memory and sends it back: nginx
 * buffers, our server streams; see docs/BENCHMARKS.md for what that does to the comparison.
 */
import type { TlsPolicy } from "../../services/src/contract.ts";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";
import type { PkiFiles } from "../pki/pki.ts";

export const ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

export interface NginxConfigOptions {
  dir: string;
  port: number;
  pki: PkiFiles;
  policy: TlsPolicy;
  whoamiBody: string;
  maxBodyBytes: number;
}

/** A double-quoted nginx string; `$` would start a variable, so it is refused rather than escaped. */
function quoted(text: string): string {
  if (text.includes("$"))
    throw new Error("the fixed whoami body contains '$', which nginx would read as a variable");
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * A whole nginx.conf as every nginx of the bench runs: one worker, pid, error log and temp paths
 * (nginx's defaults need root-owned folders) in the run's directory `dir`, no access log, kept-alive
 * connections for 65 s with no request limit (our server has neither), and `http` inside `http {}`.
 */
export function nginxConf(
  dir: string,
  http: string,
  options: { workerConnections?: number; keepAliveSeconds?: number; head?: string } = {},
) {
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
    (kind) => `  ${kind}_temp_path ${dir}/${kind === "client_body" ? "body" : kind};`,
  );
  return `# Written by the bench (bench/) for one run.
${options.head ?? ""}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${options.workerConnections ?? 4096}; }
http {
  access_log off;
${temp.join("\n")}
  keepalive_requests 1000000;
  keepalive_timeout ${options.keepAliveSeconds ?? 65}s;
${http}
}
`;
}

/**
 * The listener's TLS lines, the same for every nginx the bench measures against us: our server's
 * certificate and key, client certificates required and verified against our CA, the policy's
 * protocols and suites, session tickets on.
 */
export function nginxMtlsListen(port: number, pki: PkiFiles, policy: TlsPolicy): string {
  const suites = tlsPolicyOptions(policy).ciphers.split(":");
  const tls13 = suites.filter((name) => name.startsWith("TLS_"));
  const tls12 = suites.filter((name) => !name.startsWith("TLS_"));
  const protocols = policy === "modern" ? "TLSv1.3" : "TLSv1.2 TLSv1.3";
  return `    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${pki.serverCert};
    ssl_certificate_key ${pki.serverKey};
    ssl_client_certificate ${pki.ca};
    ssl_verify_client on;
    ssl_verify_depth 2;
    ssl_protocols ${protocols};
    ${tls12.length > 0 ? `ssl_ciphers ${tls12.join(":")};` : "# TLS 1.2 is off: no TLS 1.2 cipher list"}
    ssl_conf_command Ciphersuites ${tls13.join(":")};
    ssl_session_tickets on;`;
}

export function nginxConfig(options: NginxConfigOptions): string {
  const server = `  server {
${nginxMtlsListen(options.port, options.pki, options.policy)}
    location = /v1/whoami {
      default_type application/json;
      return 200 ${quoted(options.whoamiBody)};
    }
    location = /v1/echo {
      client_max_body_size ${options.maxBodyBytes};
      client_body_buffer_size ${options.maxBodyBytes};
      default_type application/octet-stream;
      echo_read_request_body;
      echo_request_body;
    }
  }`;
  return nginxConf(options.dir, server, { head: `load_module ${ECHO_MODULE};\n` });
}
