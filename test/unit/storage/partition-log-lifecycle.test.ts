import { readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogConfig } from '../../../src/storage/log-config.js';
import type { PartitionLog, PartitionLogOptions } from '../../../src/storage/partition-log.js';
import {
  appendConcurrently, appendSequentially, expectSluiceError, expectedRecords, manualClock, planBatch,
  readAllBytes, readAllRecords, recordsOf, segmentBaseOffsets, seededRandom, type AppendedBatch, type PlannedBatch, type RecordSeen,
} from '../../helpers/log-assertions.js';
import { SMALL_LOG_CONFIG, capturingLogger, makeTempDir, openLog } from '../../helpers/storage.js';

const T0 = 1_700_000_000_000;

/** Batches of one record, all the same size (fixed-width tags), so roll points can be computed. */
function uniformBatches(count: number, timestamp = (k: number) => T0 + k): PlannedBatch[] {
  return Array.from({ length: count }, (_, k) => planBatch(`u${String(k).padStart(5, '0')}`, 1, 100, timestamp(k)));
}

/** Batches of `recordCount(k)` records (3 by default); batch k's records carry timestamps T0 + 10k + j. */
function timedBatches(count: number, recordCount = (_k: number) => 3): PlannedBatch[] {
  return Array.from({ length: count }, (_, k) => planBatch(`t${String(k).padStart(5, '0')}`, recordCount(k), 100, T0 + 10 * k));
}

function prefix(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

/** The first offset whose record timestamp is at least `timestamp`, by brute force. */
function bruteForceOffsetForTimestamp(records: readonly RecordSeen[], timestamp: number): number | null {
  return records.find((record) => record.timestamp >= timestamp)?.offset ?? null;
}

/** Timestamps worth asking about: every record's, one below and one above, and past both ends. */
function probeTimestamps(records: readonly RecordSeen[]): number[] {
  const probes = new Set<number>();
  for (const record of records) for (const delta of [-1, 0, 1]) probes.add(record.timestamp + delta);
  const timestamps = records.map((record) => record.timestamp);
  probes.add(Math.min(...timestamps) - 1_000);
  probes.add(Math.max(...timestamps) + 1_000);
  return [...probes].sort((a, b) => a - b);
}

async function expectOffsetForTimestampMatches(log: PartitionLog, records: readonly RecordSeen[], stage = ''): Promise<void> {
  for (const timestamp of probeTimestamps(records)) {
    const found = await log.offsetForTimestamp(timestamp);
    expect({ stage, timestamp, found }).toEqual({ stage, timestamp, found: bruteForceOffsetForTimestamp(records, timestamp) });
  }
}

let dir: string;
let cleanup: () => Promise<void>;
const openLogs: PartitionLog[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});

afterEach(async () => {
  for (const log of openLogs.splice(0)) await log.close();
  await cleanup();
});

/** Opens the log in `dir`, closed after the test. */
async function open(overrides: Partial<PartitionLogOptions> = {}): Promise<PartitionLog> {
  const log = await openLog(dir, overrides);
  openLogs.push(log);
  return log;
}

/** Closes a log and opens it again the way the log manager does after a clean shutdown. */
async function reopen(log: PartitionLog, overrides: Partial<PartitionLogOptions> = {}): Promise<PartitionLog> {
  const recoveryPoint = log.flushedOffset;
  await log.close();
  return open({ recoveryPoint, ...overrides });
}

