import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkBatchFraming, decodeBatchHeader } from '../../../src/record/index.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import {
  appendConcurrently, appendSequentially, batchHeaders, expectSluiceError, expectedRecords, planBatch,
  readAllBytes, readAllRecords, recordsOf, segmentBaseOffsets, splitBatches, type AppendedBatch, type PlannedBatch,
} from '../../helpers/log-assertions.js';
import { SMALL_LOG_CONFIG, makeTempDir, openLog } from '../../helpers/storage.js';

/** 160 batches of 1–4 records (~125 bytes each): about 50 KB, so SMALL_LOG_CONFIG rolls several segments. */
function plannedBatches(count = 160): PlannedBatch[] {
  return Array.from({ length: count }, (_, k) => planBatch(`b${k}`, 1 + (k % 4), 100, 1_700_000_000_000 + k * 10));
}

let dir: string;
let cleanup: () => Promise<void>;
let log: PartitionLog | null;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  log = null;
});

afterEach(async () => {
  await log?.close();
  await cleanup();
});

async function filledLog(planned = plannedBatches()): Promise<{ log: PartitionLog; appended: AppendedBatch[] }> {
  log = await openLog(dir);
  const appended = await appendConcurrently(log, planned);
  return { log, appended };
}

describe('PartitionLog.read at offset boundaries', () => {
  it('a read at the log start offset returns the first batch whole', async () => {
    const { log, appended } = await filledLog();
    const result = await log.read(0, 1);
    expect(result.batchCount).toBe(1);
    expect(result.nextOffset).toBe(appended[0]!.lastOffset + 1);
    expect(recordsOf(result.bytes).map((record) => record.value)).toEqual(appended[0]!.values);
  });

  it('a read at the last offset returns the last batch and nextOffset equal to LEO', async () => {
    const { log, appended } = await filledLog();
    const last = appended.at(-1)!;
    expect(last.lastOffset).toBe(log.logEndOffset - 1);
    const result = await log.read(last.lastOffset, 1024 * 1024);
    expect(result.batchCount).toBe(1);
    expect(result.nextOffset).toBe(log.logEndOffset);
    expect(batchHeaders(result.bytes)[0]!.baseOffset).toBe(last.baseOffset);
  });

  it('a read at any offset inside a multi-record batch returns that whole batch', async () => {
    const { log, appended } = await filledLog();
    let multiRecordBatches = 0;
    for (const batch of appended.filter((candidate) => candidate.recordCount > 1)) {
      multiRecordBatches += 1;
      for (let offset = batch.baseOffset + 1; offset <= batch.lastOffset; offset++) {
        const result = await log.read(offset, 1);
        expect(result.batchCount).toBe(1);
        expect(result.nextOffset).toBe(batch.lastOffset + 1);
        const records = recordsOf(result.bytes);
        expect(records.map((record) => record.offset)).toEqual(batch.values.map((_, i) => batch.baseOffset + i));
        expect(records.map((record) => record.value)).toEqual(batch.values);
      }
    }
    expect(multiRecordBatches).toBeGreaterThan(100);
  });

  it('a one-byte read at every offset returns exactly the one batch that holds it', async () => {
    const { log, appended } = await filledLog();
    let batchIndex = 0;
    for (let offset = 0; offset < log.logEndOffset; offset++) {
      if (offset > appended[batchIndex]!.lastOffset) batchIndex += 1;
      const batch = appended[batchIndex]!;
      const result = await log.read(offset, 1);
      expect(result.batchCount).toBe(1);
      expect(result.bytes.length).toBe(batch.sizeBytes);
      expect(decodeBatchHeader(result.bytes).baseOffset).toBe(batch.baseOffset);
      expect(result.nextOffset).toBe(batch.lastOffset + 1);
    }
  });

  it('reads at the first and last offset of every segment stay inside that segment', async () => {
    const { log, appended } = await filledLog();
    const bases = await segmentBaseOffsets(dir);
    expect(bases.length).toBeGreaterThanOrEqual(3);
    expect(log.segmentCount).toBe(bases.length);
    const batchBases = new Set(appended.map((batch) => batch.baseOffset));
    const ends = [...bases.slice(1), log.logEndOffset];
    for (let i = 0; i < bases.length; i++) {
      const segmentBase = bases[i]!;
      const segmentEnd = ends[i]!;
      expect(batchBases.has(segmentBase)).toBe(true);
      // From the segment's base: batches of this segment only, the first starting at the base.
      const fromFirst = await log.read(segmentBase, 1024 * 1024);
      expect(batchHeaders(fromFirst.bytes)[0]!.baseOffset).toBe(segmentBase);
      expect(fromFirst.nextOffset).toBe(segmentEnd);
      // From the segment's last offset: its last batch alone, and then the next segment.
      const fromLast = await log.read(segmentEnd - 1, 1024 * 1024);
      expect(fromLast.batchCount).toBe(1);
      expect(fromLast.nextOffset).toBe(segmentEnd);
      const lastBatch = appended.find((batch) => batch.lastOffset === segmentEnd - 1)!;
      expect(batchHeaders(fromLast.bytes)[0]!.baseOffset).toBe(lastBatch.baseOffset);
    }
  });

  it('a read at LEO returns no bytes and nextOffset equal to LEO', async () => {
    const { log } = await filledLog();
    const result = await log.read(log.logEndOffset, 1024 * 1024);
    expect(result.batchCount).toBe(0);
    expect(result.bytes.length).toBe(0);
    expect(result.nextOffset).toBe(log.logEndOffset);
  });

  it('a read of an empty log at offset 0 returns nothing', async () => {
    log = await openLog(dir);
    const result = await log.read(0, 1024);
    expect(result).toMatchObject({ batchCount: 0, nextOffset: 0 });
    expect(result.bytes.length).toBe(0);
  });

  it('a read past LEO fails with OFFSET_OUT_OF_RANGE', async () => {
    const { log } = await filledLog();
    await expectSluiceError(log.read(log.logEndOffset + 1, 1024), 'OFFSET_OUT_OF_RANGE');
    await expectSluiceError(log.read(log.logEndOffset + 1_000_000, 1024), 'OFFSET_OUT_OF_RANGE');
  });

  it('a read below the log start offset after retention deleted segments fails with OFFSET_OUT_OF_RANGE', async () => {
    log = await openLog(dir, { config: { ...SMALL_LOG_CONFIG, retentionBytes: 1 } });
    await appendConcurrently(log, plannedBatches());
    expect(await log.applyRetention()).toBeGreaterThan(0);
    const logStartOffset = log.logStartOffset;
    expect(logStartOffset).toBeGreaterThan(0);
    await expectSluiceError(log.read(0, 1024), 'OFFSET_OUT_OF_RANGE');
    await expectSluiceError(log.read(logStartOffset - 1, 1024), 'OFFSET_OUT_OF_RANGE');
    const atStart = await log.read(logStartOffset, 1);
    expect(decodeBatchHeader(atStart.bytes).baseOffset).toBe(logStartOffset);
  });
});

