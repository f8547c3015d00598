/**
 * Fills the slots of the report's template (benchmarks.md) from one run file, with the ranges of the
 * targets over every recorded run: the measured figures by name (figures.ts), and here what is
 * derived from them (targets, ratios, which side set the pace) and the run's facts. The words are
 * the template's; a section of it is kept only when the run measured what it speaks of.
 */
import type { Sample } from "../measure.ts";
import type { BenchResults, PerServer } from "../results.ts";
import { SCENARIOS } from "../scenarios.ts";
import type { ServerKind } from "../servers/server-under-test.ts";
import { figureSlots, n, pct } from "./figures.ts";
import { formatRange, rangeOf } from "./maths.ts";
import { runFileName } from "./run-files.ts";
import {
  cpuPer,
  handshakeCase,
  loadBusy,
  MIB,
  med,
  megabytesPerSecond,
  otherKind,
  rate,
  requestsPerSecond,
  serverBusy,
  shippedPeakRss,
  TARGET_IDS,
  type Target,
  targets,
  v8Costs,
} from "./targets.ts";
import type { Slots } from "./template.ts";

export const ratio = (value: number) =>
  Number.isFinite(value) ? `${value >= 10 ? n(value) : n(value, 2)}×` : "n/a";
const mib = (bytes: number | undefined) => n((bytes ?? Number.NaN) / MIB);

const otherName = (run: BenchResults) =>
  otherKind(run) === "ours-tuned" ? "ours, --max-semi-space-size=1" : "ours, Node's V8 defaults";

/** Three decimals near the threshold, where two would show a missed 0.695 as "0.70". */
export function preciseRatio(goal: Target): string {
  const near = goal.thresholdOn === "ratio" && Math.abs(goal.ratio - goal.threshold) < 0.01;
  return near ? `${n(goal.ratio, 3)}×` : ratio(goal.ratio);
}

const valueWithUnit = (value: number, unit: string) =>
  unit === "×"
    ? ratio(value)
    : unit === "/s"
      ? `${n(value)}/s`
      : `${n(value, unit === "ms" ? 1 : 0)} ${unit}`;

