import { crc32c } from './crc32c.js';
import {
  ATTRIBUTES_POSITION, BASE_OFFSET_POSITION, BASE_SEQUENCE_POSITION, BASE_TIMESTAMP_POSITION,
  BATCH_HEADER_BYTES, BATCH_LENGTH_POSITION, CRC_POSITION, LAST_OFFSET_DELTA_POSITION,
  LOG_OVERHEAD_BYTES, MAGIC_POSITION, MAGIC_V2, MAX_TIMESTAMP_POSITION,
  PARTITION_LEADER_EPOCH_POSITION, PRODUCER_EPOCH_POSITION, PRODUCER_ID_POSITION,
  RECORD_COUNT_POSITION, type ProducerInfo,
} from './record-batch-format.js';
import { varintSize, writeVarint } from './varint.js';

/**
 * Encodes records one at a time straight into the bytes of a RecordBatch v2, as Kafka's
 * MemoryRecordsBuilder does: a producer pays for each record once, when it is appended, and
 * sealing a batch is only its 61-byte header and one CRC over the whole. Strings are written as
 * UTF-8 with TextEncoder.encodeInto, straight into the batch (no intermediate Uint8Array per
 * value: TextEncoder.encode costs ~7× more on Node 20), so the browser client shares this code.
 */

/** A key, value or header value: bytes as they are, a string as UTF-8, or null. */
export type RecordBytesInput = Uint8Array | string | null;

/** A header as the builder takes it. */
export interface RecordHeaderInput {
  readonly key: string;
  readonly value: RecordBytesInput;
}

/** What the batch header carries besides the records. */
export interface BatchHeaderInput {
  /** Usually 0 from a producer: the leader stamps the real one at append. */
  readonly baseOffset?: number;
  readonly partitionLeaderEpoch?: number;
  readonly producer?: ProducerInfo | null;
  readonly transactional?: boolean;
}

const NO_TIMESTAMP = -1;
const NO_HEADERS: readonly RecordHeaderInput[] = [];
/** Largest varints of a record's fixed fields: length 5, attributes 1, timestampDelta 10, offsetDelta 5, header count 5. */
const RECORD_FIXED_BYTES_MAX = 5 + 1 + 10 + 5 + 5;
/** A length varint (5) before a field. */
const LENGTH_BYTES_MAX = 5;
const utf8 = new TextEncoder();

/** An upper bound of the bytes a record takes in a batch (strings counted at 3 bytes per UTF-16 unit). */
export function recordBytesBound(key: RecordBytesInput, value: RecordBytesInput, headers: readonly RecordHeaderInput[] = NO_HEADERS): number {
  let bytes = RECORD_FIXED_BYTES_MAX + fieldBound(key) + fieldBound(value);
  for (let i = 0; i < headers.length; i++) bytes += LENGTH_BYTES_MAX + 3 * headers[i]!.key.length + fieldBound(headers[i]!.value);
  return bytes;
}

function fieldBound(field: RecordBytesInput): number {
  if (field === null) return 1;
  return LENGTH_BYTES_MAX + (typeof field === 'string' ? 3 * field.length : field.length);
}

export class RecordBatchBuilder {
  private buffer: Uint8Array;
  private position = BATCH_HEADER_BYTES;
  private count = 0;
  private baseTimestamp = NO_TIMESTAMP;
  private maxTimestamp = NO_TIMESTAMP;

  /** `capacityBytes` is where the buffer starts; it doubles as records need. */
  constructor(capacityBytes = 1024) {
    this.buffer = new Uint8Array(Math.max(capacityBytes, BATCH_HEADER_BYTES + 64));
  }

  get recordCount(): number {
    return this.count;
  }

  /** Bytes the buffer holds before it must grow. */
  get capacityBytes(): number {
    return this.buffer.length;
  }

  /** Bytes of the batch so far, header included. */
  get sizeBytes(): number {
    return this.position;
  }

