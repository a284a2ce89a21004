import { describe, expect, it } from 'vitest';
import { checkExactlyOnce } from '../../../bench/cluster/record-check.js';

const sent = new Set(['a', 'b', 'c', 'd']);

describe('the failover bench data check', () => {
  it('passes when every acknowledged record is read once at its offset, and unacknowledged ones at most once', () => {
    const check = checkExactlyOnce(sent, new Map([['a', 0], ['b', 1]]), [{ offset: 0, value: 'a' }, { offset: 1, value: 'b' }, { offset: 2, value: 'c' }]);
    expect(check).toEqual({ acknowledged: 2, read: 3, problemCount: 0, problems: [] });
  });

  it('reports an acknowledged record that is missing', () => {
    const check = checkExactlyOnce(sent, new Map([['a', 0], ['b', 1]]), [{ offset: 0, value: 'a' }]);
    expect(check.problemCount).toBe(1);
    expect(check.problems[0]).toMatch(/acknowledged at offset 1 but lost/);
  });

  it('reports a record written twice, acknowledged or not', () => {
    const check = checkExactlyOnce(sent, new Map([['a', 0]]), [{ offset: 0, value: 'a' }, { offset: 1, value: 'c' }, { offset: 2, value: 'c' }]);
    expect(check.problemCount).toBe(1);
    expect(check.problems[0]).toMatch(/written 2 times, at offsets 1, 2/);
  });

  it('reports an acknowledged record found at another offset, and a value never sent', () => {
    const check = checkExactlyOnce(sent, new Map([['a', 5]]), [{ offset: 0, value: 'a' }, { offset: 1, value: 'zzz' }]);
    expect(check.problemCount).toBe(2);
    expect(check.problems.join('\n')).toMatch(/never sent/);
    expect(check.problems.join('\n')).toMatch(/acknowledged at offset 5 but read at 0/);
  });

  it('lists at most ten problems but counts them all', () => {
    const many = new Map(Array.from({ length: 25 }, (_, i) => [`x${i}`, i] as const));
    const check = checkExactlyOnce(new Set(many.keys()), many, []);
    expect(check.problemCount).toBe(25);
    expect(check.problems).toHaveLength(10);
  });
});
