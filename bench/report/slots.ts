/**
 * Fills the template's slots (benchmarks.md) from one run file and the targets' ranges over every run:
 * the figures by name (figures.ts), what is derived from them (targets, ratios, who set the pace) and
 * the run's facts. The words are the template's; a section stays only if the run measured its subject.
 */
import type { BenchResults, PerServer } from "../results.ts";
import { SCENARIOS } from "../scenarios.ts";
import { figureSlots, figureValues, lowestCost, MIB, n, pct, sampleValue, v8Costs } from "./figures.ts";
import { runFileName } from "./run-files.ts";
import { formatRange, nearThreshold, rangeOf, TARGET_IDS, type Target, targets } from "./targets.ts";
import type { Slots } from "./template.ts";

const ratio = (value: number) => (Number.isFinite(value) ? `${n(value, value >= 10 ? 0 : 2)}×` : "n/a");
const mib = (bytes: number | undefined) => n((bytes ?? Number.NaN) / MIB);
const preciseRatio = (goal: Target) =>
  goal.thresholdOn === "ratio" && nearThreshold(goal) ? `${n(goal.ratio, 3)}×` : ratio(goal.ratio);
/** "1,234/s", "12.3 ms", "140 MiB" or "0.95×". */
const withUnit = (value: number, unit: string) =>
  unit === "×" ? ratio(value) : `${n(value, unit === "ms" ? 1 : 0)}${unit === "/s" ? "" : " "}${unit}`;
const table = (header: string[], rows: string[][]) =>
  [header, header.map((_, i) => (i === 0 ? "---" : "---:")), ...rows]
    .map((row, i) => (i === 1 ? `|${row.join("|")}|` : `| ${row.join(" | ")} |`))
    .join("\n");

/** ECDSA's handshake rate over RSA's, in a word: within 5% either way is on a par. */
export const keyVerdict = (q: number) =>
  !Number.isFinite(q) ? "not measured" : q >= 1.05 ? "faster" : q <= 0.95 ? "slower" : "on a par";

/** Runs recorded on one day or over several, in words a reader parses at once. */
export function runsWhen(runs: BenchResults[]): string {
  const days = [...new Set(runs.map((run) => run.startedAt.slice(0, 10)))];
  if (days.length > 1) return `from ${days[0]} to ${days.at(-1)}`;
  return runs.length === 1 ? `on ${days[0]}` : `all on ${days[0]}`;
}

