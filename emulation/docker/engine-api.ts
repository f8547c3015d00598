/**
 * A minimal client for the Docker Engine API over its unix socket, with node:http only. The docker
 * provider talks to the same API (through the Go client), so the emulation sends the same calls:
 * container create / network connect / archive upload / start / inspect / update / stop / remove.
 *
 * Errors name the call and carry the daemon's own message, e.g.
 *   "Docker API POST /containers/create?name=x: 409 Conflict: Conflict. The container name ... is already in use"
 */
import http from "node:http";

/** DOCKER_HOST=unix:///path is honoured like the provider does; tcp hosts are not emulated. */
function dockerSocketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (!host) return "/var/run/docker.sock";
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  throw new Error(
    `docker emulation: DOCKER_HOST=${host} is not a unix socket; only unix sockets are supported`,
  );
}

export class DockerApiError extends Error {
  readonly status: number;
  constructor(call: string, status: number, message: string) {
    super(`Docker API ${call}: ${status} ${http.STATUS_CODES[status] ?? ""}: ${message}`);
    this.name = "DockerApiError";
    this.status = status;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A raw body (e.g. a tar archive), sent with `contentType`. */
  raw?: Buffer;
  contentType?: string;
  /** Statuses that are not errors for this call (e.g. 304 "already started", 404 on delete). */
  accept?: number[];
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

function pathWithQuery(path: string, query: RequestOptions["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** One API call. Resolves with the parsed JSON body (or text) on 2xx or an accepted status. */
export function dockerApi(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const fullPath = pathWithQuery(path, options.query);
  const call = `${method} ${fullPath}`;
  let body: Buffer | undefined;
  const headers: Record<string, string> = {};
  if (options.json !== undefined) {
    body = Buffer.from(JSON.stringify(options.json));
    headers["content-type"] = "application/json";
  } else if (options.raw) {
    body = options.raw;
    headers["content-type"] = options.contentType ?? "application/octet-stream";
  }
  if (body) headers["content-length"] = String(body.length);

  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        socketPath: dockerSocketPath(),
        method,
        path: fullPath,
        headers,
        timeout: options.timeoutMs ?? 120_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          if ((response.headers["content-type"] ?? "").includes("json") && text) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          if ((status >= 200 && status < 300) || options.accept?.includes(status)) {
            resolve({ status, body: parsed });
            return;
          }
          const message =
            typeof parsed === "object" && parsed !== null && "message" in parsed
              ? String((parsed as { message: unknown }).message)
              : text.trim();
          reject(new DockerApiError(call, status, message));
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error(`Docker API ${call}: timed out`)));
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
        reject(
          new Error(
            `Docker API ${call}: no Docker engine at ${dockerSocketPath()} (${error.code}); start one with scripts/docker-engine.sh`,
          ),
        );
        return;
      }
      reject(error);
    });
    request.end(body);
  });
}
