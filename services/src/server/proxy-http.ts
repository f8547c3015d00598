/**
 * `MTLS_UPSTREAM=http://host:port`: every request of an authenticated, authorized caller is
 * forwarded to the upstream over a keep-alive pool, bodies streamed both ways with backpressure
 * (nothing is buffered whole). The request path reaches this only through the same handler that
 * serves the built-in routes, after its allow-list check (see http-routes.ts): `forward(req, res)`
 * takes the request over, and the exchange is complete when `res` finishes (or closes).
 *
 * Headers on the way up: hop-by-hop headers (RFC 9110 §7.6.1: Connection and every header it
 * names, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade, and the proxy's own
 * Proxy-Authorization) are dropped; any x-forwarded-client-cert, Client-Cert or Client-Cert-Chain
 * the caller sent is dropped (sanitized, as Envoy does at the edge) and ours is added;
 * X-Forwarded-For gets the caller's address appended, X-Forwarded-Proto is set to https; Host is
 * passed on as the caller sent it. On the way down, hop-by-hop headers are dropped likewise.
 * The request is framed for the upstream as the caller framed it: Content-Length when it had one,
 * chunked when it was chunked, no body when it had none.
 *
 * The upstream client is undici's connection pool (upstream-pool.ts), driven through its low-level
 * dispatch API: no stream objects per request, the raw header lines rewritten once each way. On
 * Node's own http.request the client half cost as much CPU per proxied request as the whole https
 * server half (docs/BENCHMARKS.md, "Proxy paths").
 *
 * The upstream refusing or unreachable gives 502, no answer within MTLS_UPSTREAM_TIMEOUT_MS of
 * inactivity 504, both with a short JSON body, counted by reason and logged once per burst.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { createBurstLog } from "../burst-log.ts";
import type { Logger } from "../log.ts";
import type { ProxyConfig } from "../sidecar-config.ts";
import type { ConnectionState } from "./connection-gate.ts";
import { sendError } from "./http-routes.ts";
import {
  type ProxyMetrics,
  type UpstreamErrorReason,
  upstreamErrorReason,
  upstreamGaveNoAnswer,
} from "./proxy-metrics.ts";
import { createUpstreamPool, type UpstreamPool } from "./upstream-pool.ts";
import { type ClientCertHeaders, createClientCertHeaderCache } from "./xfcc.ts";

/** RFC 9110 §7.6.1 hop-by-hop fields, plus Proxy-Authorization/-Authenticate (meant for a proxy). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
  "trailer",
]);

/**
 * Request headers this proxy sets itself: identity headers (a caller's copies would be forged
 * identities), the X-Forwarded pair (rewritten), and Expect (the server has answered any
 * `100-continue` already, see http-routes.ts).
 */
const SET_BY_US = new Set([
  "x-forwarded-client-cert",
  "client-cert",
  "client-cert-chain",
  "x-forwarded-for",
  "x-forwarded-proto",
  "expect",
]);

export interface HttpForwarderOptions {
  config: ProxyConfig;
  metrics: ProxyMetrics;
  log: Logger;
  /** The server's own URI SAN (XFCC `By`), read per new connection so a reload applies. */
  ownUri: () => string | undefined;
}

export type Forward = (req: IncomingMessage, res: ServerResponse, state: ConnectionState) => void;

/** Lower-cased names a Connection header lists (hop-by-hop by that listing). */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(",") : value;
  const tokens = new Set<string>();
  for (const token of text.split(",")) {
    const name = token.trim().toLowerCase();
    if (name !== "") tokens.add(name);
  }
  return tokens;
}

/** The end-to-end lines of raw headers `[name, value, ...]`, without hop-by-hop ones and `drop`. */
function endToEnd(raw: readonly string[], connection: Set<string> | undefined, drop?: ReadonlySet<string>) {
  const out: string[] = [];
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || connection?.has(lower) || drop?.has(lower)) continue;
    out.push(name, raw[index + 1]!);
  }
  return out;
}

/** The upstream's raw header lines as the caller gets them: strings, hop-by-hop ones dropped. */
function responseLines(raw: Buffer[]): string[] {
  const lines = new Array<string>(raw.length);
  const connection: string[] = [];
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!.toString("latin1");
    const value = raw[index + 1]!.toString("latin1");
    lines[index] = name;
    lines[index + 1] = value;
    if (name.length === 10 && name.toLowerCase() === "connection") connection.push(value);
  }
  return endToEnd(lines, connection.length > 0 ? connectionTokens(connection) : undefined);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

const STATUS_FOR: Record<UpstreamErrorReason, { status: number; code: string; text: string }> = {
  connection_refused: { status: 502, code: "bad_gateway", text: "refused the connection" },
  name_not_resolved: { status: 502, code: "bad_gateway", text: "has a host name that does not resolve" },
  unreachable: { status: 502, code: "bad_gateway", text: "is unreachable" },
  timeout: { status: 504, code: "gateway_timeout", text: "did not answer in time" },
  reset: { status: 502, code: "bad_gateway", text: "closed the connection without an answer" },
  other: { status: 502, code: "bad_gateway", text: "failed" },
};

