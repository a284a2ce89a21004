import { RecordBatchBuilder, recordBytesBound, type BatchHeaderInput } from './record-batch-builder.js';
import { BATCH_HEADER_BYTES, type Record } from './record-batch-format.js';

/** What a producer puts into one batch. */
export interface RecordBatchInput extends BatchHeaderInput {
  readonly records: readonly Record[];
}

/** Encodes records into one uncompressed RecordBatch v2 with a valid CRC-32C. */
export function encodeRecordBatch(input: RecordBatchInput): Uint8Array {
  // As Kafka's MemoryRecordsBuilder: the base is the first record's timestamp (later deltas may
  // be negative), and an empty batch carries NO_TIMESTAMP (-1).
  let capacity = BATCH_HEADER_BYTES;
  for (const record of input.records) capacity += recordBytesBound(record.key, record.value, record.headers);
  const builder = new RecordBatchBuilder(capacity);
  for (const record of input.records) builder.append(record.timestamp, record.key, record.value, record.headers);
  return builder.build(input);
}