/** The target table of this run, the ranges over the runs, and each target's figures and verdict. */
function targetSlots(run: BenchResults, runs: BenchResults[], goals: Target[]): Slots {
  const perRun = runs.map(targets);
  const ranges = goals.map((goal) => {
    const same = perRun.flatMap((list) => list.filter((g) => g.id === goal.id));
    const byValue = goal.thresholdOn === "value";
    const range = rangeOf(same.map((g) => (byValue ? g.ours : g.ratio)));
    return [
      goal.label.replace(/ \(after .*\)$/, ""),
      formatRange(range, byValue ? n : (v) => ratio(v).slice(0, -1), byValue ? ` ${goal.unit}` : "×"),
      goal.goal.replace(/, every connection.*$/, ""),
      `${same.filter((g) => g.met).length} of ${same.length}`,
    ];
  });
  const slots: Slots = {
    targetTable: table(
      ["What", "ours", "compared with", "ratio", "target", "", "ours, Node's V8 defaults"],
      goals.map((goal) => [
        goal.label,
        withUnit(goal.ours, goal.unit),
        goal.unit === "×" ? goal.peerLabel : `${goal.peerLabel} ${withUnit(goal.peer, goal.unit)}`,
        preciseRatio(goal),
        goal.goal,
        goal.met ? "✅ met" : "❌ missed",
        goal.other ? `${withUnit(goal.other.value, goal.unit)} (${ratio(goal.other.ratio)})` : "—",
      ]),
    ),
    rangeTable: table(["figure", "range over the runs", "target", "met in"], ranges),
    "ranges.count": runs.length === 1 ? "the one recorded run" : `the ${runs.length} recorded runs`,
    "ranges.when": runsWhen(runs),
    "has.ranges": !run.settings.quick && runs.length > 0,
    "missed.any": goals.some((g) => !g.met),
    ...Object.fromEntries(TARGET_IDS.map((id) => [`missed.${id}`, false])), // not measured in this run
  };
  for (const goal of goals) {
    slots[`missed.${goal.id}`] = !goal.met;
    slots[`${goal.id}.ratio`] = preciseRatio(goal);
    slots[`${goal.id}.ours`] = withUnit(goal.ours, goal.unit);
    slots[`${goal.id}.peer`] = withUnit(goal.peer, goal.unit);
  }
  return slots;
}

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
  const ceiling = (id: string, metric: string, scale: number, unit: string) => {
    const goal = goals.find((g) => g.id === id);
    if (!goal) return "";
    const [most, threshold] = [scale / v[metric]!, goal.threshold];
    const verdict =
      most / goal.peer < threshold
        ? `below the ${threshold}× target, so our CPU cost per operation alone rules the target out.`
        : `above the ${threshold}× target, so the CPU cost alone does not explain the miss; the rest is how the load reached the server in this run.`;
    return ` At that CPU cost one whole core would carry at most ${n(most)} ${unit}, ${ratio(most / goal.peer)} ${goal.peerLabel}'s measured rate: ${verdict}`;
  };
  // Ours over the peer repetition by repetition: how far a median ratio can be trusted.
  const perRepetition = (metric: string, peer: "nginx" | "haproxy", samples?: PerServer<unknown>) => {
    const of = (s: Parameters<typeof sampleValue>[1]) => sampleValue(metric, s, run.settings.bulkBodyBytes);
    const theirs = samples?.[peer] ?? [];
    const each = (samples?.ours ?? []).map((s, i) => ratio(theirs[i] ? of(s) / of(theirs[i]) : Number.NaN));
    return `per repetition ${each.join(", ")}`;
  };
  const proxyOf = (path: string, peer: string, metric: string) =>
    n(value(`proxy.${path}.ours.${metric}`) / value(`proxy.${path}.${peer}.${metric}`), 3);
  const slots: Slots = {
    "rss.saved": n(value("peak.ours") - value("peak.ours-defaults")),
    "full.bound": bound(`${main}.ours`),
    "full.bareRatio": quotient(`${main}.node-bare.rate`, `${main}.nginx.rate`),
    "keepAlive.bound": bound("keepAlive.ours"),
    "keepAlive.nodeOverNginx": quotient("keepAlive.node-bare.cpuUs", "keepAlive.nginx.cpuUs"),
    "p99.relation": value("keepAlive.ours.rate") < (v["latency.nginxHalf.rate"] ?? 0) ? "above" : "close to",
    "rss.shipped": n(value("peak.ours")),
    "rss.other": n(value("peak.ours-defaults")),
    "v8Cost.what": lowestCost(v)?.what ?? "n/a",
    "v8Cost.all": v8Costs(v)
      .map((c) => `${c.what} ${ratio(c.ratio)} (${ratio(c.cpuRatio)})`)
      .join(", "),
    "proxyFull.perRepetition": perRepetition("rate", "nginx", run.proxy?.newConnection),
    "proxyFull.ceiling": ceiling("proxyFull", "proxy.newConnection.ours.cpuMs", 1e3, "proxied connections/s"),
    "proxyKeepAlive.perRepetition": perRepetition("rate", "nginx", run.proxy?.keepAlive),
    "proxyKeepAlive.bound": bound("proxy.keepAlive.ours"),
    "proxyKeepAlive.ceiling": ceiling("proxyKeepAlive", "proxy.keepAlive.ours.cpuUs", 1e6, "proxied req/s"),
    "tunnelBulk.perRepetition": perRepetition("mbps", "haproxy", run.proxy?.tunnel),
    "tunnelBulk.ceiling": ceiling("tunnelBulk", "proxy.tunnel.ours.cpuPerMb", 1e3, "MB/s"),
    "proxy.refused": Object.entries(run.proxy?.anonymousRefused ?? {})
      .map(([what, how]) => `${what}: ${how}`)
      .join("; "),
    "proxy.bodyBytes": run.proxy?.upstreamBodyBytes ?? 0,
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
  };
  for (const { keyAlgorithm, protocol } of run.handshakes ?? [])
    for (const path of [`hs.${keyAlgorithm}.${protocol}.full`, `hs.${keyAlgorithm}.${protocol}.resumed`]) {
      slots[`${path}.ratio`] = quotient(`${path}.ours.rate`, `${path}.nginx.rate`);
      slots[`${path}.perCpuRatio`] = quotient(`${path}.nginx.cpuMs`, `${path}.ours.cpuMs`);
    }
  return slots;
}

