import { assert } from '../../errors/assert.js';
import { SluiceError } from '../../errors/sluice-error.js';
import { BATCH_HEADER_BYTES, encodeRecordBatch, type Record } from '../../record/index.js';
import { partitionForKey } from '../../client/murmur2.js';
import type { ProduceRecordInput } from './produce-body.js';

/** The records of one HTTP produce that go to one partition, with their places in the request. */
export interface PartitionRecords {
  readonly partition: number;
  readonly records: Record[];
  /** `indexes[i]` is the request position of `records[i]`. */
  readonly indexes: number[];
}

/**
 * Chooses each record's partition: the one it names; else, for a key, Kafka's default
 * partitioner (murmur2 of the key bytes); else `nullKeyPartition`, which the caller rotates per
 * request, so one request's unkeyed records share a partition and a batch (as Kafka's sticky
 * partitioner does). Every record gets `timestampMs`. Groups come in partition order.
 */
export function assignPartitions(inputs: readonly ProduceRecordInput[], partitionCount: number, nullKeyPartition: number, timestampMs: number): PartitionRecords[] {
  assert(nullKeyPartition >= 0 && nullKeyPartition < partitionCount, `nullKeyPartition ${nullKeyPartition} < ${partitionCount}`);
  const groups = new Map<number, PartitionRecords>();
  inputs.forEach((input, index) => {
    const partition = input.partition ?? (input.key === null ? nullKeyPartition : partitionForKey(input.key, partitionCount));
    if (partition >= partitionCount) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `records[${index}].partition ${partition}: the topic has ${partitionCount} partitions`);
    let group = groups.get(partition);
    if (group === undefined) {
      group = { partition, records: [], indexes: [] };
      groups.set(partition, group);
    }
    group.records.push({ key: input.key, value: input.value, headers: input.headers, timestamp: timestampMs });
    group.indexes.push(index);
  });
  return [...groups.values()].sort((a, b) => a.partition - b.partition);
}

// Most bytes a varint or varlong field can take; a record's encoding never exceeds its bound.
const VARINT_BYTES_MAX = 5;
const VARLONG_BYTES_MAX = 10;
const textEncoder = new TextEncoder();

/**
 * Encodes records into back-to-back RecordBatch v2 bytes, each batch at most `batchBytesMax`:
 * records are packed greedily by an upper bound of their encoded size. A record too large for
 * a batch of its own is MESSAGE_TOO_LARGE.
 */
export function encodeBatches(records: readonly Record[], batchBytesMax: number): Uint8Array {
  const batches: Uint8Array[] = [];
  let pending: Record[] = [];
  let pendingBytesBound = BATCH_HEADER_BYTES;
  for (const record of records) {
    const boundBytes = recordBytesBound(record);
    if (pending.length > 0 && pendingBytesBound + boundBytes > batchBytesMax) {
      batches.push(encodeRecordBatch({ records: pending }));
      pending = [];
      pendingBytesBound = BATCH_HEADER_BYTES;
    }
    pending.push(record);
    pendingBytesBound += boundBytes;
  }
  if (pending.length > 0) batches.push(encodeRecordBatch({ records: pending }));
  // Only a batch of one record can pass the bound; its real size decides.
  for (const batch of batches) {
    if (batch.length > batchBytesMax) throw new SluiceError('MESSAGE_TOO_LARGE', `a record encodes to a batch of ${batch.length} bytes, more than batchBytesMax ${batchBytesMax}`);
  }
  return concat(batches);
}

// length, attributes, timestampDelta, offsetDelta, key, value, header count, headers.
function recordBytesBound(record: Record): number {
  let bytes = VARINT_BYTES_MAX + 1 + VARLONG_BYTES_MAX + VARINT_BYTES_MAX;
  bytes += nullableBytesBound(record.key) + nullableBytesBound(record.value) + VARINT_BYTES_MAX;
  for (const header of record.headers) bytes += VARINT_BYTES_MAX + textEncoder.encode(header.key).length + nullableBytesBound(header.value);
  return bytes;
}

function nullableBytesBound(bytes: Uint8Array | null): number {
  return VARINT_BYTES_MAX + (bytes?.length ?? 0);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let position = 0;
  for (const part of parts) {
    out.set(part, position);
    position += part.length;
  }
  return out;
}
