import { assert } from '../errors/assert.js';
import { BATCH_HEADER_BYTES, RecordBatchBuilder, type RecordBytesInput, type RecordHeaderInput } from '../record/index.js';

/**
 * Where a producer's records wait to become batches (Kafka's RecordAccumulator, without the
 * memory pool). Per partition there is at most one *open* batch; it is *sealed* when the next
 * record would take it past `batchBytes`, when it has waited `lingerMs`, or on flush. Records
 * are encoded into their batch as they are appended (RecordBatchBuilder), so sealing costs
 * nothing per record; the caller stamps the header and CRC when it first sends the batch.
 *
 * Pure: no timers, no I/O. Time comes in as `nowMs` arguments, so the batching rules are tested
 * without a clock (test/unit/client/record-accumulator.test.ts). All state here is in memory and
 * derived from what the producer was given; nothing is authoritative until the broker has it.
 */

/** A record as the producer appends it: fields as the caller gave them, plus its size bound. */
export interface AppendedRecord {
  readonly timestamp: number;
  readonly key: RecordBytesInput;
  readonly value: RecordBytesInput;
  readonly headers: readonly RecordHeaderInput[];
  /** recordBytesBound of the fields: what the batch must have room for. */
  readonly boundBytes: number;
}

export interface SealedBatch<T = unknown> {
  readonly topic: string;
  readonly partition: number;
  /** One per record, in record order: the producer's handles to settle each send(). */
  readonly tickets: readonly T[];
  /** The records, encoded; `build` stamps header and CRC. */
  readonly builder: RecordBatchBuilder;
  /** Bytes of the encoded batch, header included. */
  readonly sizeBytes: number;
}

interface OpenBatch<T> {
  readonly topic: string;
  readonly partition: number;
  readonly tickets: T[];
  readonly builder: RecordBatchBuilder;
  readonly lingerEndsAtMs: number;
}

/** Says whether a partition's open batch may be sealed by its linger now. */
export type PartitionFilter = (topic: string, partition: number) => boolean;

const ANY_PARTITION: PartitionFilter = () => true;

/** Returned when an append seals nothing, so the common case allocates no array. */
const NOTHING_SEALED: readonly SealedBatch<never>[] = Object.freeze([]);
/**
 * A partition's first batch starts at this; later ones at the size its last batch reached
 * (rounded up to a power of two, at most batchBytes), so steady batches never regrow and a
 * one-record batch does not hold a 64 KiB buffer. Measured: one 64 KiB buffer per batch at 1,000
 * batches/s made V8 run a full mark-compact every 0.3–0.5 s for the external memory (3–8 ms
 * pauses, the end-to-end tail), with a heap of 10 MB.
 */
const FIRST_BATCH_CAPACITY_BYTES = 1024;

export class RecordAccumulator<T = unknown> {
  /** Open batches by topic, then by partition number. */
  private readonly open = new Map<string, Array<OpenBatch<T> | undefined>>();
  /** Size each partition's last sealed batch reached, by topic, then by partition number. */
  private readonly lastSealedBytes = new Map<string, number[]>();
  private openCount = 0;
  /** Bytes the last append() took in its batch. */
  private lastAppendBytesValue = 0;

  constructor(private readonly batchBytes: number, private readonly lingerMs: number) {
    assert(batchBytes > BATCH_HEADER_BYTES, `batchBytes ${batchBytes} leaves room for records`);
    assert(lingerMs >= 0, `lingerMs ${lingerMs}`);
  }

  get openBatchCount(): number {
    return this.openCount;
  }

  /** Records waiting in open batches. */
  get openRecordCount(): number {
    let count = 0;
    for (const batch of this.openBatches()) count += batch.tickets.length;
    return count;
  }

  /** Bytes the record of the last append() took, encoded. */
  get lastAppendBytes(): number {
    return this.lastAppendBytesValue;
  }

