/**
 * Byte-for-byte compatibility of our RecordBatch v2 with KafkaJS's, an independent implementation
 * of Kafka's format. KafkaJS is CommonJS and its protocol internals have no types: the interfaces
 * below describe just the parts used here.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTES_POSITION, CRC_POSITION, checkBatchFraming, decodeRecords, encodeRecordBatch,
  stampBatch, validateProducedBatch, type ProducerInfo, type Record as BatchRecord,
  type RecordHeader, type StoredRecord,
} from '../../../src/record/index.js';
import { mulberry32 } from '../../helpers/random.js';

const SEED = 0xcafe_2a00;
const CASES = 200;
/** Every this many cases a batch holds MANY_RECORDS small records instead of a few larger ones. */
const MANY_RECORDS_EVERY = 20;
const MANY_RECORDS = 200;
const PAYLOAD_BYTES_MAX = 512;
const MANY_RECORDS_PAYLOAD_BYTES_MAX = 32;
const BATCH_BYTES_MAX = 16 * 1024 * 1024;
const TIMESTAMP_MS = 1_700_000_000_000;
/**
 * Header keys, some multi-byte UTF-8 and some integer-like ('2', '10': JavaScript objects list
 * those first, which reorders KafkaJS's headers). No names of Object.prototype members: KafkaJS
 * folds headers into a plain object and would mistake them for repeats.
 */
const HEADER_KEYS = ['trace-id', 'content-type', 'é', 'ключ', '🔑', '键', 'a', '', '10', '2'];

interface KafkaJsLong { toString(): string }
interface KafkaJsEncoder { readonly buffer: Buffer }
type KafkaJsHeaderValue = Buffer | string;
interface KafkaJsHeadersInput { [key: string]: KafkaJsHeaderValue | KafkaJsHeaderValue[] }
interface KafkaJsRecordInput {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaJsHeadersInput;
}
interface KafkaJsRecordBatchInput {
  firstOffset: KafkaJsLong;
  firstTimestamp: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  lastOffsetDelta: number;
  transactional: boolean;
  producerId: KafkaJsLong;
  producerEpoch: number;
  firstSequence: number;
  records: KafkaJsEncoder[];
}
interface KafkaJsDecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: { [key: string]: Buffer | null | Array<Buffer | null> };
}
interface KafkaJsDecodedBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  records: KafkaJsDecodedRecord[];
}

const require = createRequire(import.meta.url);
const kafkaJs = {
  RecordBatch: (require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
    RecordBatch: (input: KafkaJsRecordBatchInput) => Promise<KafkaJsEncoder>;
  }).RecordBatch,
  decodeRecordBatch: require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<KafkaJsDecodedBatch>,
  Decoder: require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown,
  Record: require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (input: KafkaJsRecordInput) => KafkaJsEncoder,
  Long: require('kafkajs/src/utils/long.js') as { fromValue(value: bigint | number | string): KafkaJsLong },
  crc32C: require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number,
};

const utf8 = new TextEncoder();


function pick<T>(random: () => number, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)]!;
}

/** Random bytes, biased toward short: uniform below a log-uniform scale. */
function randomBuffer(random: () => number, bytesMax: number): Buffer {
  const length = Math.floor(random() * Math.ceil((bytesMax + 1) ** random()));
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
}

/** null one time in five, empty one in ten, else random bytes. */
function randomNullableBuffer(random: () => number, bytesMax: number): Buffer | null {
  const roll = random();
  if (roll < 0.2) return null;
  if (roll < 0.3) return Buffer.alloc(0);
  return randomBuffer(random, bytesMax);
}

function randomTimestamps(random: () => number, count: number): number[] {
  const first = TIMESTAMP_MS + Math.floor(random() * 1_000_000);
  // Later records may be earlier than the first: negative deltas.
  return Array.from({ length: count }, (_, index) => (index === 0 ? first : first + Math.floor((random() - 0.5) * 2 * 86_400_000)));
}

