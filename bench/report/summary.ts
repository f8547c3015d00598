/**
 * From raw samples to the figures the report shows: medians over the repetitions, ratios ours/nginx,
 * and each target of the issue with whether this run met it.
 */
import { median, type Sample } from "../measure.ts";
import type { BenchResults, HandshakeCase, LatencyAtRate } from "../results.ts";

export const MIB = 2 ** 20;

export function med<T>(samples: Sample<T>[] | undefined, pick: (sample: Sample<T>) => number): number {
  return median((samples ?? []).map(pick));
}

/** Median share of the wall time the server spent on CPU (1 = one whole core). */
export function serverBusy<T>(samples: Sample<T>[] | undefined): number {
  return med(samples, (s) => s.serverCpuSeconds / s.wallSeconds);
}

export function loadBusy<T>(samples: Sample<T>[] | undefined): number {
  return med(samples, (s) => s.loadCoreBusy);
}

export interface Target {
  /** The row's label in the table and the chart. */
  label: string;
  unit: string;
  ours: number;
  /** The value ours is compared with (nginx's, or our own full-handshake rate). */
  peer: number;
  peerLabel: string;
  ratio: number;
  /** The goal, as text, and as a test of `ratio` (or of `ours` for absolute goals). */
  goal: string;
  met: boolean | undefined;
  /** Higher is better (rates) or lower is better (latency, memory). */
  better: "higher" | "lower";
  /** The same figure for our server with the memory settings, when measured. */
  tuned?: number;
  tunedRatio?: number;
  tunedMet?: boolean;
  /** Where the target marker sits on the ratio axis, when there is one. */
  marker?: number;
}

export function handshakeCase(results: BenchResults, keyAlgorithm: string, protocol: string): HandshakeCase {
  const found = results.handshakes.find((c) => c.keyAlgorithm === keyAlgorithm && c.protocol === protocol);
  if (!found) throw new Error(`no handshake results for ${keyAlgorithm} ${protocol}`);
  return found;
}

export const rate = (s: Sample<{ perSecond: number }>) => s.result.perSecond;
export const requestsPerSecond = (s: Sample<{ requestsPerSecond: number }>) => s.result.requestsPerSecond;
export const megabytesPerSecond = (s: Sample<{ megabytesPerSecond: number }>) => s.result.megabytesPerSecond;
export const p99 = (s: Sample<{ percentilesMs: { p99: number } }>) => s.result.percentilesMs.p99;
export const p50 = (s: Sample<{ percentilesMs: { p50: number } }>) => s.result.percentilesMs.p50;

export function latencyAt(results: BenchResults, basis: LatencyAtRate["basis"]): LatencyAtRate {
  const found = results.latency.find((l) => l.basis === basis);
  if (!found) throw new Error(`no latency results at ${basis}`);
  return found;
}

export function targets(results: BenchResults): Target[] {
  const main = handshakeCase(results, "ECDSA-P256", "TLSv1.3");
  const fullOurs = med(main.full.ours, rate);
  const fullNginx = med(main.full.nginx, rate);
  const resumedOurs = med(main.resumed?.ours, rate);
  const resumedAll = (main.resumed?.ours ?? []).every((s) => s.result.resumed === s.result.connections);
  const keepOurs = med(results.keepAlive.ours, requestsPerSecond);
  const keepNginx = med(results.keepAlive.nginx, requestsPerSecond);
  const bulkOurs = med(results.bulk.ours, megabytesPerSecond);
  const bulkNginx = med(results.bulk.nginx, megabytesPerSecond);
  const atHalfNginx = latencyAt(results, "half of nginx's maximum");
  const p99Ours = med(atHalfNginx.samples.ours, p99);
  const p99Nginx = med(atHalfNginx.samples.nginx, p99);
  const rssOurs = results.peakRss.handshakes.ours ?? Number.NaN;
  const rssNginx = results.peakRss.handshakes.nginx ?? Number.NaN;
  const fullTuned = med(main.full["ours-tuned"], rate);
  const resumedTuned = med(main.resumed?.["ours-tuned"], rate);
  const keepTuned = med(results.keepAlive["ours-tuned"], requestsPerSecond);
  const bulkTuned = med(results.bulk["ours-tuned"], megabytesPerSecond);
  const rssTuned = (results.peakRss.handshakes["ours-tuned"] ?? Number.NaN) / MIB;
  return [
    {
      label: "Full mTLS handshakes/s, ECDSA P-256, TLS 1.3",
      unit: "/s",
      ours: fullOurs,
      peer: fullNginx,
      peerLabel: "nginx",
      ratio: fullOurs / fullNginx,
      goal: "≥ 0.8× nginx",
      met: fullOurs / fullNginx >= 0.8,
      tuned: fullTuned,
      tunedRatio: fullTuned / fullNginx,
      tunedMet: fullTuned / fullNginx >= 0.8,
      better: "higher",
      marker: 0.8,
    },
    {
      label: "Resumed handshakes/s (TLS 1.3 tickets) vs our full ones",
      unit: "/s",
      ours: resumedOurs,
      peer: fullOurs,
      peerLabel: "our full handshakes",
      ratio: resumedOurs / fullOurs,
      goal: `≥ 2× our full rate, every connection resumed (${resumedAll ? "all were" : "NOT all were"})`,
      met: resumedOurs / fullOurs >= 2 && resumedAll,
      tuned: resumedTuned,
      tunedRatio: resumedTuned / fullTuned,
      tunedMet: resumedTuned / fullTuned >= 2,
      better: "higher",
      marker: 2,
    },
    {
      label: "Keep-alive GET /v1/whoami requests/s",
      unit: "/s",
      ours: keepOurs,
      peer: keepNginx,
      peerLabel: "nginx",
      ratio: keepOurs / keepNginx,
      goal: "≥ 0.5× nginx (stretch 0.7×)",
      met: keepOurs / keepNginx >= 0.5,
      tuned: keepTuned,
      tunedRatio: keepTuned / keepNginx,
      tunedMet: keepTuned / keepNginx >= 0.5,
      better: "higher",
      marker: 0.5,
    },
    {
      label: "Bulk POST /v1/echo MB/s, one connection",
      unit: "MB/s",
      ours: bulkOurs,
      peer: bulkNginx,
      peerLabel: "nginx",
      ratio: bulkOurs / bulkNginx,
      goal: "≥ 0.7× nginx",
      met: bulkOurs / bulkNginx >= 0.7,
      tuned: bulkTuned,
      tunedRatio: bulkTuned / bulkNginx,
      tunedMet: bulkTuned / bulkNginx >= 0.7,
      better: "higher",
      marker: 0.7,
    },
    {
      label: `p99 latency at ${atHalfNginx.rate} req/s (half of nginx's maximum)`,
      unit: "ms",
      ours: p99Ours,
      peer: p99Nginx,
      peerLabel: "nginx",
      ratio: p99Ours / p99Nginx,
      goal: "≤ 2× nginx",
      met: p99Ours / p99Nginx <= 2,
      better: "lower",
      marker: 2,
    },
    {
      label: "Peak RSS under the handshake load",
      unit: "MiB",
      ours: rssOurs / MIB,
      peer: rssNginx / MIB,
      peerLabel: "nginx",
      ratio: rssOurs / rssNginx,
      goal: "≤ 100 MiB",
      met: rssOurs / MIB <= 100,
      tuned: rssTuned,
      tunedRatio: (rssTuned * MIB) / rssNginx,
      tunedMet: rssTuned <= 100,
      better: "lower",
    },
  ];
}
