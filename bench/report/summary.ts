/**
 * From raw samples to the figures the report shows: medians over the repetitions, ratios ours/nginx,
 * and each target of the issue with whether this run met it.
 */
import { median, type Sample } from "../measure.ts";
import type { BenchResults, HandshakeCase, LatencyAtRate } from "../results.ts";
import { type Better, isMet } from "./maths.ts";

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

/** The proxy paths' targets (issue 9), present for runs that measured them. */
export type ProxyTargetId = "proxyFull" | "proxyKeepAlive" | "tunnelBulk";

export interface Target {
  /** Stable key of the target, for ranges over runs. */
  id: "full" | "resumed" | "keepAlive" | "bulk" | "p99" | "rss" | ProxyTargetId;
  /** The row's label in the table and the chart. */
  label: string;
  unit: string;
  ours: number;
  /** The value ours is compared with (nginx's or HAProxy's, or our own full-handshake rate). */
  peer: number;
  peerLabel: string;
  ratio: number;
  /** The goal, as text. */
  goal: string;
  /** The goal as a test: of `ratio` ("ratio"), or of `ours` itself for an absolute goal ("value"). */
  threshold: number;
  thresholdOn: "ratio" | "value";
  met: boolean;
  /** Higher is better (rates) or lower is better (latency, memory). */
  better: Better;
  /** The same figure for our server with the memory settings, when measured. */
  tuned?: number;
  tunedRatio?: number;
  tunedMet?: boolean;
  /** The same figure for the .ts sources run as `npm run server` runs them, when measured. */
  tsSources?: number;
  tsSourcesMet?: boolean;
}

/** Where the target sits on the chart's ratio axis (an absolute goal divided by the peer's value). */
export function markerOf(target: Target): number {
  return target.thresholdOn === "ratio" ? target.threshold : target.threshold / target.peer;
}

