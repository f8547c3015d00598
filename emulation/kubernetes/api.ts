/**
 * A minimal client for the Kubernetes API server with node:https only: JSON requests, the
 * server-side apply and JSON patch content types, and watches (one JSON event per line). The
 * plugin talks to the same API through client-go, so the emulation sends the same calls.
 *
 * Errors carry the API server's own Status message, as client-go's StatusError prints it, e.g.
 *   `secrets "app-tls" already exists` or `Deployment.apps "web" is invalid: spec.selector: ...`
 */
import type { IncomingMessage } from "node:http";
import https from "node:https";
import type { Connection } from "./kubeconfig.ts";

export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & { name?: string; namespace?: string; resourceVersion?: string };
};

export class KubeApiError extends Error {
  /** The HTTP status (404, 409, 422, ...). */
  readonly code: number;
  /** The Status reason: NotFound, AlreadyExists, Conflict, Invalid, ... */
  readonly reason: string;
  constructor(message: string, code: number, reason: string) {
    super(message);
    this.name = "KubeApiError";
    this.code = code;
    this.reason = reason;
  }
}

/** The server did not answer at all (refused, reset, TLS failure): the plugin's "unreachable". */
export class KubeUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeUnreachableError";
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** Statuses that are not errors here (e.g. 404 on delete). */
  accept?: number[];
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject;
}

function withQuery(path: string, query: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {}))
    if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export class KubeApi {
  private readonly agent: https.Agent;
  private readonly base: URL;

  readonly connection: Connection;

  constructor(connection: Connection) {
    this.connection = connection;
    this.base = new URL(connection.server);
    this.agent = new https.Agent({
      ca: connection.ca,
      cert: connection.cert,
      key: connection.key,
      rejectUnauthorized: !connection.insecureSkipVerify,
      keepAlive: true,
    });
  }

  private headers(contentType: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": "mtls-pki-emulation",
    };
    if (contentType) headers["Content-Type"] = contentType;
    if (this.connection.token) headers.Authorization = `Bearer ${this.connection.token}`;
    return headers;
  }

  private open(method: string, path: string, options: RequestOptions, signal?: AbortSignal) {
    const url = new URL(withQuery(path, options.query), this.base);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const contentType = body === undefined ? undefined : (options.contentType ?? "application/json");
    const headers = this.headers(contentType);
    // Node neither chunks nor sizes a DELETE's body by itself: without a length the server would
    // read the body as the next request on the kept-alive connection.
    if (body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(body));
    const req = https.request(url, { method, agent: this.agent, headers, signal });
    return { req, url, body };
  }

  /** One call; resolves with the parsed body on 2xx or an accepted status. */
  request<T = KubeObject>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      const { req, url, body } = this.open(method, path, options);
      req.on("response", async (res) => {
        try {
          const { text, parsed } = await readBody(res);
          const status = res.statusCode ?? 0;
          if ((status >= 200 && status < 300) || options.accept?.includes(status)) resolve(parsed as T);
          else reject(statusError(status, parsed, text, `${method} ${url.pathname}${url.search}`));
        } catch (error) {
          reject(error);
        }
      });
      req.on("error", (err) => reject(new KubeUnreachableError(`${method} "${url.href}": ${err.message}`)));
      req.end(body);
    });
  }

  /**
   * Watches a collection from `resourceVersion` and calls `onEvent` for each event until it
   * returns true (resolves true), the signal aborts, or the server ends the stream (resolves
   * false: the caller lists again and resumes).
   */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => boolean,
    signal: AbortSignal,
  ): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const { req, url } = this.open("GET", path, { query: { ...query, watch: true } }, signal);
      let done = false;
      const finish = (value: boolean) => {
        if (done) return;
        done = true;
        req.destroy();
        resolve(value);
      };
      req.on("response", (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          readBody(res).then(
            ({ text, parsed }) =>
              reject(statusError(res.statusCode ?? 0, parsed, text, `GET ${url.pathname}${url.search}`)),
            reject,
          );
          return;
        }
        let buffered = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffered += chunk;
          let newline = buffered.indexOf("\n");
          while (newline >= 0 && !done) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            newline = buffered.indexOf("\n");
            if (!line) continue;
            const event = JSON.parse(line) as WatchEvent;
            // 410 Gone (the resourceVersion is too old): end the stream, the caller lists again.
            if (event.type === "ERROR") finish(false);
            else if (onEvent(event)) finish(true);
          }
        });
        res.on("end", () => finish(false));
        res.on("error", () => finish(false));
      });
      req.on("error", (err) => {
        if (done) return;
        if (signal.aborted) finish(false);
        else reject(new KubeUnreachableError(`GET "${url.href}": ${err.message}`));
      });
      req.end();
    });
  }
}

/** A response's whole body as text, and parsed as JSON where it is JSON (an empty body: `{}`). */
function readBody(res: IncomingMessage): Promise<{ text: string; parsed: unknown }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("error", reject);
    res.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        // not JSON: keep the text for the error
      }
      resolve({ text, parsed });
    });
  });
}

/** The API server's Status message; an answer that is not a Status (a proxy, a malformed call) names the call. */
function statusError(code: number, parsed: unknown, text: string, call: string): KubeApiError {
  const status = (typeof parsed === "object" && parsed !== null ? parsed : {}) as {
    message?: string;
    reason?: string;
  };
  const message = status.message ?? `${call}: ${text.trim() || `HTTP ${code}`}`;
  return new KubeApiError(message, code, status.reason ?? "");
}
