/**
 * The report's chart as a self-contained SVG: per target a bar for our figure relative to the row's
 * reference (nginx, or our own full-handshake rate) on a log axis fitted to the data. A row's target
 * is a black tick with a pale green band on the side where it is met, so a bar ends in its band
 * exactly when the target is met, whichever way is better. Bars start at the axis's left end (a longer
 * bar is a larger figure), and the verdict is also written out, in the row's colour.
 */
import type { BenchResults } from "../results.ts";
import { isMet, markerOf, nearThreshold, targets } from "./targets.ts";

/** Ends of a logarithmic axis, each a 1-2-5 step; parity (1) always lies inside. */
export type Axis = ReturnType<typeof chooseAxis>;

/** The 1-2-5 steps (…, 0.5, 1, 2, 5, 10, …) from `low` to `high`. */
function stepsBetween(low: number, high: number): number[] {
  const [from, to] = [Math.floor(Math.log10(low)) - 1, Math.ceil(Math.log10(high)) + 1];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
    .flatMap((exponent) => [1, 2, 5].map((step) => Number((step * 10 ** exponent).toPrecision(1))))
    .filter((value) => value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9));
}

/** The tightest 1-2-5 log axis holding every value, target and parity, 10% beyond (no bar on the frame). */
export function chooseAxis(values: readonly number[]) {
  const finite = values.filter((value) => Number.isFinite(value) && value > 0);
  const [low, high] = [Math.min(1, ...finite) / 1.1, Math.max(1, ...finite) * 1.1];
  const [min, max] = [stepsBetween(low / 10, low).at(-1)!, stepsBetween(high, high * 10)[0]!];
  return { min, max, ticks: stepsBetween(min, max) };
}

export type ChartRow = ReturnType<typeof chartRows>[number];

const [WIDTH, LABEL_RIGHT, PLOT_LEFT, PLOT_RIGHT, VERDICT_LEFT] = [980, 330, 345, 745, 760];
const [ROW_HEIGHT, BAR_HEIGHT, TOP] = [44, 22, 70];
export const COLOURS = { met: "#2e7d32", missed: "#c62828", band: "#e3f1e4", tick: "#000000" };

export function xOf(value: number, axis: Axis): number {
  const clamped = Math.min(axis.max, Math.max(axis.min, value));
  const log = Math.log10;
  const position = (log(clamped) - log(axis.min)) / (log(axis.max) - log(axis.min));
  return PLOT_LEFT + position * (PLOT_RIGHT - PLOT_LEFT);
}

/** Where a row's bar, target and met side (the band) lie; `endsInBand` must agree with its verdict. */
export function layoutRow(row: ChartRow, axis: Axis) {
  const valueX = Number.isFinite(row.value) ? xOf(row.value, axis) : PLOT_LEFT;
  const targetX = xOf(row.target, axis);
  const [bandX, bandEnd] = row.better === "higher" ? [targetX, PLOT_RIGHT] : [PLOT_LEFT, targetX];
  return {
    barX: PLOT_LEFT,
    barWidth: Math.max(2, valueX - PLOT_LEFT),
    valueX,
    targetX,
    bandX,
    bandWidth: bandEnd - bandX,
    colour: row.met ? COLOURS.met : COLOURS.missed,
    endsInBand: isMet(row.value, { better: row.better, threshold: row.target }),
  };
}

