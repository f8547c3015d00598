/**
 * In-test TLS/HTTPS callers for the server under test: a request with chosen credentials and TLS
 * options (new connection unless an agent is given) that reports status, body and what the
 * connection negotiated, or the error a refused caller sees.
 */
import { type Agent, request } from "node:https";
import type { ConnectionOptions, TLSSocket } from "node:tls";

export interface Caller {
  ca: string;
  cert?: string;
  key?: string;
}

export interface CallOptions {
  port: number;
  caller: Caller;
  method?: string;
  path?: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  tls?: ConnectionOptions;
  agent?: Agent;
  servername?: string;
  timeoutMs?: number;
}

export interface CallResult {
  status: number;
  body: string;
  protocol: string | null;
  cipher: string | null;
  /** Serial of the server certificate this connection saw (lowercase hex). */
  serverSerial: string;
  reusedSocket: boolean;
  headers: Record<string, string | string[] | undefined>;
}

export function callServer(options: CallOptions): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port: options.port,
      method: options.method ?? "GET",
      path: options.path ?? "/v1/whoami",
      servername: options.servername ?? "localhost",
      agent: options.agent ?? false,
      ca: options.caller.ca,
      cert: options.caller.cert,
      key: options.caller.key,
      headers: options.headers,
      ...options.tls,
    });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error("test call timed out"), { code: "ETEST_TIMEOUT" })),
      options.timeoutMs ?? 5000,
    );
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on("response", (res) => {
      const socket = res.socket as TLSSocket;
      const facts = {
        protocol: socket.getProtocol(),
        cipher: socket.getCipher()?.name ?? null,
        serverSerial: (socket.getPeerCertificate().serialNumber ?? "").toUpperCase(),
        reusedSocket: req.reusedSocket,
      };
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          headers: res.headers,
          ...facts,
        });
      });
    });
    req.end(options.body);
  });
}

/** Resolves with the error the call ends with; fails the test if the call succeeds. */
export async function expectCallRefused(options: CallOptions): Promise<Error & { code?: string }> {
  try {
    const result = await callServer(options);
    throw Object.assign(new Error(`expected the call to be refused, got HTTP ${result.status}`), {
      code: "UNEXPECTED_SUCCESS",
    });
  } catch (error) {
    if ((error as { code?: string }).code === "UNEXPECTED_SUCCESS") throw error;
    return error as Error & { code?: string };
  }
}
