import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeBatchHeader, encodeRecordBatch } from '../../../src/record/index.js';
import { concatBytes } from '../../../src/record/concat-bytes.js';
import type { LogReadResult, PartitionLog } from '../../../src/storage/partition-log.js';
import { TailCache, type CachedBatch } from '../../../src/storage/tail-cache.js';
import { TailCacheBudget } from '../../../src/storage/tail-cache-budget.js';
import { appendConcurrently, planBatch } from '../../helpers/log-assertions.js';
import { SMALL_LOG_CONFIG, makeTempDir, openLog } from '../../helpers/storage.js';

const encoder = new TextEncoder();

/** A stamped batch of `count` records at `baseOffset`, as the log writes it. */
function written(baseOffset: number, count: number, valueBytes = 50): { bytes: Uint8Array; header: ReturnType<typeof decodeBatchHeader> } {
  const records = Array.from({ length: count }, (_, i) => ({ key: null, value: encoder.encode(`${baseOffset + i}`.padEnd(valueBytes, '.')), headers: [], timestamp: 1_700_000_000_000 + i }));
  // A buffer of its own, as a batch read back or copied is: the cache counts it at its length.
  const bytes = new Uint8Array(encodeRecordBatch({ baseOffset, records }));
  return { bytes, header: decodeBatchHeader(bytes) };
}

/** Batches of 2 records each from offset 0: [0,1], [2,3], ... */
function run(batchCount: number, from = 0): ReturnType<typeof written>[] {
  return Array.from({ length: batchCount }, (_, k) => written(from + 2 * k, 2));
}

describe('TailCache under a broker-wide budget', () => {
  const size = run(1)[0]!.bytes.length;

  it('evicts the oldest batches of any partition first, so the caches together stay within the budget', () => {
    const budget = new TailCacheBudget<CachedBatch>(5 * size);
    const a = new TailCache(1 << 20, budget);
    const b = new TailCache(1 << 20, budget);
    a.add(run(4), 0);
    expect(budget.sizeBytes).toBe(4 * size);
    b.add(run(3), 0);
    // a's two oldest went for b's newest: 2 + 3 batches.
    expect(budget.sizeBytes).toBe(5 * size);
    expect(a.sizeBytes + b.sizeBytes).toBe(5 * size);
    expect(a.read(3, 1 << 20, 100)).toBeNull();
    expect(a.read(4, 1 << 20, 100)).toMatchObject({ batchCount: 2, nextOffset: 8 });
    expect(b.read(0, 1 << 20, 100)).toMatchObject({ batchCount: 3, nextOffset: 6 });
    b.add(run(3, 6), 0);
    // Then a's last two and b's oldest one.
    expect(a.sizeBytes).toBe(0);
    expect(b.read(0, 1 << 20, 100)).toBeNull();
    expect(b.read(2, 1 << 20, 100)).toMatchObject({ batchCount: 5, nextOffset: 12 });
    expect(budget.sizeBytes).toBe(5 * size);
  });

  it('gets back what a cache frees on its own (its own limit, a cut tail), and skips those batches later', () => {
    const budget = new TailCacheBudget<CachedBatch>(5 * size);
    const small = new TailCache(2 * size, budget);
    const other = new TailCache(1 << 20, budget);
    small.add(run(5), 0);
    expect(small.sizeBytes).toBe(2 * size);
    expect(budget.sizeBytes).toBe(2 * size);
    small.clear();
    expect(budget.sizeBytes).toBe(0);
    other.add(run(3), 0);
    // The log was cut and written again from offset 0: the same offsets, other batches.
    small.add(run(2), 0);
    expect(budget.sizeBytes).toBe(5 * size);
    other.add(run(1, 6), 0);
    // The charges of small's first batches come first in the queue, but those batches are gone:
    // the oldest still held is other's first.
    expect(small.read(0, 1 << 20, 100)).toMatchObject({ batchCount: 2, nextOffset: 4 });
    expect(other.read(0, 1 << 20, 100)).toBeNull();
    expect(other.read(2, 1 << 20, 100)).toMatchObject({ batchCount: 3, nextOffset: 8 });
    expect(budget.sizeBytes).toBe(5 * size);
  });

  it('keeps no batch a cache freed on its own alive: under a budget never reached, the queue of charges stays bounded', () => {
    const budget = new TailCacheBudget<CachedBatch>(1 << 30);
    const cache = new TailCache(10 * size, budget);
    let queuedMax = 0;
    for (let k = 0; k < 10_000; k++) {
      cache.add(run(1, 2 * k), 0);
      queuedMax = Math.max(queuedMax, budget.queuedCharges);
    }
    expect(budget.sizeBytes).toBe(10 * size);
    // 10 live charges, plus released ones until they are dropped in bulk.
    expect(queuedMax).toBeLessThan(2_100);
    cache.clear();
    expect(budget.sizeBytes).toBe(0);
  });

  it('holds nothing with a budget of 0, and keeps the budget through thousands of adds over many caches', () => {
    const none = new TailCacheBudget<CachedBatch>(0);
    const cache = new TailCache(1 << 20, none);
    cache.add(run(3), 0);
    expect(cache.sizeBytes).toBe(0);
    expect(cache.read(0, 1 << 20, 100)).toBeNull();
    const budget = new TailCacheBudget<CachedBatch>(50 * size);
    const caches = Array.from({ length: 100 }, () => new TailCache(10 * size, budget));
    for (let k = 0; k < 3_000; k++) caches[k % 100]!.add(run(1, 2 * Math.floor(k / 100)), 0);
    expect(budget.sizeBytes).toBe(50 * size);
    expect(caches.reduce((sum, entry) => sum + entry.sizeBytes, 0)).toBe(50 * size);
    // The 50 newest batches are the last round's: partitions 50–99 at offset 58.
    expect(caches[99]!.read(58, 1 << 20, 100)).toMatchObject({ batchCount: 1 });
    expect(caches[49]!.read(58, 1 << 20, 100)).toBeNull();
  });
});

