/**
 * The reverse proxy's connection pool to its upstream: undici's `Pool` (the HTTP/1.1 client Node's
 * own fetch is built on), kept-alive connections reused newest-first, no pipelining (one request
 * at a time per connection, as a caller's own connection carries them).
 *
 * Why undici and not `http.request`: per proxied request, Node's HTTP client builds a
 * ClientRequest, an IncomingMessage, an agent socket lease and their streams; undici's dispatch
 * API parses the answer straight into callbacks. Measured with the bench's proxy paths: see
 * docs/BENCHMARKS.md, "Proxy paths".
 *
 * undici is vendored: services/vendor/undici holds the pool's module and the files it requires,
 * copied from the version package.json pins (scripts/vendor-undici.ts), so the image carries it
 * without a registry or an npm install at build time (services/Dockerfile), and `npm run server`
 * on a host loads the same copy by the same relative path. Only the pool's module is loaded (not
 * undici's index, which brings fetch, WebSocket and caches along, about 9 MiB more resident
 * memory), and only when MTLS_UPSTREAM=http:// is set.
 *
 * Timeouts: MTLS_UPSTREAM_TIMEOUT_MS bounds connecting, waiting for the answer's head (refreshed
 * while a request body is still being sent) and each pause inside the answer's body.
 */
import { createRequire } from "node:module";
import type { Upstream } from "../sidecar-config.ts";

type PoolClass = typeof import("undici").Pool;
export type UpstreamPool = InstanceType<PoolClass>;

const require = createRequire(import.meta.url);

/** The one module of undici this server loads, relative to the package (and to services/vendor/undici). */
export const UNDICI_POOL_MODULE = "lib/dispatcher/pool.js";

export function createUpstreamPool(upstream: Upstream, timeoutMs: number): UpstreamPool {
  const Pool = require(`../../vendor/undici/${UNDICI_POOL_MODULE}`) as PoolClass;
  const host = upstream.host.includes(":") ? `[${upstream.host}]` : upstream.host;
  return new Pool(`http://${host}:${upstream.port}`, {
    pipelining: 1,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // Idle connections: undici's defaults (4 s, or what the upstream's Keep-Alive: timeout= says,
    // less a margin), short enough that the upstream rarely closes one as it is being reused.
  });
}
