/**
 * Capped exponential backoff with jitter: after the n-th consecutive failure wait between half and
 * all of min(max, initial * 2^(n-1)). The random half spreads clients that failed together (the
 * server restarted) so they do not all come back in the same millisecond.
 */
export function backoffDelay(
  consecutiveFailures: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, consecutiveFailures - 1);
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(exponent, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
