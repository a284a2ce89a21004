import { SluiceError } from '../../errors/sluice-error.js';
import { ListOffsetsSpec, type FetchRequest, type FetchResponse, type ListOffsetsRequest, type ListOffsetsResponse, type ListOffsetsResult } from '../../protocol/index.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import { fetchPartitions } from '../fetch-path.js';
import type { ResponseBudget } from '../response-budget.js';
import { OK, codeOf, type HandlerContext } from './handler-context.js';

// Room for everything in a Fetch response but the record bytes: header, and per partition its
// topic name and fixed fields. The records then get what is left of maxFrameBytes.
const FETCH_RESPONSE_FIXED_BYTES = 64;
const FETCH_PARTITION_FIXED_BYTES = 40;

/** Fetch: whole batches, long-polled up to min(maxWaitMs, fetchWaitMsMax). */
export async function handleFetch(context: HandlerContext, request: FetchRequest, budget: ResponseBudget): Promise<FetchResponse> {
  if (request.maxBytes <= 0) throw new SluiceError('INVALID_FETCH_SIZE', `maxBytes ${request.maxBytes}`);
  const overheadBytes = FETCH_RESPONSE_FIXED_BYTES + request.partitions.reduce((sum, p) => sum + FETCH_PARTITION_FIXED_BYTES + p.topic.length * 4, 0);
  const frameRoomBytes = context.config.maxFrameBytes - overheadBytes;
  if (frameRoomBytes < context.config.batchBytesMax) throw new SluiceError('INVALID_REQUEST', `a fetch of ${request.partitions.length} partitions leaves no room for records in a frame`);
  const outputs = await fetchPartitions(request.partitions, {
    maxWaitMs: Math.min(Math.max(request.maxWaitMs, 0), context.config.fetchWaitMsMax),
    minBytes: request.minBytes,
    // The first batch may exceed maxBytes, but never what a frame can carry.
    maxBytes: Math.min(request.maxBytes, frameRoomBytes - context.config.batchBytesMax),
    overshootBytesMax: context.config.batchBytesMax,
    isReplica: request.replicaId >= 0,
  }, (topic, partition) => context.partitions.leader(topic, partition).log, budget);
  context.metrics?.fetched('ws', outputs.reduce((sum, output) => sum + output.records.length, 0));
  return {
    ...OK,
    partitions: outputs.map((output) => ({
      topic: output.topic, partition: output.partition, errorCode: codeOf(output.errorName),
      highWatermark: output.highWatermark, logStartOffset: output.logStartOffset, records: output.records,
    })),
  };
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
