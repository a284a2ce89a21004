import { SluiceError } from '../../errors/sluice-error.js';
import type { OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse } from '../../protocol/index.js';
import { OK, type HandlerContext } from './handler-context.js';

/** OffsetCommit: all offsets of the request in one durable batch; they succeed or fail together. */
export async function handleOffsetCommit(context: HandlerContext, request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
  let errorCode = 0;
  try {
    if (request.group === '') throw new SluiceError('INVALID_REQUEST', 'the group id is empty');
    await context.ensureOffsetsTopic();
    await context.offsets.commit(request.group, request.generationId, request.offsets);
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    errorCode = error.code;
  }
  return { ...OK, results: request.offsets.map((entry) => ({ topic: entry.topic, partition: entry.partition, errorCode })) };
}

/** OffsetFetch: the last durable commit of each partition, `found` false when there is none; NOT_COORDINATOR where another broker coordinates the group. */
export async function handleOffsetFetch(context: HandlerContext, request: OffsetFetchRequest): Promise<OffsetFetchResponse> {
  await context.ensureOffsetsTopic();
  return {
    ...OK,
    results: request.partitions.map(({ topic, partition }) => {
      try {
        const committed = context.offsets.committed(request.group, topic, partition);
        return { topic, partition, errorCode: 0, found: committed !== null, offset: committed?.offset ?? -1, metadata: committed?.metadata ?? null };
      } catch (error) {
        if (!(error instanceof SluiceError)) throw error;
        return { topic, partition, errorCode: error.code, found: false, offset: -1, metadata: null };
      }
    }),
  };
}
