/**
 * The report's chart, as a self-contained SVG: one row per comparison, a bar from parity (1×) to
 * the ratio ours/nginx on a logarithmic axis (so 0.5× and 2× are equally far from parity), green
 * where the row's target is met, red where it is missed, grey where there is no target; a black
 * tick marks the target.
 */

export interface ChartRow {
  label: string;
  ratio: number;
  better: "higher" | "lower";
  met: boolean | undefined;
  marker?: number;
}

const WIDTH = 860;
const LABEL_WIDTH = 370;
const PLOT_LEFT = LABEL_WIDTH + 10;
const PLOT_RIGHT = WIDTH - 60;
const ROW_HEIGHT = 26;
const TOP = 64;
const MIN = 0.1;
const MAX = 1000;
const TICKS = [0.1, 0.5, 1, 2, 5, 10, 100, 1000];
const COLOURS = { met: "#2e7d32", missed: "#c62828", none: "#78909c" };

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function x(ratio: number): number {
  const clamped = Math.min(MAX, Math.max(MIN, ratio));
  const position = (Math.log10(clamped) - Math.log10(MIN)) / (Math.log10(MAX) - Math.log10(MIN));
  return PLOT_LEFT + position * (PLOT_RIGHT - PLOT_LEFT);
}

function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  return ratio >= 10 ? `${ratio.toFixed(0)}×` : `${ratio.toFixed(2)}×`;
}

export function renderChart(rows: ChartRow[], title: string, subtitle: string): string {
  const height = TOP + rows.length * ROW_HEIGHT + 56;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="12" y="40" fill="#444">${escapeXml(subtitle)}</text>`,
  ];
  const plotBottom = TOP + rows.length * ROW_HEIGHT;
  for (const tick of TICKS) {
    const tx = x(tick);
    parts.push(
      `<line x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${plotBottom}" stroke="${tick === 1 ? "#222" : "#e0e0e0"}" ${tick === 1 ? 'stroke-dasharray="4 3"' : ""}/>`,
      `<text x="${tx}" y="${plotBottom + 16}" text-anchor="middle" fill="#444">${tick}×</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const middle = y + ROW_HEIGHT / 2;
    const colour = row.met === undefined ? COLOURS.none : row.met ? COLOURS.met : COLOURS.missed;
    const from = x(1);
    const to = x(row.ratio);
    const direction = row.better === "higher" ? "higher is better" : "lower is better";
    parts.push(
      `<text x="${LABEL_WIDTH}" y="${middle + 4}" text-anchor="end">${escapeXml(row.label)}</text>`,
      `<text x="${LABEL_WIDTH}" y="${middle + 15}" text-anchor="end" font-size="9" fill="#777">${direction}</text>`,
      `<rect x="${Math.min(from, to)}" y="${y + 5}" width="${Math.max(1, Math.abs(to - from))}" height="${ROW_HEIGHT - 10}" fill="${colour}"/>`,
    );
    if (row.marker !== undefined) {
      const mx = x(row.marker);
      parts.push(
        `<line x1="${mx}" y1="${y + 2}" x2="${mx}" y2="${y + ROW_HEIGHT - 2}" stroke="#000" stroke-width="2"/>`,
      );
    }
    const clipped = row.ratio > MAX || row.ratio < MIN ? " (off scale)" : "";
    const labelX = row.ratio >= 1 ? Math.max(to, from) + 4 : Math.min(to, from) - 4;
    parts.push(
      `<text x="${labelX}" y="${middle + 4}" text-anchor="${row.ratio >= 1 ? "start" : "end"}" font-weight="bold">${formatRatio(row.ratio)}${clipped}</text>`,
    );
  });
  const legendY = plotBottom + 38;
  const legend: [string, string][] = [
    [COLOURS.met, "target met"],
    [COLOURS.missed, "target missed"],
    [COLOURS.none, "no target (reported)"],
  ];
  legend.forEach(([colour, text], i) => {
    const lx = 12 + i * 170;
    parts.push(
      `<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${colour}"/>`,
      `<text x="${lx + 18}" y="${legendY}">${text}</text>`,
    );
  });
  parts.push(
    `<line x1="530" y1="${legendY - 11}" x2="530" y2="${legendY + 3}" stroke="#000" stroke-width="2"/>`,
    `<text x="538" y="${legendY}">target; dashed line: parity with nginx</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
