import { describe, expect, it } from 'vitest';
import { afterFetch, catchingUpFollowers, highWatermarkOf, laggingFollowers, unknownProgress, type FollowerProgress } from '../../../src/broker/replication/isr-rules.js';

const LEADER = 1;

function progress(entries: Array<[number, Partial<FollowerProgress>]>): Map<number, FollowerProgress> {
  return new Map(entries.map(([id, fields]) => [id, { ...unknownProgress(0), ...fields }]));
}

describe('afterFetch', () => {
  it('marks a follower caught up now when it asks for the leader\'s log end', () => {
    const next = afterFetch(unknownProgress(0), 100, 100, 5_000);
    expect(next).toMatchObject({ logEndOffset: 100, lastCaughtUpMs: 5_000, lastFetchMs: 5_000, lastFetchLeaderLogEndOffset: 100 });
  });

  it('marks it caught up as of its previous fetch when it now asks for what the leader had then', () => {
    const first = afterFetch(unknownProgress(0), 50, 100, 1_000);
    expect(first.lastCaughtUpMs).toBe(0);
    const second = afterFetch(first, 100, 180, 2_000);
    expect(second.lastCaughtUpMs).toBe(1_000);
  });

  it('leaves the caught-up time alone for a follower that falls behind', () => {
    const first = afterFetch(unknownProgress(0), 100, 100, 1_000);
    const second = afterFetch(first, 90, 200, 2_000);
    expect(second.lastCaughtUpMs).toBe(1_000);
    expect(second.logEndOffset).toBe(90);
  });
});

describe('highWatermarkOf', () => {
  it('is the least log end over the ISR, the leader counting its flushed offset', () => {
    expect(highWatermarkOf(0, 100, [1, 2, 3], LEADER, progress([[2, { logEndOffset: 80 }], [3, { logEndOffset: 120 }]]))).toBe(80);
    expect(highWatermarkOf(0, 70, [1, 2], LEADER, progress([[2, { logEndOffset: 80 }]]))).toBe(70);
  });

  it('ignores followers outside the ISR, and is the flushed offset for an ISR of the leader alone', () => {
    expect(highWatermarkOf(0, 100, [1], LEADER, progress([[2, { logEndOffset: 3 }]]))).toBe(100);
  });

  it('stays put while an ISR member has not fetched yet, and never moves back', () => {
    expect(highWatermarkOf(40, 100, [1, 2], LEADER, progress([[2, { logEndOffset: -1 }]]))).toBe(40);
    expect(highWatermarkOf(40, 100, [1, 2], LEADER, progress([]))).toBe(40);
    expect(highWatermarkOf(90, 100, [1, 2], LEADER, progress([[2, { logEndOffset: 50 }]]))).toBe(90);
  });
});

describe('laggingFollowers', () => {
  it('names ISR followers not caught up within the lag time, never the leader, and unknown members', () => {
    const known = progress([[2, { lastCaughtUpMs: 1_000 }], [3, { lastCaughtUpMs: 9_500 }]]);
    expect(laggingFollowers([1, 2, 3], LEADER, known, 10_000, 5_000)).toEqual([2]);
    expect(laggingFollowers([1, 2, 3, 4], LEADER, known, 10_000, 5_000)).toEqual([2, 4]);
    expect(laggingFollowers([1], LEADER, known, 1e9, 1)).toEqual([]);
  });
});

describe('catchingUpFollowers', () => {
  it('admits replicas outside the ISR at or past the high watermark and the epoch start', () => {
    const known = progress([[2, { logEndOffset: 100 }], [3, { logEndOffset: 99 }]]);
    expect(catchingUpFollowers([1, 2, 3], [1], known, 100, 50)).toEqual([2]);
    expect(catchingUpFollowers([1, 2, 3], [1], known, 90, 100)).toEqual([2]);
    expect(catchingUpFollowers([1, 2, 3], [1, 2], known, 90, 0)).toEqual([3]);
  });

  it('admits nobody it has not heard from', () => {
    expect(catchingUpFollowers([1, 2], [1], new Map(), 0, 0)).toEqual([]);
  });
});
