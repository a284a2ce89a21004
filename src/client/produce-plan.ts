import { SluiceError } from '../errors/sluice-error.js';
import type { ProduceTopic } from '../protocol/index.js';
import { concatBytes } from '../record/concat-bytes.js';
import type { RecordBatchBuilder } from '../record/index.js';
import { retryActionFor } from './retry-policy.js';

/**
 * The producer's sealed batches per partition, and which of them go into the next Produce
 * requests. Pure: the Producer owns the queues and does the I/O; the rules live here, where a
 * unit test can pin them.
 *
 * Rules:
 * - One request at a time per partition (Kafka's max.in.flight=1): batches of a partition reach
 *   the broker in order, and a retried batch can never land after a later one.
 * - A partition's first-time batches may travel together, back to back in one request (the broker
 *   appends them with contiguous offsets, all or nothing), at most BATCHES_PER_PARTITION_MAX of
 *   them: if the leader dies after they were replicated but before it answered, each is retried
 *   alone at the new leader, which recognises a duplicate only among a producer's last 5 batches
 *   (the broker's PRODUCER_BATCHES_KEPT); an older one would get DUPLICATE_SEQUENCE_NUMBER and its
 *   records would be reported failed although they were written.
 * - A batch being retried travels alone: the broker answers a duplicate with its original offset,
 *   and the offsets of anything sent with it would then not follow from it.
 * - A batch in backoff (`notBeforeMs` in the future) waits; so do those behind it.
 * - Requests are filled with partitions until `requestBytesMax`; at least one batch per request.
 * - After a failed request, its batches go again (after a backoff, at most `retries` times) when
 *   the error is retriable; see planAfterFailure for when they go under a new producer id.
 */

/** A sealed batch on its way to the broker. */
export interface ProducerBatch<T = unknown> {
  readonly topic: string;
  readonly partition: number;
  /** One per record, in record order: the handles that settle each send(). */
  readonly tickets: readonly T[];
  /** The encoded records; `bytes` is what it builds with the producer identity. */
  readonly builder: RecordBatchBuilder;
  /** Bytes of the encoded batch. */
  readonly sizeBytes: number;
  /** The RecordBatch v2 as sent; null until first sent, and again after a new producer identity. */
  bytes: Uint8Array | null;
  /** The producer identity and first sequence stamped into `bytes`, or null without idempotence. */
  sequence: { readonly producerId: bigint; readonly producerEpoch: number; readonly baseSequence: number } | null;
  /** Seal order within the producer: retried batches go back into their queue in this order. */
  readonly order: number;
  /** Sends so far that failed. */
  attempts: number;
  /** Not to be sent again before this time (retry backoff). */
  notBeforeMs: number;
}

/** The batches of one partition waiting to be sent, oldest first, and those sent and not yet answered. */
export interface PartitionQueue<T = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly ready: ProducerBatch<T>[];
  readonly inFlight: Set<ProducerBatch<T>>;
}

/** The batches of one partition within a request. */
export interface PlannedPartition<T = unknown> {
  readonly queue: PartitionQueue<T>;
  readonly batches: ProducerBatch<T>[];
}

/** First-time batches of one partition in one request; at most the broker's PRODUCER_BATCHES_KEPT (5). */
export const BATCHES_PER_PARTITION_MAX = 5;
/** Batches of one partition sent and unanswered when pipelined; the broker's PRODUCER_BATCHES_KEPT (5). */
export const IN_FLIGHT_BATCHES_PER_PARTITION_MAX = 5;

/** Bytes of a Produce frame besides the record batches: frame header, acks, timeoutMs, array counts. */
export const PRODUCE_REQUEST_FIXED_BYTES = 8 + 1 + 4 + 4;
/** Per topic: name length (u16) plus at most 3 bytes per UTF-16 unit, and the partitions count. */
const topicBytes = (topic: string): number => 2 + 3 * topic.length + 4;
/** Per partition: partition i32 and the records' u32 length. */
const PARTITION_BYTES = 4 + 4;

/** The batch at the head of `queue` may be sent now. */
export function isSendable(queue: PartitionQueue, nowMs: number, pipelined: boolean): boolean {
  const head = queue.ready[0];
  if (head === undefined || head.notBeforeMs > nowMs) return false;
  if (!pipelined || head.attempts > 0) return queue.inFlight.size === 0;
  return queue.inFlight.size < IN_FLIGHT_BATCHES_PER_PARTITION_MAX;
}

/**
 * Takes batches out of the sendable queues into requests of at most `requestBytesMax` bytes
 * (counting each batch at its `sizeBytes`). The batches move to their queue's `inFlight`; the
 * caller must take them out when each request is answered.
 */
