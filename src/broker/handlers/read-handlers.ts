import { SluiceError } from '../../errors/sluice-error.js';
import {
  ListOffsetsSpec, NO_LEADER_EPOCH,
  type FetchPartition, type FetchPartitionResult, type FetchRequest, type FetchResponse, type ListOffsetsRequest, type ListOffsetsResponse,
  type ListOffsetsResult,
} from '../../protocol/index.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import { fetchPartitions, type LogLookup } from '../fetch-path.js';
import type { ResponseBudget } from '../response-budget.js';
import { OK, codeOf, type HandlerContext } from './handler-context.js';
import { checkCurrentLeaderEpoch } from './leader-epoch-handler.js';

// Room for everything in a Fetch response but the record bytes: header, and per partition its
// topic name and fixed fields. The records then get what is left of maxFrameBytes.
const FETCH_RESPONSE_FIXED_BYTES = 64;
const FETCH_PARTITION_FIXED_BYTES = 40;

/**
 * Fetch: whole batches, long-polled up to min(maxWaitMs, fetchWaitMsMax). A partition whose
 * `currentLeaderEpoch` does not match the leader's is answered with FENCED_LEADER_EPOCH or
 * UNKNOWN_LEADER_EPOCH and no records; the others are read as usual.
 */
export async function handleFetch(context: HandlerContext, request: FetchRequest, budget: ResponseBudget): Promise<FetchResponse> {
  if (request.maxBytes <= 0) throw new SluiceError('INVALID_FETCH_SIZE', `maxBytes ${request.maxBytes}`);
  const overheadBytes = FETCH_RESPONSE_FIXED_BYTES + request.partitions.reduce((sum, p) => sum + FETCH_PARTITION_FIXED_BYTES + p.topic.length * 4, 0);
  const frameRoomBytes = context.config.maxFrameBytes - overheadBytes;
  if (frameRoomBytes < context.config.batchBytesMax) throw new SluiceError('INVALID_REQUEST', `a fetch of ${request.partitions.length} partitions leaves no room for records in a frame`);
  const { fenced, readable, lookup } = splitByLeaderEpoch(context, request.partitions);
  if (request.replicaId >= 0) recordFollowerProgress(context, request.replicaId, readable);
  // A fenced partition is an error its sender must act on now: no long poll then, as in Kafka.
  const maxWaitMs = fenced.size > 0 ? 0 : Math.min(Math.max(request.maxWaitMs, 0), context.config.fetchWaitMsMax);
  const read = readable.length === 0 ? [] : await readPartitions(context, request, readable, { maxWaitMs, lookup, frameRoomBytes }, budget);
  context.metrics?.fetched('ws', read.reduce((sum, result) => sum + result.records.length, 0));
  // Answers in request order, the fenced ones where they were asked.
  const readInOrder = read[Symbol.iterator]();
  return { ...OK, partitions: request.partitions.map((_, index) => fenced.get(index) ?? readInOrder.next().value!) };
}

// A follower's fetch offset says how far it holds the log (fsynced): what moves the leader's high
// watermark and ISR. Partitions this broker does not lead are answered by the read itself.
function recordFollowerProgress(context: HandlerContext, replicaId: number, partitions: readonly FetchPartition[]): void {
  for (const partition of partitions) {
    try {
      context.partitions.leader(partition.topic, partition.partition).followerFetched(replicaId, partition.fetchOffset);
    } catch (error) {
      if (!(error instanceof SluiceError)) throw error;
    }
  }
}

async function readPartitions(
  context: HandlerContext, request: FetchRequest, partitions: readonly FetchPartition[],
  { maxWaitMs, lookup, frameRoomBytes }: { maxWaitMs: number; lookup: LogLookup; frameRoomBytes: number }, budget: ResponseBudget,
): Promise<FetchPartitionResult[]> {
  const outputs = await fetchPartitions(partitions, {
    maxWaitMs,
    minBytes: request.minBytes,
    // The first batch may exceed maxBytes, but never what a frame can carry.
    maxBytes: Math.min(request.maxBytes, frameRoomBytes - context.config.batchBytesMax),
    overshootBytesMax: context.config.batchBytesMax,
    isReplica: request.replicaId >= 0,
    ...(request.replicaId >= 0 ? { alsoWakeOn: (wake: () => void) => context.partitions.watchReplicaData(request.replicaId, wake) } : {}),
  }, lookup, budget);
  return outputs.map((output) => ({
    topic: output.topic, partition: output.partition, errorCode: codeOf(output.errorName),
    highWatermark: output.highWatermark, logStartOffset: output.logStartOffset, records: output.records,
  }));
}

