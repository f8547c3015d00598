/**
 * Fills the slots of the report's template (benchmarks.md) from one run file, with the ranges of the
 * targets over every recorded run: the measured figures by name (figures.ts), and here what is
 * derived from them (targets, ratios, which side set the pace) and the run's facts. The words are
 * the template's; a section of it is kept only when the run measured what it speaks of.
 */
import type { BenchResults, PerServer } from "../results.ts";
import { SCENARIOS } from "../scenarios.ts";
import {
  figureSlots,
  figureValues,
  lowestCost,
  MIB,
  n,
  otherKind,
  pct,
  sampleValue,
  v8Costs,
} from "./figures.ts";
import { formatRange, rangeOf } from "./maths.ts";
import { runFileName } from "./run-files.ts";
import { TARGET_IDS, type Target, targets } from "./targets.ts";
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

const withUnit = (value: number, unit: string) =>
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
  const rows = goals.map((goal) => [
    goal.label,
    withUnit(goal.ours, goal.unit),
    goal.unit === "×" ? goal.peerLabel : `${goal.peerLabel} ${withUnit(goal.peer, goal.unit)}`,
    preciseRatio(goal),
    goal.goal,
    goal.met ? "✅ met" : "❌ missed",
    goal.other ? `${withUnit(goal.other.value, goal.unit)} (${ratio(goal.other.ratio)})` : "—",
  ]);
  const slots: Slots = {
    targetTable: table(["What", "ours", "compared with", "ratio", "target", "", otherName(run)], rows),
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
    slots[`${goal.id}.ours`] = withUnit(goal.ours, goal.unit);
    slots[`${goal.id}.peer`] = withUnit(goal.peer, goal.unit);
  }
  return slots;
}

/** The measurements whose load generator may have set the pace, as the report names them. */
const PACED = [
  ["keepAlive", "Keep-alive requests"],
  ["bulk", "Bulk echo"],
  ["proxy.newConnection", "Proxied requests, new connection each"],
  ["proxy.keepAlive", "Proxied keep-alive requests"],
  ["proxy.tunnel", "TCP tunnel bulk"],
];

