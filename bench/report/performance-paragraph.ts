/**
 * The README's "Performance" paragraph: the template performance-paragraph.md filled from the runs
 * in bench/runs/, kept between two markers in README.md, so that the figures it quotes are the data's.
 */
import { median } from "../measure.ts";
import type { BenchResults } from "../results.ts";
import { figureValues } from "./figures.ts";
import { keyVerdict, runsWhen } from "./slots.ts";
import { formatRange, nearThreshold, rangeOf, TARGET_IDS, type Target, targets } from "./targets.ts";
import { fillTemplateFile } from "./template.ts";

export const BEGIN_MARKER =
  "<!-- performance: written by `npm run bench` from bench/runs/ (bench/report/performance-paragraph.ts); do not edit -->";
export const END_MARKER = "<!-- /performance -->";

/** Lines of at most 100 characters: each the longest run of words that fits (a longer word alone). */
function wrap(text: string): string {
  const lines = text.replace(/\s+/g, " ").match(/\S(.{0,98}\S)?(?= |$)|\S+/g);
  return (lines ?? []).join("\n");
}

const list = (items: string[]) =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;

export function renderPerformanceParagraph(runs: BenchResults[]): string {
  if (runs.length === 0) throw new Error("no recorded runs in bench/runs/: run `npm run bench` first");
  const perRun = runs.map(targets);
  // A target measured only by some runs (the proxy paths, say) ranges over the runs that measured it.
  const of = (id: string) => perRun.flatMap((goals) => goals.filter((goal) => goal.id === id));
  const ratios = (id: string) => {
    const digits = of(id).some((goal) => nearThreshold(goal)) ? 3 : 2;
    return formatRange(rangeOf(of(id).map((goal) => goal.ratio)), (v) => v.toFixed(digits), "×");
  };
  const latest = perRun.at(-1)!;
  const metIn = (goal: Target) => of(goal.id).filter((g) => g.met).length;
  const sometimes = latest
    .filter((goal) => metIn(goal) > 0 && metIn(goal) < of(goal.id).length)
    .map((goal) => `${goal.spoken} (${metIn(goal)} of ${of(goal.id).length})`);
  const keyRatio = (v: Record<string, number>) => v["keys.ECDSA-P256.rate"]! / v["keys.RSA-2048.rate"]!;
  const keys = rangeOf(runs.map((run) => keyRatio(figureValues(run))));
  const slots = {
    minutes: Math.ceil(
      median(runs.map((run) => (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 60_000)),
    ),
    proxy: latest.some((goal) => goal.id === "proxyKeepAlive"),
    runs: runs.length,
    when: runsWhen(runs),
    several: runs.length > 1,
    cores: runs.at(-1)!.machine.cores,
    ...Object.fromEntries(TARGET_IDS.map((id) => [id, ratios(id)])),
    rss: formatRange(rangeOf(of("rss").map((goal) => goal.ours)), (v) => v.toFixed(0), " MiB"),
    keys: formatRange(keys, (v) => v.toFixed(2), "×"),
    keysVerdict: [...new Set([keyVerdict(keys.min), keyVerdict(keys.max)])].join(" to "),
    proxyRuns: of("proxyKeepAlive").length,
    proxyEveryRun: of("proxyKeepAlive").length === runs.length,
    always: list(latest.filter((goal) => metIn(goal) === of(goal.id).length).map((goal) => goal.spoken)),
    never: list(latest.filter((goal) => metIn(goal) === 0).map((goal) => goal.spoken)),
    sometimes: list(sometimes),
  };
  const paragraphs = fillTemplateFile("performance-paragraph.md", slots)
    .trim()
    .split(/\n\n+/)
    .map((paragraph) => (paragraph.startsWith("![") ? paragraph : wrap(paragraph)));
  return `${BEGIN_MARKER}\n${paragraphs.join("\n\n")}\n${END_MARKER}`;
}

/** The paragraph as it stands in the README, markers included; an error if the markers are missing. */
export function performanceParagraphOf(readme: string): string {
  const begin = readme.indexOf(BEGIN_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (begin < 0 || end < begin)
    throw new Error(`README.md: no Performance paragraph markers (${BEGIN_MARKER} … ${END_MARKER})`);
  return readme.slice(begin, end + END_MARKER.length);
}

/** The README with its Performance paragraph replaced (the first span from marker to marker). */
export const withPerformanceParagraph = (readme: string, paragraph: string) =>
  readme.replace(performanceParagraphOf(readme), () => paragraph);
