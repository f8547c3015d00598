/** The server's metrics (names documented in docs/SERVICES.md). */
import { type Counter, type Gauge, Registry, registerIdentityMetrics } from "../metrics.ts";
import { ACCESS_REFUSAL_REASONS } from "./access-policy.ts";
import { HANDSHAKE_FAILURE_REASONS } from "./handshake-failures.ts";

export interface ServerMetrics {
  registry: Registry;
  handshakes: Counter<"result">;
  handshakeFailures: Counter<"reason">;
  requests: Counter<"route" | "status">;
  /** Requests refused by the access policy (revoked, not on the allow-list). */
  accessRefusals: Counter<"reason">;
  openConnections: Gauge;
  droppedConnections: Counter;
  reloads: Counter<"result">;
}

export function createServerMetrics(
  certificateNotAfter: () => Date | undefined,
  ready: () => boolean,
): ServerMetrics {
  const registry = new Registry();
  const handshakes = registry.counter(
    "mtls_handshakes_total",
    "TLS handshakes by result (success or failure).",
    ["result"],
  );
  const handshakeFailures = registry.counter(
    "mtls_handshake_failures_total",
    "Failed TLS handshakes by reason (client certificate verification included).",
    ["reason"],
  );
  for (const result of ["success", "failure"]) handshakes.touch({ result });
  for (const reason of HANDSHAKE_FAILURE_REASONS) handshakeFailures.touch({ reason });
  const requests = registry.counter(
    "mtls_requests_total",
    "HTTP requests on the mTLS listener by route and status.",
    ["route", "status"],
  );
  const accessRefusals = registry.counter(
    "mtls_access_refusals_total",
    "Requests answered 403 by the access policy, by reason (revoked, not_allowed).",
    ["reason"],
  );
  for (const reason of ACCESS_REFUSAL_REASONS) accessRefusals.touch({ reason });
  const openConnections = registry.gauge(
    "mtls_open_connections",
    "TCP connections open on the mTLS listener.",
  );
  const droppedConnections = registry.counter(
    "mtls_connections_dropped_total",
    "Connections refused because MTLS_MAX_CONNECTIONS were already open.",
  );
  droppedConnections.touch({});
  const reloads = registerIdentityMetrics(registry, certificateNotAfter, ready);
  return {
    registry,
    handshakes,
    handshakeFailures,
    requests,
    accessRefusals,
    openConnections,
    droppedConnections,
    reloads,
  };
}