describe('TailCache', () => {
  it('returns whole batches from the one holding the offset, within maxBytes and before the bound', () => {
    const cache = new TailCache(1 << 20);
    const batches = run(5);
    cache.add(batches, 0);
    const size = batches[0]!.bytes.length;
    const all = cache.read(3, 1 << 20, 10)!;
    expect(all.batchCount).toBe(4);
    expect(all.nextOffset).toBe(10);
    const rest = batches.slice(1).map((batch) => batch.bytes);
    expect(all.bytes).toEqual(concatBytes(rest, rest.reduce((sum, part) => sum + part.length, 0)));
    expect(cache.read(3, 2 * size, 10)).toMatchObject({ batchCount: 2, nextOffset: 6 });
    expect(cache.read(3, 1, 10)).toMatchObject({ batchCount: 1, nextOffset: 4 });
    expect(cache.read(3, 1 << 20, 7)).toMatchObject({ batchCount: 2, nextOffset: 6 });
    // The batch holding the offset ends at the bound: nothing, and nextOffset stays.
    expect(cache.read(3, 1 << 20, 3)).toMatchObject({ batchCount: 0, nextOffset: 3 });
  });

  it('evicts the oldest batches beyond bytesMax, and says null for what it no longer holds', () => {
    const batches = run(10);
    const size = batches[0]!.bytes.length;
    const cache = new TailCache(3 * size);
    cache.add(batches, 0);
    expect(cache.sizeBytes).toBe(3 * size);
    expect(cache.read(13, 1 << 20, 20)).toBeNull();
    expect(cache.read(14, 1 << 20, 20)).toMatchObject({ batchCount: 3, nextOffset: 20 });
    expect(cache.read(20, 1 << 20, 20)).toBeNull();
  });

  it('frees evicted batches: thousands of adds keep the size at the cap', () => {
    const size = run(1)[0]!.bytes.length;
    const cache = new TailCache(10 * size);
    for (let k = 0; k < 5_000; k++) cache.add(run(1, 2 * k), 0);
    expect(cache.sizeBytes).toBe(10 * size);
    expect(cache.read(2 * 4_990, 1 << 20, 10_000)).toMatchObject({ batchCount: 10, nextOffset: 10_000 });
  });

  it('stays inside the segment of the first batch, as a file read does', () => {
    const cache = new TailCache(1 << 20);
    cache.add(run(2), 0);
    cache.add(run(2, 4), 4);
    expect(cache.read(0, 1 << 20, 8)).toMatchObject({ batchCount: 2, nextOffset: 4 });
    expect(cache.read(4, 1 << 20, 8)).toMatchObject({ batchCount: 2, nextOffset: 8 });
  });

  it('copies a batch that is a small view into a larger buffer, and holds nothing when off or cleared', () => {
    const frame = new Uint8Array(4096);
    const batch = written(0, 1);
    frame.set(batch.bytes, 100);
    const cache = new TailCache(1 << 20);
    cache.add([{ bytes: frame.subarray(100, 100 + batch.bytes.length), header: batch.header }], 0);
    const read = cache.read(0, 1 << 20, 1)!;
    expect(read.bytes.buffer).not.toBe(frame.buffer);
    expect(read.bytes).toEqual(batch.bytes);
    expect(cache.sizeBytes).toBe(batch.bytes.length);
    cache.clear();
    expect(cache.read(0, 1 << 20, 1)).toBeNull();
    const off = new TailCache(0);
    off.add(run(3), 0);
    expect(off.read(0, 1 << 20, 6)).toBeNull();
  });

  it('keeps back-to-back batches that are most of their buffer as views, counted at the whole buffer and freed together', () => {
    const [a, b, c] = run(3);
    const frame = new Uint8Array(40 + a!.bytes.length + b!.bytes.length);
    frame.set(a!.bytes, 40);
    frame.set(b!.bytes, 40 + a!.bytes.length);
    const views = [
      { bytes: frame.subarray(40, 40 + a!.bytes.length), header: a!.header },
      { bytes: frame.subarray(40 + a!.bytes.length), header: b!.header },
    ];
    const cache = new TailCache(frame.length + c!.bytes.length);
    cache.add([...views, c!], 0);
    expect(cache.sizeBytes).toBe(frame.length + c!.bytes.length);
    expect(cache.read(2, 1, 6)!.bytes.buffer).toBe(frame.buffer);
    expect(cache.read(0, 1 << 20, 6)!.bytes).toEqual(concatBytes([a!.bytes, b!.bytes, c!.bytes], frame.length - 40 + c!.bytes.length));
    // One more batch: evicting the frame's first batch frees nothing, so its second goes too.
    const d = written(6, 2);
    cache.add([d], 0);
    expect(cache.read(2, 1 << 20, 8)).toBeNull();
    expect(cache.read(4, 1 << 20, 8)).toMatchObject({ batchCount: 2, nextOffset: 8 });
    expect(cache.sizeBytes).toBe(c!.bytes.length + d.bytes.length);
  });
});