describe('rolling segments', () => {
  it('rolls before a batch would take the active segment past segmentBytes', async () => {
    const log = await open();
    const planned = uniformBatches(300);
    const batchBytes = planned[0]!.sizeBytes;
    expect(planned.every((batch) => batch.sizeBytes === batchBytes)).toBe(true);
    await appendConcurrently(log, planned);
    const batchesPerSegment = Math.floor(SMALL_LOG_CONFIG.segmentBytes / batchBytes);
    const expectedBases = Array.from({ length: Math.ceil(300 / batchesPerSegment) }, (_, i) => i * batchesPerSegment);
    expect(await segmentBaseOffsets(dir)).toEqual(expectedBases);
    expect(log.segmentCount).toBe(expectedBases.length);
    for (const base of expectedBases.slice(0, -1)) {
      expect((await stat(join(dir, `${prefix(base)}.log`))).size).toBe(batchesPerSegment * batchBytes);
    }
  });

  it('after close every segment has .log, .index and .timeindex files named by its 20-digit base offset', async () => {
    const log = await open();
    await appendConcurrently(log, uniformBatches(300));
    const bases = await segmentBaseOffsets(dir);
    expect(bases.length).toBeGreaterThanOrEqual(3);
    await log.close();
    const names = new Set(await readdir(dir));
    for (const base of bases) {
      for (const suffix of ['.log', '.index', '.timeindex']) expect(names.has(`${prefix(base)}${suffix}`)).toBe(true);
      expect((await stat(join(dir, `${prefix(base)}.index`))).size % 8).toBe(0);
      expect((await stat(join(dir, `${prefix(base)}.index`))).size).toBeGreaterThan(0);
      expect((await stat(join(dir, `${prefix(base)}.timeindex`))).size % 12).toBe(0);
    }
    // ... and the partition's leader-epoch-checkpoint.
    expect(names.has('leader-epoch-checkpoint')).toBe(true);
    expect(names.size).toBe(bases.length * 3 + 1);
  });

  it('rolls once segmentMs has passed on the injected clock since the segment took its first batch', async () => {
    const clock = manualClock(T0);
    const log = await open({ nowMs: clock.nowMs, config: { ...SMALL_LOG_CONFIG, segmentMs: 1_000 } });
    await log.append(planBatch('a', 1).bytes);
    clock.advance(999);
    await log.append(planBatch('b', 1).bytes);
    expect(log.segmentCount).toBe(1);
    clock.advance(1);
    await log.append(planBatch('c', 1).bytes);
    expect(log.segmentCount).toBe(2);
    expect(await segmentBaseOffsets(dir)).toEqual([0, 2]);
    // The new segment's age counts from its own first batch.
    clock.advance(999);
    await log.append(planBatch('d', 1).bytes);
    expect(log.segmentCount).toBe(2);
    clock.advance(1);
    await log.append(planBatch('e', 1).bytes);
    expect(await segmentBaseOffsets(dir)).toEqual([0, 2, 4]);
    // Time alone rolls nothing: a roll happens only at an append.
    clock.advance(10_000);
    expect(log.segmentCount).toBe(3);
    expect((await readAllRecords(log)).map((record) => record.offset)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a batch bigger than segmentBytes goes into a segment of its own', async () => {
    const log = await open();
    const appended = await appendSequentially(log, [planBatch('small', 1), planBatch('huge', 4, 5_000), planBatch('next', 1)]);
    expect(appended[1]!.sizeBytes).toBeGreaterThan(SMALL_LOG_CONFIG.segmentBytes);
    expect(await segmentBaseOffsets(dir)).toEqual([0, 1, 5]);
    expect(await readAllRecords(log, 1)).toEqual(expectedRecords(appended));
  });
});

describe('reopening', () => {
  it('after a clean close keeps LEO, serves identical bytes and scans only the final batch', async () => {
    const first = await open();
    const appended = await appendConcurrently(first, timedBatches(160));
    const bytesBefore = await readAllBytes(first);
    const { logEndOffset, segmentCount } = first;
    const reopened = await reopen(first);
    expect(reopened.logEndOffset).toBe(logEndOffset);
    expect(reopened.flushedOffset).toBe(logEndOffset);
    expect(reopened.segmentCount).toBe(segmentCount);
    expect(await readAllBytes(reopened)).toEqual(bytesBefore);
    expect(reopened.loadReport).toMatchObject({ bytesTruncated: 0, segmentsDropped: 0, indexesRebuilt: 0 });
    expect(reopened.loadReport.bytesScanned).toBeLessThanOrEqual(appended.at(-1)!.sizeBytes);
  });

  it('without a recovery point scans the whole log and still serves identical bytes', async () => {
    const first = await open();
    await appendConcurrently(first, timedBatches(160));
    const bytesBefore = await readAllBytes(first);
    const sizeBytes = first.sizeBytes;
    const reopened = await reopen(first, { recoveryPoint: null });
    expect(reopened.loadReport.bytesScanned).toBe(sizeBytes);
    expect(reopened.loadReport.bytesTruncated).toBe(0);
    expect(await readAllBytes(reopened)).toEqual(bytesBefore);
  });

  it('a reopened log appends from its LEO and keeps everything through another reopen', async () => {
    const first = await open();
    const before = await appendConcurrently(first, timedBatches(100));
    const second = await reopen(first);
    const after = await appendSequentially(second, timedBatches(30).map((_, k) => planBatch(`again${k}`, 2)));
    expect(after[0]!.baseOffset).toBe(before.at(-1)!.lastOffset + 1);
    const third = await reopen(second);
    expect(await readAllRecords(third)).toEqual(expectedRecords([...before, ...after]));
  });
});

describe('truncateTo', () => {
  async function truncationFixture(): Promise<{ log: PartitionLog; appended: AppendedBatch[]; bases: number[] }> {
    const log = await open();
    const appended = await appendConcurrently(log, timedBatches(160));
    const bases = await segmentBaseOffsets(dir);
    expect(bases.length).toBeGreaterThanOrEqual(4);
    return { log, appended, bases };
  }

  it('at a batch boundary keeps exactly the batches before it', async () => {
    const { log, appended } = await truncationFixture();
    const cut = appended[150]!.baseOffset;
    expect(await log.truncateTo(cut)).toBe(cut);
    expect(log.logEndOffset).toBe(cut);
    expect(log.flushedOffset).toBe(cut);
    expect(log.highWatermark).toBe(cut);
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended.slice(0, 150)));
    await expectSluiceError(log.read(cut + 1, 1024), 'OFFSET_OUT_OF_RANGE');
  });

  it('inside a batch drops that whole batch', async () => {
    const { log, appended } = await truncationFixture();
    const straddling = appended[150]!;
    for (const offset of [straddling.lastOffset, straddling.baseOffset + 1]) {
      expect(await log.truncateTo(offset)).toBe(straddling.baseOffset);
      expect(log.logEndOffset).toBe(straddling.baseOffset);
    }
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended.slice(0, 150)));
  });

  it('across segments deletes the files of every later segment', async () => {
    const { log, appended, bases } = await truncationFixture();
    const target = appended.find((batch) => batch.baseOffset > bases[1]! + 10)!;
    expect(target.lastOffset).toBeLessThan(bases[2]!);
    expect(await log.truncateTo(target.baseOffset + 1)).toBe(target.baseOffset);
    expect(await segmentBaseOffsets(dir)).toEqual(bases.slice(0, 2));
    expect(log.segmentCount).toBe(2);
    const names = await readdir(dir);
    for (const base of bases.slice(2)) expect(names.filter((name) => name.startsWith(prefix(base)))).toEqual([]);
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended.filter((batch) => batch.baseOffset < target.baseOffset)));
  });

  it('exactly at a segment base offset deletes that segment and keeps the one before whole', async () => {
    const { log, appended, bases } = await truncationFixture();
    expect(await log.truncateTo(bases[2]!)).toBe(bases[2]);
    expect(await segmentBaseOffsets(dir)).toEqual(bases.slice(0, 2));
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended.filter((batch) => batch.baseOffset < bases[2]!)));
  });

  it('to offset 0 empties the log, which then appends from 0', async () => {
    const { log } = await truncationFixture();
    expect(await log.truncateTo(0)).toBe(0);
    expect(log.segmentCount).toBe(1);
    expect(log.sizeBytes).toBe(0);
    expect(await log.append(planBatch('fresh', 2).bytes)).toEqual({ baseOffset: 0, lastOffset: 1, duplicate: false });
  });

  it('at or past LEO changes nothing', async () => {
    const { log, appended } = await truncationFixture();
    const logEndOffset = log.logEndOffset;
    expect(await log.truncateTo(logEndOffset)).toBe(logEndOffset);
    expect(await log.truncateTo(logEndOffset + 100)).toBe(logEndOffset);
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended));
  });

  it('appends continue from the new LEO and everything survives reopening', async () => {
    const { log, appended, bases } = await truncationFixture();
    const kept = appended.filter((batch) => batch.lastOffset < bases[1]! + 20);
    const newEnd = await log.truncateTo(kept.at(-1)!.lastOffset + 2);
    expect(newEnd).toBe(kept.at(-1)!.lastOffset + 1);
    const more = await appendSequentially(log, Array.from({ length: 40 }, (_, k) => planBatch(`more${k}`, 2, 300)));
    expect(more[0]!.baseOffset).toBe(newEnd);
    const expected = expectedRecords([...kept, ...more]);
    expect(await readAllRecords(log)).toEqual(expected);
    const cleanReopen = await reopen(log);
    expect(await readAllRecords(cleanReopen)).toEqual(expected);
    const fullScan = await reopen(cleanReopen, { recoveryPoint: null });
    expect(fullScan.loadReport.bytesTruncated).toBe(0);
    expect(await readAllRecords(fullScan)).toEqual(expected);
  });
});

