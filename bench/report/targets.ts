/**
 * The targets the report judges, as data rows with the words of the tables, the chart and the README,
 * and the arithmetic of judging them: met or missed, and a figure's range over the recorded runs. A
 * target whose figures a run lacks (a selection, or a run file older than the target) is left out.
 */
import type { BenchResults } from "../results.ts";
import { figureValues, lowestCost } from "./figures.ts";

export type Better = "higher" | "lower";

/** Met exactly at the threshold; a figure that could not be measured (NaN) never meets a target. */
export const isMet = (value: number, goal: { better: Better; threshold: number }) =>
  Number.isFinite(value) && (goal.better === "higher" ? value >= goal.threshold : value <= goal.threshold);

/** Lowest and highest over the runs that measured the figure (`count`; with none, both infinite). */
export function rangeOf(values: readonly number[]) {
  const finite = values.filter((value) => Number.isFinite(value));
  return { min: Math.min(...finite), max: Math.max(...finite), count: finite.length };
}

/** "0.95–1.31×", or one figure when every run rounds to the same text. */
export function formatRange(range: ReturnType<typeof rangeOf>, format: (value: number) => string, unit = "") {
  if (range.count === 0) return "n/a";
  const [low, high] = [format(range.min), format(range.max)];
  return low === high ? `${low}${unit}` : `${low}–${high}${unit}`;
}

// The header names the columns after Target's fields; `ours` and `peer` name figures (figures.ts) or a number.
const [HEADER, ...ROWS] = `
id | ours | peer | thresholdOn | better | threshold | unit | peerLabel | label | short | goal | spoken
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
const TABLE = ROWS.map((cells) => Object.fromEntries(HEADER!.map((name, i) => [name, cells[i]!])));

export const TARGET_IDS = TABLE.map((row) => row.id!);

/**
 * A target as a run measured it: `ours` against `peer` (a peer's figure, or our own), judged on the
 * ratio or, for an absolute goal ("value"), on `ours`; `label` in the tables, `short` in the chart,
 * `spoken` in the README; `extras`: further chart bars in its unit (peak RSS as .ts sources, ...);
 * `other`: the same figure on Node's own V8 defaults and its ratio, if the run measured them.
 */
export type Target = ReturnType<typeof targets>[number];
type Words = Record<"id" | "label" | "short" | "spoken" | "unit" | "peerLabel" | "goal", string>;

/** Within 0.01 of the threshold, where two decimals would round a miss up to it (0.796 is not "0.80"). */
export const nearThreshold = (goal: Target, ratio = goal.ratio) => Math.abs(ratio - goal.threshold) < 0.01;

/** Where the target sits on the chart's ratio axis (an absolute goal divided by the peer's value). */
export const markerOf = (goal: Target) =>
  goal.thresholdOn === "ratio" ? goal.threshold : goal.threshold / goal.peer;

export function targets(run: BenchResults) {
  const values = figureValues(run);
  const figure = (name: string) => (/^[\d.]+$/.test(name) ? Number(name) : (values[name] ?? Number.NaN));
  // Our figure as Node's V8 defaults made it, if the run measured them side by side (a peer's: unchanged).
  const onDefaults = (name: string) => figure(name.replace(/\.ours(\.|$)/, ".ours-defaults$1"));
  return TABLE.flatMap((row) => {
    const [ours, peer] = [figure(row.ours!), figure(row.peer!)];
    if (!Number.isFinite(ours) || !Number.isFinite(peer)) return [];
    // The table's words, then the figures of this run.
    const goal = {
      ...(row as Words),
      better: row.better as Better,
      threshold: Number(row.threshold),
      thresholdOn: row.thresholdOn as "ratio" | "value",
      ours,
      peer,
      ratio: ours / peer,
      met: false,
      // The chart's further bars (peak RSS only), those the run measured.
      extras: [
        { label: "Peak RSS, .ts sources (npm run server)", value: values["peak.ours-ts"]! },
        { label: "Peak RSS, Node's V8 defaults", value: values["peak.ours-defaults"]! },
      ].filter((extra) => row.id === "rss" && Number.isFinite(extra.value)),
      other: undefined as { value: number; ratio: number } | undefined,
    };
    goal.met = isMet(goal.thresholdOn === "ratio" ? goal.ratio : ours, goal);
    const other = row.ours!.includes(".ours") ? onDefaults(row.ours!) : Number.NaN;
    if (values["keepAlive.ours-defaults.rate"] !== undefined && Number.isFinite(other))
      goal.other = { value: other, ratio: other / onDefaults(row.peer!) };
    // The run-specific words and conditions.
    if (goal.id === "p99")
      goal.label = goal.label.replace("half", `${values["latency.nginxHalf.rate"]} req/s, half`);
    if (goal.id === "rss" && run.memory)
      goal.label += ` (after ${run.memory.handshakes} full + ${run.memory.handshakes} resumed)`;
    if (goal.id === "v8Cost") goal.label += ` (${lowestCost(values)!.what})`;
    if (goal.id === "resumed") {
      const main = run.handshakes?.find((c) => c.keyAlgorithm === "ECDSA-P256" && c.protocol === "TLSv1.3");
      const all = (main?.resumed?.ours ?? []).every((s) => s.result.resumed === s.result.connections);
      goal.goal += ` (${all ? "all were" : "NOT all were"})`;
      goal.met &&= all;
    }
    return [goal];
  });
}