/** Figures derived from several measurements, for the causes of missed targets. */
function derivedSlots(run: BenchResults, goals: Target[], v: Record<string, number>): Slots {
  const value = (name: string) => v[name] ?? Number.NaN;
  const quotient = (a: string, b: string) => ratio(value(a) / value(b));
  const main = "hs.ECDSA-P256.TLSv1.3.full";
  // Whether the server (its core busy) or the load generator set the pace, as a clause.
  const bound = (path: string) =>
    value(`${path}.busy`) >= 0.9
      ? ", so the server is CPU-bound"
      : value(`${path}.load`) < 0.9
        ? ", neither it nor the load core saturated"
        : `, with the load core ${pct(value(`${path}.load`))} busy: the load generator set the pace, so the figure is a lower bound`;
  // What one whole core would carry at the CPU cost per operation, against the peer's measured rate.
  const ceiling = (cost: number, scale: number, unit: string, id: string) => {
    const goal = goals.find((g) => g.id === id);
    if (!goal) return "";
    const share = scale / cost / goal.peer;
    const verdict =
      share < goal.threshold
        ? `below the ${goal.threshold}× target, so our CPU cost per operation alone rules the target out.`
        : `above the ${goal.threshold}× target, so the CPU cost alone does not explain the miss; the rest is how the load reached the server in this run.`;
    return ` At that CPU cost one whole core would carry at most ${n(scale / cost)} ${unit}, ${ratio(share)} ${goal.peerLabel}'s measured rate: ${verdict}`;
  };
  // Ours over the peer repetition by repetition: how far a median ratio can be trusted.
  const perRepetition = (
    samples: PerServer<unknown> | undefined,
    peer: "nginx" | "haproxy",
    metric: string,
  ) => {
    const of = (s: Parameters<typeof sampleValue>[1]) => sampleValue(metric, s, run.settings.bulkBodyBytes);
    const theirs = samples?.[peer] ?? [];
    return `per repetition ${(samples?.ours ?? []).map((s, i) => ratio(theirs[i] ? of(s) / of(theirs[i]) : Number.NaN)).join(", ")}`;
  };
  const slots: Slots = {};
  for (const c of run.handshakes ?? []) {
    for (const kind of ["full", "resumed"]) {
      const path = `hs.${c.keyAlgorithm}.${c.protocol}.${kind}`;
      slots[`${path}.ratio`] = quotient(`${path}.ours.rate`, `${path}.nginx.rate`);
      slots[`${path}.perCpuRatio`] = quotient(`${path}.nginx.cpuMs`, `${path}.ours.cpuMs`);
    }
  }
  const idle = run.peakRss?.idle ?? {};
  const proxy = run.proxy;
  const proxyOf = (path: string, peer: string, metric: string) =>
    n(value(`proxy.${path}.ours.${metric}`) / value(`proxy.${path}.${peer}.${metric}`), 3);
  return {
    ...slots,
    "rss.stripper": mib((idle["ours-ts"] ?? Number.NaN) - (idle.ours ?? Number.NaN)),
    "rss.saved": n(value("peak.ours") - value("peak.defaults")),
    "full.bound": bound(`${main}.ours`),
    "full.bareRatio": quotient(`${main}.node-bare.rate`, `${main}.nginx.rate`),
    "keepAlive.bound": bound("keepAlive.ours"),
    "keepAlive.nodeOverNginx": quotient("keepAlive.node-bare.cpuUs", "keepAlive.nginx.cpuUs"),
    "p99.relation": value("keepAlive.ours.rate") < (v["latency.nginxHalf.rate"] ?? 0) ? "above" : "close to",
    "rss.shipped": n(value("peak.ours")),
    "rss.other": n(value("peak.defaults")),
    "rss.idleTsWithCompileCache": mib(run.peakRss?.idleTsWithCompileCache),
    "v8Cost.what": lowestCost(v)?.what ?? "n/a",
    "v8Cost.all": v8Costs(v)
      .map((c) => `${c.what} ${ratio(c.ratio)} (${ratio(c.cpuRatio)})`)
      .join(", "),
    "proxyFull.perRepetition": perRepetition(proxy?.newConnection, "nginx", "rate"),
    "proxyFull.ceiling": ceiling(
      value("proxy.newConnection.ours.cpuMs"),
      1e3,
      "proxied connections/s",
      "proxyFull",
    ),
    "proxyKeepAlive.perRepetition": perRepetition(proxy?.keepAlive, "nginx", "rate"),
    "proxyKeepAlive.bound": bound("proxy.keepAlive.ours"),
    "proxyKeepAlive.ceiling": ceiling(
      value("proxy.keepAlive.ours.cpuUs"),
      1e6,
      "proxied req/s",
      "proxyKeepAlive",
    ),
    "tunnelBulk.perRepetition": perRepetition(proxy?.tunnel, "haproxy", "mbps"),
    "tunnelBulk.ceiling": ceiling(value("proxy.tunnel.ours.cpuPerMb"), 1e3, "MB/s", "tunnelBulk"),
    "proxy.refused": Object.entries(proxy?.anonymousRefused ?? {})
      .map(([what, how]) => `${what}: ${how}`)
      .join("; "),
    "proxy.bodyBytes": proxy?.upstreamBodyBytes ?? 0,
    "proxy.ratios": [
      `new connection each ${proxyOf("newConnection", "nginx", "rate")}× nginx`,
      `keep-alive ${proxyOf("keepAlive", "nginx", "rate")}× nginx, ${proxyOf("keepAlive", "haproxy", "rate")}× HAProxy, ${proxyOf("keepAlive", "node-bare", "rate")}× bare Node`,
      `tunnel bulk ${proxyOf("tunnel", "haproxy", "mbps")}× HAProxy`,
    ].join(", "),
    "keys.ratio": quotient("keys.ECDSA-P256.rate", "keys.RSA-2048.rate"),
    "keys.verdict": keyVerdict(value("keys.ECDSA-P256.rate") / value("keys.RSA-2048.rate")),
    "keys.perCase": ["TLSv1.3", "TLSv1.2"]
      .map((p) => `${p} ${quotient(`hs.ECDSA-P256.${p}.full.ours.rate`, `hs.RSA-2048.${p}.full.ours.rate`)}`)
      .join(", "),
    ...generatorSlots(run, v),
  };
}