describe('offsetForTimestamp', () => {
  it('returns the first offset whose record timestamp is at least t, across segments, null past the max', async () => {
    const log = await open();
    const appended = await appendConcurrently(log, timedBatches(160));
    expect(log.segmentCount).toBeGreaterThanOrEqual(4);
    const records = expectedRecords(appended);
    await expectOffsetForTimestampMatches(log, records);
    expect(await log.offsetForTimestamp(T0 - 1)).toBe(0);
    expect(await log.offsetForTimestamp(records.at(-1)!.timestamp)).toBe(records.at(-1)!.offset);
    expect(await log.offsetForTimestamp(records.at(-1)!.timestamp + 1)).toBeNull();
  });

  it.each([
    ['three records each', (_k: number) => 3],
    ['one to four records', (k: number) => 1 + (k % 4)],
    ['one to five records', (k: number) => 1 + ((k * 7) % 5)],
  ])('answers the same after a clean reopen and after a full-scan reopen (batches of %s)', async (_shape, recordCount) => {
    const first = await open();
    const records = expectedRecords(await appendConcurrently(first, timedBatches(160, recordCount)));
    const clean = await reopen(first);
    await expectOffsetForTimestampMatches(clean, records, 'clean reopen');
    const fullScan = await reopen(clean, { recoveryPoint: null });
    await expectOffsetForTimestampMatches(fullScan, records, 'full-scan reopen');
    // The indexes the full scan rewrote are trusted by the next clean open.
    const cleanAgain = await reopen(fullScan);
    await expectOffsetForTimestampMatches(cleanAgain, records, 'clean reopen after a full scan');
  });

  it('handles timestamps that go backwards (seeded random), before and after reopen', async () => {
    const random = seededRandom(0x5eed);
    const log = await open();
    const planned = Array.from({ length: 150 }, (_, k) => planBatch(`r${String(k).padStart(4, '0')}`, 1 + (k % 3), 100, T0 + Math.floor(random() * 2_000)));
    const records = expectedRecords(await appendConcurrently(log, planned));
    expect(log.segmentCount).toBeGreaterThanOrEqual(3);
    await expectOffsetForTimestampMatches(log, records);
    await expectOffsetForTimestampMatches(await reopen(log), records);
  });

  it('still finds records below a truncation point', async () => {
    const log = await open();
    const appended = await appendConcurrently(log, timedBatches(160));
    const bases = await segmentBaseOffsets(dir);
    // Cut in the middle of the third segment: its time index keeps only entries below the cut.
    const cut = appended.find((batch) => batch.baseOffset > (bases[2]! + bases[3]!) / 2)!.baseOffset;
    await log.truncateTo(cut);
    const records = expectedRecords(appended).filter((record) => record.offset < cut);
    await expectOffsetForTimestampMatches(log, records);
  });
});

