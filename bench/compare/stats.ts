/**
 * The spread of one figure over a system's runs: the median is what the tables lead with, min and
 * max show how steady it was. Pure functions, so the report code and its tests share them.
 */

/** Median, min and max of one figure over `runs` runs. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** The spread of `values` (one per run); null when there are none. An even count takes the mean of the middle two. */
export function spreadOf(values: readonly number[]): Spread | null {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

/** `spread` scaled by `factor` (e.g. bytes to MB). */
export function scaleSpread(spread: Spread, factor: number): Spread {
  return { median: spread.median * factor, min: spread.min * factor, max: spread.max * factor, runs: spread.runs };
}

/** "median (min–max)" with `format` for each number; just the median when there was one run. */
export function formatSpread(spread: Spread, format: (value: number) => string): string {
  if (spread.runs === 1 || spread.min === spread.max) return format(spread.median);
  return `${format(spread.median)} (${format(spread.min)}–${format(spread.max)})`;
}
