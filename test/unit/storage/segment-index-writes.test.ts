import { readFile, readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeBatchHeader, encodeRecordBatch } from '../../../src/record/index.js';
import { LogSegment } from '../../../src/storage/log-segment.js';
import { makeTempDir } from '../../helpers/storage.js';

// One index entry per batch: every append moves the index files' contents.
const CONFIG = { indexIntervalBytes: 1, indexBytesMax: 1 << 20, batchBytesMax: 1 << 20 };

function batch(baseOffset: number): { bytes: Uint8Array; header: ReturnType<typeof decodeBatchHeader> } {
  const bytes = encodeRecordBatch({ baseOffset, records: [{ key: null, value: new TextEncoder().encode(`r${baseOffset}`), headers: [], timestamp: 1_700_000_000_000 + baseOffset }] });
  return { bytes, header: decodeBatchHeader(bytes) };
}

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});

afterEach(async () => {
  await cleanup();
});

describe('writing a segment\'s index files while appends go on', () => {
  it('writes the indexes as they stood when asked, and the last snapshot asked for is the one left on disk', async () => {
    const segment = await LogSegment.create(dir, 0, CONFIG);
    for (let offset = 0; offset < 3; offset++) await segment.append([batch(offset)], 0);
    const first = segment.writeIndexes();
    const atFirst = segment.offsetIndex.toBytes();
    // Appended while the first write is under way: not in it, but in the one asked for next.
    for (let offset = 3; offset < 6; offset++) await segment.append([batch(offset)], 0);
    const second = segment.writeIndexes();
    await first;
    await second;
    expect(segment.indexesWritten).toBe(true);
    const onDisk = await readFile(segment.offsetIndexPath);
    expect(onDisk.length).toBeGreaterThan(atFirst.length);
    expect(onDisk).toEqual(segment.offsetIndex.toBytes());
    await segment.close();
  });

  it('leaves no index file behind a segment deleted while a write waited', async () => {
    const segment = await LogSegment.create(dir, 0, CONFIG);
    await segment.append([batch(0)], 0);
    const writes = [segment.writeIndexes(), segment.writeIndexes()];
    await segment.delete();
    await Promise.all(writes);
    expect(await readdir(dir)).toEqual([]);
  });

  it('does not count a write of indexes a truncation has since cut as written', async () => {
    const segment = await LogSegment.create(dir, 0, CONFIG);
    for (let offset = 0; offset < 3; offset++) await segment.append([batch(offset)], 0);
    const sizeAfterOne = batch(0).bytes.length;
    const stale = segment.writeIndexes();
    await segment.truncateTo(sizeAfterOne, 1);
    for (let offset = 1; offset < 3; offset++) await segment.append([batch(offset)], 0);
    await stale;
    // Same size as when the snapshot was taken, but other bytes may follow the cut: written again.
    expect(segment.indexesWritten).toBe(false);
    await segment.writeIndexes();
    expect(segment.indexesWritten).toBe(true);
    await segment.close();
  });
});
