import type { ErrorName } from '../errors/error-codes.js';
import { SluiceError } from '../errors/sluice-error.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { ResponseBudget } from './response-budget.js';

/** One partition of a fetch. */
export interface FetchPartitionInput {
  readonly topic: string;
  readonly partition: number;
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
}

/** What one partition of a fetch returns. */
export interface FetchPartitionOutput {
  readonly topic: string;
  readonly partition: number;
  readonly errorName: ErrorName | null;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly records: Uint8Array;
}

/** The whole-fetch bounds. */
export interface FetchBounds {
  /** Longest the broker waits for `minBytes`; already clamped by the caller. */
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** How far the first batch may take a response past maxBytes (batchBytesMax). */
  readonly overshootBytesMax: number;
  /** Followers read to the log end; consumers only to the high watermark. */
  readonly isReplica: boolean;
  /** Besides the fetched partitions' own advances, what else ends the long poll (a follower's other partitions). */
  readonly alsoWakeOn?: (wake: () => void) => () => void;
}

/** Finds the local log of a partition, or throws UNKNOWN_TOPIC_OR_PARTITION. */
export type LogLookup = (topic: string, partition: number) => PartitionLog;

const EMPTY = new Uint8Array(0);

/**
 * Answers a fetch: reads every partition once; if fewer than `minBytes` came back, waits until
 * some partition's high watermark advances or `maxWaitMs` passes, then reads once more. The
 * response stays within `maxBytes` overall, except that the first partition with data always
 * returns at least one whole batch, so a consumer can never be stalled by a large batch.
 * Each read first reserves what it may return (maxBytes, or less, plus one batch) from
 * `budget`, so reads for a client that does not take its responses wait instead of piling up.
 */
export async function fetchPartitions(inputs: readonly FetchPartitionInput[], bounds: FetchBounds, lookup: LogLookup, budget: ResponseBudget): Promise<FetchPartitionOutput[]> {
  const reserveBytes = Math.min(bounds.maxBytes, inputs.reduce((sum, input) => sum + Math.max(input.partitionMaxBytes, 0), 0)) + bounds.overshootBytesMax;
  await budget.reserve(reserveBytes);
  const first = await readAll(inputs, bounds, lookup);
  if (bounds.maxWaitMs === 0 || totalBytes(first) >= bounds.minBytes || first.some((output) => output.errorName !== null)) return first;
  // Nothing is held while waiting for data: a long poll must not block its connection's other reads.
  budget.releaseAll();
  await waitForData(inputs, bounds, lookup);
  await budget.reserve(reserveBytes);
  return readAll(inputs, bounds, lookup);
}

async function readAll(inputs: readonly FetchPartitionInput[], bounds: FetchBounds, lookup: LogLookup): Promise<FetchPartitionOutput[]> {
  const outputs: FetchPartitionOutput[] = [];
  let budget = bounds.maxBytes;
  for (const input of inputs) {
    const output = await readOne(input, bounds.isReplica, budget, lookup);
    // Only the first partition with data may overshoot the budget (by its first batch); a later
    // one whose first batch does not fit returns nothing this time.
    const overshoots = budget < bounds.maxBytes && output.records.length > budget;
    outputs.push(overshoots ? { ...output, records: EMPTY } : output);
    budget = Math.max(0, budget - (overshoots ? 0 : output.records.length));
  }
  return outputs;
}

async function readOne(input: FetchPartitionInput, isReplica: boolean, budgetBytes: number, lookup: LogLookup): Promise<FetchPartitionOutput> {
  const base = { topic: input.topic, partition: input.partition };
  let log: PartitionLog;
  try {
    log = lookup(input.topic, input.partition);
  } catch (error) {
    if (error instanceof SluiceError) return { ...base, errorName: error.errorName, highWatermark: -1, logStartOffset: -1, records: EMPTY };
    throw error;
  }
  const offsets = { highWatermark: log.highWatermark, logStartOffset: log.logStartOffset };
  if (input.partitionMaxBytes <= 0) return { ...base, ...offsets, errorName: 'INVALID_FETCH_SIZE', records: EMPTY };
  if (budgetBytes === 0) return { ...base, ...offsets, errorName: null, records: EMPTY };
  try {
    const bound = isReplica ? log.logEndOffset : log.highWatermark;
    const read = await log.read(input.fetchOffset, Math.min(input.partitionMaxBytes, budgetBytes), bound);
    return { ...base, ...offsets, errorName: null, records: read.bytes };
  } catch (error) {
    if (error instanceof SluiceError) return { ...base, ...offsets, errorName: error.errorName, records: EMPTY };
    throw error;
  }
}

// Resolves on the first advance of any fetched partition — its log end for a follower, its high
// watermark for a consumer — or after maxWaitMs. An advance that came while the first read was
// awaiting the disk would send no event now, so data already past the fetch offset ends the
// wait at once (without this check a follower's fetch slept through it, holding acks=all
// produces back by replicaFetchWaitMs).
function waitForData(inputs: readonly FetchPartitionInput[], { maxWaitMs, isReplica, alsoWakeOn }: FetchBounds, lookup: LogLookup): Promise<void> {
  return new Promise((resolve) => {
    const stops: Array<() => void> = [];
    const done = (): void => {
      clearTimeout(timer);
      for (const stop of stops) stop();
      resolve();
    };
    const timer = setTimeout(done, maxWaitMs);
    if (alsoWakeOn !== undefined) stops.push(alsoWakeOn(done));
    for (const input of inputs) {
      try {
        const log = lookup(input.topic, input.partition);
        if ((isReplica ? log.logEndOffset : log.highWatermark) > input.fetchOffset) return done();
        stops.push(isReplica ? log.watchLogEnd(done) : log.watchHighWatermark(done));
      } catch {
        // An unknown partition has nothing to wait for; the second read reports it.
      }
    }
  });
}

function totalBytes(outputs: readonly FetchPartitionOutput[]): number {
  return outputs.reduce((sum, output) => sum + output.records.length, 0);
}
