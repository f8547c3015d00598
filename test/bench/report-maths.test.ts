/**
 * The benchmark report's arithmetic (bench/report/targets.ts, chart.ts): whether a figure meets its
 * target, ranges over runs, the chart's axis, and that the chart draws a missed target as missed.
 */
import { describe, expect, test } from "vitest";
import { type ChartRow, COLOURS, chooseAxis, layoutRow, renderChart, xOf } from "../../bench/report/chart.ts";
import { runFileName } from "../../bench/report/run-files.ts";
import { keyVerdict } from "../../bench/report/slots.ts";
import { formatRange, isMet, rangeOf } from "../../bench/report/targets.ts";

describe("target met or missed", () => {
  test("higher is better: met at the threshold and above, missed just below", () => {
    const goal = { better: "higher", threshold: 0.8 } as const;
    expect([isMet(0.8, goal), isMet(1.3, goal), isMet(0.799, goal)]).toEqual([true, true, false]);
  });

  test("lower is better: met at the threshold and below, missed just above", () => {
    const goal = { better: "lower", threshold: 100 } as const;
    expect([isMet(100, goal), isMet(64, goal), isMet(100.4, goal)]).toEqual([true, true, false]);
  });

  test("a figure that could not be measured meets no target", () => {
    expect(isMet(Number.NaN, { better: "lower", threshold: 2 })).toBe(false);
    expect(isMet(Number.NaN, { better: "higher", threshold: 0.5 })).toBe(false);
  });
});

describe("range over runs", () => {
  test("lowest and highest of the runs that measured the figure", () => {
    expect(rangeOf([1.21, 0.95, Number.NaN, 1.31, 1.02])).toEqual({ min: 0.95, max: 1.31, count: 4 });
  });

  test("no run measured it: no range", () => {
    expect(rangeOf([Number.NaN]).count).toBe(0);
    expect(formatRange(rangeOf([]), (v) => v.toFixed(2), "×")).toBe("n/a");
  });

  test("written as low–high, or as one figure when every run rounds the same", () => {
    const two = (v: number) => v.toFixed(2);
    expect(formatRange(rangeOf([0.95, 1.31]), two, "×")).toBe("0.95–1.31×");
    expect(formatRange(rangeOf([1.211, 1.214]), two, "×")).toBe("1.21×");
  });
});

describe("chart axis", () => {
  test("fits bars up to 12× (and a 0.49× one) in 0.2×–20×, not 0.1×–1000×", () => {
    expect(chooseAxis([0.49, 12, 0.5, 2, 5.9, 2.46, 0.7])).toEqual({
      min: 0.2,
      max: 20,
      ticks: [0.2, 0.5, 1, 2, 5, 10, 20],
    });
  });

  test("always holds parity and every value, with room beyond the outermost", () => {
    for (const values of [[3, 4], [0.3], [1.05], [0.09, 310]]) {
      const axis = chooseAxis(values);
      expect(axis.min).toBeLessThan(Math.min(1, ...values));
      expect(axis.max).toBeGreaterThan(Math.max(1, ...values));
      expect(axis.ticks).toContain(1);
      expect(axis.ticks[0]).toBe(axis.min);
      expect(axis.ticks.at(-1)).toBe(axis.max);
    }
  });

  test("is no wider than one 1-2-5 step beyond the data on either side", () => {
    const axis = chooseAxis([0.62, 1.9]);
    expect([axis.min, axis.max]).toEqual([0.5, 5]);
  });
});

describe("chart rows", () => {
  const row = (over: Partial<ChartRow>): ChartRow => ({
    label: "x",
    basis: "ours / nginx",
    value: 1,
    better: "higher",
    target: 0.5,
    targetText: "≥ 0.5×",
    met: true,
    ...over,
  });
  const axis = chooseAxis([0.2, 12]);

  test("a target missed by a hair (0.491× against ≥ 0.5×) is red and its bar stops short of the target", () => {
    const layout = layoutRow(row({ value: 0.491, met: false }), axis);
    expect(layout.colour).toBe(COLOURS.missed);
    expect(layout.valueX).toBeLessThan(layout.targetX);
    expect(layout.endsInBand).toBe(false);
    expect(layout.bandX).toBe(layout.targetX); // the met side is to the right of the target
    // The bar runs from the axis's left end to the figure, never from parity across the target.
    expect(layout.barX).toBeCloseTo(xOf(axis.min, axis));
    expect(layout.barX + layout.barWidth).toBeCloseTo(layout.valueX);
  });

  test("lower is better: a bar past the target (12× against ≤ 5.9×) ends outside the band, in red", () => {
    const layout = layoutRow(row({ value: 12, better: "lower", target: 5.9, met: false }), axis);
    expect(layout.colour).toBe(COLOURS.missed);
    expect(layout.valueX).toBeGreaterThan(layout.targetX);
    expect(layout.bandX + layout.bandWidth).toBeCloseTo(layout.targetX);
    expect(layout.endsInBand).toBe(false);
  });

  test("a met target is green and its bar ends inside the band", () => {
    const layout = layoutRow(row({ value: 1.5, better: "lower", target: 2, met: true }), axis);
    expect(layout.colour).toBe(COLOURS.met);
    expect(layout.endsInBand).toBe(true);
  });

  test("every row is drawn with its target tick, and the axis is fitted to the rows", () => {
    const rows = [
      row({ value: 0.49, met: false }),
      row({ value: 12, better: "lower", target: 5.9, met: false }),
    ];
    const svg = renderChart(rows, "t", "s");
    const ticks = svg.match(/stroke="#000000" stroke-width="3"/g) ?? [];
    expect(ticks).toHaveLength(rows.length + 1); // one per row, one in the legend
    expect(svg).toContain(">20×</text>");
    expect(svg).not.toContain(">1000×</text>");
  });
});

describe("run files", () => {
  test("are named after the run's start time, sortable and without colons", () => {
    expect(runFileName("2026-12-01T14:40:05.123Z")).toBe("2026-12-01T14-40-05Z.json");
    expect(() => runFileName("yesterday")).toThrow('not an ISO start time: "yesterday"');
  });
});

describe("ECDSA against RSA, in words", () => {
  test("within 5% either way is on a par: 0.98× is not called faster", () => {
    expect([keyVerdict(0.98), keyVerdict(1.21), keyVerdict(0.9), keyVerdict(Number.NaN)]).toEqual([
      "on a par",
      "faster",
      "slower",
      "not measured",
    ]);
  });
});