export function table(header: string[], rows: string[][]): string {
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  return [...lines, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

export const keyVerdict = (ecdsaOverRsa: number) =>
  !Number.isFinite(ecdsaOverRsa)
    ? "not measured"
    : ecdsaOverRsa >= 1.05
      ? "faster"
      : ecdsaOverRsa <= 0.95
        ? "slower"
        : "on a par";

/** Runs recorded on one day or over several, in words a reader parses at once. */
export function runsWhen(runs: BenchResults[]): string {
  const days = [...new Set(runs.map((run) => run.startedAt.slice(0, 10)))];
  if (days.length > 1) return `from ${days[0]} to ${days.at(-1)}`;
  return runs.length === 1 ? `on ${days[0]}` : `all on ${days[0]}`;
}

/** Whether the server (its core busy) or the load generator set the pace, as a clause. */
function bound<T>(samples: Sample<T>[] | undefined): string {
  if (serverBusy(samples) >= 0.9) return ", so the server is CPU-bound";
  if (loadBusy(samples) < 0.9) return ", neither it nor the load core saturated";
  return `, with the load core ${pct(loadBusy(samples))} busy: the load generator set the pace, so the figure is a lower bound`;
}

/** What one whole core would carry at the CPU cost per operation, against the peer's measured rate. */
function ceiling(cost: number, scale: number, unit: string, goal: Target | undefined): string {
  if (!goal) return "";
  const share = scale / cost / goal.peer;
  const verdict =
    share < goal.threshold
      ? `below the ${goal.threshold}× target, so our CPU cost per operation alone rules the target out.`
      : `above the ${goal.threshold}× target, so the CPU cost alone does not explain the miss; the rest is how the load reached the server in this run.`;
  return ` At that CPU cost one whole core would carry at most ${n(scale / cost)} ${unit}, ${ratio(share)} ${goal.peerLabel}'s measured rate: ${verdict}`;
}

/** Ours over the peer repetition by repetition: how far a median ratio can be trusted. */
function perRepetition<T>(
  samples: PerServer<T> | undefined,
  peer: ServerKind,
  value: (s: Sample<T>) => number,
) {
  const theirs = samples?.[peer] ?? [];
  const pairs = (samples?.ours ?? []).map((s, i) => (theirs[i] ? value(s) / value(theirs[i]) : Number.NaN));
  return `per repetition ${pairs.map(ratio).join(", ")}`;
}

function targetSlots(run: BenchResults, runs: BenchResults[], goals: Target[]): Slots {
  const perRun = runs.map(targets);
  const ranges = goals.map((goal) => {
    const same = perRun.flatMap((list) => list.filter((g) => g.id === goal.id));
    const byValue = goal.thresholdOn === "value";
    const range = rangeOf(same.map((g) => (byValue ? g.ours : g.ratio)));
    const text = formatRange(
      range,
      (v) => (byValue ? n(v) : ratio(v).replace("×", "")),
      byValue ? ` ${goal.unit}` : "×",
    );
    const goalText = goal.goal.replace(/, every connection.*$/, "");
    return [
      goal.label.replace(/ \(after .*\)$/, ""),
      text,
      goalText,
      `${same.filter((g) => g.met).length} of ${same.length}`,
    ];
  });
  const slots: Slots = {
    targetTable: table(
      ["What", "ours", "compared with", "ratio", "target", "", otherName(run)],
      goals.map((goal) => [
        goal.label,
        valueWithUnit(goal.ours, goal.unit),
        goal.unit === "×" ? goal.peerLabel : `${goal.peerLabel} ${valueWithUnit(goal.peer, goal.unit)}`,
        preciseRatio(goal),
        goal.goal,
        goal.met ? "✅ met" : "❌ missed",
        goal.other ? `${valueWithUnit(goal.other.value, goal.unit)} (${ratio(goal.other.ratio)})` : "—",
      ]),
    ),
    rangeTable: table(["figure", "range over the runs", "target", "met in"], ranges),
    "ranges.count": runs.length === 1 ? "the one recorded run" : `the ${runs.length} recorded runs`,
    "ranges.when": runsWhen(runs),
    "has.ranges": !run.settings.quick && runs.length > 0,
    "missed.any": goals.some((g) => !g.met),
  };
  for (const id of TARGET_IDS) slots[`missed.${id}`] = false; // not measured in this run
  for (const goal of goals) {
    slots[`missed.${goal.id}`] = !goal.met;
    slots[`${goal.id}.ratio`] = preciseRatio(goal);
    slots[`${goal.id}.ours`] = valueWithUnit(goal.ours, goal.unit);
    slots[`${goal.id}.peer`] = valueWithUnit(goal.peer, goal.unit);
  }
  return slots;
}

/** Figures derived from several measurements, for the causes of missed targets. */
function derivedSlots(run: BenchResults, goals: Target[]): Slots {
  const goal = (id: Target["id"]) => goals.find((g) => g.id === id);
  const main = handshakeCase(run, "ECDSA-P256", "TLSv1.3");
  const proxy = run.proxy;
  const cpu = <T>(samples: Sample<T>[] | undefined, ops: (r: T) => number, scale: number) =>
    cpuPer(samples, ops, scale);
  const kaCpu = (kind: ServerKind) => cpu(run.keepAlive?.[kind], (r) => r.complete, 1e6);
  const half = run.latency?.find((l) => l.basis === "half of nginx's maximum");
  const ourMax = med(run.keepAlive?.ours, requestsPerSecond);
  const costs = v8Costs(run);
  const lowest = costs.reduce(
    (low, c) => (c.ratio < low.ratio ? c : low),
    costs[0] ?? { what: "n/a", ratio: Number.NaN },
  );
  const rss = shippedPeakRss(run);
  const proxyOf = <T>(samples: PerServer<T> | undefined, peer: ServerKind, pick: (s: Sample<T>) => number) =>
    n(med(samples?.ours, pick) / med(samples?.[peer], pick), 3);
  const slots: Slots = {};
  for (const c of run.handshakes ?? []) {
    for (const kind of ["full", "resumed"] as const) {
      const samples = c[kind];
      const cpu = (server: ServerKind) => cpuPer(samples?.[server], (r) => r.connections, 1e3);
      const path = `hs.${c.keyAlgorithm}.${c.protocol}.${kind}`;
      slots[`${path}.ratio`] = ratio(med(samples?.ours, rate) / med(samples?.nginx, rate));
      slots[`${path}.perCpuRatio`] = ratio(cpu("nginx") / cpu("ours"));
    }
  }
  const idle = run.peakRss?.idle ?? {};
  return {
    ...slots,
    "rss.stripper": mib((idle["ours-ts"] ?? Number.NaN) - (idle.ours ?? Number.NaN)),
    "rss.saved": n(rss.shipped - (rss.other ?? Number.NaN)),
    "full.bound": bound(main?.full.ours),
    "full.bareRatio": ratio(med(main?.full["node-bare"], rate) / med(main?.full.nginx, rate)),
    "keepAlive.bound": bound(run.keepAlive?.ours),
    "keepAlive.nodeOverNginx": ratio(kaCpu("node-bare") / kaCpu("nginx")),
    "p99.relation": ourMax < (half?.rate ?? 0) ? "above" : "close to",
    "rss.shipped": n(rss.shipped),
    "rss.other": n(rss.other ?? Number.NaN),
    "rss.idleTsWithCompileCache": mib(run.peakRss?.idleTsWithCompileCache),
    "v8Cost.what": lowest.what,
    "v8Cost.all": costs.map((c) => `${c.what} ${ratio(c.ratio)} (${ratio(c.cpuRatio)})`).join(", "),
    "proxyFull.perRepetition": perRepetition(proxy?.newConnection, "nginx", rate),
    "proxyFull.ceiling": ceiling(
      cpu(proxy?.newConnection.ours, (r) => r.connections, 1e3),
      1e3,
      "proxied connections/s",
      goal("proxyFull"),
    ),
    "proxyKeepAlive.perRepetition": perRepetition(proxy?.keepAlive, "nginx", requestsPerSecond),
    "proxyKeepAlive.bound": bound(proxy?.keepAlive.ours),
    "proxyKeepAlive.ceiling": ceiling(
      cpu(proxy?.keepAlive.ours, (r) => r.complete, 1e6),
      1e6,
      "proxied req/s",
      goal("proxyKeepAlive"),
    ),
    "tunnelBulk.perRepetition": perRepetition(proxy?.tunnel, "haproxy", megabytesPerSecond),
    "tunnelBulk.ceiling": ceiling(
      cpu(proxy?.tunnel.ours, (r) => r.bytes / 1e6, 1e3),
      1e3,
      "MB/s",
      goal("tunnelBulk"),
    ),
    "proxy.refused": Object.entries(proxy?.anonymousRefused ?? {})
      .map(([what, how]) => `${what}: ${how}`)
      .join("; "),
    "proxy.bodyBytes": proxy?.upstreamBodyBytes ?? 0,
    "proxy.ratios": [
      `new connection each ${proxyOf(proxy?.newConnection, "nginx", rate)}× nginx`,
      `keep-alive ${proxyOf(proxy?.keepAlive, "nginx", requestsPerSecond)}× nginx, ${proxyOf(proxy?.keepAlive, "haproxy", requestsPerSecond)}× HAProxy, ${proxyOf(proxy?.keepAlive, "node-bare", requestsPerSecond)}× bare Node`,
      `tunnel bulk ${proxyOf(proxy?.tunnel, "haproxy", megabytesPerSecond)}× HAProxy`,
    ].join(", "),
  };
}

function memorySlots(run: BenchResults): Slots {
  const slots: Slots = {
    "memory.handshakes": n(run.memory?.handshakes ?? Number.NaN),
    memoryTable: table(
      [
        "NODE_OPTIONS",
        "peak after the full handshakes",
        "after the resumed ones",
        "CPU per full handshake",
        "per resumed one",
      ],
      (run.memory?.variants ?? []).map((v) => [
        `${v.nodeOptions === "" ? "(none: Node's defaults)" : `\`${v.nodeOptions}\``}${v.shipped ? " **(the image's)**" : ""}`,
        `${mib(v.peakAfterFullBytes)} MiB`,
        `${mib(v.peakAfterResumedBytes)} MiB`,
        `${n(v.cpuPerFullMs, 2)} ms`,
        `${n(v.cpuPerResumedMs, 2)} ms`,
      ]),
    ),
  };
  const peak = run.peakRss;
  for (const [kind, bytes] of Object.entries(peak?.handshakes ?? {})) {
    const whole = peak?.whole[kind as ServerKind];
    slots[`rss.${kind}`] = true;
    slots[`rss.${kind}.idle`] = `${mib(peak?.idle[kind as ServerKind])} MiB`;
    slots[`rss.${kind}.handshakes`] = `${mib(bytes)} MiB`;
    slots[`rss.${kind}.whole`] = whole === undefined ? "— (measured for memory only)" : `${mib(whole)} MiB`;
  }
  return slots;
}

function keySlots(run: BenchResults): Slots {
  const quotient = (get: (key: string) => number) => get("ECDSA-P256") / get("RSA-2048");
  const side = quotient((key) => med(run.keyAlgorithms?.[key as "ECDSA-P256"], rate));
  const perCase = ["TLSv1.3", "TLSv1.2"].map(
    (protocol) =>
      `${protocol} ${ratio(quotient((key) => med(handshakeCase(run, key, protocol)?.full.ours, rate)))}`,
  );
  return { "keys.ratio": ratio(side), "keys.verdict": keyVerdict(side), "keys.perCase": perCase.join(", ") };
}

/** Every measurement whose load generator, not the server, set the pace. */
function generatorSlots(run: BenchResults): Slots {
  const notes: string[] = [];
  const check = (label: string, samples: PerServer<unknown> | undefined) => {
    for (const [kind, list] of Object.entries(samples ?? {})) {
      if (list?.length && loadBusy(list) >= 0.9 && serverBusy(list) < 0.9)
        notes.push(`- ${label}, ${kind}: load core ${pct(loadBusy(list))}, server ${pct(serverBusy(list))}.`);
    }
  };
  for (const c of run.handshakes ?? []) {
    check(`Full handshakes ${c.keyAlgorithm} ${c.protocol}`, c.full);
    check(`Resumed handshakes ${c.keyAlgorithm} ${c.protocol}`, c.resumed);
  }
  check("Keep-alive requests", run.keepAlive);
  check("Bulk echo", run.bulk);
  check("Proxied requests, new connection each", run.proxy?.newConnection);
  check("Proxied keep-alive requests", run.proxy?.keepAlive);
  check("TCP tunnel bulk", run.proxy?.tunnel);
  return { "has.generatorLimits": notes.length > 0, generatorLimits: notes.join("\n") };
}

export function fillSlots(run: BenchResults, runs: BenchResults[], chartFile: string): Slots {
  const s = run.settings;
  const goals = targets(run);
  const other = otherKind(run);
  const minutes = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 60_000;
  const slots: Slots = {
    ...figureSlots(run),
    ...targetSlots(run, runs, goals),
    ...derivedSlots(run, goals),
    ...memorySlots(run),
    ...keySlots(run),
    ...generatorSlots(run),
    chartFile,
    "run.start": run.startedAt.slice(0, 16).replace("T", " "),
    "run.trial": s.quick,
    "run.minutes": n(Math.ceil(minutes)),
    "run.duration": n(minutes, 1),
    "run.file": s.quick ? "bench/.work/results.json" : `bench/runs/${runFileName(run.startedAt)}`,
    "run.repetitions": `${s.runs} repetition${s.runs > 1 ? "s" : ""}`,
    "run.startedAt": run.startedAt,
    "run.finishedAt": run.finishedAt,
    "run.loadBefore": run.loadAverageBefore.join(" / "),
    "run.loadAfter": run.loadAverageAfter.join(" / "),
    "machine.cpu": run.machine.cpuModel,
    "machine.cores": run.machine.cores,
    "machine.memory": run.machine.memoryGiB,
    "machine.os": `${run.machine.os}, Linux ${run.machine.kernel}`,
    "machine.installed": run.installed.join(", "),
    "has.installed": run.installed.length > 0,
    versionTable: table(["component", "version"], Object.entries(run.machine.versions)),
    "has.server": run.handshakes !== undefined,
    "has.keys": run.keyAlgorithms !== undefined,
    "has.memory": run.memory !== undefined,
    "has.proxy": run.proxy !== undefined,
    "has.other": other !== undefined,
    "other.name": otherName(run),
    "other.options":
      other === "ours-tuned"
        ? `\`NODE_OPTIONS=${run.memoryTuning?.NODE_OPTIONS}\``
        : "Node's own V8 defaults (no NODE_OPTIONS)",
    "shipped.options": run.shippedNodeOptions
      ? `the image's \`NODE_OPTIONS=${run.shippedNodeOptions}\``
      : "Node's own V8 defaults (the image then set no NODE_OPTIONS)",
    "client.rounds": run.clientLoop?.rounds ?? 0,
    "client.failed": run.clientLoop?.failedRounds ?? 0,
    "client.handshakes": run.clientLoop?.handshakes ?? 0,
    "client.per100": n(run.clientLoop?.handshakesPer100Rounds ?? Number.NaN, 1),
  };
  for (const [key, value] of Object.entries(s))
    if (typeof value === "number") slots[`settings.${key}`] = String(value);
  slots["settings.proxyRuns"] ??= String(s.runs); // run files older than a setting of its own
  slots["settings.bodyMiB"] = n(s.bulkBodyBytes / MIB);
  slots["settings.tunnelKiB"] = n(s.tunnelChunkBytes / 1024);
  // Scenarios beyond the built-in ones bring their own slots (scenarios.ts).
  for (const scenario of SCENARIOS) {
    slots[`has.${scenario.key}`] ??= run.scenarios?.includes(scenario.key) ?? false;
    Object.assign(slots, scenario.slots?.(run));
  }
  return slots;
}