/** The memory table (per V8 setting), and the peak RSS figures of ours and the servers beside it. */
function memorySlots(run: BenchResults): Slots {
  const header = ["NODE_OPTIONS", "peak after the full handshakes", "after the resumed ones"];
  const rows = (run.memory?.variants ?? []).map((m) => [
    `${m.nodeOptions === "" ? "(none: Node's defaults)" : `\`${m.nodeOptions}\``}${m.shipped ? " **(the image's)**" : ""}`,
    `${mib(m.peakAfterFullBytes)} MiB`,
    `${mib(m.peakAfterResumedBytes)} MiB`,
    `${n(m.cpuPerFullMs, 2)} ms`,
    `${n(m.cpuPerResumedMs, 2)} ms`,
  ]);
  const { idle = {}, handshakes = {}, whole = {} } = run.peakRss ?? {};
  const slots: Slots = {
    "memory.handshakes": n(run.memory?.handshakes ?? Number.NaN),
    memoryTable: table([...header, "CPU per full handshake", "per resumed one"], rows),
    "rss.stripper": mib((idle["ours-ts"] ?? Number.NaN) - (idle.ours ?? Number.NaN)),
    "rss.idleTsWithCompileCache": mib(run.peakRss?.idleTsWithCompileCache),
  };
  for (const [kind, bytes] of Object.entries(handshakes) as [keyof typeof idle, number][]) {
    slots[`rss.${kind}`] = true;
    slots[`rss.${kind}.idle`] = `${mib(idle[kind])} MiB`;
    slots[`rss.${kind}.handshakes`] = `${mib(bytes)} MiB`;
    slots[`rss.${kind}.whole`] = whole[kind] ? `${mib(whole[kind])} MiB` : "— (measured for memory only)";
  }
  return slots;
}

/** The measurements beside the handshakes whose load generator may set the pace, as the report names them. */
const PACED: Record<string, string> = {
  keepAlive: "Keep-alive requests",
  bulk: "Bulk echo",
  "proxy.newConnection": "Proxied requests, new connection each",
  "proxy.keepAlive": "Proxied keep-alive requests",
  "proxy.tunnel": "TCP tunnel bulk",
};

/** Every measurement whose load generator, not the server, set the pace. */
function generatorSlots(v: Record<string, number>): Slots {
  const notes = Object.keys(v).flatMap((name) => {
    const [, path = "", kind] = /^(.*)\.([^.]+)\.busy$/.exec(name) ?? [];
    const [, keyAlgorithm, protocol, handshake] = /^hs\.([^.]+)\.(.+)\.(full|resumed)$/.exec(path) ?? [];
    const label = handshake
      ? `${handshake === "full" ? "Full" : "Resumed"} handshakes ${keyAlgorithm} ${protocol}`
      : PACED[path];
    const [load, busy] = [v[`${path}.${kind}.load`]!, v[name]!];
    if (!label || !(load >= 0.9 && busy < 0.9)) return [];
    return [`- ${label}, ${kind}: load core ${pct(load)}, server ${pct(busy)}.`];
  });
  return { "has.generatorLimits": notes.length > 0, generatorLimits: notes.join("\n") };
}

export function fillSlots(run: BenchResults, runs: BenchResults[], chartFile: string): Slots {
  const s = run.settings;
  const [goals, values] = [targets(run), figureValues(run)];
  const minutes = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 60_000;
  const slots: Slots = {
    ...figureSlots(values),
    ...targetSlots(run, runs, goals),
    ...derivedSlots(run, goals, values),
    ...generatorSlots(values),
    ...memorySlots(run),
    chartFile,
    "run.start": run.startedAt.slice(0, 16).replace("T", " "),
    "run.trial": s.quick,
    "run.minutes": n(Math.ceil(minutes)),
    "run.duration": n(minutes, 1),
    "run.file": s.quick ? "bench/.work/results.json" : `bench/runs/${runFileName(run.startedAt)}`,
    "run.repetitions": `${s.runs} repetition${s.runs > 1 ? "s" : ""}`,
    "run.loadBefore": run.loadAverageBefore.join(" / "),
    "run.loadAfter": run.loadAverageAfter.join(" / "),
    "machine.installed": run.installed.join(", "),
    versionTable: table(["component", "version"], Object.entries(run.machine.versions)),
    "has.server": run.handshakes !== undefined,
    "has.keys": run.keyAlgorithms !== undefined,
    "has.memory": run.memory !== undefined,
    "has.proxy": run.proxy !== undefined,
    "shipped.options": run.shippedNodeOptions
      ? `the image's \`NODE_OPTIONS=${run.shippedNodeOptions}\``
      : "Node's own V8 defaults (the image then set no NODE_OPTIONS)",
    "client.per100": n(run.clientLoop?.handshakesPer100Rounds ?? Number.NaN, 1),
    "settings.bodyMiB": n(s.bulkBodyBytes / MIB),
    "settings.tunnelKiB": n(s.tunnelChunkBytes / 1024),
    "settings.proxyRuns": String(s.proxyRuns ?? s.runs), // run files older than a setting of its own
  };
  // The run's facts by their names in the run file (`run.startedAt`, `settings.runs`, `client.rounds`).
  const client = run.clientLoop ?? { rounds: 0, failedRounds: 0, handshakes: 0 };
  for (const [prefix, facts] of Object.entries({ run, settings: s, machine: run.machine, client }))
    for (const [key, value] of Object.entries(facts))
      if (typeof value === "number" || typeof value === "string") slots[`${prefix}.${key}`] = value;
  // Scenarios beyond the built-in ones bring their own slots (scenarios.ts).
  for (const scenario of SCENARIOS) {
    slots[`has.${scenario.key}`] ??= run.scenarios?.includes(scenario.key) ?? false;
    Object.assign(slots, scenario.slots?.(run));
  }
  return slots;
}
