import { SluiceError } from '../errors/sluice-error.js';
import type { Cluster } from './cluster.js';
import { SluiceClientError, isSluiceClientError } from './errors.js';
import type { ClientLogger } from './logger.js';
import { fetchCommittedOffsetsRouted, listOffsetsRouted, type OffsetSpec, type TopicPartition } from './offsets.js';
import { partitionKey } from './record-accumulator.js';

/** Where to start reading a partition. */
export type StartPosition = 'earliest' | 'latest' | 'committed' | number | { readonly timestamp: number };

/**
 * What to do when there is no committed offset for the group, or the position is outside the
 * log (OFFSET_OUT_OF_RANGE, say after retention): start from the earliest or the latest offset
 * (Kafka's auto.offset.reset), or fail with the typed error.
 */
export type FallbackPosition = 'earliest' | 'latest' | 'error';

/** What resolving start positions needs from the consumer. */
export interface StartPositionContext {
  readonly cluster: Cluster;
  readonly groupId: string | null;
  readonly fallback: FallbackPosition;
  readonly logger: ClientLogger;
  /** The brokers do not serve committed offsets (OffsetFetch): the consumer says so, and starts from the fallback. */
  readonly committedOffsetsNotServed: () => void;
}

/**
 * The offset each assignment starts at: an offset as given; 'committed' as the group committed
 * it (the fallback position where it did not); 'earliest', 'latest' and a timestamp as the
 * partition's leader lists them, a timestamp past the last record counting as 'latest'.
 */
export async function resolveStartOffsets(context: StartPositionContext, assignments: ReadonlyArray<TopicPartition & { from: StartPosition }>): Promise<number[]> {
  const starts: Array<number | OffsetSpec | 'committed'> = assignments.map(({ from }) => checkedStart(from));
  const committed = assignments.filter((_, index) => starts[index] === 'committed');
  if (committed.length > 0) {
    const offsets = await committedOffsets(context, committed);
    assignments.forEach((assignment, index) => {
      if (starts[index] !== 'committed') return;
      const found = offsets.get(partitionKey(assignment.topic, assignment.partition)) ?? null;
      starts[index] = found ?? fallbackSpec(context.fallback, assignment, 'no committed offset');
    });
  }
  const queries = assignments.flatMap((assignment, index) => {
    const start = starts[index]!;
    return typeof start === 'number' ? [] : [{ topic: assignment.topic, partition: assignment.partition, spec: start as OffsetSpec }];
  });
  const listed = await listOffsetsRouted(context.cluster, queries);
  const latestNeeded = listed.filter((entry) => entry.offset === null);
  const latest = await listOffsetsRouted(context.cluster, latestNeeded.map(({ topic, partition }) => ({ topic, partition, spec: 'latest' as const })));
  const byKey = new Map([...listed, ...latest].filter((entry) => entry.offset !== null).map((entry) => [partitionKey(entry.topic, entry.partition), entry.offset!]));
  return assignments.map((assignment, index) => {
    const start = starts[index]!;
    return typeof start === 'number' ? start : byKey.get(partitionKey(assignment.topic, assignment.partition))!;
  });
}

/** The position to fall back to for `partition`, or OFFSET_OUT_OF_RANGE when the fallback is 'error'. */
export function fallbackSpec(fallback: FallbackPosition, partition: TopicPartition, why: string): OffsetSpec {
  if (fallback === 'error') {
    throw new SluiceError('OFFSET_OUT_OF_RANGE', `${partition.topic}/${partition.partition}: ${why}, and fallbackPosition is 'error'`);
  }
  return fallback;
}

// Committed offsets by partition; a broker without OffsetFetch counts as "none committed".
async function committedOffsets(context: StartPositionContext, partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
  if (context.groupId === null) throw new SluiceClientError('invalid-argument', "start position 'committed' needs a groupId");
  try {
    const offsets = await fetchCommittedOffsetsRouted(context.cluster, context.groupId, partitions);
    return new Map(offsets.filter((entry) => entry.offset !== null).map((entry) => [partitionKey(entry.topic, entry.partition), entry.offset!]));
  } catch (error) {
    if (!isSluiceClientError(error, 'not-served')) throw error;
    context.committedOffsetsNotServed();
    context.logger.warn({ groupId: context.groupId, fallbackPosition: context.fallback }, `${error.message}: starting from the fallback position`);
    return new Map();
  }
}

function checkedStart(from: StartPosition): number | OffsetSpec | 'committed' {
  if (from === 'earliest' || from === 'latest' || from === 'committed') return from;
  if (typeof from === 'number' && Number.isSafeInteger(from) && from >= 0) return from;
  if (typeof from === 'object' && from !== null && Number.isSafeInteger(from.timestamp)) return { timestamp: from.timestamp };
  throw new SluiceClientError('invalid-argument', `start position ${JSON.stringify(from)} is not 'earliest', 'latest', 'committed', an offset or { timestamp }`);
}
