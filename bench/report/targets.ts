/**
 * The targets the report judges: each one's words and threshold in the table below, its figures
 * (ours, and what ours is compared with) from the run's medians in FIGURES. A target whose
 * measurements a run lacks (a selection, or a run file older than the target) is left out of it.
 */
import { median, type Sample } from "../measure.ts";
import type { BenchResults, HandshakeCase, PerServer } from "../results.ts";
import type { ServerKind } from "../servers/server-under-test.ts";
import { type Better, isMet } from "./maths.ts";

// id | compared on (ratio or value) | better | threshold | unit | peer | label | short label | goal | spoken
const TABLE = `
full | ratio | higher | 0.8 | /s | nginx | Full mTLS handshakes/s, ECDSA P-256, TLS 1.3 | Full handshakes/s, ECDSA P-256, TLS 1.3 | ≥ 0.8× nginx | full handshakes
resumed | ratio | higher | 2 | /s | our full handshakes | Resumed handshakes/s (TLS 1.3 tickets) vs our full ones | Resumed handshakes/s, TLS 1.3 tickets | ≥ 2× our full rate, every connection resumed | resumption
keepAlive | ratio | higher | 0.5 | /s | nginx | Keep-alive GET /v1/whoami requests/s | Keep-alive GET requests/s | ≥ 0.5× nginx (stretch 0.7×) | keep-alive requests
bulk | ratio | higher | 0.7 | MB/s | nginx | Bulk POST /v1/echo MB/s, one connection | Bulk POST echo MB/s, one connection | ≥ 0.7× nginx | bulk echo
p99 | ratio | lower | 2 | ms | nginx | p99 latency at half of nginx's maximum rate | p99 latency at half of nginx's maximum | ≤ 2× nginx | tail latency
rss | value | lower | 150 | MiB | nginx | Peak RSS under the handshake load, as shipped | Peak RSS, as shipped (image) | ≤ 150 MiB | peak RSS as shipped
v8Cost | ratio | higher | 0.95 | × | Node's defaults | Throughput as shipped against Node's V8 defaults, lowest figure | Throughput vs Node's V8 defaults, lowest | ≥ 0.95× every figure | throughput against Node's V8 defaults
proxyFull | ratio | higher | 0.8 | /s | nginx | Proxied requests/s, a full mTLS handshake each (reverse proxy) | Proxied requests/s, new connection each | ≥ 0.8× nginx | proxied requests with a full handshake each
proxyKeepAlive | ratio | higher | 0.5 | /s | nginx | Proxied keep-alive requests/s (reverse proxy) | Proxied keep-alive requests/s | ≥ 0.5× nginx (stretch 0.6×) | proxied keep-alive requests
proxyKeepAliveBare | ratio | higher | 1.4 | /s | bare Node proxy | Proxied keep-alive requests/s against the bare Node proxy | Proxied keep-alive, vs bare Node proxy | ≥ 1.4× bare Node | proxied keep-alive against bare Node
tunnelBulk | ratio | higher | 0.7 | MB/s | HAProxy | TCP tunnel bulk MB/s, one connection | TCP tunnel bulk MB/s, one connection | ≥ 0.7× HAProxy | TCP tunnel bulk
`;

export const MIB = 2 ** 20;

export const med = <T>(samples: Sample<T>[] | undefined, pick: (sample: Sample<T>) => number) =>
  median((samples ?? []).map(pick));
/** Median share of the wall time the server spent on CPU (1 = one whole core), and the load core's. */
export const serverBusy = <T>(list: Sample<T>[] | undefined) =>
  med(list, (s) => s.serverCpuSeconds / s.wallSeconds);
export const loadBusy = <T>(list: Sample<T>[] | undefined) => med(list, (s) => s.loadCoreBusy);
/** Server CPU per operation, scaled (1e3: ms, 1e6: µs). */
export const cpuPer = <T>(list: Sample<T>[] | undefined, operations: (result: T) => number, scale: number) =>
  med(list, (s) => (s.serverCpuSeconds * scale) / operations(s.result));