function randomProducer(random: () => number): ProducerInfo | null {
  if (random() < 0.3) return null;
  return {
    producerId: BigInt(Math.floor(random() * 2 ** 52)) * BigInt(1 + Math.floor(random() * 2000)),
    producerEpoch: Math.floor(random() * 32_768),
    baseSequence: Math.floor(random() * 2 ** 31),
  };
}

function caseShape(index: number, random: () => number): { count: number; payloadBytesMax: number } {
  if (index % MANY_RECORDS_EVERY === 0) return { count: MANY_RECORDS, payloadBytesMax: MANY_RECORDS_PAYLOAD_BYTES_MAX };
  return { count: index % 3 === 0 ? 1 : 1 + Math.floor(random() * 30), payloadBytesMax: PAYLOAD_BYTES_MAX };
}

type Hex = string | null;
const hex = (bytes: Uint8Array | null): Hex => (bytes === null ? null : Buffer.from(bytes).toString('hex'));

/** Headers as KafkaJS's record decoder folds them: one value per key, an array for repeats. */
function foldHeaders(headers: readonly RecordHeader[]): { [key: string]: Hex | Hex[] } {
  const folded: { [key: string]: Hex | Hex[] } = {};
  for (const header of headers) {
    const existing = folded[header.key];
    if (existing === undefined) folded[header.key] = hex(header.value);
    else if (Array.isArray(existing)) existing.push(hex(header.value));
    else folded[header.key] = [existing, hex(header.value)];
  }
  return folded;
}

function comparableKafkaJsRecord(record: KafkaJsDecodedRecord): unknown {
  const headers: { [key: string]: Hex | Hex[] } = {};
  for (const [key, value] of Object.entries(record.headers)) headers[key] = Array.isArray(value) ? value.map(hex) : hex(value);
  return { offset: record.offset, timestamp: record.timestamp, key: hex(record.key), value: hex(record.value), headers };
}

function comparableRecords(records: readonly StoredRecord[]): unknown[] {
  return records.map((record) => ({
    offset: record.offset,
    timestamp: record.timestamp,
    key: hex(record.key),
    value: hex(record.value),
    headers: record.headers.map((header) => ({ key: header.key, value: hex(header.value) })),
  }));
}

/** KafkaJS's header object flattened the way its Record encoder writes it: Object.keys order. */
function flattenKafkaJsHeaders(headers: KafkaJsHeadersInput): RecordHeader[] {
  const asBytes = (value: KafkaJsHeaderValue) => (typeof value === 'string' ? utf8.encode(value) : new Uint8Array(value));
  return Object.keys(headers).flatMap((key) => {
    const value = headers[key]!;
    return (Array.isArray(value) ? value : [value]).map((one) => ({ key, value: asBytes(one) }));
  });
}

/** KafkaJS can express neither null header values nor repeated keys outside an array. */
function randomKafkaJsHeaders(random: () => number): KafkaJsHeadersInput {
  const headers: KafkaJsHeadersInput = {};
  const count = Math.floor(random() * 6);
  for (let index = 0; index < count; index++) {
    const one = (): KafkaJsHeaderValue => (random() < 0.3 ? pick(random, ['json', 'ünïcödé', '']) : randomBuffer(random, 24));
    headers[pick(random, HEADER_KEYS)] = random() < 0.3 ? Array.from({ length: 1 + Math.floor(random() * 3) }, one) : one();
  }
  return headers;
}

/** One random batch, described once, from which both sides' inputs are derived. */
interface BatchCase {
  readonly baseOffset: number;
  readonly partitionLeaderEpoch: number;
  readonly producer: ProducerInfo | null;
  readonly transactional: boolean;
  readonly timestamps: number[];
  readonly keys: Array<Buffer | null>;
  readonly values: Array<Buffer | null>;
  readonly headers: KafkaJsHeadersInput[];
}

