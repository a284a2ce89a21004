import { describe, expect, it } from 'vitest';
import { RecordAccumulator, recordSizeBytesMax, type PendingRecord } from '../../../src/client/record-accumulator.js';
import { BATCH_HEADER_BYTES, encodeRecordBatch, type Record } from '../../../src/record/index.js';
import { mulberry32 } from '../../helpers/random.js';

const BATCH_BYTES = 1_000;
const LINGER_MS = 5;
const SEED = 0xacc0_0001;

function pending(valueBytes: number, ticket = 0): PendingRecord<number> {
  const record: Record = { key: null, value: new Uint8Array(valueBytes), headers: [], timestamp: 1_700_000_000_000 };
  return { record, sizeBytes: recordSizeBytesMax(record), ticket };
}

describe('the record accumulator', () => {
  it('bounds each record from above: a batch never encodes larger than the sizes it counted', () => {
    const random = mulberry32(SEED);
    for (let round = 0; round < 200; round++) {
      const records: Record[] = Array.from({ length: 1 + Math.floor(random() * 20) }, (_, index) => ({
        key: random() < 0.5 ? null : new Uint8Array(Math.floor(random() * 300)),
        value: random() < 0.1 ? null : new Uint8Array(Math.floor(random() * 3000)),
        headers: Array.from({ length: Math.floor(random() * 3) }, (_, h) => ({ key: `h${h}-é`, value: random() < 0.3 ? null : new Uint8Array(7) })),
        timestamp: 1_700_000_000_000 + Math.floor(random() * 1e9) - (index === 0 ? 0 : 5e8),
      }));
      const bound = BATCH_HEADER_BYTES + records.reduce((sum, record) => sum + recordSizeBytesMax(record), 0);
      expect(encodeRecordBatch({ records }).length).toBeLessThanOrEqual(bound);
    }
  });

  it('keeps records of one partition in one open batch while they fit', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    expect(accumulator.append('t', 0, pending(100, 1), 0)).toEqual([]);
    expect(accumulator.append('t', 0, pending(100, 2), 1)).toEqual([]);
    expect(accumulator.append('t', 1, pending(100, 3), 1)).toEqual([]);
    expect(accumulator.openBatchCount).toBe(2);
    expect(accumulator.openRecordCount).toBe(3);
  });

  it('seals a batch when the next record would take it past batchBytes', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    const record = pending(200);
    const perBatch = Math.floor((BATCH_BYTES - BATCH_HEADER_BYTES) / record.sizeBytes);
    const sealed = [];
    for (let index = 0; index < perBatch * 3; index++) sealed.push(...accumulator.append('t', 0, pending(200, index), 0));
    expect(sealed.length).toBeGreaterThanOrEqual(2);
    for (const batch of sealed) {
      expect(batch.sizeBytes).toBeLessThanOrEqual(BATCH_BYTES);
      expect(batch.records.length).toBe(perBatch);
    }
    expect(sealed.flatMap((batch) => batch.records.map((entry) => entry.ticket))).toEqual(Array.from({ length: sealed.length * perBatch }, (_, i) => i));
  });

  it('sends a record larger than batchBytes in a batch of its own, after sealing the open one', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    accumulator.append('t', 0, pending(10, 1), 0);
    const sealed = accumulator.append('t', 0, pending(5_000, 2), 0);
    expect(sealed.map((batch) => batch.records.map((entry) => entry.ticket))).toEqual([[1], [2]]);
    expect(accumulator.openBatchCount).toBe(0);
  });

  it('seals a batch once it has lingered lingerMs, counting from its first record', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, LINGER_MS);
    accumulator.append('t', 0, pending(10, 1), 100);
    accumulator.append('t', 0, pending(10, 2), 103);
    accumulator.append('t', 1, pending(10, 3), 104);
    expect(accumulator.nextLingerEndMs()).toBe(100 + LINGER_MS);
    expect(accumulator.sealExpired(104)).toEqual([]);
    const first = accumulator.sealExpired(105);
    expect(first.map((batch) => [batch.partition, batch.records.length])).toEqual([[0, 2]]);
    expect(accumulator.nextLingerEndMs()).toBe(104 + LINGER_MS);
    expect(accumulator.sealExpired(109).map((batch) => batch.partition)).toEqual([1]);
    expect(accumulator.nextLingerEndMs()).toBeNull();
  });

  it('seals everything on flush, whatever the linger', () => {
    const accumulator = new RecordAccumulator<number>(BATCH_BYTES, 60_000);
    accumulator.append('a', 0, pending(10), 0);
    accumulator.append('b', 3, pending(10), 0);
    expect(accumulator.sealAll().map((batch) => `${batch.topic}/${batch.partition}`).sort()).toEqual(['a/0', 'b/3']);
    expect(accumulator.openBatchCount).toBe(0);
  });
});