/**
 * Answers at once the partitions whose currentLeaderEpoch is not the leader's. For the rest, the
 * log lookup (used again after a long poll) checks the epoch once more, against the epoch the
 * request named for that partition, so that a leadership change during the wait is seen.
 */
function splitByLeaderEpoch(context: HandlerContext, partitions: readonly FetchPartition[]): {
  fenced: Map<number, FetchPartitionResult>; readable: FetchPartition[]; lookup: LogLookup;
} {
  const fenced = new Map<number, FetchPartitionResult>();
  const readable: FetchPartition[] = [];
  // The epoch each readable partition named; every checked one equals the leader's, so one per partition.
  const namedEpochs = new Map<string, number>();
  const keyOf = (topic: string, partition: number): string => `${partition}:${topic}`;
  for (const [index, asked] of partitions.entries()) {
    const epoch = asked.currentLeaderEpoch ?? NO_LEADER_EPOCH;
    try {
      if (epoch !== NO_LEADER_EPOCH) checkCurrentLeaderEpoch(epoch, context.partitions.leader(asked.topic, asked.partition), `${asked.topic}-${asked.partition}`);
    } catch (error) {
      if (!(error instanceof SluiceError)) throw error;
      // Not-leader and unknown-partition answers come from the read path, with its offsets.
      if (error.errorName === 'FENCED_LEADER_EPOCH' || error.errorName === 'UNKNOWN_LEADER_EPOCH') {
        fenced.set(index, { topic: asked.topic, partition: asked.partition, errorCode: error.code, highWatermark: -1, logStartOffset: -1, records: new Uint8Array(0) });
        continue;
      }
    }
    if (epoch !== NO_LEADER_EPOCH) namedEpochs.set(keyOf(asked.topic, asked.partition), epoch);
    readable.push(asked);
  }
  const lookup: LogLookup = (topic, partition) => {
    const leader = context.partitions.leader(topic, partition);
    checkCurrentLeaderEpoch(namedEpochs.get(keyOf(topic, partition)), leader, `${topic}-${partition}`);
    return leader.log;
  };
  return { fenced, readable, lookup };
}

/** ListOffsets: earliest, latest (high watermark) or the first offset at or after a timestamp. */
export async function handleListOffsets(context: HandlerContext, request: ListOffsetsRequest): Promise<ListOffsetsResponse> {
  const partitions: ListOffsetsResult[] = [];
  for (const asked of request.partitions) {
    const base = { topic: asked.topic, partition: asked.partition };
    try {
      const { log } = context.partitions.leader(asked.topic, asked.partition);
      const offset = await offsetFor(log, asked.spec, asked.timestamp);
      partitions.push({ ...base, errorCode: 0, found: offset !== null, offset: offset ?? -1, timestamp: asked.timestamp });
    } catch (error) {
      if (!(error instanceof SluiceError)) throw error;
      partitions.push({ ...base, errorCode: error.code, found: false, offset: -1, timestamp: asked.timestamp });
    }
  }
  return { ...OK, partitions };
}

async function offsetFor(log: PartitionLog, spec: number, timestamp: number): Promise<number | null> {
  if (spec === ListOffsetsSpec.earliest) return log.logStartOffset;
  if (spec === ListOffsetsSpec.latest) return log.highWatermark;
  if (spec !== ListOffsetsSpec.byTimestamp) throw new SluiceError('INVALID_REQUEST', `ListOffsets spec ${spec}`);
  const offset = await log.offsetForTimestamp(timestamp);
  // Only what consumers may read counts as found.
  return offset !== null && offset < log.highWatermark ? offset : null;
}