function randomKafkaJsExpressibleCase(index: number, random: () => number): BatchCase {
  const { count, payloadBytesMax } = caseShape(index, random);
  return {
    baseOffset: random() < 0.3 ? 0 : Math.floor(random() * 2 ** 50),
    partitionLeaderEpoch: Math.floor(random() * 2 ** 31),
    producer: randomProducer(random),
    transactional: random() < 0.2,
    timestamps: randomTimestamps(random, count),
    keys: Array.from({ length: count }, () => randomNullableBuffer(random, payloadBytesMax)),
    values: Array.from({ length: count }, () => randomNullableBuffer(random, payloadBytesMax)),
    headers: Array.from({ length: count }, () => randomKafkaJsHeaders(random)),
  };
}

function ourRecordsOf(batchCase: BatchCase): BatchRecord[] {
  return batchCase.timestamps.map((timestamp, index) => ({
    key: batchCase.keys[index]!,
    value: batchCase.values[index]!,
    headers: flattenKafkaJsHeaders(batchCase.headers[index]!),
    timestamp,
  }));
}

function encodeWithKafkaJs(batchCase: BatchCase): Promise<KafkaJsEncoder> {
  const firstTimestamp = batchCase.timestamps[0]!;
  const producer = batchCase.producer;
  return kafkaJs.RecordBatch({
    firstOffset: kafkaJs.Long.fromValue(BigInt(batchCase.baseOffset)),
    firstTimestamp,
    maxTimestamp: Math.max(...batchCase.timestamps),
    partitionLeaderEpoch: batchCase.partitionLeaderEpoch,
    lastOffsetDelta: batchCase.timestamps.length - 1,
    transactional: batchCase.transactional,
    producerId: kafkaJs.Long.fromValue(producer === null ? -1n : producer.producerId),
    producerEpoch: producer === null ? -1 : producer.producerEpoch,
    firstSequence: producer === null ? -1 : producer.baseSequence,
    records: batchCase.timestamps.map((timestamp, index) => kafkaJs.Record({
      offsetDelta: index,
      timestampDelta: timestamp - firstTimestamp,
      key: batchCase.keys[index]!,
      value: batchCase.values[index]!,
      headers: batchCase.headers[index]!,
    })),
  });
}