export const rate = (s: Sample<{ perSecond: number }>) => s.result.perSecond;
export const requestsPerSecond = (s: Sample<{ requestsPerSecond: number }>) => s.result.requestsPerSecond;
export const megabytesPerSecond = (s: Sample<{ megabytesPerSecond: number }>) => s.result.megabytesPerSecond;
const p99 = (s: Sample<{ percentilesMs: { p99: number } }>) => s.result.percentilesMs.p99;

export const handshakeCase = (
  run: BenchResults,
  keyAlgorithm: string,
  protocol: string,
): HandshakeCase | undefined =>
  run.handshakes?.find((c) => c.keyAlgorithm === keyAlgorithm && c.protocol === protocol);
const mainCase = (run: BenchResults) => handshakeCase(run, "ECDSA-P256", "TLSv1.3");

/** The variant a run compares ours with: Node's own V8 defaults, or (older runs) the tuned one. */
export function otherKind(run: BenchResults): "ours-defaults" | "ours-tuned" | undefined {
  if (run.keepAlive?.["ours-defaults"]) return "ours-defaults";
  return run.keepAlive?.["ours-tuned"] ? "ours-tuned" : undefined;
}

/** Peak RSS as shipped: after the fixed-count handshakes if measured, else after the handshake load. */
export function shippedPeakRss(run: BenchResults) {
  const variants = run.memory?.variants ?? [];
  const [shipped, defaults] = [variants.find((v) => v.shipped), variants.find((v) => v.nodeOptions === "")];
  const peaks = run.peakRss?.handshakes ?? {};
  const other = otherKind(run);
  const fromPeaks = (kind: ServerKind | undefined) => (kind ? (peaks[kind] ?? Number.NaN) / MIB : undefined);
  return {
    shipped: shipped ? shipped.peakAfterResumedBytes / MIB : fromPeaks("ours")!,
    other: defaults && !defaults.shipped ? defaults.peakAfterResumedBytes / MIB : fromPeaks(other),
    tsSources: fromPeaks("ours-ts")!,
    nginx: fromPeaks("nginx")!,
  };
}

/** Each throughput figure as shipped over the same with Node's V8 defaults, in the same run. */
export function v8Costs(run: BenchResults): { what: string; ratio: number; cpuRatio: number }[] {
  if (!run.keepAlive?.["ours-defaults"]) return [];
  const of = <T>(
    what: string,
    list: PerServer<T> | undefined,
    pick: (s: Sample<T>) => number,
    ops: (r: T) => number,
  ) => ({
    what,
    ratio: med(list?.ours, pick) / med(list?.["ours-defaults"], pick),
    cpuRatio: cpuPer(list?.["ours-defaults"], ops, 1) / cpuPer(list?.ours, ops, 1),
  });
  return [
    of("full handshakes", mainCase(run)?.full, rate, (r) => r.connections),
    of("resumed handshakes", mainCase(run)?.resumed, rate, (r) => r.connections),
    of("keep-alive requests", run.keepAlive, requestsPerSecond, (r) => r.complete),
    of("bulk echo", run.bulk, megabytesPerSecond, (r) => r.requests),
  ];
}

/** Ours and what it is compared with, for a measurement's samples: [ours, peer]. */
const versus = <T>(list: PerServer<T> | undefined, peer: ServerKind, pick: (s: Sample<T>) => number) =>
  [med(list?.ours, pick), med(list?.[peer], pick)] as const;
const lowestCost = (run: BenchResults) =>
  v8Costs(run).reduce((low, c) => (c.ratio < low.ratio ? c : low), {
    what: "",
    ratio: Number.POSITIVE_INFINITY,
  });
const halfOfNginx = (run: BenchResults) => run.latency?.find((l) => l.basis === "half of nginx's maximum");

