/**
 * One log line per burst of failures, not one per request: an upstream that is down fails every
 * request, and a line each would drown the log. The first failure of a burst is logged with its
 * reason; the ones after it are counted; the first success after them logs one recovery line with
 * the count. A burst that lasts is summarized again every `repeatMs` so the log shows it goes on.
 */
import type { Fields, Logger } from "./log.ts";

export interface BurstLog {
  failure(reason: string, fields: Fields): void;
  success(): void;
}

export function createBurstLog(
  log: Logger,
  events: { failure: string; recovered: string },
  repeatMs = 60_000,
): BurstLog {
  let startedAt: number | undefined;
  let lastLineAt = 0;
  let sinceLine: Record<string, number> = {};
  let total = 0;
  return {
    failure(reason, fields) {
      const now = Date.now();
      total++;
      if (startedAt === undefined || now - lastLineAt >= repeatMs) {
        const suppressed = Object.values(sinceLine).reduce((sum, count) => sum + count, 0);
        log.warn(events.failure, {
          reason,
          ...fields,
          ...(startedAt === undefined
            ? {}
            : { burstFailures: total, failuresSinceLastLine: suppressed, byReason: sinceLine }),
        });
        startedAt ??= now;
        lastLineAt = now;
        sinceLine = {};
        return;
      }
      sinceLine[reason] = (sinceLine[reason] ?? 0) + 1;
    },
    success() {
      if (startedAt === undefined) return;
      log.info(events.recovered, { failures: total, durationMs: Date.now() - startedAt });
      startedAt = undefined;
      sinceLine = {};
      total = 0;
    },
  };
}
