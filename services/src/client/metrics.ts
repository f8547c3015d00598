/** The client's metrics (names documented in docs/SERVICES.md). */
import { type Counter, type Gauge, Registry, registerIdentityMetrics } from "../metrics.ts";
import { ROUND_FAILURE_REASONS } from "./failure-reasons.ts";

export interface ClientMetrics {
  registry: Registry;
  rounds: Counter<"result">;
  roundFailures: Counter<"reason">;
  consecutiveFailures: Gauge;
  lastSuccess: Gauge;
  reloads: Counter<"result">;
}

export function createClientMetrics(
  certificateNotAfter: () => Date | undefined,
  ready: () => boolean,
): ClientMetrics {
  const registry = new Registry();
  const rounds = registry.counter("mtls_client_rounds_total", "Client rounds (whoami + echo) by result.", [
    "result",
  ]);
  for (const result of ["success", "failure"]) rounds.touch({ result });
  const roundFailures = registry.counter(
    "mtls_client_round_failures_total",
    "Failed client rounds by reason.",
    ["reason"],
  );
  for (const reason of ROUND_FAILURE_REASONS) roundFailures.touch({ reason });
  const consecutiveFailures = registry.gauge(
    "mtls_client_consecutive_failures",
    "Rounds failed in a row since the last success (drives the backoff).",
  );
  const lastSuccess = registry.gauge(
    "mtls_client_last_success_timestamp_seconds",
    "Unix time of the last successful round (0 = none yet).",
  );
  const reloads = registerIdentityMetrics(registry, certificateNotAfter, ready);
  return { registry, rounds, roundFailures, consecutiveFailures, lastSuccess, reloads };
}
