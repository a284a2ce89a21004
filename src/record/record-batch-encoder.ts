import { crc32c } from './crc32c.js';
import {
  ATTRIBUTES_POSITION, BASE_OFFSET_POSITION, BASE_SEQUENCE_POSITION, BASE_TIMESTAMP_POSITION,
  BATCH_HEADER_BYTES, BATCH_LENGTH_POSITION, CRC_POSITION, LAST_OFFSET_DELTA_POSITION,
  LOG_OVERHEAD_BYTES, MAGIC_POSITION, MAGIC_V2, MAX_TIMESTAMP_POSITION,
  PARTITION_LEADER_EPOCH_POSITION, PRODUCER_EPOCH_POSITION, PRODUCER_ID_POSITION,
  RECORD_COUNT_POSITION, type ProducerInfo, type Record,
} from './record-batch-format.js';
import { varintSize, writeVarint } from './varint.js';

/** What a producer puts into one batch. */
export interface RecordBatchInput {
  readonly records: readonly Record[];
  /** Usually 0 from a producer: the leader stamps the real one at append. */
  readonly baseOffset?: number;
  readonly partitionLeaderEpoch?: number;
  readonly producer?: ProducerInfo | null;
  readonly transactional?: boolean;
}

const textEncoder = new TextEncoder();
const NO_TIMESTAMP = -1;

/** Encodes records into one uncompressed RecordBatch v2 with a valid CRC-32C. */
export function encodeRecordBatch(input: RecordBatchInput): Uint8Array {
  const records = input.records;
  // As Kafka's MemoryRecordsBuilder: the base is the first record's timestamp (later deltas may
  // be negative), and an empty batch carries NO_TIMESTAMP (-1).
  const baseTimestamp = records.length === 0 ? NO_TIMESTAMP : records[0]!.timestamp;
  const maxTimestamp = records.length === 0 ? NO_TIMESTAMP : maxTimestampOf(records);
  const encoded = records.map((record, index) => prepareRecord(record, index, baseTimestamp));
  const recordsBytes = encoded.reduce((sum, prepared) => sum + prepared.totalBytes, 0);

  const batch = new Uint8Array(BATCH_HEADER_BYTES + recordsBytes);
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const producer = input.producer ?? null;
  view.setBigInt64(BASE_OFFSET_POSITION, BigInt(input.baseOffset ?? 0));
  view.setInt32(BATCH_LENGTH_POSITION, batch.length - LOG_OVERHEAD_BYTES);
  view.setInt32(PARTITION_LEADER_EPOCH_POSITION, input.partitionLeaderEpoch ?? 0);
  view.setInt8(MAGIC_POSITION, MAGIC_V2);
  view.setInt16(ATTRIBUTES_POSITION, input.transactional === true ? 0x10 : 0);
  view.setInt32(LAST_OFFSET_DELTA_POSITION, Math.max(records.length - 1, 0));
  view.setBigInt64(BASE_TIMESTAMP_POSITION, BigInt(baseTimestamp));
  view.setBigInt64(MAX_TIMESTAMP_POSITION, BigInt(maxTimestamp));
  view.setBigInt64(PRODUCER_ID_POSITION, producer === null ? -1n : producer.producerId);
  view.setInt16(PRODUCER_EPOCH_POSITION, producer === null ? -1 : producer.producerEpoch);
  view.setInt32(BASE_SEQUENCE_POSITION, producer === null ? -1 : producer.baseSequence);
  view.setInt32(RECORD_COUNT_POSITION, records.length);

  let position = BATCH_HEADER_BYTES;
  for (const prepared of encoded) position = writeRecord(batch, position, prepared);
  view.setUint32(CRC_POSITION, crc32c(batch.subarray(ATTRIBUTES_POSITION)));
  return batch;
}

interface PreparedRecord {
  readonly record: Record;
  readonly timestampDelta: number;
  readonly offsetDelta: number;
  readonly headerKeys: readonly Uint8Array[];
  readonly bodyBytes: number;
  readonly totalBytes: number;
}

function prepareRecord(record: Record, offsetDelta: number, baseTimestamp: number): PreparedRecord {
  const timestampDelta = record.timestamp - baseTimestamp;
  const headerKeys = record.headers.map((header) => textEncoder.encode(header.key));
  let bodyBytes = 1 + varintSize(timestampDelta) + varintSize(offsetDelta);
  bodyBytes += nullableBytesSize(record.key) + nullableBytesSize(record.value);
  bodyBytes += varintSize(record.headers.length);
  record.headers.forEach((header, index) => {
    const key = headerKeys[index]!;
    bodyBytes += varintSize(key.length) + key.length + nullableBytesSize(header.value);
  });
  return {
    record, timestampDelta, offsetDelta, headerKeys, bodyBytes,
    totalBytes: varintSize(bodyBytes) + bodyBytes,
  };
}

function writeRecord(batch: Uint8Array, start: number, prepared: PreparedRecord): number {
  let position = writeVarint(batch, start, prepared.bodyBytes);
  batch[position++] = 0; // record attributes: unused in v2
  position = writeVarint(batch, position, prepared.timestampDelta);
  position = writeVarint(batch, position, prepared.offsetDelta);
  position = writeNullableBytes(batch, position, prepared.record.key);
  position = writeNullableBytes(batch, position, prepared.record.value);
  position = writeVarint(batch, position, prepared.record.headers.length);
  prepared.record.headers.forEach((header, index) => {
    position = writeNullableBytes(batch, position, prepared.headerKeys[index]!);
    position = writeNullableBytes(batch, position, header.value);
  });
  return position;
}

function nullableBytesSize(bytes: Uint8Array | null): number {
  return bytes === null ? varintSize(-1) : varintSize(bytes.length) + bytes.length;
}

function writeNullableBytes(batch: Uint8Array, position: number, bytes: Uint8Array | null): number {
  if (bytes === null) return writeVarint(batch, position, -1);
  const at = writeVarint(batch, position, bytes.length);
  batch.set(bytes, at);
  return at + bytes.length;
}

function maxTimestampOf(records: readonly Record[]): number {
  let max = records[0]!.timestamp;
  for (const record of records) if (record.timestamp > max) max = record.timestamp;
  return max;
}
