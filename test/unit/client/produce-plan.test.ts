import { describe, expect, it } from 'vitest';
import { RecordBatchBuilder } from '../../../src/record/index.js';
import { SluiceClientError } from '../../../src/client/errors.js';
import {
  BATCHES_PER_PARTITION_MAX, IN_FLIGHT_BATCHES_PER_PARTITION_MAX, PRODUCE_REQUEST_FIXED_BYTES, planAfterFailure, planRequests, produceTopicsOf,
  type PartitionQueue, type ProducerBatch,
} from '../../../src/client/produce-plan.js';
import { SluiceError } from '../../../src/errors/sluice-error.js';

let sealed = 0;

function batch(sizeBytes: number, attempts = 0, notBeforeMs = 0): ProducerBatch<number> {
  return { topic: 't', partition: 0, tickets: [], builder: new RecordBatchBuilder(), sizeBytes, order: sealed++, bytes: new Uint8Array(sizeBytes), sequence: null, attempts, notBeforeMs };
}

function queue(topic: string, partition: number, batches: ProducerBatch<number>[], inFlight: ProducerBatch<number>[] = []): PartitionQueue<number> {
  return { topic, partition, ready: batches, inFlight: new Set(inFlight) };
}

describe('planning Produce requests', () => {
  it('puts every sendable partition into one request while it fits, several first-time batches of a partition back to back', () => {
    const queues = [queue('t', 0, [batch(100), batch(100)]), queue('t', 1, [batch(100)]), queue('u', 0, [batch(100)])];
    const requests = planRequests(queues, 0, 10_000, false);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.map((entry) => [entry.queue.topic, entry.queue.partition, entry.batches.length])).toEqual([['t', 0, 2], ['t', 1, 1], ['u', 0, 1]]);
    expect(queues.every((entry) => entry.inFlight.size > 0 && entry.ready.length === 0)).toBe(true);
    const topics = produceTopicsOf(requests[0]!, (entry) => entry.bytes!);
    expect(topics.map((topic) => [topic.name, topic.partitions.map((p) => [p.partition, p.records.length])])).toEqual([['t', [[0, 200], [1, 100]]], ['u', [[0, 100]]]]);
  });

  it('puts at most 5 first-time batches of a partition in one request, so a failover retry of each is still recognised as a duplicate', () => {
    const many = queue('t', 0, Array.from({ length: 12 }, () => batch(100)));
    const [request] = planRequests([many], 0, 100_000, false);
    expect(BATCHES_PER_PARTITION_MAX).toBe(5);
    expect(request!.map((entry) => entry.batches.length)).toEqual([5]);
    expect(many.ready).toHaveLength(7);
  });

  it('keeps one request outstanding per partition when not pipelined', () => {
    const busy = queue('t', 0, [batch(100)], [batch(100)]);
    expect(planRequests([busy], 0, 10_000, false)).toEqual([]);
    expect(busy.ready).toHaveLength(1);
  });

  it('pipelined, sends more of a partition while earlier requests are out, up to 5 batches unanswered in all', () => {
    const out = [batch(100), batch(100), batch(100)];
    const busy = queue('t', 0, Array.from({ length: 6 }, () => batch(100)), out);
    const [request] = planRequests([busy], 0, 10_000, true);
    expect(request!.map((entry) => entry.batches.length)).toEqual([IN_FLIGHT_BATCHES_PER_PARTITION_MAX - out.length]);
    expect(busy.inFlight.size).toBe(IN_FLIGHT_BATCHES_PER_PARTITION_MAX);
    expect(planRequests([busy], 0, 10_000, true)).toEqual([]);
  });

  it('pipelined, holds a retried batch until nothing of its partition is in flight', () => {
    const earlier = batch(100);
    const retried = queue('t', 0, [batch(100, 1), batch(100)], [earlier]);
    expect(planRequests([retried], 0, 10_000, true)).toEqual([]);
    retried.inFlight.delete(earlier);
    expect(planRequests([retried], 0, 10_000, true)[0]!.map((entry) => entry.batches.length)).toEqual([1]);
  });

  it('sends a retried batch alone, and first-time batches after it in a later request', () => {
    const retried = queue('t', 0, [batch(100, 1), batch(100), batch(100)]);
    const [request] = planRequests([retried], 0, 10_000, false);
    expect(request!.map((entry) => entry.batches.length)).toEqual([1]);
    expect(retried.ready).toHaveLength(2);
    retried.inFlight.clear();
    expect(planRequests([retried], 0, 10_000, false)[0]!.map((entry) => entry.batches.length)).toEqual([2]);
  });

  it('leaves a partition in backoff until its time, and those behind it too', () => {
    const waiting = queue('t', 0, [batch(100, 1, 500), batch(100)]);
    expect(planRequests([waiting], 499, 10_000, false)).toEqual([]);
    expect(planRequests([waiting], 500, 10_000, false)).toHaveLength(1);
  });

  it('splits into several requests so that none is larger than requestBytesMax, and never splits a batch', () => {
    const queues = Array.from({ length: 10 }, (_, partition) => queue('t', partition, [batch(400), batch(400)]));
    const requestBytesMax = 1_000;
    const requests = planRequests(queues, 0, requestBytesMax, false);
    expect(requests.length).toBeGreaterThan(1);
    for (const request of requests) {
      const bytes = PRODUCE_REQUEST_FIXED_BYTES + request.reduce((sum, entry) => sum + 8 + entry.batches.reduce((s, b) => s + b.sizeBytes, 0), 0) + 6 + 3;
      expect(bytes).toBeLessThanOrEqual(requestBytesMax);
    }
    expect(requests.flat().length).toBe(10);
  });

  it('always takes the head batch, even one larger than a request may be (the frame check then fails it)', () => {
    const huge = queue('t', 0, [batch(5_000)]);
    expect(planRequests([huge], 0, 1_000, false)[0]![0]!.batches).toHaveLength(1);
  });
});