describe('retention', () => {
  async function segmentSizes(bases: readonly number[]): Promise<number[]> {
    return Promise.all(bases.map(async (base) => (await stat(join(dir, `${prefix(base)}.log`))).size));
  }

  it('by retentionBytes deletes the oldest whole segments while the log stays at or above the limit', async () => {
    const segmentBytes = SMALL_LOG_CONFIG.segmentBytes;
    const config: LogConfig = { ...SMALL_LOG_CONFIG, retentionBytes: Math.floor(2.5 * segmentBytes) };
    const log = await open({ config });
    const appended = await appendConcurrently(log, uniformBatches(700));
    const bases = await segmentBaseOffsets(dir);
    const sizes = await segmentSizes(bases);
    expect(bases.length).toBeGreaterThanOrEqual(5);
    // Expected: drop from the front while what remains is still at least retentionBytes.
    let remainingBytes = log.sizeBytes;
    let expectedDeleted = 0;
    while (expectedDeleted < bases.length - 1 && remainingBytes - sizes[expectedDeleted]! >= config.retentionBytes!) {
      remainingBytes -= sizes[expectedDeleted]!;
      expectedDeleted += 1;
    }
    expect(expectedDeleted).toBeGreaterThan(0);
    expect(await log.applyRetention()).toBe(expectedDeleted);
    expect(log.logStartOffset).toBe(bases[expectedDeleted]);
    expect(log.sizeBytes).toBe(remainingBytes);
    expect(log.sizeBytes).toBeGreaterThanOrEqual(config.retentionBytes!);
    expect(await segmentBaseOffsets(dir)).toEqual(bases.slice(expectedDeleted));
    expect((await readdir(dir)).filter((name) => Number(name.slice(0, 20)) < bases[expectedDeleted]!)).toEqual([]);
    await expectSluiceError(log.read(bases[expectedDeleted]! - 1, 1024), 'OFFSET_OUT_OF_RANGE');
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended.filter((batch) => batch.baseOffset >= bases[expectedDeleted]!)));
    // A second pass finds nothing more to delete.
    expect(await log.applyRetention()).toBe(0);
  });

  it('never deletes the active segment, however small retentionBytes is', async () => {
    const log = await open({ config: { ...SMALL_LOG_CONFIG, retentionBytes: 0 } });
    const appended = await appendConcurrently(log, uniformBatches(400));
    const bases = await segmentBaseOffsets(dir);
    expect(await log.applyRetention()).toBe(bases.length - 1);
    expect(await segmentBaseOffsets(dir)).toEqual([bases.at(-1)]);
    expect(log.logStartOffset).toBe(bases.at(-1));
    expect(log.logEndOffset).toBe(appended.at(-1)!.lastOffset + 1);
    expect(await log.applyRetention()).toBe(0);
    expect(await log.append(planBatch('after', 1).bytes)).toEqual({ baseOffset: 400, lastOffset: 400, duplicate: false });
  });

  it('by retentionMs deletes the leading segments whose newest record is older than the cutoff', async () => {
    const retentionMs = 60_000;
    const clock = manualClock(T0);
    const log = await open({ nowMs: clock.nowMs, config: { ...SMALL_LOG_CONFIG, retentionMs } });
    // Batches 0..299 carry old timestamps, 300.. new ones; then an old one again in the active segment.
    const oldMs = T0 - 10 * retentionMs;
    const planned = uniformBatches(600, (k) => (k < 300 ? oldMs + k : T0 + k));
    const appended = await appendConcurrently(log, planned);
    const bases = await segmentBaseOffsets(dir);
    const ends = [...bases.slice(1), log.logEndOffset];
    const wholeOld = bases.filter((_, i) => ends[i]! <= 300 && i < bases.length - 1).length;
    expect(wholeOld).toBeGreaterThan(0);
    expect(wholeOld).toBeLessThan(bases.length - 1);
    expect(await log.applyRetention()).toBe(wholeOld);
    expect(log.logStartOffset).toBe(bases[wholeOld]);
    await expectSluiceError(log.read(0, 1024), 'OFFSET_OUT_OF_RANGE');
    await expectSluiceError(log.read(bases[wholeOld]! - 1, 1024), 'OFFSET_OUT_OF_RANGE');
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended.filter((batch) => batch.baseOffset >= bases[wholeOld]!)));
    // Nothing else is old yet; once the clock passes every timestamp, all but the active segment go.
    expect(await log.applyRetention()).toBe(0);
    clock.advance(10 * retentionMs);
    expect(await log.applyRetention()).toBe(bases.length - 1 - wholeOld);
    expect(await segmentBaseOffsets(dir)).toEqual([bases.at(-1)]);
  });

  it('by retentionMs judges a segment by its newest record even after a full-scan open rewrote its indexes', async () => {
    const retentionMs = 60_000;
    const first = await open();
    const records = expectedRecords(await appendConcurrently(first, timedBatches(160, (k) => 1 + (k % 4))));
    const bases = await segmentBaseOffsets(dir);
    const newestInFirstMs = Math.max(...records.filter((record) => record.offset < bases[1]!).map((record) => record.timestamp));
    const fullScan = await reopen(first, { recoveryPoint: null });
    const clock = manualClock(newestInFirstMs + retentionMs);
    const clean = await reopen(fullScan, { nowMs: clock.nowMs, config: { ...SMALL_LOG_CONFIG, retentionMs } });
    // The cutoff equals the first segment's newest timestamp: not older, so it stays.
    expect(await clean.applyRetention()).toBe(0);
    clock.advance(1);
    expect(await clean.applyRetention()).toBe(1);
    expect(clean.logStartOffset).toBe(bases[1]);
  });

  it('keeps segments holding offsets at or above the high watermark', async () => {
    const log = await open({ highWatermarkFollowsFlush: false, config: { ...SMALL_LOG_CONFIG, retentionBytes: 0 } });
    await appendConcurrently(log, uniformBatches(400));
    const bases = await segmentBaseOffsets(dir);
    expect(log.highWatermark).toBe(0);
    expect(await log.applyRetention()).toBe(0);
    log.updateHighWatermark(bases[2]! - 1);
    expect(await log.applyRetention()).toBe(1);
    log.updateHighWatermark(bases[2]!);
    expect(await log.applyRetention()).toBe(1);
    expect(log.logStartOffset).toBe(bases[2]);
  });
});

