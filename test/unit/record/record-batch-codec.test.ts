import { describe, expect, it } from 'vitest';
import {
  BATCH_HEADER_BYTES, PRODUCER_ID_POSITION, RECORD_COUNT_POSITION, checkBatchFraming,
  decodeBatchHeader, decodeRecords, encodeRecordBatch, stampBatch, validateProducedBatch,
  type ProducerInfo, type Record, type StoredRecord,
} from '../../../src/record/index.js';
import { mulberry32 } from '../../helpers/random.js';
import { errorNameOf } from '../../helpers/errors.js';

const SEED = 0x5eed_0b01;
const ROUND_TRIP_ITERATIONS = 240;
/** Every this many iterations a batch holds MANY_RECORDS records instead of a handful. */
const MANY_RECORDS_EVERY = 12;
const MANY_RECORDS = 500;
const PAYLOAD_BYTES_MAX = 4096;
/** Payloads stay small in many-record batches, to keep each iteration well under a second. */
const MANY_RECORDS_PAYLOAD_BYTES_MAX = 64;
const HEADERS_PER_RECORD_MAX = 5;
const BATCH_BYTES_MAX = 16 * 1024 * 1024;
const TIMESTAMP_MS = 1_700_000_000_000;
/** Header keys drawn from a small pool so that repeats happen; some are multi-byte UTF-8. */
const HEADER_KEYS = ['trace-id', 'content-type', 'é', 'ключ', '🔑', '键', 'a', ''];

const utf8 = new TextEncoder();


/** An integer in [0, max), biased toward small values: uniform below a log-uniform scale. */
function smallInteger(random: () => number, max: number): number {
  return Math.floor(random() * Math.ceil(max ** random()));
}

/** null one time in five, empty one in ten, else random bytes of up to `bytesMax`. */
function randomPayload(random: () => number, bytesMax: number): Uint8Array | null {
  const roll = random();
  if (roll < 0.2) return null;
  if (roll < 0.3) return new Uint8Array(0);
  return Uint8Array.from({ length: smallInteger(random, bytesMax + 1) }, () => Math.floor(random() * 256));
}

function randomRecords(random: () => number, count: number, payloadBytesMax: number): Record[] {
  const firstTimestamp = TIMESTAMP_MS + Math.floor(random() * 1_000_000);
  return Array.from({ length: count }, (_, index) => ({
    key: randomPayload(random, payloadBytesMax),
    value: randomPayload(random, payloadBytesMax),
    headers: Array.from({ length: Math.floor(random() * (HEADERS_PER_RECORD_MAX + 1)) }, () => ({
      key: HEADER_KEYS[Math.floor(random() * HEADER_KEYS.length)]!,
      value: randomPayload(random, 32),
    })),
    // The first record sets the base; later ones may be earlier (negative deltas) or later.
    timestamp: index === 0 ? firstTimestamp : firstTimestamp + Math.floor((random() - 0.5) * 2 * 86_400_000),
  }));
}

function randomProducer(random: () => number): ProducerInfo | null {
  if (random() < 0.3) return null;
  return {
    producerId: BigInt(Math.floor(random() * 2 ** 48)) * BigInt(1 + Math.floor(random() * 1000)),
    producerEpoch: Math.floor(random() * 32_768),
    baseSequence: Math.floor(random() * 2 ** 31),
  };
}

/** Records in a form whose diff is readable: bytes as hex. */
function comparable(records: ReadonlyArray<Record | StoredRecord>): unknown[] {
  const hex = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('hex'));
  return records.map((record) => ({
    ...('offset' in record ? { offset: record.offset } : {}),
    timestamp: record.timestamp,
    key: hex(record.key),
    value: hex(record.value),
    headers: record.headers.map((header) => ({ key: header.key, value: hex(header.value) })),
  }));
}

function withOffsets(records: readonly Record[], baseOffset: number): StoredRecord[] {
  return records.map((record, index) => ({ ...record, offset: baseOffset + index }));
}


