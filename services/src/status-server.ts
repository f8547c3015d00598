/**
 * The plain-HTTP status listener of both services: GET /healthz (the process runs), GET /readyz
 * (identity loaded and valid, listener up, not shutting down), GET /metrics (Prometheus text).
 * It binds to loopback by default: it carries no secrets, but it is not meant for the network.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ListenAddress } from "./config.ts";
import { ENV, STATUS_ROUTES } from "./contract.ts";
import { listen } from "./lifecycle.ts";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "./metrics.ts";

export interface Readiness {
  ready: boolean;
  /** Why not ready, in words (empty when ready). */
  reasons: string[];
  /** Extra facts for the /readyz body, ready or not (the server's access policy state). */
  details?: Record<string, unknown>;
}

export interface StatusServerOptions {
  listen: ListenAddress;
  registry: Registry;
  readiness: () => Readiness;
}

export interface StatusServer {
  server: Server;
  address: AddressInfo;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function handleStatusRequest(
  options: StatusServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    json(res, 405, { error: { status: 405, code: "method_not_allowed", message: "GET only" } });
    return;
  }
  switch (path) {
    case STATUS_ROUTES.healthz:
      json(res, 200, { status: "ok" });
      return;
    case STATUS_ROUTES.readyz: {
      const readiness = options.readiness();
      if (readiness.ready) json(res, 200, { status: "ready", ...readiness.details });
      else json(res, 503, { status: "not_ready", reasons: readiness.reasons, ...readiness.details });
      return;
    }
    case STATUS_ROUTES.metrics: {
      const text = options.registry.render();
      res.writeHead(200, {
        "content-type": PROMETHEUS_CONTENT_TYPE,
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
      return;
    }
    default:
      json(res, 404, { error: { status: 404, code: "not_found", message: `no route ${path}` } });
      return;
  }
}

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) =>
    handleStatusRequest(options, req, res),
  );
  // A failure names MTLS_STATUS_LISTEN (exit 5), not some other listener.
  const address = await listen(server, options.listen, ENV.statusListen);
  return {
    server,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
