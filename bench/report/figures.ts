/**
 * Every measured figure of a run, the median over the repetitions, named after the measurement, the
 * server and the metric (`keepAlive.ours.rate`, `hs.RSA-2048.TLSv1.2.full.nginx.cpuMs`), and those
 * derived from several (`peak.*` in MiB, `v8Cost.*`): figureValues the numbers the targets compare,
 * figureSlots the text the report prints, with a flag per measured server for the template's rows.
 */
import { median, type Sample } from "../measure.ts";
import type { BenchResults, PerKind } from "../results.ts";
import type { Slots, SlotValue } from "./template.ts";

export const MIB = 2 ** 20;
export const n = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";
export const pct = (fraction: number) => `${n(fraction * 100)}%`;
const ms = (value: number) => `${n(value, value >= 100 ? 0 : value >= 1 ? 1 : 2)} ms`;
const fixed = (digits: number) => (value: number) => n(value, digits);

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
  rate: [(s) => s.result.perSecond ?? s.result.requestsPerSecond, fixed(0)],
  cpuMs: [(s) => cpu(s, s.result.perSecond && s.result.connections, 1e3), fixed(2)],
  cpuUs: [(s) => cpu(s, s.result.requestsPerSecond && s.result.complete, 1e6), fixed(1)],
  mbps: [
    (s, body) =>
      s.result.megabytesPerSecond ?? (s.result.complete && (s.result.requestsPerSecond * body) / 1e6),
    fixed(0),
  ],
  cpuPerMb: [
    (s, body) =>
      cpu(s, s.result.megabytesPerSecond && (s.result.bytes ?? s.result.requests * body) / 1e6, 1e3),
    fixed(2),
  ],
  ...Object.fromEntries(["p50", "p90", "p99", "p999", "max"].map((p) => [p, percentile(p)])),
  achieved: [(s) => s.result.achievedRate, fixed(0)],
  unanswered: [(s) => s.result.unanswered, fixed(0)],
  lateness: [(s) => s.result.sendLatenessP99Ms, ms],
};

/** One sample's value of a metric (rate, mbps, ...), for figures compared repetition by repetition. */
export const sampleValue = (metric: string, sample: AnySample, bodyBytes: number) =>
  METRICS[metric]![0](sample, bodyBytes) ?? Number.NaN;

/** Each throughput figure as shipped over the same with Node's V8 defaults, in the same run. */
export function v8Costs(values: Record<string, number>) {
  if (values["keepAlive.ours-defaults.rate"] === undefined) return [];
  const main = "hs.ECDSA-P256.TLSv1.3";
  return [
    ["full handshakes", `${main}.full`, "rate", "cpuMs"],
    ["resumed handshakes", `${main}.resumed`, "rate", "cpuMs"],
    ["keep-alive requests", "keepAlive", "rate", "cpuUs"],
    ["bulk echo", "bulk", "mbps", "cpuPerMb"],
  ].map(([what, path, metric, cpuMetric]) => ({
    what: what!,
    ratio: values[`${path}.ours.${metric}`]! / values[`${path}.ours-defaults.${metric}`]!,
    cpuRatio: values[`${path}.ours-defaults.${cpuMetric}`]! / values[`${path}.ours.${cpuMetric}`]!,
  }));
}

/** The V8 settings' costliest figure (NaN ones left out), if the run measured Node's defaults. */
export const lowestCost = (values: Record<string, number>) =>
  v8Costs(values)
    .filter((c) => Number.isFinite(c.ratio))
    .sort((a, b) => a.ratio - b.ratio)[0];

export function figureValues(run: BenchResults): Record<string, number> {
  const values: Record<string, number> = {};
  const body = run.settings.bulkBodyBytes;
  // Every metric of every server of a measurement, the median over its repetitions.
  const add = (path: string, perServer: Record<string, AnySample[] | undefined> = {}) => {
    for (const [kind, samples] of Object.entries(perServer))
      for (const [metric, [pick]] of Object.entries(METRICS))
        if (samples?.length && pick(samples[0]!, body) !== undefined)
          values[`${path}.${kind}.${metric}`] = median(samples.map((s) => pick(s, body)!));
  };
  for (const c of run.handshakes ?? [])
    for (const kind of ["full", "resumed"] as const)
      add(`hs.${c.keyAlgorithm}.${c.protocol}.${kind}`, c[kind]);
  for (const key of ["keepAlive", "bulk", "bulkAb"] as const) add(key, run[key]);
  add("keys", run.keyAlgorithms);
  for (const { basis, rate, samples } of run.latency ?? []) {
    const path = `latency.${basis === "half of nginx's maximum" ? "nginxHalf" : "ourHalf"}`;
    values[`${path}.rate`] = rate;
    add(path, samples);
  }
  for (const path of ["newConnection", "keepAlive", "tunnel"] as const)
    add(`proxy.${path}`, run.proxy?.[path]);
  // Peak RSS in MiB: after the fixed-count handshakes if measured, else after the handshake load.
  const variants = run.memory?.variants ?? [];
  const [shipped, defaults] = [variants.find((v) => v.shipped), variants.find((v) => v.nodeOptions === "")];
  const peak = (kind: keyof PerKind<number>) => (run.peakRss?.handshakes[kind] ?? Number.NaN) / MIB;
  values["peak.ours"] = shipped ? shipped.peakAfterResumedBytes / MIB : peak("ours");
  values["peak.ours-defaults"] =
    defaults && !defaults.shipped ? defaults.peakAfterResumedBytes / MIB : peak("ours-defaults");
  values["peak.ours-ts"] = peak("ours-ts");
  values["peak.nginx"] = peak("nginx");
  const lowest = lowestCost(values);
  if (lowest) values["v8Cost.lowest"] = lowest.ratio;
  return values;
}

/** The figures as the report prints them, and a flag per measured server. */
export function figureSlots(values: Record<string, number>): Slots {
  const slots: Slots = {};
  for (const [name, value] of Object.entries(values)) {
    const at = name.lastIndexOf(".");
    const format = METRICS[name.slice(at + 1)]?.[1];
    if (!format || name.startsWith("peak.")) continue;
    slots[name] = format(value);
    slots[name.slice(0, at)] = true;
  }
  return slots;
}

const ROW_FIGURES = [...Object.keys(METRICS), "idle", "handshakes", "whole"];

/** A figure of a measurement this run did not make: "n/a", and its row flag off. */
export function absentFigure(name: string): SlotValue {
  if (!/^(hs|keepAlive|bulk|bulkAb|latency|keys|proxy|rss)\./.test(name)) return undefined;
  return ROW_FIGURES.includes(name.slice(name.lastIndexOf(".") + 1)) ? "n/a" : false;
}
