import { assert } from '../errors/assert.js';
import { BATCH_HEADER_BYTES, varintSize, type Record } from '../record/index.js';

/**
 * Where a producer's records wait to become batches (Kafka's RecordAccumulator, without the
 * memory pool). Per partition there is at most one *open* batch; it is *sealed* when the next
 * record would take it past `batchBytes`, when it has waited `lingerMs`, or on flush. Sealed
 * batches are handed back to the caller, which encodes and sends them.
 *
 * Pure: no timers, no I/O. Time comes in as `nowMs` arguments, so the batching rules are tested
 * without a clock (test/unit/client/record-accumulator.test.ts). All state here is in memory and
 * derived from what the producer was given; nothing is authoritative until the broker has it.
 */

/** A record waiting in a batch, with what the producer needs to answer its send(). */
export interface PendingRecord<T = unknown> {
  readonly record: Record;
  /** An upper bound of the bytes this record takes in a batch. */
  readonly sizeBytes: number;
  /** The producer's handle to settle the send() (opaque here). */
  readonly ticket: T;
}

export interface SealedBatch<T = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly PendingRecord<T>[];
  /** Upper bound of the encoded batch, header included. */
  readonly sizeBytes: number;
}

interface OpenBatch<T> {
  readonly topic: string;
  readonly partition: number;
  readonly records: PendingRecord<T>[];
  sizeBytes: number;
  readonly lingerEndsAtMs: number;
}

/** Bytes of a record's varint fields at their largest: length 5, timestampDelta 10, offsetDelta 5. */
const RECORD_FIXED_BYTES_MAX = 5 + 1 + 10 + 5;
const utf8Encoder = new TextEncoder();

/** An upper bound of the bytes `record` takes inside a RecordBatch v2. */
export function recordSizeBytesMax(record: Record): number {
  let bytes = RECORD_FIXED_BYTES_MAX + nullableSize(record.key) + nullableSize(record.value) + varintSize(record.headers.length);
  for (const header of record.headers) {
    const keyBytes = utf8Encoder.encode(header.key).length;
    bytes += varintSize(keyBytes) + keyBytes + nullableSize(header.value);
  }
  return bytes;
}

function nullableSize(bytes: Uint8Array | null): number {
  return bytes === null ? 1 : varintSize(bytes.length) + bytes.length;
}

export class RecordAccumulator<T = unknown> {
  private readonly open = new Map<string, OpenBatch<T>>();

  constructor(private readonly batchBytes: number, private readonly lingerMs: number) {
    assert(batchBytes > BATCH_HEADER_BYTES, `batchBytes ${batchBytes} leaves room for records`);
    assert(lingerMs >= 0, `lingerMs ${lingerMs}`);
  }

  get openBatchCount(): number {
    return this.open.size;
  }

  /** Records waiting in open batches. */
  get openRecordCount(): number {
    let count = 0;
    for (const batch of this.open.values()) count += batch.records.length;
    return count;
  }

  /**
   * Adds a record to its partition's open batch. Returns the batches this seals: the open batch
   * when the record does not fit in it, and the record's own batch when the record alone fills
   * `batchBytes` (a record larger than batchBytes is sent alone, as Kafka does).
   */
  append(topic: string, partition: number, pending: PendingRecord<T>, nowMs: number): SealedBatch<T>[] {
    const key = partitionKey(topic, partition);
    const sealed: SealedBatch<T>[] = [];
    let batch = this.open.get(key);
    if (batch !== undefined && batch.sizeBytes + pending.sizeBytes > this.batchBytes) {
      sealed.push(this.seal(key, batch));
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { topic, partition, records: [], sizeBytes: BATCH_HEADER_BYTES, lingerEndsAtMs: nowMs + this.lingerMs };
      this.open.set(key, batch);
    }
    batch.records.push(pending);
    batch.sizeBytes += pending.sizeBytes;
    if (batch.sizeBytes >= this.batchBytes) sealed.push(this.seal(key, batch));
    return sealed;
  }

  /** Seals every open batch whose linger has ended at `nowMs`. */
  sealExpired(nowMs: number): SealedBatch<T>[] {
    const sealed: SealedBatch<T>[] = [];
    for (const [key, batch] of this.open) {
      if (batch.lingerEndsAtMs <= nowMs) sealed.push(this.seal(key, batch));
    }
    return sealed;
  }

  /** Seals every open batch (flush, close). */
  sealAll(): SealedBatch<T>[] {
    return [...this.open].map(([key, batch]) => this.seal(key, batch));
  }

  /** When the earliest open batch's linger ends, or null when none is open. */
  nextLingerEndMs(): number | null {
    let earliest: number | null = null;
    for (const batch of this.open.values()) {
      if (earliest === null || batch.lingerEndsAtMs < earliest) earliest = batch.lingerEndsAtMs;
    }
    return earliest;
  }

  private seal(key: string, batch: OpenBatch<T>): SealedBatch<T> {
    assert(batch.records.length > 0, 'an open batch holds at least one record');
    this.open.delete(key);
    return { topic: batch.topic, partition: batch.partition, records: batch.records, sizeBytes: batch.sizeBytes };
  }
}

/** A map key for a topic and partition (topic names cannot contain NUL). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
