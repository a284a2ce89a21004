import { describe, expect, it } from 'vitest';
import { formatSpread, spreadOf } from '../../bench/compare/stats.js';
import { niceCeiling, wrapLabel } from '../../bench/compare/report-svg.js';
import { count } from '../../bench/compare/report-markdown.js';

describe('the spread of a figure over runs', () => {
  it('takes the middle value of an odd count, with min and max', () => {
    expect(spreadOf([30, 10, 20])).toEqual({ median: 20, min: 10, max: 30, runs: 3 });
  });

  it('takes the mean of the middle two of an even count', () => {
    expect(spreadOf([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, runs: 4 });
  });

  it('is null without a finite value, and ignores non-finite ones', () => {
    expect(spreadOf([])).toBeNull();
    expect(spreadOf([Number.NaN, Number.POSITIVE_INFINITY])).toBeNull();
    expect(spreadOf([5, Number.NaN])).toEqual({ median: 5, min: 5, max: 5, runs: 1 });
  });

  it('prints median (min–max), or the median alone when the runs agree', () => {
    const format = (value: number): string => value.toFixed(1);
    expect(formatSpread({ median: 2, min: 1, max: 3, runs: 3 }, format)).toBe('2.0 (1.0–3.0)');
    expect(formatSpread({ median: 2, min: 2, max: 2, runs: 3 }, format)).toBe('2.0');
  });
});

describe('the report number formats', () => {
  it('shortens record counts and rates', () => {
    expect(count(950)).toBe('950');
    expect(count(12_345)).toBe('12.3k');
    expect(count(1_234_567)).toBe('1.23M');
  });

  it('rounds a chart axis up to 1, 2, 2.5 or 5 × a power of ten', () => {
    expect(niceCeiling(0)).toBe(0);
    expect(niceCeiling(1_000)).toBe(1_000);
    expect(niceCeiling(1_001)).toBe(2_000);
    expect(niceCeiling(2_300)).toBe(2_500);
    expect(niceCeiling(0.07)).toBeCloseTo(0.1);
    expect(niceCeiling(640_000)).toBe(1_000_000);
  });
});

describe('system names beside the chart bars', () => {
  it('stay on one line when short, break at a space when long, and are cut with … past two lines', () => {
    expect(wrapLabel('Sluice', 20)).toEqual(['Sluice']);
    expect(wrapLabel('Redis Streams (appendfsync always)', 20)).toEqual(['Redis Streams', '(appendfsync always)']);
    expect(wrapLabel('Redis Streams (appendonly yes, appendfsync always)', 20)).toEqual(['Redis Streams', '(appendonly yes, ap…']);
  });
});