/** RFC 9110 §9.2.2: a proxy may retry these on a fresh connection when the first one fails unanswered. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/**
 * Upgrade requests (WebSocket, h2c) would need the connection itself, which this proxy does not
 * hand over: they get a clear 501 and the connection is closed, instead of hanging. A protocol
 * that needs the raw connection goes through MTLS_UPSTREAM=tcp://.
 */
export function refuseUpgrade(_req: IncomingMessage, socket: Duplex): void {
  const body = JSON.stringify({
    error: {
      status: 501,
      code: "upgrade_not_supported",
      message: "this proxy does not forward Upgrade (WebSocket) requests; use MTLS_UPSTREAM=tcp:// for them",
    },
  });
  socket.end(
    "HTTP/1.1 501 Not Implemented\r\ncontent-type: application/json\r\n" +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** What the headers added for a caller's connection say: the same for every request on it. */
interface ConnectionHeaders {
  identity: ClientCertHeaders | undefined;
  address: string;
}

export function createHttpForwarder(options: HttpForwarderOptions): { forward: Forward; close(): void } {
  const { config, metrics } = options;
  const { upstream } = config;
  const pool: UpstreamPool = createUpstreamPool(upstream, config.timeoutMs);
  const identityOf = createClientCertHeaderCache(options.ownUri, config.clientCertHeader);
  const perConnection = new WeakMap<TLSSocket, ConnectionHeaders>();
  const burst = createBurstLog(options.log, { failure: "upstream_error", recovered: "upstream_recovered" });
  const toUpstream = { direction: "to_upstream" } as const;
  const fromUpstream = { direction: "from_upstream" } as const;

  const connectionHeaders = (socket: TLSSocket): ConnectionHeaders => {
    let known = perConnection.get(socket);
    if (!known) {
      known = {
        identity: identityOf(socket),
        address: (socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
      };
      perConnection.set(socket, known);
    }
    return known;
  };

  const fail = (req: IncomingMessage, res: ServerResponse, error: Error) => {
    const reason = upstreamErrorReason(error);
    metrics.upstreamErrors.inc({ reason });
    burst.failure(reason, {
      upstream: upstream.address,
      code: (error as { code?: string }).code,
      message: error.message.split("\n")[0],
    });
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const { status, code, text } = STATUS_FOR[reason];
    // An unread rest of the request body would make the connection unusable.
    const close: Record<string, string> = req.complete ? {} : { connection: "close" };
    sendError(res, status, code, `the upstream ${upstream.address} ${text}`, close);
  };

  /** One exchange with the upstream; `retries`: how often a fresh connection may be tried again. */
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    headers: string[],
    body: boolean,
    retries: number,
  ) => {
    let answered = false;
    let abort: ((error?: Error) => void) | undefined;
    // The caller went away before its answer was complete: stop the upstream exchange too.
    const onClose = () => {
      if (!res.writableFinished) abort?.();
    };
    res.once("close", onClose);
    pool.dispatch(
      {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers,
        body: body ? req : null,
      },
      {
        onConnect(abortExchange) {
          abort = abortExchange;
          if (res.destroyed) abortExchange();
        },
        // undici passes the chunk written (its typings say a size): count either.
        onBodySent(chunk: number | Uint8Array) {
          metrics.bytes.inc(toUpstream, typeof chunk === "number" ? chunk : chunk.length);
        },
        onHeaders(status, rawHeaders, resume, statusText) {
          if (status < 200) return true; // 1xx informational: the final answer follows
          answered = true;
          burst.success();
          res.writeHead(status, statusText, responseLines(rawHeaders));
          res.on("drain", resume);
          return true;
        },
        onData(chunk) {
          metrics.bytes.inc(fromUpstream, chunk.length);
          // false pauses the upstream socket until the caller has taken what is buffered ('drain').
          return res.write(chunk);
        },
        onComplete() {
          res.off("close", onClose);
          res.end();
        },
        onError(error) {
          res.off("close", onClose);
          if (answered) {
            // Mid-response: the caller must see a cut answer, not a complete-looking one.
            res.destroy();
            return;
          }
          if (res.destroyed) return; // the caller left first; nothing to answer
          if (retries > 0 && !body && IDEMPOTENT.has(req.method ?? "") && upstreamGaveNoAnswer(error)) {
            send(req, res, headers, body, retries - 1); // the pooled connection was closed by the upstream
            return;
          }
          fail(req, res, error);
        },
      },
    );
  };

  // The allow-list decision was taken before forward() is called (http-routes.ts).
  const forward: Forward = (req, res) => {
    const socket = req.socket as TLSSocket;
    // Defence in depth: a connection whose certificate did not verify is never forwarded, even if
    // the checks before this call change.
    if (!socket.authorized) {
      socket.destroy();
      return;
    }
    const { identity, address } = connectionHeaders(socket);
    const headers = endToEnd(req.rawHeaders, connectionTokens(req.headers.connection), SET_BY_US);
    const forwardedFor = req.headers["x-forwarded-for"];
    headers.push("x-forwarded-for", forwardedFor ? `${forwardedFor}, ${address}` : address);
    headers.push("x-forwarded-proto", "https");
    if (identity) {
      headers.push("x-forwarded-client-cert", identity.xfcc);
      if (config.clientCertHeader) headers.push("client-cert", identity.clientCert);
    }
    const body = hasBody(req);
    if (!body) req.resume();
    send(req, res, headers, body, 1);
  };

  return { forward, close: () => void pool.destroy() };
}