function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('RecordBatch v2 encoding and decoding', () => {
  it(`round trips seeded random batches of 1 to ${MANY_RECORDS} records (seed ${SEED})`, () => {
    for (let iteration = 0; iteration < ROUND_TRIP_ITERATIONS; iteration++) {
      // Each iteration has its own seed, so a failure replays alone.
      const seed = SEED + iteration;
      const random = mulberry32(seed);
      const many = iteration % MANY_RECORDS_EVERY === 0;
      const count = many ? MANY_RECORDS : iteration % 3 === 0 ? 1 : 1 + Math.floor(random() * 20);
      const records = randomRecords(random, count, many ? MANY_RECORDS_PAYLOAD_BYTES_MAX : PAYLOAD_BYTES_MAX);
      const baseOffset = random() < 0.5 ? 0 : Math.floor(random() * 2 ** 50);
      const producer = randomProducer(random);
      const context = `seed ${seed} (iteration ${iteration}), ${count} records`;

      const batch = encodeRecordBatch({ records, baseOffset, producer, partitionLeaderEpoch: iteration });
      const header = validateProducedBatch(batch, BATCH_BYTES_MAX);
      expect(header, context).toMatchObject({
        baseOffset, partitionLeaderEpoch: iteration, magic: 2, attributes: 0,
        batchLength: batch.length - 12, recordCount: count, lastOffsetDelta: count - 1,
        baseTimestamp: records[0]!.timestamp,
        maxTimestamp: Math.max(...records.map((record) => record.timestamp)),
        producer,
      });
      expect(comparable(decodeRecords(batch)), context).toEqual(comparable(withOffsets(records, baseOffset)));
    }
  });

  it('encodes a batch of no records as a bare 61-byte header that frames but is not a valid produce', () => {
    const batch = encodeRecordBatch({ records: [] });
    expect(batch.length).toBe(BATCH_HEADER_BYTES);
    const framing = checkBatchFraming(batch, 0, BATCH_BYTES_MAX);
    expect(framing.kind).toBe('valid');
    expect(decodeRecords(batch)).toEqual([]);
    expect(decodeBatchHeader(batch)).toMatchObject({ recordCount: 0, baseTimestamp: -1, maxTimestamp: -1, producer: null });
    expect(errorNameOf(() => validateProducedBatch(batch, BATCH_BYTES_MAX))).toBe('INVALID_RECORD');
  });

  it('keeps the CRC valid when a leader stamps baseOffset and partitionLeaderEpoch, and shifts decoded offsets', () => {
    const random = mulberry32(SEED ^ 0x57a4);
    const records = randomRecords(random, 7, 100);
    const batch = encodeRecordBatch({ records });
    const crcCoveredBefore = hexOf(batch.subarray(17));

    stampBatch(batch, 1_234_567_890_123, 42);

    expect(hexOf(batch.subarray(17))).toBe(crcCoveredBefore);
    const framing = checkBatchFraming(batch, 0, BATCH_BYTES_MAX);
    expect(framing).toMatchObject({ kind: 'valid', header: { baseOffset: 1_234_567_890_123, partitionLeaderEpoch: 42 } });
    expect(validateProducedBatch(batch, BATCH_BYTES_MAX).baseOffset).toBe(1_234_567_890_123);
    expect(decodeRecords(batch).map((record) => record.offset)).toEqual(
      Array.from({ length: 7 }, (_, index) => 1_234_567_890_123 + index),
    );
    expect(comparable(decodeRecords(batch))).toEqual(comparable(withOffsets(records, 1_234_567_890_123)));
  });

  it('round trips producer id, epoch and base sequence, including their extremes', () => {
    const record: Record = { key: null, value: utf8.encode('v'), headers: [], timestamp: TIMESTAMP_MS };
    const producers: ProducerInfo[] = [
      { producerId: 0n, producerEpoch: 0, baseSequence: 0 },
      { producerId: 2n ** 63n - 1n, producerEpoch: 32_767, baseSequence: 2 ** 31 - 1 },
      { producerId: 4_000_000_000n, producerEpoch: 5, baseSequence: 1_000 },
    ];
    for (const producer of producers) {
      const batch = encodeRecordBatch({ records: [record, record], producer });
      expect(validateProducedBatch(batch, BATCH_BYTES_MAX).producer, String(producer.producerId)).toEqual(producer);
    }
  });

  it('writes -1 for producer id, epoch and base sequence when there is no producer, and reads back null', () => {
    const record: Record = { key: null, value: null, headers: [], timestamp: TIMESTAMP_MS };
    for (const producer of [null, undefined]) {
      const batch = encodeRecordBatch({ records: [record], producer });
      expect(hexOf(batch.subarray(PRODUCER_ID_POSITION, RECORD_COUNT_POSITION))).toBe('ff'.repeat(8 + 2 + 4));
      expect(validateProducedBatch(batch, BATCH_BYTES_MAX).producer).toBeNull();
    }
  });

  it('sets the transactional attribute bit when asked', () => {
    const record: Record = { key: null, value: null, headers: [], timestamp: TIMESTAMP_MS };
    expect(decodeBatchHeader(encodeRecordBatch({ records: [record], transactional: true })).attributes).toBe(0x10);
    expect(decodeBatchHeader(encodeRecordBatch({ records: [record] })).attributes).toBe(0);
  });

  it('encodes a fixed small batch to golden bytes derived by hand from the Kafka format', () => {
    // One record: timestamp 1_700_000_000_000 (0x0000018bcfe56800), key "k", value "v",
    // one header "h" = "x"; baseOffset 0, partitionLeaderEpoch 0, no producer.
    //
    // Record body (zigzag varints: n encodes as 2n, so 1 -> 0x02, 0 -> 0x00):
    //   attributes 00 | timestampDelta 00 | offsetDelta 00 | key len 02 "k" 6b |
    //   value len 02 "v" 76 | header count 02 | key len 02 "h" 68 | value len 02 "x" 78
    //   = 12 bytes, so the record's length prefix is zigzag(12) = 24 = 0x18: 13 bytes in all.
    // Batch: 61 header bytes + 13 = 74; batchLength = 74 - 12 = 62 = 0x3e.
    // CRC-32C over bytes [21, 74) computed with KafkaJS's own table-driven crc32C (not ours)
    // over the hand-written bytes below: 0x5e93538d.
    const expectedHex = [
      '0000000000000000', // baseOffset
      '0000003e', // batchLength 62
      '00000000', // partitionLeaderEpoch
      '02', // magic
      '5e93538d', // crc
      '0000', // attributes: no compression, create time, not transactional
      '00000000', // lastOffsetDelta
      '0000018bcfe56800', // baseTimestamp
      '0000018bcfe56800', // maxTimestamp
      'ffffffffffffffff', // producerId -1
      'ffff', // producerEpoch -1
      'ffffffff', // baseSequence -1
      '00000001', // recordCount
      '18', '00', '00', '00', '026b', '0276', '02', '0268', '0278', // the record
    ].join('');
    const batch = encodeRecordBatch({
      records: [{ key: utf8.encode('k'), value: utf8.encode('v'), headers: [{ key: 'h', value: utf8.encode('x') }], timestamp: 1_700_000_000_000 }],
    });
    expect(hexOf(batch)).toBe(expectedHex);
  });

  it('decodes the golden bytes back to the same record', () => {
    const golden = Buffer.from(
      '0000000000000000' + '0000003e' + '00000000' + '02' + '5e93538d' + '0000' + '00000000' +
      '0000018bcfe56800'.repeat(2) + 'ffffffffffffffff' + 'ffff' + 'ffffffff' + '00000001' +
      '18000000026b027602026802' + '78',
      'hex',
    );
    expect(checkBatchFraming(golden, 0, BATCH_BYTES_MAX).kind).toBe('valid');
    expect(comparable(decodeRecords(golden))).toEqual([
      { offset: 0, timestamp: 1_700_000_000_000, key: '6b', value: '76', headers: [{ key: 'h', value: '78' }] },
    ]);
  });

  it('validates and decodes a batch that sits at an offset inside a larger buffer', () => {
    const records: Record[] = [{ key: utf8.encode('key'), value: utf8.encode('value'), headers: [], timestamp: TIMESTAMP_MS }];
    const batch = encodeRecordBatch({ records });
    const padded = new Uint8Array(batch.length + 20);
    padded.set(batch, 10);
    const view = padded.subarray(10, 10 + batch.length);
    expect(() => validateProducedBatch(view, BATCH_BYTES_MAX)).not.toThrow();
    expect(comparable(decodeRecords(view))).toEqual(comparable(withOffsets(records, 0)));
  });
});

