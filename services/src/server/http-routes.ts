/**
 * The HTTP API behind the mTLS listener: GET /v1/whoami, POST /v1/echo, and JSON errors for
 * everything else (403 for a peer the access policy refuses, 404, 405, 413; 429/503 for a connection
 * admission did not admit, see admission.ts). Every request is counted
 * by route and status and, unless the access log is off, logged with the peer's identity.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { pipeline } from "node:stream";
import { ROUTES } from "../contract.ts";
import type { Logger } from "../log.ts";
import type { AccessRefusal } from "./access-policy.ts";
import type { AdmissionRefusal } from "./admission.ts";
import { answerRefusal, type CertificateRefusal } from "./certificate-refusal.ts";
import type { ConnectionState } from "./connection-gate.ts";
import type { ServerMetrics } from "./metrics.ts";
import type { PeerIdentity } from "./peer-identity.ts";

export interface RouteOptions {
  stateOf: (socket: IncomingMessage["socket"]) => ConnectionState | undefined;
  /** The access policy's per-request check (server/policy.ts); undefined = may proceed. */
  authorize: (peer: PeerIdentity) => AccessRefusal | undefined;
  refusalOf: (socket: IncomingMessage["socket"]) => CertificateRefusal | undefined;
  /** A verified connection admission did not admit (client at its quota, every slot busy). */
  admissionRefusalOf?: (socket: IncomingMessage["socket"]) => AdmissionRefusal | undefined;
  maxBodyBytes: number;
  metrics: ServerMetrics;
  log: Logger;
  accessLog: boolean;
  /** Sidecar hook (MTLS_UPSTREAM=http://): forwards every allowed request instead of routing it. */
  forward?: (req: IncomingMessage, res: ServerResponse, state: ConnectionState) => void;
}

type Route = { path: string; method: "GET" | "POST" };
const ROUTE_TABLE: Route[] = [
  { path: ROUTES.whoami, method: "GET" },
  { path: ROUTES.echo, method: "POST" },
];

/** Why a request was refused, for its log line. */
const errorReasons = new WeakMap<ServerResponse, string>();
/** Which access-policy rule refused a request (`revoked`, `not_allowed`), for its log line. */
const refusalReasons = new WeakMap<ServerResponse, string>();

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  errorReasons.set(res, message);
  sendJson(res, status, { error: { status, code, message } }, headers);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  return query < 0 ? raw : raw.slice(0, query);
}

export function createRequestHandler(options: RouteOptions) {
  const { metrics, log } = options;

  const tooLarge = (res: ServerResponse, length: number | undefined) => {
    const size = length === undefined ? "more than" : `${length} bytes, over`;
    sendError(
      res,
      413,
      "payload_too_large",
      `the body is ${size} the limit of ${options.maxBodyBytes} bytes`,
      {
        connection: "close", // the unread rest of the body makes the connection unusable
      },
    );
  };

  const declaredLength = (req: IncomingMessage): number | undefined => {
    const header = req.headers["content-length"];
    return header === undefined ? undefined : Number(header);
  };

  const echo = (req: IncomingMessage, res: ServerResponse) => {
    const length = declaredLength(req);
    const contentType = req.headers["content-type"] ?? "application/octet-stream";
    if (length !== undefined) {
      if (length > options.maxBodyBytes) {
        tooLarge(res, length);
        return;
      }
      // Length known and within the limit: stream it back without buffering.
      res.writeHead(200, { "content-type": contentType, "content-length": length });
      pipeline(req, res, () => {});
      return;
    }
    // Chunked: buffer up to the limit so an oversized body still gets a proper 413.
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      if (res.headersSent) return;
      size += chunk.length;
      if (size > options.maxBodyBytes) {
        chunks.length = 0;
        tooLarge(res, undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (res.headersSent) return;
      const body = Buffer.concat(chunks, size);
      res.writeHead(200, { "content-type": contentType, "content-length": body.length });
      res.end(body);
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const refusal = options.refusalOf(req.socket);
    if (refusal) {
      // Rejected client certificate: say why and close; counted and logged as a handshake failure.
      answerRefusal(res, refusal);
      return;
    }
    const notAdmitted = options.admissionRefusalOf?.(req.socket);
    if (notAdmitted) {
      // Counted and logged (once per burst) by admission, not as a request.
      sendError(res, notAdmitted.status, notAdmitted.code, notAdmitted.message, {
        connection: "close",
        "retry-after": "1",
      });
      return;
    }
    const state = options.stateOf(req.socket);
    if (!state) {
      // Unreachable: a connection is either refused (above) or authenticated.
      req.socket.destroy();
      return;
    }
    const path = pathOf(req.url);
    const route = options.forward ? undefined : ROUTE_TABLE.find((candidate) => candidate.path === path);
    const routeLabel = options.forward ? "proxy" : (route?.path ?? "unmatched");
    res.once("finish", () => {
      const status = res.statusCode;
      metrics.requests.inc({ route: routeLabel, status: String(status) });
      if (!options.accessLog && status !== 403) return;
      const write = status === 403 ? log.warn : log.info;
      write("request", {
        peer: {
          commonName: state.peer.commonName,
          uri: state.peer.uris[0],
          serialNumber: state.peer.serialNumber,
        },
        remote: state.remoteAddress,
        method: req.method,
        path: path.length > 200 ? `${path.slice(0, 200)}...` : path,
        status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        reason: errorReasons.get(res),
        refusal: refusalReasons.get(res),
      });
    });

    // Access policy (policy file), checked at every request so that a revocation or an allow-list
    // change reaches kept-alive connections: 403, then the connection is closed (cut off).
    const accessRefusal = options.authorize(state.peer);
    if (accessRefusal) {
      metrics.accessRefusals.inc({ reason: accessRefusal.reason });
      refusalReasons.set(res, accessRefusal.reason);
      sendError(res, 403, accessRefusal.code, accessRefusal.message, { connection: "close" });
      return;
    }
    // Sidecar hook: after the allow-list, before the built-in routes.
    if (options.forward) {
      options.forward(req, res, state);
      return;
    }
    if (!route) {
      sendError(res, 404, "not_found", `no route ${path}`);
      return;
    }
    if (req.method !== route.method && !(route.method === "GET" && req.method === "HEAD")) {
      sendError(res, 405, "method_not_allowed", `${route.path} accepts ${route.method} only`, {
        allow: route.method === "GET" ? "GET, HEAD" : route.method,
      });
      return;
    }
    if (route.path === ROUTES.whoami) {
      sendJson(res, 200, {
        ...state.peer,
        protocol: state.protocol,
        cipher: state.cipher,
        sessionReused: state.resumed,
        // Which replica answered (the container's hostname: on Swarm, one per task).
        servedBy: hostname(),
      });
      return;
    }
    echo(req, res);
    return;
  };

  /** `Expect: 100-continue`: refuse an oversized body before the client sends it. */
  const checkContinue = (req: IncomingMessage, res: ServerResponse): void => {
    const length = declaredLength(req);
    const state = options.stateOf(req.socket);
    // Refused (rejected certificate, or the access policy says no): answered without the body.
    if (!state || options.authorize(state.peer) !== undefined) {
      handle(req, res);
      return;
    }
    // A proxied request's body limit is the upstream's business: only the built-in echo has one.
    if (
      !options.forward &&
      pathOf(req.url) === ROUTES.echo &&
      length !== undefined &&
      length > options.maxBodyBytes
    ) {
      handle(req, res); // answers 413 without reading the body
      return;
    }
    res.writeContinue();
    handle(req, res);
  };

  return { handle, checkContinue };
}