describe('PartitionLog.read bounds', () => {
  it('maxBytes smaller than one batch still returns exactly one whole batch', async () => {
    const { log, appended } = await filledLog();
    for (const maxBytes of [1, appended[0]!.sizeBytes - 1]) {
      const result = await log.read(0, maxBytes);
      expect(result.batchCount).toBe(1);
      expect(result.bytes.length).toBe(appended[0]!.sizeBytes);
    }
  });

  it('a batch larger than the read chunk is returned whole to a one-byte read', async () => {
    log = await openLog(dir);
    // 10 KB batches: bigger than indexIntervalBytes + maxBytes, so the read must grow its chunk.
    const appended = await appendSequentially(log, [planBatch('small', 2), planBatch('big', 2, 5_000), planBatch('after', 1)]);
    const result = await log.read(appended[1]!.baseOffset, 1);
    expect(result.batchCount).toBe(1);
    expect(result.bytes.length).toBe(appended[1]!.sizeBytes);
    expect(recordsOf(result.bytes).map((record) => record.value)).toEqual(appended[1]!.values);
    expect(checkBatchFraming(result.bytes, 0, SMALL_LOG_CONFIG.batchBytesMax).kind).toBe('valid');
  });

  it('maxBytes bounds the number of whole batches returned', async () => {
    const { log, appended } = await filledLog();
    const firstFour = appended.slice(0, 4).reduce((sum, batch) => sum + batch.sizeBytes, 0);
    const firstThree = firstFour - appended[3]!.sizeBytes;
    const cases = [
      { maxBytes: firstThree - 1, batchCount: 2 },
      { maxBytes: firstThree, batchCount: 3 },
      { maxBytes: firstFour - 1, batchCount: 3 },
      { maxBytes: firstFour, batchCount: 4 },
    ];
    for (const { maxBytes, batchCount } of cases) {
      const result = await log.read(0, maxBytes);
      expect(result.batchCount).toBe(batchCount);
      expect(result.bytes.length).toBeLessThanOrEqual(maxBytes);
      expect(result.nextOffset).toBe(appended[batchCount - 1]!.lastOffset + 1);
    }
  });

  it('batches read from one chunk of a segment come back as one view of it, not a copy', async () => {
    // Offset 0's batches are older than the tail cache holds: they come from the segment file.
    const { log, appended } = await filledLog();
    const third = appended[2]!;
    const result = await log.read(third.baseOffset, 2_000);
    expect(result.batchCount).toBeGreaterThan(1);
    expect(batchHeaders(result.bytes).map((header) => header.baseOffset)).toEqual(appended.slice(2, 2 + result.batchCount).map((batch) => batch.baseOffset));
    expect(recordsOf(result.bytes).map((record) => record.value)).toEqual(appended.slice(2, 2 + result.batchCount).flatMap((batch) => batch.values));
    // A copy would own an ArrayBuffer of exactly these bytes; the view starts past the batches before offset 2.
    expect(result.bytes.byteOffset).toBeGreaterThan(0);
    expect(result.bytes.buffer.byteLength).toBeGreaterThan(result.bytes.length);
  });

  it('maxOffset excludes batches that end at or after it', async () => {
    const { log, appended } = await filledLog();
    const boundaryBatch = appended.find((batch) => batch.recordCount >= 3 && batch.baseOffset > 0)!;
    // At a batch boundary: everything before it.
    const atBoundary = await log.read(0, 1024 * 1024, boundaryBatch.baseOffset);
    expect(atBoundary.nextOffset).toBe(boundaryBatch.baseOffset);
    expect(batchHeaders(atBoundary.bytes).every((header) => header.baseOffset + header.lastOffsetDelta < boundaryBatch.baseOffset)).toBe(true);
    // Inside a batch: the straddling batch is left out whole.
    const inside = await log.read(0, 1024 * 1024, boundaryBatch.baseOffset + 1);
    expect(inside.nextOffset).toBe(boundaryBatch.baseOffset);
    expect(inside.bytes).toEqual(atBoundary.bytes);
    // One past the batch's last offset: the batch is in.
    const after = await log.read(boundaryBatch.baseOffset, 1024 * 1024, boundaryBatch.lastOffset + 1);
    expect(after.batchCount).toBe(1);
    expect(after.nextOffset).toBe(boundaryBatch.lastOffset + 1);
    // Starting at maxOffset, or inside the straddling batch: nothing.
    const fromBound = await log.read(boundaryBatch.baseOffset, 1024 * 1024, boundaryBatch.baseOffset);
    expect(fromBound).toMatchObject({ batchCount: 0, nextOffset: boundaryBatch.baseOffset });
    const straddling = await log.read(boundaryBatch.baseOffset, 1024 * 1024, boundaryBatch.baseOffset + 1);
    expect(straddling.batchCount).toBe(0);
  });

  it('following nextOffset from log start to LEO returns every record exactly once, in order', async () => {
    const { log, appended } = await filledLog();
    const expected = expectedRecords(appended);
    for (const maxBytes of [1, 300, 4096, 1024 * 1024]) {
      expect(await readAllRecords(log, maxBytes)).toEqual(expected);
    }
  });

  it('following nextOffset with maxOffset at the high watermark stops there', async () => {
    const { log, appended } = await filledLog();
    const highWatermark = appended[100]!.baseOffset;
    const bytes = await readAllBytes(log, 500, 0, highWatermark);
    expect(recordsOf(bytes)).toEqual(expectedRecords(appended.slice(0, 100)));
  });
});