describe('PartitionLog reads from the tail cache', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let log: PartitionLog | null = null;

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });

  afterEach(async () => {
    await log?.close();
    await cleanup();
  });

  it('give exactly what the same reads give from the files, at every offset, size and bound', async () => {
    // About 50 KB over several 16 KiB segments, all of it cached; then the same reads with no cache.
    const planned = Array.from({ length: 160 }, (_, k) => planBatch(`b${k}`, 1 + (k % 4), 100, 1_700_000_000_000 + k * 10));
    const cases = (end: number): Array<[number, number, number]> => {
      const list: Array<[number, number, number]> = [];
      for (let offset = 0; offset < end; offset += 3) {
        for (const maxBytes of [1, 700, 5_000, 1 << 20]) list.push([offset, maxBytes, end], [offset, maxBytes, Math.min(end, offset + 5)]);
      }
      return list;
    };
    log = await openLog(dir, { config: { ...SMALL_LOG_CONFIG, tailCacheBytesMax: 1 << 20 } });
    await appendConcurrently(log, planned);
    const end = log.logEndOffset;
    expect(log.segmentCount).toBeGreaterThan(2);
    const cached: LogReadResult[] = [];
    for (const [offset, maxBytes, bound] of cases(end)) cached.push(await log.read(offset, maxBytes, bound));
    await log.close();
    log = await openLog(dir, { config: { ...SMALL_LOG_CONFIG, tailCacheBytesMax: 0 } });
    const fromFiles: LogReadResult[] = [];
    for (const [offset, maxBytes, bound] of cases(end)) fromFiles.push(await log.read(offset, maxBytes, bound));
    expect(cached.length).toBe(fromFiles.length);
    for (let i = 0; i < cached.length; i++) {
      expect({ case: cases(end)[i], batchCount: cached[i]!.batchCount, nextOffset: cached[i]!.nextOffset, bytes: Buffer.from(cached[i]!.bytes).toString('hex') })
        .toEqual({ case: cases(end)[i], batchCount: fromFiles[i]!.batchCount, nextOffset: fromFiles[i]!.nextOffset, bytes: Buffer.from(fromFiles[i]!.bytes).toString('hex') });
    }
  });

  it('forgets the cut tail on truncation: reads after it see the new batches, not the old', async () => {
    log = await openLog(dir, { config: { ...SMALL_LOG_CONFIG, tailCacheBytesMax: 1 << 20 }, highWatermarkFollowsFlush: false, highWatermark: 0 });
    await appendConcurrently(log, Array.from({ length: 6 }, (_, k) => planBatch(`old${k}`, 1)));
    await log.truncateTo(3);
    await appendConcurrently(log, Array.from({ length: 3 }, (_, k) => planBatch(`new${k}`, 1)));
    const read = await log.read(3, 1 << 20, log.logEndOffset);
    const values = new TextDecoder().decode(read.bytes);
    expect(values).toContain('new0');
    expect(values).not.toContain('old3');
  });
});
