/** Metrics of the client's local tunnel (names documented in docs/SERVICES.md, "Sidecar modes"). */
import { type Counter, type Gauge, Registry, registerIdentityMetrics } from "../metrics.ts";
import { ROUND_FAILURE_REASONS } from "./failure-reasons.ts";

export interface TunnelMetrics {
  registry: Registry;
  connections: Counter<"result">;
  failures: Counter<"reason">;
  open: Gauge;
  bytes: Counter<"direction">;
  resumed: Counter;
  refused: Counter;
  reloads: Counter<"result">;
}

export function createTunnelMetrics(
  certificateNotAfter: () => Date | undefined,
  ready: () => boolean,
): TunnelMetrics {
  const registry = new Registry();
  const connections = registry.counter(
    "mtls_tunnel_connections_total",
    "Local connections by result: success (carried over mTLS), failure (the mTLS connection could not be made), over_limit (closed at accept: MTLS_LOCAL_MAX_CONNECTIONS were open).",
    ["result"],
  );
  for (const result of ["success", "failure", "over_limit"]) connections.touch({ result });
  const failures = registry.counter(
    "mtls_tunnel_failures_total",
    "Local connections not carried, by reason.",
    ["reason"],
  );
  for (const reason of ROUND_FAILURE_REASONS) failures.touch({ reason });
  const open = registry.gauge(
    "mtls_tunnel_open_connections",
    "Tunnels open (local connection and its mTLS one).",
  );
  const bytes = registry.counter(
    "mtls_tunnel_bytes_total",
    "Bytes carried, by direction: sent (local to server) and received (server to local).",
    ["direction"],
  );
  for (const direction of ["sent", "received"]) bytes.touch({ direction });
  const resumed = registry.counter(
    "mtls_tunnel_sessions_resumed_total",
    "mTLS connections of the tunnel that resumed a TLS session (no full handshake).",
  );
  resumed.touch({});
  const refused = registry.counter(
    "mtls_tunnel_refused_connections_total",
    "Local connections reset unread because their source is outside MTLS_LOCAL_ALLOW_FROM.",
  );
  refused.touch({});
  const reloads = registerIdentityMetrics(registry, certificateNotAfter, ready);
  return { registry, connections, failures, open, bytes, resumed, refused, reloads };
}
