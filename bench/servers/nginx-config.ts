/**
 * nginx from Debian's packages, in the foreground pinned to a core, to our server's policy
 * (docs/BENCHMARKS.md, Method; nginxMtlsListen). `GET /v1/whoami` returns the very bytes our server
 * answered; `POST /v1/echo` uses the echo module, which buffers the whole body where ours streams it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TlsPolicy } from "../../services/src/contract.ts";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";
import { freePort } from "../../test/support/free-port.ts";
import type { PkiFiles } from "../pki/issue-pki.ts";
import { childrenOf } from "../system/processes.ts";
import { startPinnedServer } from "./server-under-test.ts";

export const ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

/** A whole nginx.conf for the run's directory `dir` and the port it listens on (startNginx). */
export type NginxConfig = (dir: string, port: number) => string;

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
  const tls12 = suites.filter((name) => !name.startsWith("TLS_"));
  return `    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${pki.serverCert};
    ssl_certificate_key ${pki.serverKey};
    ssl_client_certificate ${pki.ca};
    ssl_verify_client on;
    ssl_verify_depth 2;
    ssl_protocols ${policy === "modern" ? "TLSv1.3" : "TLSv1.2 TLSv1.3"};
    ${tls12.length > 0 ? `ssl_ciphers ${tls12.join(":")};` : "# TLS 1.2 is off: no TLS 1.2 cipher list"}
    ssl_conf_command Ciphersuites ${suites.filter((name) => name.startsWith("TLS_")).join(":")};
    ssl_session_tickets on;`;
}

/** nginx in place of our server's endpoints: the fixed whoami body, and the echo module. */
export const nginxConfig =
  (options: { pki: PkiFiles; policy: TlsPolicy; whoamiBody: string; maxBodyBytes: number }) =>
  (dir: string, port: number): string => {
    // A double-quoted nginx string; `$` would start a variable, so it is refused rather than escaped.
    if (options.whoamiBody.includes("$"))
      throw new Error("the fixed whoami body contains '$', which nginx would read as a variable");
    const body = `"${options.whoamiBody.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
    const server = `  server {
${nginxMtlsListen(port, options.pki, options.policy)}
    location = /v1/whoami {
      default_type application/json;
      return 200 ${body};
    }
    location = /v1/echo {
      client_max_body_size ${options.maxBodyBytes};
      client_body_buffer_size ${options.maxBodyBytes};
      default_type application/octet-stream;
      echo_read_request_body;
      echo_request_body;
    }
  }`;
    return nginxConf(dir, server, { head: `load_module ${ECHO_MODULE};\n` });
  };

type NginxOptions = { dir: string; core: number; pki: PkiFiles; policy?: TlsPolicy; config: NginxConfig };

/** nginx running `config(dir, port)`, written to `dir`/nginx.conf, for the case of `pki` and `policy`. */
export async function startNginx(options: NginxOptions) {
  const { dir, core, pki, policy = "modern" } = options;
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const confFile = join(dir, "nginx.conf");
  writeFileSync(confFile, options.config(dir, port));
  return startPinnedServer({
    ...{ kind: "nginx", what: `nginx (${confFile}; its error log is beside it)`, port, core, policy },
    keyAlgorithm: pki.keyAlgorithm,
    command: "nginx",
    args: ["-c", confFile, "-g", "daemon off;"],
    // The worker inherits the master's affinity; the master only waits for signals.
    pids: (master) => [master, ...childrenOf(master)],
  });
}
