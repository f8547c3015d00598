/**
 * The targets the report judges, as data rows: the figure of ours and the one it is compared with
 * (names of figures.ts, or a number), whether the ratio or our value itself is judged, which way
 * is better, the threshold, and the words of the tables, the chart and the README. A target whose
 * figures a run lacks (a selection, or a run file older than the target) is left out of it.
 */
import type { BenchResults } from "../results.ts";
import { figureValues, lowestCost, otherKind } from "./figures.ts";
import { type Better, isMet } from "./maths.ts";

// id | ours | compared with | judged on | better | threshold | unit | peer | label | short label | goal | spoken
const TABLE = `
full | hs.ECDSA-P256.TLSv1.3.full.ours.rate | hs.ECDSA-P256.TLSv1.3.full.nginx.rate | ratio | higher | 0.8 | /s | nginx | Full mTLS handshakes/s, ECDSA P-256, TLS 1.3 | Full handshakes/s, ECDSA P-256, TLS 1.3 | ≥ 0.8× nginx | full handshakes
resumed | hs.ECDSA-P256.TLSv1.3.resumed.ours.rate | hs.ECDSA-P256.TLSv1.3.full.ours.rate | ratio | higher | 2 | /s | our full handshakes | Resumed handshakes/s (TLS 1.3 tickets) vs our full ones | Resumed handshakes/s, TLS 1.3 tickets | ≥ 2× our full rate, every connection resumed | resumption
keepAlive | keepAlive.ours.rate | keepAlive.nginx.rate | ratio | higher | 0.5 | /s | nginx | Keep-alive GET /v1/whoami requests/s | Keep-alive GET requests/s | ≥ 0.5× nginx (stretch 0.7×) | keep-alive requests
bulk | bulk.ours.mbps | bulk.nginx.mbps | ratio | higher | 0.7 | MB/s | nginx | Bulk POST /v1/echo MB/s, one connection | Bulk POST echo MB/s, one connection | ≥ 0.7× nginx | bulk echo
p99 | latency.nginxHalf.ours.p99 | latency.nginxHalf.nginx.p99 | ratio | lower | 2 | ms | nginx | p99 latency at half of nginx's maximum rate | p99 latency at half of nginx's maximum | ≤ 2× nginx | tail latency
rss | peak.ours | peak.nginx | value | lower | 150 | MiB | nginx | Peak RSS under the handshake load, as shipped | Peak RSS, as shipped (image) | ≤ 150 MiB | peak RSS as shipped
v8Cost | v8Cost.lowest | 1 | ratio | higher | 0.95 | × | Node's defaults | Throughput as shipped against Node's V8 defaults, lowest figure | Throughput vs Node's V8 defaults, lowest | ≥ 0.95× every figure | throughput against Node's V8 defaults
proxyFull | proxy.newConnection.ours.rate | proxy.newConnection.nginx.rate | ratio | higher | 0.8 | /s | nginx | Proxied requests/s, a full mTLS handshake each (reverse proxy) | Proxied requests/s, new connection each | ≥ 0.8× nginx | proxied requests with a full handshake each
proxyKeepAlive | proxy.keepAlive.ours.rate | proxy.keepAlive.nginx.rate | ratio | higher | 0.5 | /s | nginx | Proxied keep-alive requests/s (reverse proxy) | Proxied keep-alive requests/s | ≥ 0.5× nginx (stretch 0.6×) | proxied keep-alive requests
proxyKeepAliveBare | proxy.keepAlive.ours.rate | proxy.keepAlive.node-bare.rate | ratio | higher | 1.4 | /s | bare Node proxy | Proxied keep-alive requests/s against the bare Node proxy | Proxied keep-alive, vs bare Node proxy | ≥ 1.4× bare Node | proxied keep-alive against bare Node
tunnelBulk | proxy.tunnel.ours.mbps | proxy.tunnel.haproxy.mbps | ratio | higher | 0.7 | MB/s | HAProxy | TCP tunnel bulk MB/s, one connection | TCP tunnel bulk MB/s, one connection | ≥ 0.7× HAProxy | TCP tunnel bulk
`
  .trim()
  .split("\n")
  .map((line) => line.split(" | "));

