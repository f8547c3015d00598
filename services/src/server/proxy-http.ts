/**
 * `MTLS_UPSTREAM=http://host:port`: every request of an authenticated, authorized caller is
 * forwarded to the upstream over a keep-alive pool, bodies streamed both ways with backpressure
 * (nothing is buffered whole). The request path reaches this only through the same handler that
 * serves the built-in routes, after its allow-list check (see http-routes.ts).
 *
 * Headers on the way up: hop-by-hop headers (RFC 9110 §7.6.1: Connection and every header it
 * names, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade, and the proxy's own
 * Proxy-Authorization) are dropped; any x-forwarded-client-cert, Client-Cert or Client-Cert-Chain
 * the caller sent is dropped (sanitized, as Envoy does at the edge) and ours is added;
 * X-Forwarded-For gets the caller's address appended, X-Forwarded-Proto is set to https; Host is
 * passed on as the caller sent it. On the way down, hop-by-hop headers are dropped likewise.
 *
 * The upstream refusing or unreachable gives 502, no answer within MTLS_UPSTREAM_TIMEOUT_MS of
 * inactivity 504, both with a short JSON body, counted by reason and logged once per burst.
 */
import {
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
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
  UpstreamTimeoutError,
  upstreamErrorReason,
} from "./proxy-metrics.ts";
import { createClientCertHeaderCache } from "./xfcc.ts";

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

/** Identity headers only this proxy may set: a caller's copies would be forged identities. */
const IDENTITY_HEADERS = new Set(["x-forwarded-client-cert", "client-cert", "client-cert-chain"]);

export interface HttpForwarderOptions {
  config: ProxyConfig;
  metrics: ProxyMetrics;
  log: Logger;
  /** The server's own URI SAN (XFCC `By`), read per new connection so a reload applies. */
  ownUri: () => string | undefined;
}

export type Forward = (req: IncomingMessage, res: ServerResponse, state: ConnectionState) => void;

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  return new Set(
    text
      .split(",")
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== ""),
  );
}

/** The end-to-end headers of a message: without hop-by-hop ones and those Connection names. */
function endToEnd(headers: IncomingHttpHeaders, drop: ReadonlySet<string> = new Set()): IncomingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function clientIp(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

const STATUS_FOR: Record<UpstreamErrorReason, { status: number; code: string; text: string }> = {
  connection_refused: { status: 502, code: "bad_gateway", text: "refused the connection" },
  name_not_resolved: { status: 502, code: "bad_gateway", text: "has a host name that does not resolve" },
  unreachable: { status: 502, code: "bad_gateway", text: "is unreachable" },
  timeout: { status: 504, code: "gateway_timeout", text: "did not answer in time" },
  reset: { status: 502, code: "bad_gateway", text: "closed the connection without an answer" },
  other: { status: 502, code: "bad_gateway", text: "failed" },
};

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

export function createHttpForwarder(options: HttpForwarderOptions): { forward: Forward; close(): void } {
  const { config, metrics } = options;
  const { upstream } = config;
  const agent = new Agent({ keepAlive: true, scheduling: "lifo", maxFreeSockets: 256 });
  const headersOf = createClientCertHeaderCache(options.ownUri, config.clientCertHeader);
  const burst = createBurstLog(options.log, { failure: "upstream_error", recovered: "upstream_recovered" });

  // The allow-list decision was taken before forward() is called (http-routes.ts).
  const forward: Forward = (req, res) => {
    // Defence in depth: a connection whose certificate did not verify is never forwarded, even if
    // the checks before this call change.
    if (!(req.socket as TLSSocket).authorized) {
      req.socket.destroy();
      return;
    }
    const identity = headersOf(req.socket as TLSSocket);
    const headers = endToEnd(req.headers, IDENTITY_HEADERS);
    // The server has answered any `Expect: 100-continue` already (see http-routes.ts).
    delete headers.expect;
    const forwardedFor = req.headers["x-forwarded-for"];
    headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${clientIp(req)}` : clientIp(req);
    headers["x-forwarded-proto"] = "https";
    if (identity) {
      headers["x-forwarded-client-cert"] = identity.xfcc;
      if (config.clientCertHeader) headers["client-cert"] = identity.clientCert;
    }
    send(req, res, headers, hasBody(req) ? 0 : 1);
  };

  /** `retries`: how often a stale pooled connection may be replaced (only without a body). */
  const send = (req: IncomingMessage, res: ServerResponse, headers: IncomingHttpHeaders, retries: number) => {
    const upstreamReq = request({
      agent,
      host: upstream.host,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers,
      // Socket inactivity, connecting included: an upstream that accepts and never answers.
      timeout: config.timeoutMs,
    });
    let answered = false;
    upstreamReq.on("timeout", () => upstreamReq.destroy(new UpstreamTimeoutError()));
    upstreamReq.on("response", (upstreamRes) => {
      answered = true;
      burst.success();
      const responseHeaders = endToEnd(upstreamRes.headers);
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders);
      upstreamRes.on("data", (chunk: Buffer) =>
        metrics.bytes.inc({ direction: "from_upstream" }, chunk.length),
      );
      upstreamRes.pipe(res);
      // The upstream's body ended early: the caller must see a cut answer, not a complete-looking one.
      upstreamRes.once("close", () => {
        if (!upstreamRes.complete) res.destroy();
      });
      upstreamRes.on("error", () => res.destroy());
    });
    upstreamReq.on("error", (error) => {
      if (answered) {
        // Mid-response: the caller must see a cut answer, not a complete-looking one.
        res.destroy();
        return;
      }
      if (retries > 0 && upstreamReq.reusedSocket && upstreamErrorReason(error) === "reset") {
        send(req, res, headers, retries - 1); // the pooled connection was closed by the upstream
        return;
      }
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
    });
    // The caller went away before its answer was complete: stop the upstream exchange too.
    const onClose = () => {
      if (!res.writableFinished) upstreamReq.destroy();
    };
    res.once("close", onClose);
    upstreamReq.once("close", () => res.off("close", onClose));
    if (hasBody(req)) {
      req.on("data", (chunk: Buffer) => metrics.bytes.inc({ direction: "to_upstream" }, chunk.length));
      req.pipe(upstreamReq);
    } else {
      upstreamReq.end();
      req.resume();
    }
  };

  return { forward, close: () => agent.destroy() };
}
