import { describe, expect, it } from 'vitest';
import { RecordAccumulator, type AppendedRecord } from '../../../src/client/record-accumulator.js';
import { BATCH_HEADER_BYTES, decodeRecords, recordBytesBound } from '../../../src/record/index.js';

const BATCH_BYTES = 1_000;
const LINGER_MS = 5;

function record(valueBytes: number): AppendedRecord {
  const value = new Uint8Array(valueBytes);
  return { timestamp: 1_700_000_000_000, key: null, value, headers: [], boundBytes: recordBytesBound(null, value) };
}

describe('the record accumulator', () => {
  it('encodes each record into its batch as it is appended', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    accumulator.append('t', 0, { timestamp: 5, key: 'k', value: 'één', headers: [{ key: 'h', value: 'v' }], boundBytes: recordBytesBound('k', 'één', [{ key: 'h', value: 'v' }]) }, 1, 0);
    accumulator.append('t', 0, record(3), 2, 0);
    const [batch] = accumulator.sealAll();
    const decoded = decodeRecords(batch!.builder.build());
    expect(decoded.map((entry) => entry.value?.length)).toEqual([5, 3]);
    expect(new TextDecoder().decode(decoded[0]!.headers[0]!.value!)).toBe('v');
    expect(batch!.sizeBytes).toBe(batch!.builder.build().length);
    expect(batch!.tickets).toEqual([1, 2]);
  });

  it('starts each batch of a partition at the size its last one reached, not at batchBytes', () => {
    const accumulator = new RecordAccumulator<number>(64 * 1024, LINGER_MS);
    accumulator.append('t', 0, record(100), 1, 0);
    const [first] = accumulator.sealAll();
    expect(first!.builder.capacityBytes).toBe(1024);
    for (let index = 0; index < 150; index++) accumulator.append('t', 0, record(100), index, 0);
    accumulator.append('t', 1, record(100), 0, 0);
    const [big, otherPartition] = accumulator.sealAll();
    expect(big!.sizeBytes).toBeGreaterThan(16 * 1024);
    expect(otherPartition!.builder.capacityBytes).toBe(1024);
    accumulator.append('t', 0, record(100), 1, 0);
    accumulator.append('t', 1, record(100), 1, 0);
    const [afterBig, afterSmall] = accumulator.sealAll();
    // A power of two at least as big as the last batch, so steady batches are allocated once.
    expect(afterBig!.builder.capacityBytes).toBe(32 * 1024);
    expect(afterSmall!.builder.capacityBytes).toBe(1024);
  });

  it('keeps records of one partition in one open batch while they fit', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    expect(accumulator.append('t', 0, record(100), 1, 0)).toEqual([]);
    expect(accumulator.append('t', 0, record(100), 2, 1)).toEqual([]);
    expect(accumulator.append('t', 1, record(100), 3, 1)).toEqual([]);
    expect(accumulator.openBatchCount).toBe(2);
    expect(accumulator.openRecordCount).toBe(3);
  });

  it('seals a batch when the next record would take it past batchBytes', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    const perBatch = Math.floor((BATCH_BYTES - BATCH_HEADER_BYTES) / record(200).boundBytes);
    const sealed = [];
    for (let index = 0; index < perBatch * 3; index++) sealed.push(...accumulator.append('t', 0, record(200), index, 0));
    expect(sealed.length).toBeGreaterThanOrEqual(2);
    for (const batch of sealed) {
      expect(batch.sizeBytes).toBeLessThanOrEqual(BATCH_BYTES);
      expect(batch.tickets.length).toBe(perBatch);
    }
    expect(sealed.flatMap((batch) => batch.tickets)).toEqual(Array.from({ length: sealed.length * perBatch }, (_, i) => i));
  });

  it('sends a record larger than batchBytes in a batch of its own, after sealing the open one', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    accumulator.append('t', 0, record(10), 1, 0);
    const sealed = accumulator.append('t', 0, record(5_000), 2, 0);
    expect(sealed.map((batch) => batch.tickets)).toEqual([[1], [2]]);
    expect(accumulator.openBatchCount).toBe(0);
  });

  it('seals a batch once it has lingered lingerMs, counting from its first record', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    accumulator.append('t', 0, record(10), 1, 100);
    accumulator.append('t', 0, record(10), 2, 103);
    accumulator.append('t', 1, record(10), 3, 104);
    expect(accumulator.nextLingerEndMs()).toBe(100 + LINGER_MS);
    expect(accumulator.sealExpired(104)).toEqual([]);
    const first = accumulator.sealExpired(105);
    expect(first.map((batch) => [batch.partition, batch.tickets.length])).toEqual([[0, 2]]);
    expect(accumulator.nextLingerEndMs()).toBe(104 + LINGER_MS);
    expect(accumulator.sealExpired(109).map((batch) => batch.partition)).toEqual([1]);
    expect(accumulator.nextLingerEndMs()).toBeNull();
  });

  it('seals everything on flush, whatever the linger', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, 60_000);
    accumulator.append('a', 0, record(10), 0, 0);
    accumulator.append('b', 3, record(10), 0, 0);
    expect(accumulator.sealAll().map((batch) => `${batch.topic}/${batch.partition}`).sort()).toEqual(['a/0', 'b/3']);
    expect(accumulator.openBatchCount).toBe(0);
  });
});