  /** Appends one record (offsetDelta is its index); returns the bytes it took. */
  append(timestamp: number, key: RecordBytesInput, value: RecordBytesInput, headers: readonly RecordHeaderInput[] = NO_HEADERS): number {
    const bound = recordBytesBound(key, value, headers);
    this.ensureRoom(bound);
    if (this.count === 0) this.baseTimestamp = this.maxTimestamp = timestamp;
    else if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    const start = this.position;
    const buffer = this.buffer;
    // The length prefix comes first but is known only once the body is written: write the body
    // after room for the largest prefix it could need, then close the gap if the prefix is shorter.
    const reserved = varintSize(bound - LENGTH_BYTES_MAX);
    let at = start + reserved;
    buffer[at++] = 0; // record attributes: unused in v2
    at = writeVarint(buffer, at, timestamp - this.baseTimestamp);
    at = writeVarint(buffer, at, this.count);
    at = this.writeField(at, key);
    at = this.writeField(at, value);
    at = writeVarint(buffer, at, headers.length);
    for (let i = 0; i < headers.length; i++) {
      at = this.writeField(at, headers[i]!.key);
      at = this.writeField(at, headers[i]!.value);
    }
    const bodyBytes = at - start - reserved;
    const prefix = varintSize(bodyBytes);
    if (prefix < reserved) buffer.copyWithin(start + prefix, start + reserved, at);
    writeVarint(buffer, start, bodyBytes);
    this.position = start + prefix + bodyBytes;
    this.count += 1;
    return this.position - start;
  }

  /**
   * The batch: header written in front of the records and the CRC-32C computed. The bytes are a
   * view of the builder's buffer; building again (say with a new producer id) rewrites the
   * header in place, and the records stay as they are.
   */
  build(header: BatchHeaderInput = {}): Uint8Array {
    const batch = this.buffer.subarray(0, this.position);
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    const producer = header.producer ?? null;
    view.setBigInt64(BASE_OFFSET_POSITION, BigInt(header.baseOffset ?? 0));
    view.setInt32(BATCH_LENGTH_POSITION, batch.length - LOG_OVERHEAD_BYTES);
    view.setInt32(PARTITION_LEADER_EPOCH_POSITION, header.partitionLeaderEpoch ?? 0);
    view.setInt8(MAGIC_POSITION, MAGIC_V2);
    view.setInt16(ATTRIBUTES_POSITION, header.transactional === true ? 0x10 : 0);
    view.setInt32(LAST_OFFSET_DELTA_POSITION, Math.max(this.count - 1, 0));
    view.setBigInt64(BASE_TIMESTAMP_POSITION, BigInt(this.baseTimestamp));
    view.setBigInt64(MAX_TIMESTAMP_POSITION, BigInt(this.maxTimestamp));
    view.setBigInt64(PRODUCER_ID_POSITION, producer === null ? -1n : producer.producerId);
    view.setInt16(PRODUCER_EPOCH_POSITION, producer === null ? -1 : producer.producerEpoch);
    view.setInt32(BASE_SEQUENCE_POSITION, producer === null ? -1 : producer.baseSequence);
    view.setInt32(RECORD_COUNT_POSITION, this.count);
    view.setUint32(CRC_POSITION, crc32c(batch.subarray(ATTRIBUTES_POSITION)));
    return batch;
  }

  private ensureRoom(bytes: number): void {
    const needed = this.position + bytes;
    if (needed <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2));
    grown.set(this.buffer.subarray(0, this.position));
    this.buffer = grown;
  }

  // A nullable length-prefixed field. A string's UTF-8 length is known only after encoding, so,
  // as for the record, it is encoded after room for its largest prefix and moved up if shorter.
  private writeField(at: number, field: RecordBytesInput): number {
    const buffer = this.buffer;
    if (field === null) {
      buffer[at] = 1; // zigzag(-1)
      return at + 1;
    }
    if (typeof field !== 'string') {
      const next = writeVarint(buffer, at, field.length);
      buffer.set(field, next);
      return next + field.length;
    }
    const reserved = varintSize(3 * field.length);
    const written = utf8.encodeInto(field, buffer.subarray(at + reserved)).written;
    const prefix = varintSize(written);
    if (prefix < reserved) buffer.copyWithin(at + prefix, at + reserved, at + reserved + written);
    writeVarint(buffer, at, written);
    return at + prefix + written;
  }
}