  /**
   * Adds a record to its partition's open batch. Returns the batches this seals: the open batch
   * when the record may not fit in it, and the record's own batch when the record alone fills
   * `batchBytes` (a record larger than batchBytes is sent alone, as Kafka does).
   */
  append(topic: string, partition: number, record: AppendedRecord, ticket: T, nowMs: number): readonly SealedBatch<T>[] {
    let partitions = this.open.get(topic);
    if (partitions === undefined) {
      partitions = [];
      this.open.set(topic, partitions);
    }
    let sealed: SealedBatch<T>[] | null = null;
    let batch = partitions[partition];
    if (batch !== undefined && batch.builder.sizeBytes + record.boundBytes > this.batchBytes) {
      sealed = [this.seal(partitions, batch)];
      batch = undefined;
    }
    if (batch === undefined) {
      const capacity = Math.min(this.batchBytes, Math.max(this.capacityHint(topic, partition), BATCH_HEADER_BYTES + record.boundBytes));
      batch = { topic, partition, tickets: [], builder: new RecordBatchBuilder(capacity), lingerEndsAtMs: nowMs + this.lingerMs };
      partitions[partition] = batch;
      this.openCount += 1;
    }
    batch.tickets.push(ticket);
    this.lastAppendBytesValue = batch.builder.append(record.timestamp, record.key, record.value, record.headers);
    if (batch.builder.sizeBytes >= this.batchBytes) (sealed ??= []).push(this.seal(partitions, batch));
    return sealed ?? NOTHING_SEALED;
  }

  /**
   * Seals every open batch whose linger has ended at `nowMs` and whose partition `mayGo`; a
   * batch held back stays open and keeps taking records.
   */
  sealExpired(nowMs: number, mayGo: PartitionFilter = ANY_PARTITION): SealedBatch<T>[] {
    const sealed: SealedBatch<T>[] = [];
    for (const batch of this.openBatches()) {
      if (batch.lingerEndsAtMs <= nowMs && mayGo(batch.topic, batch.partition)) sealed.push(this.seal(this.open.get(batch.topic)!, batch));
    }
    return sealed;
  }

  /** Seals every open batch (flush, close). */
  sealAll(): SealedBatch<T>[] {
    return [...this.openBatches()].map((batch) => this.seal(this.open.get(batch.topic)!, batch));
  }

  /** When the earliest linger ends among the open batches whose partition `mayGo`, or null when there is none. */
  nextLingerEndMs(mayGo: PartitionFilter = ANY_PARTITION): number | null {
    let earliest: number | null = null;
    for (const batch of this.openBatches()) {
      if ((earliest === null || batch.lingerEndsAtMs < earliest) && mayGo(batch.topic, batch.partition)) earliest = batch.lingerEndsAtMs;
    }
    return earliest;
  }

  private *openBatches(): Generator<OpenBatch<T>> {
    if (this.openCount === 0) return;
    for (const partitions of this.open.values()) for (const batch of partitions) if (batch !== undefined) yield batch;
  }

  private capacityHint(topic: string, partition: number): number {
    const lastBytes = this.lastSealedBytes.get(topic)?.[partition];
    return lastBytes === undefined ? FIRST_BATCH_CAPACITY_BYTES : Math.max(FIRST_BATCH_CAPACITY_BYTES, 2 ** Math.ceil(Math.log2(lastBytes)));
  }

  private seal(partitions: Array<OpenBatch<T> | undefined>, batch: OpenBatch<T>): SealedBatch<T> {
    assert(batch.tickets.length > 0, 'an open batch holds at least one record');
    partitions[batch.partition] = undefined;
    this.openCount -= 1;
    let sizes = this.lastSealedBytes.get(batch.topic);
    if (sizes === undefined) {
      sizes = [];
      this.lastSealedBytes.set(batch.topic, sizes);
    }
    sizes[batch.partition] = batch.builder.sizeBytes;
    return { topic: batch.topic, partition: batch.partition, tickets: batch.tickets, builder: batch.builder, sizeBytes: batch.builder.sizeBytes };
  }
}

/** A map key for a topic and partition (topic names cannot contain NUL). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
