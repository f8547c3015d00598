/**
 * `openssl s_time`: full handshakes (`-new`) or resumed ones (`-reuse`), each connection
 * authenticating with the client certificate and fetching a page (GET /v1/whoami by default), so a
 * connection only counts once the server has verified the client and answered. One s_time process
 * is sequential, so a few run in parallel on the load core to keep the server busy.
 */
import { ROUTES, type TlsPolicy } from "../../services/src/contract.ts";
import type { PkiFiles } from "../pki/pki.ts";
import { runPinned } from "../system/processes.ts";

export interface STimeResult {
  connections: number;
  /** Connections s_time marked as resumed ('r'). */
  resumed: number;
  perSecond: number;
}

/** TLS 1.3 for the modern policy; the intermediate policy is measured on what it adds, TLS 1.2. */
export const protocolOf = (policy: TlsPolicy) => (policy === "modern" ? "TLSv1.3" : "TLSv1.2");

export function parseSTime(stdout: string): { connections: number; resumed: number } {
  const summary = /^(\d+) connections in [\d.]+s;/m.exec(stdout);
  if (!summary) throw new Error(`s_time printed no "N connections in" summary:\n${stdout.slice(-500)}`);
  // One progress character per connection: 'r' resumed, '*' (or a version letter) full.
  const progress = stdout
    .split("\n")
    .filter((line) => /^[*rt3]+$/.test(line))
    .join("");
  return { connections: Number(summary[1]), resumed: [...progress].filter((c) => c === "r").length };
}

export async function runSTime(options: {
  core: number;
  port: number;
  pki: PkiFiles;
  policy: TlsPolicy;
  mode: "new" | "reuse";
  seconds: number;
  processes: number;
  path?: string;
}): Promise<STimeResult> {
  const { pki, port } = options;
  const args = `s_time -connect 127.0.0.1:${port} -${options.mode} -time ${options.seconds}`.split(" ");
  args.push("-www", options.path ?? ROUTES.whoami, "-cert", pki.clientCert, "-key", pki.clientKey);
  args.push("-CAfile", pki.ca);
  args.push("-verify", "2", protocolOf(options.policy) === "TLSv1.3" ? "-tls1_3" : "-tls1_2");
  const what = `openssl s_time -${options.mode} against port ${port}`;
  const runs = await Promise.all(
    Array.from({ length: options.processes }, () => runPinned(options.core, "openssl", args, what)),
  );
  const total = { connections: 0, resumed: 0, perSecond: 0 };
  for (const run of runs) {
    const parsed = parseSTime(run.stdout);
    if (parsed.connections === 0)
      throw new Error(`s_time made no connection to port ${port}:\n${run.stderr}`);
    total.connections += parsed.connections;
    total.resumed += parsed.resumed;
    total.perSecond += parsed.connections / run.wallSeconds;
  }
  return total;
}