describe('compatibility with KafkaJS', () => {
  it(`KafkaJS decodes batches we encode to the same records, and agrees with our CRC (seed ${SEED})`, async () => {
    for (let index = 0; index < CASES; index++) {
      const seed = SEED + index;
      const random = mulberry32(seed);
      const { count, payloadBytesMax } = caseShape(index, random);
      const timestamps = randomTimestamps(random, count);
      // Our side can say more than KafkaJS's encoder: null header values, repeats in any order.
      const records: BatchRecord[] = timestamps.map((timestamp) => ({
        key: randomNullableBuffer(random, payloadBytesMax),
        value: randomNullableBuffer(random, payloadBytesMax),
        headers: Array.from({ length: Math.floor(random() * 6) }, () => ({
          key: pick(random, HEADER_KEYS),
          value: randomNullableBuffer(random, 24),
        })),
        timestamp,
      }));
      const producer = randomProducer(random);
      const transactional = random() < 0.2;
      const baseOffset = Math.floor(random() * 2 ** 50);
      const partitionLeaderEpoch = Math.floor(random() * 2 ** 31);
      const context = `seed ${seed} (case ${index}), ${count} records`;

      const batch = encodeRecordBatch({ records, producer, transactional });
      stampBatch(batch, baseOffset, partitionLeaderEpoch);
      const decoded = await kafkaJs.decodeRecordBatch(new kafkaJs.Decoder(Buffer.from(batch)));

      expect(decoded, context).toMatchObject({
        firstOffset: String(baseOffset),
        partitionLeaderEpoch,
        lastOffsetDelta: count - 1,
        firstTimestamp: String(timestamps[0]),
        maxTimestamp: String(Math.max(...timestamps)),
        producerId: producer === null ? '-1' : String(producer.producerId),
        producerEpoch: producer === null ? -1 : producer.producerEpoch,
        firstSequence: producer === null ? -1 : producer.baseSequence,
        inTransaction: transactional,
      });
      expect(decoded.records.map(comparableKafkaJsRecord), context).toEqual(records.map((record, offsetDelta) => ({
        offset: String(baseOffset + offsetDelta),
        timestamp: String(record.timestamp),
        key: hex(record.key),
        value: hex(record.value),
        headers: foldHeaders(record.headers),
      })));
      // KafkaJS's decoder skips the CRC, so check it against KafkaJS's own CRC-32C.
      const crcWritten = Buffer.from(batch).readUInt32BE(CRC_POSITION);
      expect(crcWritten, context).toBe(kafkaJs.crc32C(Buffer.from(batch.subarray(ATTRIBUTES_POSITION))));
    }
  });

  it(`we frame, validate and decode batches KafkaJS encodes to the same records (seed ${SEED + CASES})`, async () => {
    for (let index = 0; index < CASES; index++) {
      const seed = SEED + CASES + index;
      const batchCase = randomKafkaJsExpressibleCase(index, mulberry32(seed));
      const count = batchCase.timestamps.length;
      const context = `seed ${seed} (case ${index}), ${count} records`;

      const batch = (await encodeWithKafkaJs(batchCase)).buffer;

      const framing = checkBatchFraming(batch, 0, BATCH_BYTES_MAX);
      expect(framing, context).toMatchObject({ kind: 'valid', sizeBytes: batch.length });
      const header = validateProducedBatch(batch, BATCH_BYTES_MAX);
      expect(header, context).toMatchObject({
        baseOffset: batchCase.baseOffset,
        partitionLeaderEpoch: batchCase.partitionLeaderEpoch,
        attributes: batchCase.transactional ? 0x10 : 0,
        recordCount: count,
        lastOffsetDelta: count - 1,
        baseTimestamp: batchCase.timestamps[0],
        maxTimestamp: Math.max(...batchCase.timestamps),
        producer: batchCase.producer,
      });
      const expected = ourRecordsOf(batchCase).map((record, offsetDelta) => ({ ...record, offset: batchCase.baseOffset + offsetDelta }));
      expect(comparableRecords(decodeRecords(batch)), context).toEqual(comparableRecords(expected));
    }
  });

  it(`KafkaJS and we encode the same records to identical bytes (seed ${SEED + 2 * CASES})`, async () => {
    for (let index = 0; index < CASES; index++) {
      const seed = SEED + 2 * CASES + index;
      const batchCase = randomKafkaJsExpressibleCase(index, mulberry32(seed));
      const ours = encodeRecordBatch({
        records: ourRecordsOf(batchCase),
        baseOffset: batchCase.baseOffset,
        partitionLeaderEpoch: batchCase.partitionLeaderEpoch,
        producer: batchCase.producer,
        transactional: batchCase.transactional,
      });
      const theirs = (await encodeWithKafkaJs(batchCase)).buffer;
      expect(hex(ours), `seed ${seed} (case ${index})`).toBe(hex(theirs));
    }
  });

  it('KafkaJS encodes the golden batch of record-batch-codec.test.ts to the hand-derived bytes', async () => {
    // The same hex as the golden test there, derived by hand from the Kafka format.
    const golden =
      '0000000000000000' + '0000003e' + '00000000' + '02' + '5e93538d' + '0000' + '00000000' +
      '0000018bcfe56800'.repeat(2) + 'ffffffffffffffff' + 'ffff' + 'ffffffff' + '00000001' +
      '18' + '00' + '00' + '00' + '026b' + '0276' + '02' + '0268' + '0278';
    const theirs = await kafkaJs.RecordBatch({
      firstOffset: kafkaJs.Long.fromValue(0),
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_000,
      partitionLeaderEpoch: 0,
      lastOffsetDelta: 0,
      transactional: false,
      producerId: kafkaJs.Long.fromValue(-1),
      producerEpoch: -1,
      firstSequence: -1,
      records: [kafkaJs.Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value: Buffer.from('v'), headers: { h: Buffer.from('x') } })],
    });
    expect(theirs.buffer.toString('hex')).toBe(golden);
  });
});
