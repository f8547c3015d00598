/**
 * The report's arithmetic, kept apart so that it can be tested on its own: whether a figure meets
 * its target, the range of a figure over the recorded runs, and the chart's axis.
 */

export type Better = "higher" | "lower";

/** A target: the figure must be at least (higher is better) or at most (lower is better) `threshold`. */
export interface Goal {
  better: Better;
  threshold: number;
}

/** Met exactly at the threshold; a figure that could not be measured (NaN) never meets a target. */
export function isMet(value: number, goal: Goal): boolean {
  if (!Number.isFinite(value)) return false;
  return goal.better === "higher" ? value >= goal.threshold : value <= goal.threshold;
}

export interface Range {
  min: number;
  max: number;
  /** Runs that measured the figure (non-finite values are left out). */
  count: number;
}

export function rangeOf(values: readonly number[]): Range {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return { min: Number.NaN, max: Number.NaN, count: 0 };
  return { min: Math.min(...finite), max: Math.max(...finite), count: finite.length };
}

/** "0.95–1.31×", or one figure when every run rounds to the same text. */
export function formatRange(range: Range, format: (value: number) => string, unit = ""): string {
  if (range.count === 0) return "n/a";
  const low = format(range.min);
  const high = format(range.max);
  return low === high ? `${low}${unit}` : `${low}–${high}${unit}`;
}

export interface Axis {
  /** Ends of the logarithmic axis, each a 1-2-5 step; parity (1) always lies inside. */
  min: number;
  max: number;
  ticks: number[];
}

const STEPS = [1, 2, 5];

function stepsBetween(low: number, high: number): number[] {
  const steps: number[] = [];
  for (
    let exponent = Math.floor(Math.log10(low)) - 1;
    exponent <= Math.ceil(Math.log10(high)) + 1;
    exponent++
  ) {
    for (const step of STEPS) {
      const value = Number((step * 10 ** exponent).toPrecision(1));
      if (value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9)) steps.push(value);
    }
  }
  return steps;
}

/**
 * The tightest 1-2-5 log axis holding every value, every target and parity, with a little room
 * (10%) beyond the outermost, so that no bar ends on the frame.
 */
export function chooseAxis(values: readonly number[]): Axis {
  const finite = values.filter((value) => Number.isFinite(value) && value > 0);
  const low = Math.min(1, ...finite) / 1.1;
  const high = Math.max(1, ...finite) * 1.1;
  const below = stepsBetween(low / 10, low).at(-1)!;
  const above = stepsBetween(high, high * 10)[0]!;
  return { min: below, max: above, ticks: stepsBetween(below, above) };
}
