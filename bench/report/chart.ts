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
  /** The target on the same axis as `value`, and as the report words it ("≥ 0.8×", "≤ 100 MiB"). */
  target: number;
  targetText: string;
  /** Met as the report decides it (it may add conditions, e.g. every connection resumed). */
  met: boolean;
  /** The figure as written beside the bar, when not the ratio (an absolute target: "104 MiB"). */
  valueText?: string;
}

const [WIDTH, LABEL_RIGHT, PLOT_LEFT, PLOT_RIGHT, VERDICT_LEFT] = [980, 330, 345, 745, 760];
const [ROW_HEIGHT, BAR_HEIGHT, TOP] = [44, 22, 70];
export const COLOURS = { met: "#2e7d32", missed: "#c62828", band: "#e3f1e4", tick: "#000000" };

export function xOf(value: number, axis: Axis): number {
  const clamped = Math.min(axis.max, Math.max(axis.min, value));
  const position =
    (Math.log10(clamped) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min));
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

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export const formatRatio = (ratio: number) =>
  Number.isFinite(ratio) ? `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×` : "n/a";

/** `<text>` at (x, y) with attributes; the text is escaped. */
const text = (x: number, y: number, words: string, attributes = "") =>
  `<text x="${x}" y="${y}"${attributes}>${escapeXml(words)}</text>`;

export function renderChart(rows: ChartRow[], title: string, subtitle: string): string {
  const axis = chooseAxis(rows.flatMap((row) => [row.value, row.target]));
  const plotBottom = TOP + rows.length * ROW_HEIGHT;
  const height = plotBottom + 70;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(14, 24, title, ' font-size="16" font-weight="bold"'),
    text(14, 44, subtitle, ' fill="#444"'),
    text(VERDICT_LEFT, TOP - 10, "against the target", ' fill="#444" font-weight="bold"'),
  ];
  rows.forEach((row, i) => {
    const { bandX, bandWidth } = layoutRow(row, axis);
    const y = TOP + i * ROW_HEIGHT;
    if (i % 2 === 1)
      parts.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${ROW_HEIGHT}" fill="#fafafa"/>`);
    parts.push(
      `<rect x="${bandX.toFixed(1)}" y="${y + 2}" width="${bandWidth.toFixed(1)}" height="${ROW_HEIGHT - 4}" fill="${COLOURS.band}"/>`,
    );
  });
  for (const tick of axis.ticks) {
    const tx = xOf(tick, axis).toFixed(1);
    const parity = tick === 1 ? '#444" stroke-dasharray="5 3' : "#d8d8d8";
    parts.push(
      `<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${plotBottom}" stroke="${parity}"/>`,
      `<text x="${tx}" y="${plotBottom + 18}" text-anchor="middle" fill="#444">${tick}×</text>`,
    );
  }
  rows.forEach((row, i) => {
    const layout = layoutRow(row, axis);
    const y = TOP + i * ROW_HEIGHT;
    const middle = y + ROW_HEIGHT / 2;
    const [targetX, fill] = [layout.targetX.toFixed(1), ` fill="${layout.colour}"`];
    parts.push(
      text(LABEL_RIGHT, middle - 2, row.label, ' text-anchor="end"'),
      text(
        LABEL_RIGHT,
        middle + 13,
        `${row.basis}, ${row.better} is better`,
        ' text-anchor="end" font-size="11" fill="#666"',
      ),
      `<rect x="${layout.barX.toFixed(1)}" y="${y + (ROW_HEIGHT - BAR_HEIGHT) / 2}" width="${layout.barWidth.toFixed(1)}" height="${BAR_HEIGHT}"${fill}/>`,
      `<line x1="${targetX}" y1="${y + 3}" x2="${targetX}" y2="${y + ROW_HEIGHT - 3}" stroke="${COLOURS.tick}" stroke-width="3"/>`,
      text(
        VERDICT_LEFT,
        middle - 2,
        `${row.valueText ?? formatRatio(row.value)} ${row.met ? "met" : "missed"}`,
        ` font-weight="bold"${fill}`,
      ),
      text(VERDICT_LEFT, middle + 13, `target ${row.targetText}`, ' font-size="11" fill="#444"'),
    );
  });
  const legendY = plotBottom + 48;
  const tickAt = (x: number, stroke: string) =>
    `<line x1="${x}" y1="${legendY - 13}" x2="${x}" y2="${legendY + 4}" stroke="${stroke}"/>`;
  parts.push(
    `<rect x="14" y="${legendY - 11}" width="14" height="14" fill="${COLOURS.met}"/>`,
    text(34, legendY, "target met"),
    `<rect x="124" y="${legendY - 11}" width="14" height="14" fill="${COLOURS.missed}"/>`,
    text(144, legendY, "target missed"),
    tickAt(260, `${COLOURS.tick}" stroke-width="3`),
    `<rect x="266" y="${legendY - 11}" width="26" height="14" fill="${COLOURS.band}"/>`,
    text(300, legendY, "target, and the side of it where the target is met"),
    tickAt(640, '#444" stroke-dasharray="5 3'),
    text(648, legendY, "1× (parity); logarithmic axis"),
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