const FIGURES = {
  full: (run) => versus(mainCase(run)?.full, "nginx", rate),
  resumed: (run) => [med(mainCase(run)?.resumed?.ours, rate), med(mainCase(run)?.full.ours, rate)],
  keepAlive: (run) => versus(run.keepAlive, "nginx", requestsPerSecond),
  bulk: (run) => versus(run.bulk, "nginx", megabytesPerSecond),
  p99: (run) => versus(halfOfNginx(run)?.samples, "nginx", p99),
  rss: (run) => [shippedPeakRss(run).shipped, shippedPeakRss(run).nginx],
  v8Cost: (run) => [run.keepAlive?.["ours-defaults"] ? lowestCost(run).ratio : Number.NaN, 1],
  proxyFull: (run) => versus(run.proxy?.newConnection, "nginx", rate),
  proxyKeepAlive: (run) => versus(run.proxy?.keepAlive, "nginx", requestsPerSecond),
  proxyKeepAliveBare: (run) => versus(run.proxy?.keepAlive, "node-bare", requestsPerSecond),
  tunnelBulk: (run) => versus(run.proxy?.tunnel, "haproxy", megabytesPerSecond),
} satisfies Record<string, (run: BenchResults) => readonly [number, number]>;

export type TargetId = keyof typeof FIGURES;
export const TARGET_IDS = Object.keys(FIGURES) as TargetId[];

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

const ROWS = TABLE.trim()
  .split("\n")
  .map((line) => line.split(" | "));

/** Where the target sits on the chart's ratio axis (an absolute goal divided by the peer's value). */
export const markerOf = (goal: Target) =>
  goal.thresholdOn === "ratio" ? goal.threshold : goal.threshold / goal.peer;

/** The run-specific words of a target's label and goal. */
function worded(run: BenchResults, goal: Target): Target {
  const counted = run.memory
    ? ` (after ${run.memory.handshakes} full + ${run.memory.handshakes} resumed)`
    : "";
  const resumedAll = (mainCase(run)?.resumed?.ours ?? []).every(
    (s) => s.result.resumed === s.result.connections,
  );
  if (goal.id === "p99") goal.label = goal.label.replace("half", `${halfOfNginx(run)?.rate} req/s, half`);
  if (goal.id === "rss") goal.label += counted;
  if (goal.id === "v8Cost") goal.label += ` (${lowestCost(run).what})`;
  if (goal.id === "resumed") {
    goal.goal += ` (${resumedAll ? "all were" : "NOT all were"})`;
    goal.met &&= resumedAll;
  }
  return goal;
}

/** The figures of the variant ours is compared with, for the results table and the chart. */
function withOther(run: BenchResults, goal: Target): Target {
  const other = otherKind(run);
  const main = mainCase(run);
  const rss = shippedPeakRss(run);
  const [value, peer] = (
    {
      full: [med(main?.full[other!], rate), goal.peer],
      resumed: [med(main?.resumed?.[other!], rate), med(main?.full[other!], rate)],
      keepAlive: [med(run.keepAlive?.[other!], requestsPerSecond), goal.peer],
      bulk: [med(run.bulk?.[other!], megabytesPerSecond), goal.peer],
      rss: [rss.other ?? Number.NaN, goal.peer],
    } as Partial<Record<TargetId, [number, number]>>
  )[goal.id] ?? [Number.NaN, 1];
  if (other && Number.isFinite(value)) goal.other = { value, ratio: value / peer };
  if (goal.id === "rss") {
    const label = other === "ours-tuned" ? "with --max-semi-space-size=1" : "Node's V8 defaults";
    goal.extras = [
      { label: "Peak RSS, .ts sources (npm run server)", value: rss.tsSources },
      { label: `Peak RSS, ${label}`, value: rss.other ?? Number.NaN },
    ].filter((extra) => Number.isFinite(extra.value));
  }
  return goal;
}

export function targets(run: BenchResults): Target[] {
  return ROWS.flatMap(([id, on, better, threshold, unit, peerLabel, label, short, goal, spoken]) => {
    const [ours, peer] = FIGURES[id as TargetId](run);
    if (!Number.isFinite(ours) || !Number.isFinite(peer)) return [];
    const spec = {
      better: better as Better,
      threshold: Number(threshold),
      thresholdOn: on as "ratio" | "value",
    };
    const met = isMet(spec.thresholdOn === "ratio" ? ours / peer : ours, spec);
    const base = {
      id: id as TargetId,
      label: label!,
      short: short!,
      spoken: spoken!,
      unit: unit!,
      goal: goal!,
    };
    return [
      withOther(
        run,
        worded(run, { ...base, ...spec, ours, peer, peerLabel: peerLabel!, ratio: ours / peer, met }),
      ),
    ];
  });
}