describe('high watermark', () => {
  it('follows the flushed offset: logStart <= HW = flushed <= LEO whenever an append resolves', async () => {
    const log = await open();
    const planned = uniformBatches(300);
    const results = await Promise.all(planned.map((batch) => log.append(batch.bytes).then((result) => {
      expect(log.highWatermark).toBe(log.flushedOffset);
      expect(log.flushedOffset).toBeGreaterThan(result.lastOffset);
      expect(log.flushedOffset).toBeLessThanOrEqual(log.logEndOffset);
      expect(log.logStartOffset).toBeLessThanOrEqual(log.highWatermark);
      return result;
    })));
    expect(results).toHaveLength(300);
    expect(log.highWatermark).toBe(log.logEndOffset);
  });

  it('does not cover an append until its fsync: while it is in flight, HW stays at the flushed offset', async () => {
    const log = await open();
    await log.append(planBatch('first', 2).bytes);
    let resolved = false;
    const pending = log.append(planBatch('second', 3).bytes).then(() => { resolved = true; });
    for (let turn = 0; !resolved; turn++) {
      expect(turn).toBeLessThan(100_000);
      expect(log.highWatermark).toBe(log.flushedOffset);
      expect([2, 5]).toContain(log.flushedOffset);
      expect(log.flushedOffset).toBeLessThanOrEqual(log.logEndOffset);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await pending;
    expect(log.highWatermark).toBe(5);
  });

  it('when it does not follow the flush, it comes from the checkpoint and moves only when set', async () => {
    const first = await open({ highWatermarkFollowsFlush: false });
    await appendConcurrently(first, uniformBatches(50));
    expect(first.highWatermark).toBe(0);
    first.updateHighWatermark(20);
    const visible = recordsOf(await readAllBytes(first, 1024, 0, first.highWatermark));
    expect(visible.map((record) => record.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const reopened = await reopen(first, { highWatermarkFollowsFlush: false, highWatermark: 20 });
    expect(reopened.highWatermark).toBe(20);
    const clamped = await reopen(reopened, { highWatermarkFollowsFlush: false, highWatermark: 1_000_000 });
    expect(clamped.highWatermark).toBe(50);
  });
});

describe('damaged index files', () => {
  type Damage = 'deleted' | 'odd size' | 'filled with 0xff' | 'random bytes';
  const damages: Damage[] = ['deleted', 'odd size', 'filled with 0xff', 'random bytes'];
  const targets = ['a middle segment', 'the active segment'] as const;

  async function damage(path: string, kind: Damage): Promise<void> {
    const sizeBytes = (await stat(path)).size;
    expect(sizeBytes).toBeGreaterThanOrEqual(16);
    if (kind === 'deleted') await rm(path);
    if (kind === 'odd size') await truncate(path, sizeBytes - 3);
    if (kind === 'filled with 0xff') await writeFile(path, Buffer.alloc(sizeBytes, 0xff));
    if (kind === 'random bytes') {
      const random = seededRandom(sizeBytes);
      await writeFile(path, Buffer.from(Array.from({ length: sizeBytes }, () => Math.floor(random() * 256))));
    }
  }

  for (const target of targets) {
    for (const kind of damages) {
      it(`an .index file of ${target} ${kind} is rebuilt at reopen and every read is still correct`, async () => {
        const first = await open();
        const appended = await appendConcurrently(first, timedBatches(160));
        const bytesBefore = await readAllBytes(first, 1);
        const bases = await segmentBaseOffsets(dir);
        const recoveryPoint = first.flushedOffset;
        await first.close();
        openLogs.splice(openLogs.indexOf(first), 1);
        const base = target === 'a middle segment' ? bases[1]! : bases.at(-1)!;
        const indexPath = join(dir, `${prefix(base)}.index`);
        await damage(indexPath, kind);
        const reopened = await open({ recoveryPoint });
        expect(reopened.loadReport.indexesRebuilt).toBeGreaterThan(0);
        expect(reopened.loadReport.bytesTruncated).toBe(0);
        expect(reopened.logEndOffset).toBe(recoveryPoint);
        expect(await readAllBytes(reopened, 1)).toEqual(bytesBefore);
        for (const batch of appended) {
          const result = await reopened.read(batch.baseOffset + batch.recordCount - 1, 1);
          expect(result.nextOffset).toBe(batch.lastOffset + 1);
        }
        const rebuiltBytes = (await stat(indexPath)).size;
        expect(rebuiltBytes % 8).toBe(0);
        expect(rebuiltBytes).toBeGreaterThan(0);
      });
    }
  }

  it('a deleted .timeindex is rebuilt and offsetForTimestamp still answers correctly', async () => {
    const first = await open();
    const records = expectedRecords(await appendConcurrently(first, timedBatches(160)));
    const bases = await segmentBaseOffsets(dir);
    const recoveryPoint = first.flushedOffset;
    await first.close();
    openLogs.splice(openLogs.indexOf(first), 1);
    await rm(join(dir, `${prefix(bases[1]!)}.timeindex`));
    const reopened = await open({ recoveryPoint });
    expect(reopened.loadReport.indexesRebuilt).toBe(1);
    await expectOffsetForTimestampMatches(reopened, records);
  });

  /** Increasing offsets and positions, all inside the log, none at a batch start: passes the sanity check. */
  async function writeSaneButWrongIndex(base: number): Promise<void> {
    const entries = Buffer.alloc(8 * 4);
    for (let i = 0; i < 4; i++) {
      entries.writeUInt32BE(1 + i * 3, i * 8);
      entries.writeUInt32BE(7 + i * 500, i * 8 + 4);
    }
    await writeFile(join(dir, `${prefix(base)}.index`), entries);
  }

  it('an active-segment .index that looks sane but points inside batches never makes recovery cut good data', async () => {
    const first = await open();
    await appendConcurrently(first, timedBatches(160));
    const bytesBefore = await readAllBytes(first, 1);
    const bases = await segmentBaseOffsets(dir);
    const recoveryPoint = first.flushedOffset;
    await first.close();
    openLogs.splice(openLogs.indexOf(first), 1);
    await writeSaneButWrongIndex(bases.at(-1)!);
    const { logger, lines } = capturingLogger();
    const reopened = await open({ recoveryPoint, logger });
    expect(reopened.loadReport).toMatchObject({ bytesTruncated: 0, indexesRebuilt: 1 });
    expect(reopened.logEndOffset).toBe(recoveryPoint);
    expect(await readAllBytes(reopened, 1)).toEqual(bytesBefore);
    expect(lines.some((line) => line.level === 40 && line.msg.includes('index entry does not name a batch'))).toBe(true);
  });

  it('a trusted segment whose .index looks sane but points inside batches is refused by reads, and healed by a full-scan open', async () => {
    const first = await open();
    await appendConcurrently(first, timedBatches(160));
    const bytesBefore = await readAllBytes(first, 1);
    const bases = await segmentBaseOffsets(dir);
    const recoveryPoint = first.flushedOffset;
    await first.close();
    openLogs.splice(openLogs.indexOf(first), 1);
    await writeSaneButWrongIndex(bases[1]!);
    // Trusted below the recovery point, so not re-scanned: reads never serve the bytes it points at.
    const trusting = await open({ recoveryPoint });
    await expectSluiceError(trusting.read(bases[1]! + 1, 1), 'CORRUPT_MESSAGE');
    const healed = await reopen(trusting, { recoveryPoint: null });
    expect(healed.loadReport.bytesTruncated).toBe(0);
    expect(await readAllBytes(healed, 1)).toEqual(bytesBefore);
  });
});