export function planRequests<T>(queues: Iterable<PartitionQueue<T>>, nowMs: number, requestBytesMax: number, pipelined: boolean): PlannedPartition<T>[][] {
  const requests: PlannedPartition<T>[][] = [];
  let current: PlannedPartition<T>[] = [];
  let currentBytes = PRODUCE_REQUEST_FIXED_BYTES;
  const topicsInCurrent = new Set<string>();
  for (const queue of queues) {
    if (!isSendable(queue, nowMs, pipelined)) continue;
    const overhead = PARTITION_BYTES + (topicsInCurrent.has(queue.topic) ? 0 : topicBytes(queue.topic));
    const headBytes = queue.ready[0]!.sizeBytes;
    if (current.length > 0 && currentBytes + overhead + headBytes > requestBytesMax) {
      requests.push(current);
      current = [];
      currentBytes = PRODUCE_REQUEST_FIXED_BYTES;
      topicsInCurrent.clear();
    }
    const room = requestBytesMax - currentBytes - PARTITION_BYTES - (topicsInCurrent.has(queue.topic) ? 0 : topicBytes(queue.topic));
    const batches = takeBatches(queue, room, pipelined ? IN_FLIGHT_BATCHES_PER_PARTITION_MAX - queue.inFlight.size : BATCHES_PER_PARTITION_MAX);
    currentBytes += PARTITION_BYTES + (topicsInCurrent.has(queue.topic) ? 0 : topicBytes(queue.topic));
    currentBytes += batches.reduce((sum, batch) => sum + batch.sizeBytes, 0);
    topicsInCurrent.add(queue.topic);
    for (const batch of batches) queue.inFlight.add(batch);
    current.push({ queue, batches });
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

// The head batch always goes (a frame too large for it fails it with MESSAGE_TOO_LARGE); first-time batches
// behind it join while they fit, retried ones never do.
function takeBatches<T>(queue: PartitionQueue<T>, roomBytes: number, countMax: number): ProducerBatch<T>[] {
  const head = queue.ready[0]!;
  let count = 1;
  let bytes = head.sizeBytes;
  if (head.attempts === 0) {
    while (count < queue.ready.length && count < Math.min(countMax, BATCHES_PER_PARTITION_MAX)) {
      const next = queue.ready[count]!;
      if (next.attempts > 0 || bytes + next.sizeBytes > roomBytes) break;
      bytes += next.sizeBytes;
      count += 1;
    }
  }
  return queue.ready.splice(0, count);
}

/** The Produce request's topics for planned partitions (topics in first-seen order). */
export function produceTopicsOf<T>(planned: readonly PlannedPartition<T>[], bytesOf: (batch: ProducerBatch<T>) => Uint8Array): ProduceTopic[] {
  const byTopic = new Map<string, Array<{ partition: number; records: Uint8Array }>>();
  for (const { queue, batches } of planned) {
    let partitions = byTopic.get(queue.topic);
    if (partitions === undefined) {
      partitions = [];
      byTopic.set(queue.topic, partitions);
    }
    const parts = batches.map(bytesOf);
    partitions.push({ partition: queue.partition, records: concatBytes(parts, parts.reduce((sum, part) => sum + part.length, 0)) });
  }
  return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
}

/** What becomes of the batches of one partition whose request failed. */
export interface FailurePlan<T> {
  /** The broker wrote none of them: they go again under a new producer id, with new sequences. */
  readonly restamp: boolean;
  /** To go again, in the order they came. */
  readonly retry: ProducerBatch<T>[];
  /** To fail with the error: not retriable, or out of attempts. */
  readonly fail: ProducerBatch<T>[];
}

/** Errors after which the broker wrote nothing and the batch may go again under a new producer id. */
const RESTAMP_ERRORS: ReadonlySet<string> = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID']);

/**
 * Counts one failed attempt of each of `batches` (a partition's request that failed with `error`;
 * already out of `queue.inFlight`) and says which go again. Out of sequence behind an earlier
 * batch of the partition that failed or is unanswered is that batch's doing: these go again in
 * line after it, with the same sequence. Only with nothing of the partition ahead of them does
 * the broker's answer mean a real gap, and they are restamped (as after UNKNOWN_PRODUCER_ID).
 * With acks 0 nothing is retried: the broker says nothing of what it wrote.
 */
export function planAfterFailure<T>(queue: PartitionQueue<T>, batches: readonly ProducerBatch<T>[], error: Error, acks: 0 | 1 | -1, retries: number): FailurePlan<T> {
  const first = batches[0]!.order;
  const behindAnother = [...queue.inFlight].some((batch) => batch.order < first) || queue.ready.some((batch) => batch.attempts > 0 && batch.order < first);
  const errorName = error instanceof SluiceError ? error.errorName : null;
  const inLine = errorName === 'OUT_OF_ORDER_SEQUENCE_NUMBER' && behindAnother;
  const restamp = errorName !== null && RESTAMP_ERRORS.has(errorName) && !inLine;
  const retriable = acks !== 0 && (retryActionFor(error) !== 'fail' || restamp || inLine);
  const retry: ProducerBatch<T>[] = [];
  const fail: ProducerBatch<T>[] = [];
  for (const batch of batches) {
    batch.attempts += 1;
    (retriable && batch.attempts <= retries ? retry : fail).push(batch);
  }
  return { restamp, retry, fail };
}
