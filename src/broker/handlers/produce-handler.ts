import { SluiceError } from '../../errors/sluice-error.js';
import type { ProducePartitionResult, ProduceRequest, ProduceResponse } from '../../protocol/index.js';
import { appendRecords } from '../produce-path.js';
import type { LeaderAcks } from '../replication/partition-leadership.js';
import { OK, type HandlerContext } from './handler-context.js';

const ACKS_ALLOWED = new Set([0, 1, -1]);

/**
 * Produce: every partition is appended concurrently and answers on its own. With acks 1 a
 * partition's result waits for the leader's fsync, with -1 for the high watermark to cover it
 * (every ISR member fsynced; on a standalone broker the same thing); past `timeoutMs` it
 * reports REQUEST_TIMED_OUT, though the write may still land.
 * With acks 0 the appends happen and no response is sent (null).
 */
export async function handleProduce(context: HandlerContext, request: ProduceRequest): Promise<ProduceResponse | null> {
  context.metrics?.produceRequest('ws');
  if (!ACKS_ALLOWED.has(request.acks)) throw new SluiceError('INVALID_REQUIRED_ACKS', `acks ${request.acks}`);
  const topics = await Promise.all(request.topics.map(async (topic) => ({
    name: topic.name,
    partitions: await Promise.all(topic.partitions.map((partition) =>
      producePartition(context, topic.name, partition.partition, partition.records, request.acks === -1 ? -1 : 1, request.timeoutMs))),
  })));
  if (request.acks === 0) return null;
  return { ...OK, topics };
}

// acks 0 appends as acks 1 does; only the answer is left out.
async function producePartition(context: HandlerContext, topic: string, partition: number, records: Uint8Array, acks: LeaderAcks, timeoutMs: number): Promise<ProducePartitionResult> {
  try {
    // Internal topics are written only by the broker itself (OffsetCommit for __consumer_offsets).
    if (topic.startsWith('__')) throw new SluiceError('INVALID_TOPIC_EXCEPTION', `${topic} is internal; clients cannot produce to it`);
    const appended = appendRecords(context.partitions.leader(topic, partition), records, context.config.batchBytesMax, acks);
    const result = await withTimeout(appended, timeoutMs);
    context.metrics?.produced('ws', records);
    return { partition, errorCode: 0, baseOffset: result.baseOffset, logStartOffset: result.logStartOffset };
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    return { partition, errorCode: error.code, baseOffset: -1, logStartOffset: -1 };
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  if (timeoutMs <= 0) return promise;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SluiceError('REQUEST_TIMED_OUT', `not durable within ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error); },
    );
  });
}
