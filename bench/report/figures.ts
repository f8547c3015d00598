/**
 * Every measured figure of a run as a slot named after where it was measured, the server and the
 * metric: `keepAlive.ours.rate`, `hs.RSA-2048.TLSv1.2.full.nginx.cpuMs`, `proxy.tunnel.haproxy.mbps`,
 * `latency.nginxHalf.ours.p99`, `keys.ECDSA-P256.rate`; and a flag per measured server
 * (`keepAlive.ours-defaults`) for the template's table rows; `other` names the variant ours is
 * compared with in the run (otherKind). Medians over the repetitions.
 */
import type { Sample } from "../measure.ts";
import type { BenchResults, PerServer } from "../results.ts";
import { cpuPer, loadBusy, med, otherKind, serverBusy } from "./targets.ts";
import type { Slots, SlotValue } from "./template.ts";

export function n(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
export const pct = (fraction: number) => `${n(fraction * 100)}%`;
export const ms = (value: number) => (value >= 100 ? n(value) : value >= 1 ? n(value, 1) : n(value, 2));

// biome-ignore lint/suspicious/noExplicitAny: one reader for every kind of result
type AnySamples = Sample<any>[];

/** The metrics of one server's samples, whichever load produced them. */
function metricsOf(samples: AnySamples, bodyBytes: number): Record<string, string> {
  const r = samples[0]!.result;
  const pick = (f: (result: typeof r) => number) => med(samples, (s) => f(s.result));
  const out: Record<string, string> = { busy: pct(serverBusy(samples)), load: pct(loadBusy(samples)) };
  if ("perSecond" in r) {
    out.rate = n(pick((x) => x.perSecond));
    out.cpuMs = n(
      cpuPer(samples, (x) => x.connections, 1e3),
      2,
    );
  }
  if ("requestsPerSecond" in r) {
    out.rate = n(pick((x) => x.requestsPerSecond));
    out.cpuUs = n(
      cpuPer(samples, (x) => x.complete, 1e6),
      1,
    );
    out.mbps = n(pick((x) => (x.requestsPerSecond * bodyBytes) / 1e6));
  }
  if ("megabytesPerSecond" in r) {
    out.mbps = n(pick((x) => x.megabytesPerSecond));
    out.cpuPerMb = n(
      cpuPer(samples, (x) => (x.bytes ?? x.requests * bodyBytes) / 1e6, 1e3),
      2,
    );
  }
  if ("percentilesMs" in r) {
    for (const p of ["p50", "p90", "p99", "p999", "max"])
      out[p] = `${ms(pick((x) => x.percentilesMs[p]))} ms`;
    out.achieved = n(pick((x) => x.achievedRate));
    out.unanswered = n(pick((x) => x.unanswered));
    out.lateness = `${ms(pick((x) => x.sendLatenessP99Ms))} ms`;
  }
  return out;
}

export function figureSlots(run: BenchResults): Slots {
  const slots: Slots = {};
  const add = (path: string, perServer: PerServer<unknown> | Record<string, AnySamples> | undefined) => {
    for (const [kind, samples] of Object.entries(perServer ?? {})) {
      if (!samples?.length) continue;
      slots[`${path}.${kind}`] = true;
      for (const [metric, value] of Object.entries(metricsOf(samples, run.settings.bulkBodyBytes)))
        slots[`${path}.${kind}.${metric}`] = value;
    }
  };
  for (const c of run.handshakes ?? []) {
    add(`hs.${c.keyAlgorithm}.${c.protocol}.full`, c.full);
    add(`hs.${c.keyAlgorithm}.${c.protocol}.resumed`, c.resumed);
  }
  add("keepAlive", run.keepAlive);
  add("bulk", run.bulk);
  add("bulkAb", run.bulkAb);
  for (const l of run.latency ?? []) {
    const path = `latency.${l.basis === "half of nginx's maximum" ? "nginxHalf" : "ourHalf"}`;
    slots[`${path}.rate`] = n(l.rate);
    add(path, l.samples);
  }
  add("keys", run.keyAlgorithms);
  add("proxy.newConnection", run.proxy?.newConnection);
  add("proxy.keepAlive", run.proxy?.keepAlive);
  add("proxy.tunnel", run.proxy?.tunnel);
  // The variant ours is compared with, whichever it was in this run, as "other".
  const other = otherKind(run);
  for (const [name, value] of Object.entries(other ? slots : {})) {
    const alias = name.replace(new RegExp(`\\.${other}(\\.|$)`), ".other$1");
    if (alias !== name) slots[alias] = value;
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
