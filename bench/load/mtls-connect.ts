/**
 * The benchmark's own generators' mTLS connections, with the bench client's identity and our
 * client's TLS policy: a raw TLS socket (the tunnel) or undici's HTTP/1.1 client over them.
 */
import { readFileSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";
import { Pool } from "undici";
import { ROUTES, type TlsPolicy } from "../../services/src/contract.ts";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";

export interface GeneratorTarget {
  port: number;
  policy: TlsPolicy;
  ca: string;
  cert: string;
  key: string;
}

function tlsOf(target: GeneratorTarget) {
  const files = {
    ca: readFileSync(target.ca),
    cert: readFileSync(target.cert),
    key: readFileSync(target.key),
  };
  return { ...files, ...tlsPolicyOptions(target.policy) };
}

export function connectMtls(target: GeneratorTarget): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: target.port, ...tlsOf(target) });
    socket.setNoDelay(true);
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** An HTTP/1.1 pool of up to `connections` kept-alive mTLS connections, one request at a time each. */
export function mtlsPool(target: GeneratorTarget, connections = 1): Pool {
  return new Pool(`https://127.0.0.1:${target.port}`, { connections, pipelining: 1, connect: tlsOf(target) });
}

/** One `GET /v1/whoami` with the benchmark client's identity: the body nginx will serve verbatim. */
export async function fetchWhoami(target: GeneratorTarget): Promise<string> {
  const pool = mtlsPool(target);
  try {
    const { statusCode, body } = await pool.request({ method: "GET", path: ROUTES.whoami });
    if (statusCode !== 200) throw new Error(`GET ${ROUTES.whoami} answered ${statusCode}`);
    return await body.text();
  } finally {
    await pool.destroy();
  }
}
