/** One mTLS connection from the benchmark's own generators (Node's tls, same policy as our client). */
import { readFileSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";
import type { TlsPolicy } from "../../services/src/contract.ts";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";

export interface GeneratorTarget {
  port: number;
  policy: TlsPolicy;
  ca: string;
  cert: string;
  key: string;
}

export function connectMtls(target: GeneratorTarget): Promise<TLSSocket> {
  const files = {
    ca: readFileSync(target.ca),
    cert: readFileSync(target.cert),
    key: readFileSync(target.key),
  };
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port: target.port,
      ...files,
      ...tlsPolicyOptions(target.policy),
    });
    socket.setNoDelay(true);
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}