describe('what becomes of the batches of a failed request', () => {
  const RETRIES = 3;

  it('sends them again after a retriable error, counting the attempt, with the same sequences', () => {
    const failed = [batch(100), batch(100)];
    const plan = planAfterFailure(queue('t', 0, []), failed, new SluiceError('REQUEST_TIMED_OUT', 'slow'), 1, RETRIES);
    expect(plan).toEqual({ restamp: false, retry: failed, fail: [] });
    expect(failed.map((entry) => entry.attempts)).toEqual([1, 1]);
  });

  it('sends them again after a lost connection or a moved leader', () => {
    for (const error of [new SluiceClientError('connection-closed', 'gone'), new SluiceError('NOT_LEADER_OR_FOLLOWER', 'moved')]) {
      const failed = [batch(100)];
      expect(planAfterFailure(queue('t', 0, []), failed, error, -1, RETRIES).retry).toEqual(failed);
    }
  });

  it('fails them after an error that is not retriable, or once their attempts are used up', () => {
    const tooLarge = [batch(100)];
    expect(planAfterFailure(queue('t', 0, []), tooLarge, new SluiceError('MESSAGE_TOO_LARGE', 'big'), 1, RETRIES)).toEqual({ restamp: false, retry: [], fail: tooLarge });
    const tired = batch(100, RETRIES);
    const fresh = batch(100);
    expect(planAfterFailure(queue('t', 0, []), [tired, fresh], new SluiceError('REQUEST_TIMED_OUT', 'slow'), 1, RETRIES)).toEqual({ restamp: false, retry: [fresh], fail: [tired] });
  });

  it('retries nothing with acks 0', () => {
    const failed = [batch(100)];
    expect(planAfterFailure(queue('t', 0, []), failed, new SluiceClientError('connection-closed', 'gone'), 0, RETRIES).fail).toEqual(failed);
  });

  it('restamps after UNKNOWN_PRODUCER_ID, and after OUT_OF_ORDER_SEQUENCE_NUMBER with nothing of the partition ahead', () => {
    const unknown = [batch(100)];
    expect(planAfterFailure(queue('t', 0, []), unknown, new SluiceError('UNKNOWN_PRODUCER_ID', 'who'), 1, RETRIES)).toEqual({ restamp: true, retry: unknown, fail: [] });
    const gap = [batch(100)];
    const later = batch(100);
    expect(planAfterFailure(queue('t', 0, [], [later]), gap, new SluiceError('OUT_OF_ORDER_SEQUENCE_NUMBER', 'gap'), 1, RETRIES)).toEqual({ restamp: true, retry: gap, fail: [] });
  });

  it('keeps the sequences of batches out of sequence behind an earlier one that is unanswered or waiting to go again', () => {
    const earlierInFlight = batch(100);
    const behindInFlight = [batch(100)];
    expect(planAfterFailure(queue('t', 0, [], [earlierInFlight]), behindInFlight, new SluiceError('OUT_OF_ORDER_SEQUENCE_NUMBER', 'gap'), 1, RETRIES))
      .toEqual({ restamp: false, retry: behindInFlight, fail: [] });
    const earlierRetrying = batch(100, 1);
    const behindRetry = [batch(100)];
    expect(planAfterFailure(queue('t', 0, [earlierRetrying]), behindRetry, new SluiceError('OUT_OF_ORDER_SEQUENCE_NUMBER', 'gap'), 1, RETRIES))
      .toEqual({ restamp: false, retry: behindRetry, fail: [] });
  });
});
