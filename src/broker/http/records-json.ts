import { assert } from '../../errors/assert.js';
import {
  BATCH_HEADER_BYTES, CONTROL_MASK, TIMESTAMP_TYPE_MASK, batchSizeBytes, decodeBatchHeader, decodeRecords, type StoredRecord,
} from '../../record/index.js';
import type { ValueEncoding } from './produce-body.js';

/** One record as `GET .../records` returns it (docs/http.md). */
export interface JsonRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
  /** In stored order; a name may repeat (Kafka allows it), so this is a list, not an object. */
  readonly headers: Array<{ key: string; value: string | null }>;
}

// Lenient, as the record decoder is: bytes that are not UTF-8 become U+FFFD. `?encoding=base64`
// is the lossless way to read binary values.
const textDecoder = new TextDecoder('utf-8');

/**
 * The records at or after `fromOffset` in whole stored batches (as a log read returns them,
 * already CRC-checked), skipping control batches. The first batch may start before
 * `fromOffset`: a batch is never split on disk, so its earlier records are dropped here.
 */
export function recordsToJson(batches: Uint8Array, fromOffset: number, encoding: ValueEncoding): JsonRecord[] {
  const out: JsonRecord[] = [];
  // Each step advances by a whole batch of at least its header's size: bounded by the bytes.
  for (let position = 0; position < batches.length;) {
    const header = decodeBatchHeader(batches, position);
    const sizeBytes = batchSizeBytes(header.batchLength);
    assert(sizeBytes >= BATCH_HEADER_BYTES && position + sizeBytes <= batches.length, 'a log read returns whole, framed batches');
    const batch = batches.subarray(position, position + sizeBytes);
    position += sizeBytes;
    if ((header.attributes & CONTROL_MASK) !== 0) continue;
    const logAppendTime = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
    for (const record of decodeRecords(batch)) {
      if (record.offset < fromOffset) continue;
      out.push(toJson(record, logAppendTime ? header.maxTimestamp : record.timestamp, encoding));
    }
  }
  return out;
}

function toJson(record: StoredRecord, timestamp: number, encoding: ValueEncoding): JsonRecord {
  return {
    offset: record.offset,
    timestamp,
    key: stringOf(record.key, encoding),
    value: stringOf(record.value, encoding),
    headers: record.headers.map((header) => ({ key: header.key, value: stringOf(header.value, encoding) })),
  };
}

function stringOf(bytes: Uint8Array | null, encoding: ValueEncoding): string | null {
  if (bytes === null) return null;
  return encoding === 'utf8' ? textDecoder.decode(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