export const formatRatio = (ratio: number) =>
  Number.isFinite(ratio) ? `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×` : "n/a";

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function renderChart(rows: ChartRow[], title: string, subtitle: string): string {
  const axis = chooseAxis(rows.flatMap((row) => [row.value, row.target]));
  const plotBottom = TOP + rows.length * ROW_HEIGHT;
  const [height, legendY, dashed] = [plotBottom + 70, plotBottom + 48, '#444" stroke-dasharray="5 3'];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="14" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="14" y="44" fill="#444">${escapeXml(subtitle)}</text>`,
    `<text x="${VERDICT_LEFT}" y="${TOP - 10}" fill="#444" font-weight="bold">against the target</text>`,
  ];
  const layouts = rows.map((row, i) => ({ row, ...layoutRow(row, axis), y: TOP + i * ROW_HEIGHT }));
  layouts.forEach(({ bandX, bandWidth, y }, i) => {
    if (i % 2 === 1)
      parts.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${ROW_HEIGHT}" fill="#fafafa"/>`);
    parts.push(
      `<rect x="${bandX.toFixed(1)}" y="${y + 2}" width="${bandWidth.toFixed(1)}" height="${ROW_HEIGHT - 4}" fill="${COLOURS.band}"/>`,
    );
  });
  for (const tick of axis.ticks) {
    const [tx, stroke] = [xOf(tick, axis).toFixed(1), tick === 1 ? dashed : "#d8d8d8"];
    parts.push(
      `<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${plotBottom}" stroke="${stroke}"/>`,
      `<text x="${tx}" y="${plotBottom + 18}" text-anchor="middle" fill="#444">${tick}×</text>`,
    );
  }
  for (const { row, barX, barWidth, targetX, colour, y } of layouts) {
    const middle = y + ROW_HEIGHT / 2;
    parts.push(
      `<text x="${LABEL_RIGHT}" y="${middle - 2}" text-anchor="end">${escapeXml(row.label)}</text>`,
      `<text x="${LABEL_RIGHT}" y="${middle + 13}" text-anchor="end" font-size="11" fill="#666">${escapeXml(`${row.basis}, ${row.better} is better`)}</text>`,
      `<rect x="${barX.toFixed(1)}" y="${y + (ROW_HEIGHT - BAR_HEIGHT) / 2}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
      `<line x1="${targetX.toFixed(1)}" y1="${y + 3}" x2="${targetX.toFixed(1)}" y2="${y + ROW_HEIGHT - 3}" stroke="${COLOURS.tick}" stroke-width="3"/>`,
      `<text x="${VERDICT_LEFT}" y="${middle - 2}" font-weight="bold" fill="${colour}">${escapeXml(`${row.valueText ?? formatRatio(row.value)} ${row.met ? "met" : "missed"}`)}</text>`,
      `<text x="${VERDICT_LEFT}" y="${middle + 13}" font-size="11" fill="#444">${escapeXml(`target ${row.targetText}`)}</text>`,
    );
  }
  const boxY = `y="${legendY - 11}"`;
  parts.push(
    `<rect x="14" ${boxY} width="14" height="14" fill="${COLOURS.met}"/>`,
    `<text x="34" y="${legendY}">target met</text>`,
    `<rect x="124" ${boxY} width="14" height="14" fill="${COLOURS.missed}"/>`,
    `<text x="144" y="${legendY}">target missed</text>`,
    `<line x1="260" y1="${legendY - 13}" x2="260" y2="${legendY + 4}" stroke="${COLOURS.tick}" stroke-width="3"/>`,
    `<rect x="266" ${boxY} width="26" height="14" fill="${COLOURS.band}"/>`,
    `<text x="300" y="${legendY}">target, and the side of it where the target is met</text>`,
    `<line x1="640" y1="${legendY - 13}" x2="640" y2="${legendY + 4}" stroke="${dashed}"/>`,
    `<text x="648" y="${legendY}">1× (parity); logarithmic axis</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}

/**
 * One row per target, each with its target mark; peak RSS also for its other variants. A row's
 * `value` is our figure relative to `basis` ("ours / nginx"), `target` its target on the same axis
 * (`targetText` as the report words it), `met` as the report decides it (it may add conditions,
 * e.g. every connection resumed), `valueText` the figure beside the bar when not the ratio.
 */
export function chartRows(run: BenchResults) {
  return targets(run).flatMap((goal) => {
    const byValue = goal.thresholdOn === "value";
    const sign = goal.better === "higher" ? "≥" : "≤";
    const row = {
      basis: goal.unit === "×" ? "as shipped / Node's defaults" : `ours / ${goal.peerLabel}`,
      better: goal.better,
      target: markerOf(goal),
      targetText: byValue
        ? `${sign} ${goal.threshold} ${goal.unit} (${markerOf(goal).toFixed(1)}× ${goal.peerLabel})`
        : `${sign} ${goal.threshold}×`,
    };
    const text = (value: number) =>
      byValue
        ? { valueText: `${value.toFixed(0)} ${goal.unit} (${formatRatio(value / goal.peer)})` }
        : nearThreshold(goal, value / goal.peer)
          ? { valueText: `${(value / goal.peer).toFixed(3)}×` }
          : {};
    const extras = goal.extras.map((extra) => {
      const met = extra.value <= goal.threshold;
      return { ...row, label: extra.label, value: extra.value / goal.peer, met, ...text(extra.value) };
    });
    return [{ ...row, label: goal.short, value: goal.ratio, met: goal.met, ...text(goal.ours) }, ...extras];
  });
}

export function renderChartOf(run: BenchResults): string {
  const { runs } = run.settings;
  const when = run.startedAt.slice(0, 16).replace("T", " ");
  const subtitle = `median of ${runs} repetition${runs > 1 ? "s" : ""}, run of ${when} UTC; server pinned to one core, load generators to the other`;
  const title = `mTLS server benchmark: our figures against their targets${run.proxy ? " (nginx, HAProxy)" : ""}`;
  return renderChart(chartRows(run), title, subtitle);
}
