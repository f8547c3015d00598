/**
 * The report's chart, as a self-contained SVG: one row per target, each a bar for our figure
 * relative to the reference its row names (nginx, or our own full-handshake rate), on a logarithmic
 * axis fitted to the data (maths.ts, chooseAxis). Every row carries its target: a black tick, and
 * a pale green band over the side of the tick where the target is met, so a bar is inside its band
 * exactly when the target is met, whichever way the row counts as better. Bars start at the axis's
 * left end, so a longer bar is a larger figure in every row, and the verdict is also written out
 * (met or missed, in the row's colour) in a column of its own.
 */
import { type Axis, type Better, chooseAxis, isMet } from "./maths.ts";

export interface ChartRow {
  label: string;
  /** What the figure is relative to, e.g. "ours / nginx". */
  basis: string;
  value: number;
  better: Better;
  /** The target on the same axis as `value`. */
  target: number;
  /** The target as the report words it, e.g. "≥ 0.8×" or "≤ 100 MiB". */
  targetText: string;
  /** Met as the report decides it (it may add conditions, e.g. every connection resumed). */
  met: boolean;
  /** The figure as written beside the bar, when not the ratio (an absolute target: "104 MiB"). */
  valueText?: string;
}

const WIDTH = 980;
const LABEL_RIGHT = 330;
const PLOT_LEFT = 345;
const PLOT_RIGHT = 745;
const VERDICT_LEFT = 760;
const ROW_HEIGHT = 44;
const BAR_HEIGHT = 22;
const TOP = 70;
export const COLOURS = { met: "#2e7d32", missed: "#c62828", band: "#e3f1e4", tick: "#000000" };

export interface RowLayout {
  barX: number;
  barWidth: number;
  /** Right end of the bar: where the figure sits on the axis. */
  valueX: number;
  targetX: number;
  /** The met side of the target. */
  bandX: number;
  bandWidth: number;
  colour: string;
  /** Whether the bar's end lies in the band: must agree with the row's verdict. */
  endsInBand: boolean;
}

export function xOf(value: number, axis: Axis): number {
  const clamped = Math.min(axis.max, Math.max(axis.min, value));
  const position =
    (Math.log10(clamped) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min));
  return PLOT_LEFT + position * (PLOT_RIGHT - PLOT_LEFT);
}

export function axisFor(rows: readonly ChartRow[]): Axis {
  return chooseAxis(rows.flatMap((row) => [row.value, row.target]));
}

export function layoutRow(row: ChartRow, axis: Axis): RowLayout {
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

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  return ratio >= 10 ? `${ratio.toFixed(1)}×` : `${ratio.toFixed(2)}×`;
}

const tickText = (tick: number) => `${tick}×`;

export function renderChart(rows: ChartRow[], title: string, subtitle: string): string {
  const axis = axisFor(rows);
  const plotBottom = TOP + rows.length * ROW_HEIGHT;
  const height = plotBottom + 70;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="14" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="14" y="44" fill="#444">${escapeXml(subtitle)}</text>`,
    `<text x="${VERDICT_LEFT}" y="${TOP - 10}" fill="#444" font-weight="bold">against the target</text>`,
  ];
  rows.forEach((row, i) => {
    const layout = layoutRow(row, axis);
    const y = TOP + i * ROW_HEIGHT;
    if (i % 2 === 1)
      parts.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${ROW_HEIGHT}" fill="#fafafa"/>`);
    parts.push(
      `<rect x="${layout.bandX.toFixed(1)}" y="${y + 2}" width="${layout.bandWidth.toFixed(1)}" height="${ROW_HEIGHT - 4}" fill="${COLOURS.band}"/>`,
    );
  });
  for (const tick of axis.ticks) {
    const tx = xOf(tick, axis).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${plotBottom}" stroke="${tick === 1 ? "#444" : "#d8d8d8"}"${tick === 1 ? ' stroke-dasharray="5 3"' : ""}/>`,
      `<text x="${tx}" y="${plotBottom + 18}" text-anchor="middle" fill="#444">${tickText(tick)}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const layout = layoutRow(row, axis);
    const y = TOP + i * ROW_HEIGHT;
    const barY = y + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const middle = y + ROW_HEIGHT / 2;
    const verdict = row.met ? "met" : "missed";
    parts.push(
      `<text x="${LABEL_RIGHT}" y="${middle - 2}" text-anchor="end">${escapeXml(row.label)}</text>`,
      `<text x="${LABEL_RIGHT}" y="${middle + 13}" text-anchor="end" font-size="11" fill="#666">${escapeXml(`${row.basis}, ${row.better} is better`)}</text>`,
      `<rect x="${layout.barX.toFixed(1)}" y="${barY}" width="${layout.barWidth.toFixed(1)}" height="${BAR_HEIGHT}" fill="${layout.colour}"/>`,
      `<line x1="${layout.targetX.toFixed(1)}" y1="${y + 3}" x2="${layout.targetX.toFixed(1)}" y2="${y + ROW_HEIGHT - 3}" stroke="${COLOURS.tick}" stroke-width="3"/>`,
      `<text x="${VERDICT_LEFT}" y="${middle - 2}" font-weight="bold" fill="${layout.colour}">${escapeXml(`${row.valueText ?? formatRatio(row.value)} ${verdict}`)}</text>`,
      `<text x="${VERDICT_LEFT}" y="${middle + 13}" font-size="11" fill="#444">${escapeXml(`target ${row.targetText}`)}</text>`,
    );
  });
  const legendY = plotBottom + 48;
  parts.push(
    `<rect x="14" y="${legendY - 11}" width="14" height="14" fill="${COLOURS.met}"/>`,
    `<text x="34" y="${legendY}">target met</text>`,
    `<rect x="124" y="${legendY - 11}" width="14" height="14" fill="${COLOURS.missed}"/>`,
    `<text x="144" y="${legendY}">target missed</text>`,
    `<line x1="260" y1="${legendY - 13}" x2="260" y2="${legendY + 4}" stroke="${COLOURS.tick}" stroke-width="3"/>`,
    `<rect x="266" y="${legendY - 11}" width="26" height="14" fill="${COLOURS.band}"/>`,
    `<text x="300" y="${legendY}">target, and the side of it where the target is met</text>`,
    `<line x1="640" y1="${legendY - 13}" x2="640" y2="${legendY + 4}" stroke="#444" stroke-dasharray="5 3"/>`,
    `<text x="648" y="${legendY}">1× (parity); logarithmic axis</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