function memorySlots(run: BenchResults): Slots {
  const header = [
    "NODE_OPTIONS",
    "peak after the full handshakes",
    "after the resumed ones",
    "CPU per full handshake",
    "per resumed one",
  ];
  const rows = (run.memory?.variants ?? []).map((m) => [
    `${m.nodeOptions === "" ? "(none: Node's defaults)" : `\`${m.nodeOptions}\``}${m.shipped ? " **(the image's)**" : ""}`,
    `${mib(m.peakAfterFullBytes)} MiB`,
    `${mib(m.peakAfterResumedBytes)} MiB`,
    `${n(m.cpuPerFullMs, 2)} ms`,
    `${n(m.cpuPerResumedMs, 2)} ms`,
  ]);
  const slots: Slots = {
    "memory.handshakes": n(run.memory?.handshakes ?? Number.NaN),
    memoryTable: table(header, rows),
  };
  const peak = run.peakRss;
  for (const [kind, bytes] of Object.entries(peak?.handshakes ?? {})) {
    const whole = peak?.whole[kind as "ours"];
    slots[`rss.${kind}`] = true;
    slots[`rss.${kind}.idle`] = `${mib(peak?.idle[kind as "ours"])} MiB`;
    slots[`rss.${kind}.handshakes`] = `${mib(bytes)} MiB`;
    slots[`rss.${kind}.whole`] = whole === undefined ? "— (measured for memory only)" : `${mib(whole)} MiB`;
  }
  return slots;
}

/** Every measurement whose load generator, not the server, set the pace. */
function generatorSlots(run: BenchResults, v: Record<string, number>): Slots {
  const cases = (run.handshakes ?? []).flatMap((c) =>
    ["full", "resumed"].map((kind) => [
      `hs.${c.keyAlgorithm}.${c.protocol}.${kind}`,
      `${kind === "full" ? "Full" : "Resumed"} handshakes ${c.keyAlgorithm} ${c.protocol}`,
    ]),
  );
  const notes = [...cases, ...PACED].flatMap(([path, label]) =>
    Object.keys(v)
      .filter(
        (name) => name.startsWith(`${path}.`) && name.endsWith(".busy") && !name.endsWith(".other.busy"),
      )
      .map((name) => name.slice(path!.length + 1, -".busy".length))
      .filter(
        (kind) =>
          !kind.includes(".") && v[`${path}.${kind}.load`]! >= 0.9 && v[`${path}.${kind}.busy`]! < 0.9,
      )
      .map(
        (kind) =>
          `- ${label}, ${kind}: load core ${pct(v[`${path}.${kind}.load`]!)}, server ${pct(v[`${path}.${kind}.busy`]!)}.`,
      ),
  );
  return { "has.generatorLimits": notes.length > 0, generatorLimits: notes.join("\n") };
}

export function fillSlots(run: BenchResults, runs: BenchResults[], chartFile: string): Slots {
  const s = run.settings;
  const goals = targets(run);
  const values = figureValues(run);
  const other = otherKind(run);
  const minutes = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 60_000;
  const slots: Slots = {
    ...figureSlots(values),
    ...targetSlots(run, runs, goals),
    ...derivedSlots(run, goals, values),
    ...memorySlots(run),
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
