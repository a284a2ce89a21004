import { describe, expect, it } from 'vitest';
import { segmentsPastRetention, type RetainedSegment } from '../../../src/storage/retention.js';

const DAY_MS = 86_400_000;
const NOW_MS = 100 * DAY_MS;

// Segments of 100 bytes and 10 offsets each; the i-th's newest record is `ages[i]` days old.
function segments(...ages: number[]): RetainedSegment[] {
  return ages.map((age, i) => ({ nextOffset: (i + 1) * 10, sizeBytes: 100, maxTimestamp: NOW_MS - age * DAY_MS }));
}

const KEEP_ALL = { retentionBytes: null, retentionMs: null, nowMs: NOW_MS, highWatermark: Number.MAX_SAFE_INTEGER };

describe('which segments retention deletes', () => {
  it('deletes the oldest segments past retentionMs, stopping at the first young enough', () => {
    const log = segments(9, 8, 2, 9, 1);
    expect(segmentsPastRetention(log, { ...KEEP_ALL, retentionMs: 7 * DAY_MS })).toEqual(log.slice(0, 2));
  });

  it('deletes the oldest segments while the log without them still holds retentionBytes', () => {
    const log = segments(1, 1, 1, 1, 1);
    expect(segmentsPastRetention(log, { ...KEEP_ALL, retentionBytes: 250 })).toEqual(log.slice(0, 2));
    expect(segmentsPastRetention(log, { ...KEEP_ALL, retentionBytes: 300 })).toEqual(log.slice(0, 2));
    expect(segmentsPastRetention(log, { ...KEEP_ALL, retentionBytes: 500 })).toEqual([]);
  });

  it('never deletes the active segment, however old or large', () => {
    const log = segments(9, 9);
    expect(segmentsPastRetention(log, { ...KEEP_ALL, retentionMs: DAY_MS, retentionBytes: 0 })).toEqual(log.slice(0, 1));
  });

  it('never deletes a segment holding offsets at or above the high watermark', () => {
    const log = segments(9, 9, 9, 9);
    expect(segmentsPastRetention(log, { ...KEEP_ALL, retentionMs: DAY_MS, highWatermark: 25 })).toEqual(log.slice(0, 2));
    expect(segmentsPastRetention(log, { ...KEEP_ALL, retentionMs: DAY_MS, highWatermark: 19 })).toEqual(log.slice(0, 1));
  });

  it('keeps everything with no limits, and by time a segment without timestamps', () => {
    expect(segmentsPastRetention(segments(9, 9, 9), KEEP_ALL)).toEqual([]);
    const log: RetainedSegment[] = [{ nextOffset: 10, sizeBytes: 100, maxTimestamp: null }, ...segments(9, 9).map((s) => ({ ...s, nextOffset: s.nextOffset + 10 }))];
    expect(segmentsPastRetention(log, { ...KEEP_ALL, retentionMs: DAY_MS })).toEqual([]);
  });
});
