/**
 * The README's "Performance" paragraph, rendered from the recorded runs (bench/runs/) and kept
 * between two markers in README.md, so that the figures the README quotes are the data's.
 */
import { median } from "../measure.ts";
import type { BenchResults } from "../results.ts";
import { keyVerdict } from "./markdown.ts";
import { formatRange, rangeOf } from "./maths.ts";
import { med, rate, type Target, targets } from "./summary.ts";

export const BEGIN_MARKER =
  "<!-- performance: written by `npm run bench` from bench/runs/ (bench/report/performance-paragraph.ts); do not edit -->";
export const END_MARKER = "<!-- /performance -->";

const two = (value: number) => value.toFixed(2);
const whole = (value: number) => value.toFixed(0);

function wrap(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export function renderPerformanceParagraph(runs: BenchResults[]): string {
  if (runs.length === 0) throw new Error("no recorded runs in bench/runs/: run `npm run bench` first");
  const perRun = runs.map((run) => targets(run));
  // A target measured only by later runs (the proxy paths) ranges over the runs that measured it.
  const of = (id: Target["id"]) => perRun.flatMap((goals) => goals.filter((goal) => goal.id === id));
  const ratios = (id: Target["id"]) => formatRange(rangeOf(of(id).map((goal) => goal.ratio)), two, "×");
  // Three decimals where two would round a miss up to its threshold (0.796 is not "0.80", met).
  const near = (id: Target["id"]) => {
    const goals = of(id);
    const close = goals.some((goal) => Math.abs(goal.ratio - goal.threshold) < 0.01);
    return close
      ? formatRange(rangeOf(goals.map((goal) => goal.ratio)), (value) => value.toFixed(3), "×")
      : ratios(id);
  };
  const values = (id: Target["id"], pick: (goal: Target) => number | undefined) =>
    formatRange(rangeOf(of(id).map((goal) => pick(goal) ?? Number.NaN)), whole, " MiB");
  const latest = perRun.at(-1)!;
  const metIn = (goal: Target) => of(goal.id).filter((g) => g.met).length;
  const measuredIn = (goal: Target) => of(goal.id).length;
  const short = (goal: Target) =>
    ({
      full: "full handshakes",
      resumed: "resumption",
      keepAlive: "keep-alive requests",
      bulk: "bulk echo",
      p99: "tail latency",
      rss: "peak RSS as shipped",
      proxyFull: "proxied requests with a full handshake each",
      proxyKeepAlive: "proxied keep-alive requests",
      tunnelBulk: "TCP tunnel bulk",
    })[goal.id];
  const always = latest.filter((goal) => metIn(goal) === measuredIn(goal)).map(short);
  const never = latest.filter((goal) => metIn(goal) === 0).map(short);
  const sometimes = latest
    .filter((goal) => metIn(goal) > 0 && metIn(goal) < measuredIn(goal))
    .map((goal) => `${short(goal)} (${metIn(goal)} of ${measuredIn(goal)})`);
  const keys = rangeOf(
    runs.map((run) => med(run.keyAlgorithms["ECDSA-P256"], rate) / med(run.keyAlgorithms["RSA-2048"], rate)),
  );
  const verdicts = [...new Set([keyVerdict(keys.min), keyVerdict(keys.max)])].join(" to ");
  const list = (items: string[]) =>
    items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
  const minutes = Math.ceil(
    median(runs.map((run) => (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 60_000)),
  );
  const count = runs.length === 1 ? "the one recorded run" : `the ${runs.length} recorded runs`;
  const when =
    runs.length === 1
      ? runs[0]!.startedAt.slice(0, 10)
      : `${runs[0]!.startedAt.slice(0, 10)} to ${runs.at(-1)!.startedAt.slice(0, 10)}`;
  const setup =
    `\`npm run bench\` (about ${minutes} minutes; not part of the tests) measures our server against nginx with ` +
    "`ssl_verify_client on` on the same certificates" +
    (latest.some((goal) => goal.id === "tunnelBulk")
      ? ", and its sidecar modes against nginx and HAProxy as mTLS proxies in front of the same upstream"
      : "") +
    ", server and load generators pinned to separate cores, " +
    "keeps each run's results in `bench/runs/` and writes [docs/BENCHMARKS.md](docs/BENCHMARKS.md) with the " +
    "ratios, their range over the recorded runs, and this chart:";
  const figures =
    `In ${count} (${when}, on the ${runs.at(-1)!.machine.cores}-core machine BENCHMARKS.md describes): full mTLS ` +
    `handshakes at ${ratios("full")} nginx's rate (target ≥ 0.8×), resumed TLS 1.3 handshakes at ${ratios("resumed")} ` +
    `our own full rate (≥ 2×), keep-alive requests at ${ratios("keepAlive")} nginx's (≥ 0.5×), bulk echo at ` +
    `${ratios("bulk")} (≥ 0.7×), p99 latency at half of nginx's maximum rate ${ratios("p99")} nginx's (≤ 2×), and ` +
    `peak RSS under the handshake load ${values("rss", (goal) => goal.ours)} as the image ships the services ` +
    `(type-stripped .js; ${values("rss", (goal) => goal.tsSources)} as .ts sources; target ≤ 100 MiB). ` +
    `ECDSA P-256 made ${formatRange(keys, two, "×")} RSA-2048's full handshake rate side by side on TLS 1.3 ` +
    `(${verdicts}). ` +
    (latest.some((goal) => goal.id === "tunnelBulk")
      ? `As a sidecar (${of("tunnelBulk").length === 1 ? "one run" : `${of("tunnelBulk").length} runs`}): proxied requests with a full handshake each at ` +
        `${near("proxyFull")} nginx's rate (≥ 0.8×), proxied keep-alive requests at ${near("proxyKeepAlive")} ` +
        `nginx's (≥ 0.6×), and TCP-tunnel bulk at ${near("tunnelBulk")} HAProxy's (≥ 0.7×). `
      : "") +
    [
      always.length ? `Met in every run: ${list(always)}.` : "",
      never.length ? `Missed in every run: ${list(never)}.` : "",
      sometimes.length ? `Met in some runs: ${list(sometimes)}.` : "",
    ]
      .filter(Boolean)
      .join(" ") +
    " BENCHMARKS.md names the measured cause of each shortfall.";
  return [
    BEGIN_MARKER,
    ...wrap(setup),
    "",
    "![ours / nginx](docs/benchmarks.svg)",
    "",
    ...wrap(figures),
    END_MARKER,
  ].join("\n");
}

/** The README with its Performance paragraph replaced; an error if the markers are missing. */
export function withPerformanceParagraph(readme: string, paragraph: string): string {
  const begin = readme.indexOf(BEGIN_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (begin < 0 || end < begin)
    throw new Error(
      `README.md: the Performance paragraph's markers are missing (${BEGIN_MARKER} … ${END_MARKER})`,
    );
  return `${readme.slice(0, begin)}${paragraph}${readme.slice(end + END_MARKER.length)}`;
}

/** The paragraph as it stands in the README (between the markers, markers included). */
export function performanceParagraphOf(readme: string): string {
  const begin = readme.indexOf(BEGIN_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error("README.md: the Performance paragraph's markers are missing");
  return readme.slice(begin, end + END_MARKER.length);
}
