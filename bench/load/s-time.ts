/**
 * `openssl s_time`: full handshakes (`-new`) or resumed ones (`-reuse`), each connection
 * authenticating with the client certificate and fetching `GET /v1/whoami`, so a connection only
 * counts once the server has verified the client and answered. One s_time process is sequential
 * (one connection at a time), so a few run in parallel on the load core to keep the server busy.
 */
import type { TlsPolicy } from "../../services/src/contract.ts";
import { ROUTES } from "../../services/src/contract.ts";
import type { PkiFiles } from "../pki/pki.ts";
import { expectSuccess, runPinned } from "../system/processes.ts";

export interface STimeOptions {
  core: number;
  port: number;
  pki: PkiFiles;
  policy: TlsPolicy;
  mode: "new" | "reuse";
  seconds: number;
  processes: number;
  /** The page each connection fetches; GET /v1/whoami unless given (the proxies: their upstream's). */
  path?: string;
}

export interface STimeResult {
  connections: number;
  /** Connections s_time marked as resumed ('r'). */
  resumed: number;
  perSecond: number;
}

/** TLS 1.3 for the modern policy; the intermediate policy is measured on what it adds, TLS 1.2. */
export function protocolOf(policy: TlsPolicy): "TLSv1.3" | "TLSv1.2" {
  return policy === "modern" ? "TLSv1.3" : "TLSv1.2";
}

export function parseSTime(stdout: string): { connections: number; resumed: number } {
  const summary = /^(\d+) connections in [\d.]+s;/m.exec(stdout);
  if (!summary) throw new Error(`s_time printed no "N connections in" summary:\n${stdout.slice(-500)}`);
  // One progress character per connection: 'r' resumed, '*' (or a version letter) full.
  const progress = stdout
    .split("\n")
    .filter((line) => /^[*rt3]+$/.test(line))
    .join("");
  const resumed = [...progress].filter((c) => c === "r").length;
  return { connections: Number(summary[1]), resumed };
}

export async function runSTime(options: STimeOptions): Promise<STimeResult> {
  const args = [
    "s_time",
    "-connect",
    `127.0.0.1:${options.port}`,
    `-${options.mode}`,
    "-time",
    String(options.seconds),
    "-www",
    options.path ?? ROUTES.whoami,
    "-cert",
    options.pki.clientCert,
    "-key",
    options.pki.clientKey,
    "-CAfile",
    options.pki.ca,
    "-verify",
    "2",
    protocolOf(options.policy) === "TLSv1.3" ? "-tls1_3" : "-tls1_2",
  ];
  const runs = await Promise.all(
    Array.from({ length: options.processes }, () => runPinned(options.core, "openssl", args)),
  );
  let connections = 0;
  let resumed = 0;
  let perSecond = 0;
  for (const run of runs) {
    expectSuccess(`openssl s_time -${options.mode} against port ${options.port}`, run);
    const parsed = parseSTime(run.stdout);
    if (parsed.connections === 0)
      throw new Error(`s_time made no connection to port ${options.port}:\n${run.stderr}`);
    connections += parsed.connections;
    resumed += parsed.resumed;
    perSecond += parsed.connections / run.wallSeconds;
  }
  return { connections, resumed, perSecond };
}
