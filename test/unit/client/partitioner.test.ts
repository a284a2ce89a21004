import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../src/client/murmur2.js';
import { DefaultPartitioner } from '../../../src/client/partitioner.js';
import { mulberry32 } from '../../helpers/random.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const SEED = 0x9a27_1710;
const PARTITIONS = 6;

describe('the default partitioner', () => {
  it('sends a key to its murmur2 partition, every time, whatever the sticky partition is', () => {
    const partitioner = new DefaultPartitioner(mulberry32(SEED));
    for (let index = 0; index < 200; index++) {
      const key = utf8(`user-${index}`);
      const first = partitioner.partition('orders', key, PARTITIONS);
      partitioner.onBatchSealed('orders', first, PARTITIONS);
      expect(partitioner.partition('orders', key, PARTITIONS)).toBe(first);
      expect(first).toBe(partitionForKey(key, PARTITIONS));
    }
  });

  it('keeps null-key records on one partition until a batch of it is sealed, then moves to another', () => {
    const partitioner = new DefaultPartitioner(mulberry32(SEED));
    const sticky = partitioner.partition('logs', null, PARTITIONS);
    for (let index = 0; index < 100; index++) expect(partitioner.partition('logs', null, PARTITIONS)).toBe(sticky);
    partitioner.onBatchSealed('logs', (sticky + 1) % PARTITIONS, PARTITIONS);
    expect(partitioner.partition('logs', null, PARTITIONS), 'sealing another partition changes nothing').toBe(sticky);
    partitioner.onBatchSealed('logs', sticky, PARTITIONS);
    const next = partitioner.partition('logs', null, PARTITIONS);
    expect(next).not.toBe(sticky);
    expect(next).toBeGreaterThanOrEqual(0);
    expect(next).toBeLessThan(PARTITIONS);
  });

  it('keeps one sticky partition per topic', () => {
    const partitioner = new DefaultPartitioner(mulberry32(SEED));
    const a = partitioner.partition('a', null, 1000);
    const b = partitioner.partition('b', null, 1000);
    partitioner.onBatchSealed('b', b, 1000);
    expect(partitioner.partition('a', null, 1000)).toBe(a);
  });

  it('spreads null-key batches over every partition in the long run', () => {
    const partitioner = new DefaultPartitioner(mulberry32(SEED));
    const batchesPerPartition = new Array<number>(PARTITIONS).fill(0);
    for (let batch = 0; batch < 6_000; batch++) {
      const partition = partitioner.partition('spread', null, PARTITIONS);
      batchesPerPartition[partition]! += 1;
      partitioner.onBatchSealed('spread', partition, PARTITIONS);
    }
    for (const count of batchesPerPartition) expect(count).toBeGreaterThan(800);
  });

  it('stays put on a one-partition topic and re-picks when the partition count shrinks', () => {
    const partitioner = new DefaultPartitioner(() => 0.99);
    expect(partitioner.partition('one', null, 1)).toBe(0);
    partitioner.onBatchSealed('one', 0, 1);
    expect(partitioner.partition('one', null, 1)).toBe(0);
    expect(partitioner.partition('shrink', null, 10)).toBe(9);
    expect(partitioner.partition('shrink', null, 4)).toBe(3);
  });
});