/** Met, for the figure given in the target's own terms (a ratio, or an absolute value). */
function meets(target: Pick<Target, "better" | "threshold" | "thresholdOn">, ours: number, peer: number) {
  return isMet(target.thresholdOn === "ratio" ? ours / peer : ours, target);
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

type TargetSpec = Omit<Target, "ratio" | "met" | "tunedRatio" | "tunedMet" | "tsSourcesMet">;

function target(spec: TargetSpec, extra: { allResumed?: boolean } = {}): Target {
  const met = meets(spec, spec.ours, spec.peer) && extra.allResumed !== false;
  return {
    ...spec,
    ratio: spec.ours / spec.peer,
    met,
    ...(spec.tuned === undefined
      ? {}
      : { tunedRatio: spec.tuned / spec.peer, tunedMet: meets(spec, spec.tuned, spec.peer) }),
    ...(spec.tsSources === undefined ? {} : { tsSourcesMet: meets(spec, spec.tsSources, spec.peer) }),
  };
}

export function targets(results: BenchResults): Target[] {
  const main = handshakeCase(results, "ECDSA-P256", "TLSv1.3");
  const fullOurs = med(main.full.ours, rate);
  const fullNginx = med(main.full.nginx, rate);
  const resumedOurs = med(main.resumed?.ours, rate);
  const resumedAll = (main.resumed?.ours ?? []).every((s) => s.result.resumed === s.result.connections);
  const atHalfNginx = latencyAt(results, "half of nginx's maximum");
  const fullTuned = med(main.full["ours-tuned"], rate);
  const mib = (bytes: number | undefined) => (bytes ?? Number.NaN) / MIB;
  const rss = results.peakRss.handshakes;
  return [
    target({
      id: "full",
      label: "Full mTLS handshakes/s, ECDSA P-256, TLS 1.3",
      unit: "/s",
      ours: fullOurs,
      peer: fullNginx,
      peerLabel: "nginx",
      goal: "≥ 0.8× nginx",
      threshold: 0.8,
      thresholdOn: "ratio",
      better: "higher",
      tuned: fullTuned,
    }),
    {
      ...target(
        {
          id: "resumed",
          label: "Resumed handshakes/s (TLS 1.3 tickets) vs our full ones",
          unit: "/s",
          ours: resumedOurs,
          peer: fullOurs,
          peerLabel: "our full handshakes",
          goal: `≥ 2× our full rate, every connection resumed (${resumedAll ? "all were" : "NOT all were"})`,
          threshold: 2,
          thresholdOn: "ratio",
          better: "higher",
        },
        { allResumed: resumedAll },
      ),
      // The tuned server against its own full rate, as the target is defined.
      tuned: med(main.resumed?.["ours-tuned"], rate),
      tunedRatio: med(main.resumed?.["ours-tuned"], rate) / fullTuned,
      tunedMet: isMet(med(main.resumed?.["ours-tuned"], rate) / fullTuned, {
        better: "higher",
        threshold: 2,
      }),
    },
    target({
      id: "keepAlive",
      label: "Keep-alive GET /v1/whoami requests/s",
      unit: "/s",
      ours: med(results.keepAlive.ours, requestsPerSecond),
      peer: med(results.keepAlive.nginx, requestsPerSecond),
      peerLabel: "nginx",
      goal: "≥ 0.5× nginx (stretch 0.7×)",
      threshold: 0.5,
      thresholdOn: "ratio",
      better: "higher",
      tuned: med(results.keepAlive["ours-tuned"], requestsPerSecond),
    }),
    target({
      id: "bulk",
      label: "Bulk POST /v1/echo MB/s, one connection",
      unit: "MB/s",
      ours: med(results.bulk.ours, megabytesPerSecond),
      peer: med(results.bulk.nginx, megabytesPerSecond),
      peerLabel: "nginx",
      goal: "≥ 0.7× nginx",
      threshold: 0.7,
      thresholdOn: "ratio",
      better: "higher",
      tuned: med(results.bulk["ours-tuned"], megabytesPerSecond),
    }),
    target({
      id: "p99",
      label: `p99 latency at ${atHalfNginx.rate} req/s (half of nginx's maximum)`,
      unit: "ms",
      ours: med(atHalfNginx.samples.ours, p99),
      peer: med(atHalfNginx.samples.nginx, p99),
      peerLabel: "nginx",
      goal: "≤ 2× nginx",
      threshold: 2,
      thresholdOn: "ratio",
      better: "lower",
    }),
    target({
      id: "rss",
      label: "Peak RSS under the handshake load, as shipped (the image's .js)",
      unit: "MiB",
      ours: mib(rss.ours),
      peer: mib(rss.nginx),
      peerLabel: "nginx",
      goal: "≤ 100 MiB",
      threshold: 100,
      thresholdOn: "value",
      better: "lower",
      tuned: rss["ours-tuned"] === undefined ? undefined : mib(rss["ours-tuned"]),
      tsSources: rss["ours-ts"] === undefined ? undefined : mib(rss["ours-ts"]),
    }),
    ...proxyTargets(results),
  ];
}

/** The proxy paths against their peers: none for a run recorded before they were measured. */
export function proxyTargets(results: BenchResults): Target[] {
  const proxy = results.proxy;
  if (!proxy) return [];
  return [
    target({
      id: "proxyFull",
      label: "Proxied requests/s, a full mTLS handshake each (reverse proxy)",
      unit: "/s",
      ours: med(proxy.newConnection.ours, rate),
      peer: med(proxy.newConnection.nginx, rate),
      peerLabel: "nginx",
      goal: "≥ 0.8× nginx",
      threshold: 0.8,
      thresholdOn: "ratio",
      better: "higher",
    }),
    target({
      id: "proxyKeepAlive",
      label: "Proxied keep-alive requests/s (reverse proxy)",
      unit: "/s",
      ours: med(proxy.keepAlive.ours, requestsPerSecond),
      peer: med(proxy.keepAlive.nginx, requestsPerSecond),
      peerLabel: "nginx",
      goal: "≥ 0.6× nginx",
      threshold: 0.6,
      thresholdOn: "ratio",
      better: "higher",
    }),
    target({
      id: "tunnelBulk",
      label: "TCP tunnel bulk MB/s, one connection",
      unit: "MB/s",
      ours: med(proxy.tunnel.ours, megabytesPerSecond),
      peer: med(proxy.tunnel.haproxy, megabytesPerSecond),
      peerLabel: "HAProxy",
      goal: "≥ 0.7× HAProxy",
      threshold: 0.7,
      thresholdOn: "ratio",
      better: "higher",
    }),
  ];
}