export const TARGET_IDS = TABLE.map((row) => row[0]!);
export type TargetId = string;

export interface Target {
  id: TargetId;
  /** The row's label in the tables; `short` for the chart; `spoken` in the README's sentences. */
  label: string;
  short: string;
  spoken: string;
  unit: string;
  ours: number;
  /** What ours is compared with (a peer's figure, or our own). */
  peer: number;
  peerLabel: string;
  ratio: number;
  goal: string;
  /** The goal as a test: of `ratio`, or of `ours` itself for an absolute goal ("value"). */
  threshold: number;
  thresholdOn: "ratio" | "value";
  better: Better;
  met: boolean;
  /** Further bars for the chart, in the target's own unit (peak RSS as .ts sources, ...). */
  extras?: { label: string; value: number }[];
  /** The same figure for the variant ours is compared with (otherKind), and its ratio. */
  other?: { value: number; ratio: number };
}

/** Where the target sits on the chart's ratio axis (an absolute goal divided by the peer's value). */
export const markerOf = (goal: Target) =>
  goal.thresholdOn === "ratio" ? goal.threshold : goal.threshold / goal.peer;

/** The run-specific words and conditions of a target, and its chart's further bars. */
function worded(run: BenchResults, values: Record<string, number>, goal: Target): Target {
  if (goal.id === "p99")
    goal.label = goal.label.replace("half", `${values["latency.nginxHalf.rate"]} req/s, half`);
  if (goal.id === "rss" && run.memory)
    goal.label += ` (after ${run.memory.handshakes} full + ${run.memory.handshakes} resumed)`;
  if (goal.id === "v8Cost") goal.label += ` (${lowestCost(values)!.what})`;
  if (goal.id === "resumed") {
    const resumed = run.handshakes?.find((c) => c.keyAlgorithm === "ECDSA-P256" && c.protocol === "TLSv1.3")
      ?.resumed?.ours;
    const all = (resumed ?? []).every((s) => s.result.resumed === s.result.connections);
    goal.goal += ` (${all ? "all were" : "NOT all were"})`;
    goal.met &&= all;
  }
  if (goal.id === "rss") {
    const label = otherKind(run) === "ours-tuned" ? "with --max-semi-space-size=1" : "Node's V8 defaults";
    goal.extras = [
      { label: "Peak RSS, .ts sources (npm run server)", value: values["peak.ours-ts"]! },
      { label: `Peak RSS, ${label}`, value: values["peak.defaults"]! },
    ].filter((extra) => Number.isFinite(extra.value));
  }
  return goal;
}

export function targets(run: BenchResults): Target[] {
  const values = figureValues(run);
  const figure = (name: string) => (/^[\d.]+$/.test(name) ? Number(name) : (values[name] ?? Number.NaN));
  return TABLE.flatMap(
    ([id, oursName, peerName, on, better, threshold, unit, peerLabel, label, short, goal, spoken]) => {
      const [ours, peer] = [figure(oursName!), figure(peerName!)];
      if (!Number.isFinite(ours) || !Number.isFinite(peer)) return [];
      const spec = {
        better: better as Better,
        threshold: Number(threshold),
        thresholdOn: on as "ratio" | "value",
      };
      const met = isMet(spec.thresholdOn === "ratio" ? ours / peer : ours, spec);
      const words = {
        id: id!,
        label: label!,
        short: short!,
        spoken: spoken!,
        unit: unit!,
        goal: goal!,
        peerLabel: peerLabel!,
      };
      const target: Target = { ...words, ...spec, ours, peer, ratio: ours / peer, met };
      // The variant ours is compared with: the same figures with "other" for "ours".
      const asOther = (name: string) =>
        /\.ours(\.|$)/.test(name) ? figure(name.replace(/\.ours(\.|$)/, ".other$1")) : Number.NaN;
      const [value, otherPeer] = [
        asOther(oursName!),
        peerName!.includes(".ours") ? asOther(peerName!) : peer,
      ];
      if (otherKind(run) && Number.isFinite(value)) target.other = { value, ratio: value / otherPeer };
      return [worded(run, values, target)];
    },
  );
}
