/** The server's metrics (names documented in docs/SERVICES.md). */
import { type Counter, type Gauge, Registry, registerIdentityMetrics } from "../metrics.ts";
import { ACCESS_REFUSAL_REASONS } from "./access-policy.ts";
import { ADMISSION_REFUSAL_REASONS, CONNECTION_CLOSE_REASONS } from "./admission.ts";
import { HANDSHAKE_FAILURE_REASONS } from "./handshake-failures.ts";

/** What admission (admission.ts) counts: connections refused, and connections the server closed, by budget and reason. */
export interface ConnectionMetrics {
  openConnections: Gauge;
  droppedConnections: Counter;
  refused: Counter<"budget" | "reason">;
  closed: Counter<"budget" | "reason">;
}

export interface ServerMetrics {
  registry: Registry;
  handshakes: Counter<"result">;
  handshakeFailures: Counter<"reason">;
  requests: Counter<"route" | "status">;
  /** Requests refused by the access policy (revoked, not on the allow-list). */
  accessRefusals: Counter<"reason">;
  connections: ConnectionMetrics;
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
    "Connections refused by the listener's hard limit (twice MTLS_MAX_CONNECTIONS: a backstop; the budgets act first).",
  );
  droppedConnections.touch({});
  const refused = registry.counter(
    "mtls_connections_refused_total",
    "Verified connections not admitted, by budget and reason (per_client_quota, verified_full).",
    ["budget", "reason"],
  );
  for (const reason of ADMISSION_REFUSAL_REASONS) refused.touch({ budget: "verified", reason });
  const closed = registry.counter(
    "mtls_connections_closed_total",
    "Connections the server closed of its own accord, by budget and reason (eviction, reclaim, age, expiry, policy).",
    ["budget", "reason"],
  );
  for (const [budget, reasons] of Object.entries(CONNECTION_CLOSE_REASONS)) {
    for (const reason of reasons) closed.touch({ budget, reason });
  }
  const reloads = registerIdentityMetrics(registry, certificateNotAfter, ready);
  return {
    registry,
    handshakes,
    handshakeFailures,
    requests,
    accessRefusals,
    connections: { openConnections, droppedConnections, refused, closed },
    reloads,
  };
}