describe('PartitionLog.append', () => {
  it('appends across many segments return consecutive offset ranges', async () => {
    log = await openLog(dir);
    const appended = await appendSequentially(log, plannedBatches(120));
    let expectedBase = 0;
    for (const batch of appended) {
      expect(batch.baseOffset).toBe(expectedBase);
      expect(batch.lastOffset).toBe(expectedBase + batch.recordCount - 1);
      expectedBase = batch.lastOffset + 1;
    }
    expect(log.logEndOffset).toBe(expectedBase);
    expect(log.segmentCount).toBeGreaterThanOrEqual(3);
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended));
  });

  it('500 concurrent appends get distinct contiguous offsets in submission order', async () => {
    log = await openLog(dir);
    const planned = Array.from({ length: 500 }, (_, k) => planBatch(`c${k}`, 1 + (k % 3), 20));
    const appended = await appendConcurrently(log, planned);
    let expectedBase = 0;
    for (const batch of appended) {
      expect(batch.baseOffset).toBe(expectedBase);
      expect(batch.lastOffset).toBe(expectedBase + batch.recordCount - 1);
      expectedBase = batch.lastOffset + 1;
    }
    expect(log.logEndOffset).toBe(expectedBase);
    expect(await readAllRecords(log)).toEqual(expectedRecords(appended));
  });

  it('append stamps baseOffset and partitionLeaderEpoch into the stored batch, CRC intact', async () => {
    log = await openLog(dir);
    await log.append(planBatch('epoch-3', 2).bytes, 3);
    const { baseOffset } = await log.append(planBatch('epoch-7', 3).bytes, 7);
    const result = await log.read(baseOffset, 1);
    const [stored] = splitBatches(result.bytes);
    const header = decodeBatchHeader(stored!);
    expect(header.baseOffset).toBe(2);
    expect(header.partitionLeaderEpoch).toBe(7);
    expect(checkBatchFraming(stored!, 0, SMALL_LOG_CONFIG.batchBytesMax).kind).toBe('valid');
    expect(decodeBatchHeader((await log.read(0, 1)).bytes).partitionLeaderEpoch).toBe(3);
  });

  it('a batch refused by validation takes no offset', async () => {
    log = await openLog(dir);
    await log.append(planBatch('ok', 2).bytes);
    const corrupt = planBatch('bad', 1).bytes;
    corrupt[corrupt.length - 1]! ^= 0xff;
    await expectSluiceError(log.append(corrupt), 'CORRUPT_MESSAGE');
    expect(await log.append(planBatch('next', 1).bytes)).toEqual({ baseOffset: 2, lastOffset: 2, duplicate: false });
  });
});
