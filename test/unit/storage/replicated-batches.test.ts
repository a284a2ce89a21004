import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/record/concat-bytes.js';
import { CRC_POSITION, encodeRecordBatch } from '../../../src/record/index.js';
import { ReplicaOffsetMismatchError, splitReplicatedBatches } from '../../../src/storage/replicated-batches.js';

// A batch of `count` records from `baseOffset`, written by the leader of `epoch`.
function batch(baseOffset: number, count: number, epoch: number): Uint8Array {
  return encodeRecordBatch({
    baseOffset, partitionLeaderEpoch: epoch,
    records: Array.from({ length: count }, (_, i) => ({ key: null, value: new TextEncoder().encode(`r${baseOffset + i}`), headers: [], timestamp: 1_700_000_000_000 })),
  });
}

function joined(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts, parts.reduce((sum, part) => sum + part.length, 0));
}

const END = { logEndOffset: 10, latestEpoch: 2, batchBytesMax: 1 << 20 };

describe('checking what a leader sent a follower', () => {
  it('splits batches that continue the log into views of the fetched bytes', () => {
    const records = joined(batch(10, 3, 2), batch(13, 2, 3));
    const checked = splitReplicatedBatches(records, END);
    expect(checked.map(({ header }) => [header.baseOffset, header.lastOffsetDelta, header.partitionLeaderEpoch])).toEqual([[10, 2, 2], [13, 1, 3]]);
    expect(checked[1]!.bytes.buffer).toBe(records.buffer);
    expect(checked[1]!.bytes.byteOffset).toBe(records.byteOffset + checked[0]!.bytes.length);
  });

  it('takes nothing from nothing', () => {
    expect(splitReplicatedBatches(new Uint8Array(0), END)).toEqual([]);
  });

  it('refuses a gap or an overlap with the log end as ReplicaOffsetMismatchError, naming the offset it expected', () => {
    for (const records of [batch(11, 1, 2), batch(9, 2, 2), joined(batch(10, 2, 2), batch(13, 1, 2))]) {
      const error = (() => { try { splitReplicatedBatches(records, END); return null; } catch (caught) { return caught; } })();
      expect(error).toBeInstanceOf(ReplicaOffsetMismatchError);
      expect(error).toMatchObject({ errorName: 'INVALID_RECORD' });
    }
    expect(() => splitReplicatedBatches(joined(batch(10, 2, 2), batch(13, 1, 2)), END)).toThrow(/expects 12/);
  });

  it('refuses a leader epoch older than the log\'s, before or within the fetch, but takes a batch without one', () => {
    expect(() => splitReplicatedBatches(batch(10, 1, 1), END)).toThrow(/leader epoch 1, older than 2/);
    expect(() => splitReplicatedBatches(joined(batch(10, 1, 4), batch(11, 1, 3)), END)).toThrow(/leader epoch 3, older than 4/);
    expect(splitReplicatedBatches(batch(10, 1, -1), END)).toHaveLength(1);
    expect(splitReplicatedBatches(batch(0, 1, 0), { ...END, logEndOffset: 0, latestEpoch: null })).toHaveLength(1);
  });

  it('refuses the whole fetch when any batch is damaged (CORRUPT_MESSAGE) or too large (MESSAGE_TOO_LARGE)', () => {
    const second = batch(13, 2, 2);
    second[CRC_POSITION] = second[CRC_POSITION]! ^ 0xff;
    expect(() => splitReplicatedBatches(joined(batch(10, 3, 2), second), END)).toThrow(expect.objectContaining({ errorName: 'CORRUPT_MESSAGE' }));
    const large = batch(10, 50, 2);
    expect(() => splitReplicatedBatches(large, { ...END, batchBytesMax: 200 })).toThrow(expect.objectContaining({ errorName: 'MESSAGE_TOO_LARGE' }));
  });
});
