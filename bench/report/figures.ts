/**
 * Every measured figure of a run, named after where it was measured, the server and the metric:
 * `keepAlive.ours.rate`, `hs.RSA-2048.TLSv1.2.full.nginx.cpuMs`, `proxy.tunnel.haproxy.mbps`,
 * `latency.nginxHalf.ours.p99`, `keys.ECDSA-P256.rate`, the median over the repetitions; and the
 * figures derived from several measurements (`peak.*` in MiB, `v8Cost.*`). figureValues gives the
 * numbers (what the targets compare), figureSlots the text the report prints, with a flag per
 * measured server (`keepAlive.ours-defaults`) for the template's table rows. `other` names the
 * variant ours is compared with in the run (otherKind).
 */
import { median, type Sample } from "../measure.ts";
import type { BenchResults } from "../results.ts";
import type { Slots, SlotValue } from "./template.ts";

export const MIB = 2 ** 20;
export function n(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
export const pct = (fraction: number) => `${n(fraction * 100)}%`;
const ms = (value: number) => `${value >= 100 ? n(value) : value >= 1 ? n(value, 1) : n(value, 2)} ms`;

// biome-ignore lint/suspicious/noExplicitAny: one reader for every kind of result
type AnySample = Sample<any>;
type Metric = [(s: AnySample, bodyBytes: number) => number | undefined, (value: number) => string];
const cpu = (s: AnySample, per: number | undefined, scale: number) =>
  per === undefined ? undefined : (s.serverCpuSeconds * scale) / per;
const percentile = (p: string): Metric => [(s) => s.result.percentilesMs?.[p], ms];

/** Each metric: its value in one sample (undefined: not a metric of that load), and its format. */
const METRICS: Record<string, Metric> = {
  busy: [(s) => s.serverCpuSeconds / s.wallSeconds, pct],
  load: [(s) => s.loadCoreBusy, pct],
  rate: [(s) => s.result.perSecond ?? s.result.requestsPerSecond, (v) => n(v)],
  cpuMs: [
    (s) => (s.result.perSecond === undefined ? undefined : cpu(s, s.result.connections, 1e3)),
    (v) => n(v, 2),
  ],
  cpuUs: [(s) => cpu(s, s.result.requestsPerSecond && s.result.complete, 1e6), (v) => n(v, 1)],
  mbps: [
    (s, body) =>
      s.result.megabytesPerSecond ??
      (s.result.complete === undefined ? undefined : (s.result.requestsPerSecond * body) / 1e6),
    (v) => n(v),
  ],
  cpuPerMb: [
    (s, body) =>
      s.result.megabytesPerSecond === undefined
        ? undefined
        : cpu(s, (s.result.bytes ?? s.result.requests * body) / 1e6, 1e3),
    (v) => n(v, 2),
  ],
  ...Object.fromEntries(["p50", "p90", "p99", "p999", "max"].map((p) => [p, percentile(p)])),
  achieved: [(s) => s.result.achievedRate, (v) => n(v)],
  unanswered: [(s) => s.result.unanswered, (v) => n(v)],
  lateness: [(s) => s.result.sendLatenessP99Ms, ms],
};

/** One sample's value of a metric (rate, mbps, ...), for figures compared repetition by repetition. */
export const sampleValue = (metric: string, sample: AnySample, bodyBytes: number) =>
  METRICS[metric]![0](sample, bodyBytes) ?? Number.NaN;

/** The variant a run compares ours with: Node's own V8 defaults, or (older runs) the tuned one. */
export function otherKind(run: BenchResults): "ours-defaults" | "ours-tuned" | undefined {
  if (run.keepAlive?.["ours-defaults"]) return "ours-defaults";
  return run.keepAlive?.["ours-tuned"] ? "ours-tuned" : undefined;
}

/** Every measurement of a run: its name and its samples per server. */
function measurements(run: BenchResults): [string, Record<string, AnySample[] | undefined> | undefined][] {
  const proxy = run.proxy;
  return [
    ...(run.handshakes ?? []).flatMap((c) => [
      [`hs.${c.keyAlgorithm}.${c.protocol}.full`, c.full],
      [`hs.${c.keyAlgorithm}.${c.protocol}.resumed`, c.resumed],
    ]),
    ["keepAlive", run.keepAlive],
    ["bulk", run.bulk],
    ["bulkAb", run.bulkAb],
    ...(run.latency ?? []).map((l) => [
      `latency.${l.basis === "half of nginx's maximum" ? "nginxHalf" : "ourHalf"}`,
      l.samples,
    ]),
    ["keys", run.keyAlgorithms],
    ["proxy.newConnection", proxy?.newConnection],
    ["proxy.keepAlive", proxy?.keepAlive],
    ["proxy.tunnel", proxy?.tunnel],
  ] as [string, Record<string, AnySample[]> | undefined][];
}

/** Each throughput figure as shipped over the same with Node's V8 defaults, in the same run. */
export function v8Costs(values: Record<string, number>) {
  const of = (what: string, path: string, metric: string, cpuMetric: string) => ({
    what,
    ratio: values[`${path}.ours.${metric}`]! / values[`${path}.ours-defaults.${metric}`]!,
    cpuRatio: values[`${path}.ours-defaults.${cpuMetric}`]! / values[`${path}.ours.${cpuMetric}`]!,
  });
  if (values["keepAlive.ours-defaults.rate"] === undefined) return [];
  const main = "hs.ECDSA-P256.TLSv1.3";
  return [
    of("full handshakes", `${main}.full`, "rate", "cpuMs"),
    of("resumed handshakes", `${main}.resumed`, "rate", "cpuMs"),
    of("keep-alive requests", "keepAlive", "rate", "cpuUs"),
    of("bulk echo", "bulk", "mbps", "cpuPerMb"),
  ];
}

/** The V8 settings' costliest figure (NaN ones left out), if the run measured Node's defaults. */
export const lowestCost = (values: Record<string, number>) =>
  v8Costs(values)
    .filter((c) => Number.isFinite(c.ratio))
    .sort((a, b) => a.ratio - b.ratio)[0];

export function figureValues(run: BenchResults): Record<string, number> {
  const values: Record<string, number> = {};
  const body = run.settings.bulkBodyBytes;
  for (const l of run.latency ?? [])
    values[`latency.${l.basis === "half of nginx's maximum" ? "nginxHalf" : "ourHalf"}.rate`] = l.rate;
  for (const [path, perServer] of measurements(run)) {
    for (const [kind, samples] of Object.entries(perServer ?? {})) {
      if (!samples?.length) continue;
      for (const [metric, [pick]] of Object.entries(METRICS))
        if (pick(samples[0]!, body) !== undefined)
          values[`${path}.${kind}.${metric}`] = median(samples.map((s) => pick(s, body)!));
    }
  }
  // Peak RSS as shipped, in MiB: after the fixed-count handshakes if measured, else after the handshake load.
  const variants = run.memory?.variants ?? [];
  const [shipped, defaults] = [variants.find((v) => v.shipped), variants.find((v) => v.nodeOptions === "")];
  const peak = (kind: string | undefined) =>
    kind ? (run.peakRss?.handshakes[kind as "ours"] ?? Number.NaN) / MIB : Number.NaN;
  values["peak.ours"] = shipped ? shipped.peakAfterResumedBytes / MIB : peak("ours");
  values["peak.defaults"] =
    defaults && !defaults.shipped ? defaults.peakAfterResumedBytes / MIB : peak(otherKind(run));
  values["peak.ours-ts"] = peak("ours-ts");
  values["peak.nginx"] = peak("nginx");
  const lowest = lowestCost(values);
  if (lowest) values["v8Cost.lowest"] = lowest.ratio;
  // The variant ours is compared with, whichever it was in this run, as "other".
  const other = otherKind(run);
  for (const [name, value] of Object.entries(other ? values : {})) {
    const alias = name.replace(new RegExp(`\\.${other}(\\.|$)`), ".other$1");
    if (alias !== name) values[alias] = value;
  }
  if (other) values["peak.other"] = values["peak.defaults"]!;
  return values;
}

/** The figures as the report prints them, and a flag per measured server. */
export function figureSlots(values: Record<string, number>): Slots {
  const slots: Slots = {};
  for (const [name, value] of Object.entries(values)) {
    const metric = METRICS[name.slice(name.lastIndexOf(".") + 1)];
    if (!metric || name.startsWith("peak.")) continue;
    slots[name] = metric[1](value);
    slots[name.slice(0, name.lastIndexOf("."))] = true;
  }
  return slots;
}

/** A figure of a measurement this run did not make: "n/a", and its row flag off. */
export function absentFigure(name: string): SlotValue | undefined {
  if (!/^(hs|keepAlive|bulk|bulkAb|latency|keys|proxy|rss)\./.test(name)) return undefined;
  return /\.(busy|load|rate|cpuMs|cpuUs|mbps|cpuPerMb|p50|p90|p99|p999|max|achieved|unanswered|lateness|idle|handshakes|whole)$/.test(
    name,
  )
    ? "n/a"
    : false;
}
