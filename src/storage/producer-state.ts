import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import type { ProducerInfo } from '../record/index.js';

/**
 * Idempotent-producer state of one partition (Kafka's ProducerStateManager, without
 * transactions): for each producer id, its epoch and its last few batches' sequence ranges and
 * offsets. It is derived state: rebuilt from the batch headers of the log at open, and kept up
 * to date as batches are appended.
 *
 * Rules, for a batch of producer P, epoch E, sequences [first, last]:
 * - an epoch older than P's is INVALID_PRODUCER_EPOCH (a newer instance has fenced this one);
 * - a newer epoch must start at sequence 0, and resets P's history;
 * - a batch whose range equals one of P's last `PRODUCER_BATCHES_KEPT` batches is a retried
 *   duplicate: it is not written again, and its original offsets are returned;
 * - otherwise `first` must follow P's last sequence by exactly one (OUT_OF_ORDER_SEQUENCE_NUMBER
 *   for a gap; DUPLICATE_SEQUENCE_NUMBER for an older range no longer remembered);
 * - an unknown producer must start at 0, else UNKNOWN_PRODUCER_ID (its history was lost, for
 *   example to retention).
 */

/** How many recent batches per producer are remembered for answering retries (Kafka keeps 5). */
export const PRODUCER_BATCHES_KEPT = 5;
const SEQUENCE_MODULUS = 2 ** 31;

/** One remembered batch of a producer. */
export interface ProducerBatch {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** Settles when the batch is durable (already settled for batches read back from the log). */
  readonly durable: Promise<void>;
}

interface ProducerEntry {
  readonly epoch: number;
  readonly batches: readonly ProducerBatch[];
}

/** What to do with an incoming batch. */
export type SequenceVerdict =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate'; readonly original: ProducerBatch };

/** The last sequence of a batch of `recordCount` records starting at `firstSequence` (wrapping as Kafka does). */
export function lastSequenceOf(firstSequence: number, recordCount: number): number {
  return (firstSequence + recordCount - 1) % SEQUENCE_MODULUS;
}

/** Producer id → epoch and recent batches, for one partition. */
export class ProducerStateTable {
  private readonly producers = new Map<bigint, ProducerEntry>();

  get producerCount(): number {
    return this.producers.size;
  }

  /**
   * Judges batches in request order, as if each earlier one had been appended, without changing
   * anything: either every verdict, or the first batch's typed error (then none is written).
   */
  checkAll(batches: ReadonlyArray<{ producer: ProducerInfo | null; recordCount: number }>): SequenceVerdict[] {
    const scratch = new Map<bigint, ProducerEntry>();
    return batches.map(({ producer, recordCount }) => {
      if (producer === null) return { kind: 'append' };
      const entry = scratch.get(producer.producerId) ?? this.producers.get(producer.producerId);
      const verdict = judge(entry, producer, recordCount);
      if (verdict.kind === 'append') scratch.set(producer.producerId, withBatch(entry, producer, recordCount, { baseOffset: -1, lastOffset: -1, durable: Promise.resolve() }));
      return verdict;
    });
  }

  /** Records an appended batch (after its offsets were assigned). */
  record(producer: ProducerInfo, recordCount: number, offsets: { baseOffset: number; lastOffset: number; durable: Promise<void> }): void {
    this.producers.set(producer.producerId, withBatch(this.producers.get(producer.producerId), producer, recordCount, offsets));
  }

  /** Forgets batches at or after `offset` (the log was truncated there). */
  truncateTo(offset: number): void {
    for (const [producerId, entry] of this.producers) {
      const batches = entry.batches.filter((batch) => batch.lastOffset < offset);
      if (batches.length === 0) this.producers.delete(producerId);
      else this.producers.set(producerId, { epoch: entry.epoch, batches });
    }
  }
}

function judge(entry: ProducerEntry | undefined, producer: ProducerInfo, recordCount: number): SequenceVerdict {
  const first = producer.baseSequence;
  const last = lastSequenceOf(first, recordCount);
  if (entry === undefined) {
    if (first !== 0) throw new SluiceError('UNKNOWN_PRODUCER_ID', `producer ${producer.producerId} is unknown here and its batch starts at sequence ${first}, not 0`);
    return { kind: 'append' };
  }
  if (producer.producerEpoch < entry.epoch) {
    throw new SluiceError('INVALID_PRODUCER_EPOCH', `producer ${producer.producerId} epoch ${producer.producerEpoch} is older than ${entry.epoch}`);
  }
  if (producer.producerEpoch > entry.epoch) {
    if (first !== 0) throw new SluiceError('OUT_OF_ORDER_SEQUENCE_NUMBER', `a new epoch ${producer.producerEpoch} must start at sequence 0, not ${first}`);
    return { kind: 'append' };
  }
  const original = entry.batches.find((batch) => batch.firstSequence === first && batch.lastSequence === last);
  if (original !== undefined) return { kind: 'duplicate', original };
  const lastSeen = entry.batches[entry.batches.length - 1]!.lastSequence;
  if (first === (lastSeen + 1) % SEQUENCE_MODULUS) return { kind: 'append' };
  const behind = (lastSeen - first + SEQUENCE_MODULUS) % SEQUENCE_MODULUS < SEQUENCE_MODULUS / 2;
  if (behind) throw new SluiceError('DUPLICATE_SEQUENCE_NUMBER', `producer ${producer.producerId} sequence ${first} was written before and is no longer remembered`);
  throw new SluiceError('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${producer.producerId} sequence ${first} does not follow ${lastSeen}`);
}

function withBatch(entry: ProducerEntry | undefined, producer: ProducerInfo, recordCount: number, offsets: { baseOffset: number; lastOffset: number; durable: Promise<void> }): ProducerEntry {
  assert(recordCount > 0, 'a producer batch holds records');
  const batch: ProducerBatch = { firstSequence: producer.baseSequence, lastSequence: lastSequenceOf(producer.baseSequence, recordCount), ...offsets };
  const kept = entry === undefined || producer.producerEpoch > entry.epoch ? [] : entry.batches;
  return { epoch: producer.producerEpoch, batches: [...kept, batch].slice(-PRODUCER_BATCHES_KEPT) };
}
