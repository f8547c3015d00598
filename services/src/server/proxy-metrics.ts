/** Metrics of the server's proxy modes (names documented in docs/SERVICES.md, "Sidecar modes"). */
import type { Counter, Gauge, Registry } from "../metrics.ts";

/** Why the upstream could not be used; a metric label and the `reason` of `upstream_error` lines. */
export const UPSTREAM_ERROR_REASONS = [
  "connection_refused",
  "name_not_resolved",
  "unreachable",
  "timeout",
  "reset",
  "other",
] as const;
export type UpstreamErrorReason = (typeof UPSTREAM_ERROR_REASONS)[number];

export function upstreamErrorReason(error: unknown): UpstreamErrorReason {
  const code = String((error as { code?: unknown }).code ?? "");
  switch (code) {
    case "ECONNREFUSED":
      return "connection_refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "name_not_resolved";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EHOSTDOWN":
    case "ENETDOWN":
      return "unreachable";
    case "ETIMEDOUT":
    case "ERR_MTLS_UPSTREAM_TIMEOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "timeout";
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
    case "UND_ERR_SOCKET": // undici: the upstream closed the connection ("other side closed")
      return "reset";
    default:
      return "other";
  }
}

export class UpstreamTimeoutError extends Error {
  override name = "UpstreamTimeoutError";
  readonly code = "ERR_MTLS_UPSTREAM_TIMEOUT";
}

/** The upstream closed or reset the connection before any answer: a pooled one it had let go. */
export function upstreamGaveNoAnswer(error: unknown): boolean {
  return upstreamErrorReason(error) === "reset";
}

export interface ProxyMetrics {
  upstreamErrors: Counter<"reason">;
  /** tcp:// tunnels by result: `forwarded`, `forbidden`, `upstream_error`. */
  tunnels: Counter<"result">;
  openTunnels: Gauge;
  bytes: Counter<"direction">;
}

export function registerProxyMetrics(registry: Registry): ProxyMetrics {
  const upstreamErrors = registry.counter(
    "mtls_upstream_errors_total",
    "Requests (http://) or connections (tcp://) the upstream could not take, by reason.",
    ["reason"],
  );
  for (const reason of UPSTREAM_ERROR_REASONS) upstreamErrors.touch({ reason });
  const tunnels = registry.counter(
    "mtls_proxy_tunnels_total",
    "tcp:// mode: authenticated connections by result (forwarded, forbidden, upstream_error).",
    ["result"],
  );
  for (const result of ["forwarded", "forbidden", "upstream_error"]) tunnels.touch({ result });
  const openTunnels = registry.gauge("mtls_proxy_open_tunnels", "tcp:// mode: tunnels open to the upstream.");
  const bytes = registry.counter(
    "mtls_proxy_bytes_total",
    "Payload bytes carried between callers and the upstream, by direction (to_upstream, from_upstream).",
    ["direction"],
  );
  for (const direction of ["to_upstream", "from_upstream"]) bytes.touch({ direction });
  return { upstreamErrors, tunnels, openTunnels, bytes };
}
