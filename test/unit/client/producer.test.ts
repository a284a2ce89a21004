import { describe, expect, it } from 'vitest';
import { Consumer } from '../../../src/client/consumer.js';
import { SluiceClientError } from '../../../src/client/errors.js';
import { Producer, type ProducerOptions, type RecordMetadata } from '../../../src/client/producer.js';
import { ERROR_CODES, SluiceError } from '../../../src/errors/index.js';
import { ApiKey, type ProduceRequest, type ProduceResponse } from '../../../src/protocol/index.js';
import { decodeBatchHeader, decodeRecords } from '../../../src/record/index.js';
import { mulberry32 } from '../../helpers/random.js';
import { FakeBroker, OK, headerOnly } from './fake-broker.js';

/**
 * The Producer (and the Consumer's committed-offset fallback) against an in-process fake broker:
 * batching, sequences, retries and fallbacks, with every request the client made in view.
 */

const SEED = 0x9d0d_0ce4;

function setup(topics: Record<string, number>, options: Partial<ProducerOptions> = {}): { broker: FakeBroker; producer: Producer } {
  const broker = new FakeBroker();
  for (const [name, count] of Object.entries(topics)) broker.topics.set(name, count);
  const producer = new Producer({ url: 'ws://fake:1', webSocketFactory: broker.factory, random: mulberry32(SEED), retryBackoffMs: 1, retryBackoffMsMax: 2, ...options });
  return { broker, producer };
}

/** Fails the first `count` Produce requests with `errorName` for every partition, then appends. */
function failFirstProduces(broker: FakeBroker, count: number, errorName: keyof typeof ERROR_CODES): void {
  let failed = 0;
  broker.handlers[ApiKey.Produce] = (request) => {
    if (failed >= count) return broker.append(request);
    failed += 1;
    return { ...OK, topics: request.topics.map((topic) => ({ name: topic.name, partitions: topic.partitions.map(({ partition }) => ({ partition, errorCode: ERROR_CODES[errorName].code, baseOffset: -1, logStartOffset: -1 })) })) };
  };
}

/** The base sequence of every batch of a Produce request, in order. */
function batchSequences(request: ProduceRequest): number[] {
  const sequences: number[] = [];
  for (const topic of request.topics) {
    for (const { records } of topic.partitions) {
      for (let position = 0; position < records.length;) {
        const header = decodeBatchHeader(records, position);
        sequences.push(header.producer?.baseSequence ?? -1);
        position += header.batchLength + 12;
      }
    }
  }
  return sequences;
}

describe('the producer', () => {
  it('gathers waiting sends into one batch per partition, and one request for all partitions', async () => {
    const { broker, producer } = setup({ t: 3 }, { lingerMs: 60_000 });
    const sends = Array.from({ length: 30 }, (_, index) => producer.send({ topic: 't', value: `v${index}`, partition: index % 3 }));
    await producer.flush();
    const results = await Promise.all(sends);
    expect(broker.requestsOf(ApiKey.Produce)).toHaveLength(1);
    expect(broker.produced.map((batch) => [batch.partition, batch.header.recordCount])).toEqual([[0, 10], [1, 10], [2, 10]]);
    expect(results.filter((result) => result.partition === 1).map((result) => result.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await producer.close();
  });

  it('sends a batch once it has lingered lingerMs', async () => {
    const { broker, producer } = setup({ t: 1 }, { lingerMs: 30 });
    const startedMs = Date.now();
    await Promise.all(Array.from({ length: 3 }, () => producer.send({ topic: 't', value: 'x' })));
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(25);
    expect(broker.produced.map((batch) => batch.header.recordCount)).toEqual([3]);
    await producer.close();
  });

  it('seals a batch at batchBytes, sends batches that filled up meanwhile together, and flush() sends the lingering rest', async () => {
    const { broker, producer } = setup({ t: 1 }, { lingerMs: 60_000, batchBytes: 1_024 });
    const sends = Array.from({ length: 40 }, () => producer.send({ topic: 't', value: new Uint8Array(100) }));
    await producer.flush();
    const results = await Promise.all(sends);
    const batches = broker.produced;
    expect(batches.length).toBeGreaterThan(3);
    for (const batch of batches) expect(batch.bytes.length).toBeLessThanOrEqual(1_024);
    expect(results.map((result) => result.offset)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // The first full batch went alone; the ones that filled up meanwhile followed together.
    expect(broker.requestsOf(ApiKey.Produce).length).toBeLessThan(batches.length + 1);
    await producer.close();
  });

  it('stamps producer id, epoch and per-partition sequences when the broker grants an id', async () => {
    const { broker, producer } = setup({ t: 2 }, { lingerMs: 0 });
    await Promise.all(Array.from({ length: 5 }, (_, index) => producer.send({ topic: 't', value: 'a', partition: index % 2 })));
    await Promise.all(Array.from({ length: 3 }, () => producer.send({ topic: 't', value: 'b', partition: 0 })));
    expect(producer.idempotenceActive).toBe(true);
    expect(producer.producerId).toBe(1000n);
    const sequences = broker.produced.map((batch) => [batch.partition, batch.header.producer?.producerId, batch.header.producer?.baseSequence, batch.header.recordCount]);
    expect(sequences).toEqual([[0, 1000n, 0, 3], [1, 1000n, 0, 2], [0, 1000n, 3, 3]]);
    await producer.close();
  });

  it('falls back to running without idempotence, and says why, when the broker does not serve InitProducerId', async () => {
    const { broker, producer } = setup({ t: 1 });
    broker.handlers[ApiKey.InitProducerId] = () => headerOnly('INVALID_REQUEST', 'apiKey 10 is planned but not served yet');
    await expect(producer.send({ topic: 't', value: 'x' })).resolves.toMatchObject({ partition: 0, offset: 0 });
    expect(producer.idempotenceActive).toBe(false);
    expect(producer.idempotenceFallbackReason).toContain('does not serve InitProducerId');
    expect(broker.produced[0]!.header.producer).toBeNull();
    await producer.send({ topic: 't', value: 'y' });
    expect(broker.requestsOf(ApiKey.InitProducerId)).toHaveLength(1);
    await producer.close();
  });

  it('retries a retriable error with the very same bytes, so the broker can recognise a duplicate', async () => {
    const { broker, producer } = setup({ t: 1 });
    let firstAttempt: Uint8Array | null = null;
    let failed = false;
    broker.handlers[ApiKey.Produce] = (request) => {
      if (failed) return broker.append(request);
      failed = true;
      firstAttempt = request.topics[0]!.partitions[0]!.records.slice();
      return { ...OK, topics: [{ name: 't', partitions: [{ partition: 0, errorCode: ERROR_CODES.NOT_LEADER_OR_FOLLOWER.code, baseOffset: -1, logStartOffset: -1 }] }] };
    };
    await expect(producer.send({ topic: 't', value: 'again' })).resolves.toMatchObject({ offset: 0 });
    expect(broker.produced).toHaveLength(1);
    expect(broker.produced[0]!.bytes).toEqual(firstAttempt);
    await producer.close();
  });

  it('pipelines a partition: when a request fails, the batches in flight behind it fail out of sequence and go again in seal order with their sequences, under the same producer id', async () => {
    const { broker, producer } = setup({ t: 1 }, { lingerMs: 0, batchBytes: 200 });
    const held: Array<{ request: ProduceRequest; answer: (response: ProduceResponse) => void }> = [];
    broker.handlers[ApiKey.Produce] = (request) => {
      if (held.length >= 2) return broker.append(request);
      return new Promise((answer) => held.push({ request, answer }));
    };
    const heldCount = async (count: number): Promise<void> => {
      for (let turn = 0; turn < 100 && held.length < count; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(held).toHaveLength(count);
    };
    // 150-byte values: one record per batch. Two go in the first request; the third, sent while
    // that one is unanswered, goes in a second request on the same partition.
    const send = (index: number): Promise<RecordMetadata> => producer.send({ topic: 't', value: new Uint8Array(150).fill(index) });
    const sends = [send(0), send(1)];
    await heldCount(1);
    sends.push(send(2));
    await heldCount(2);
    expect(held.map(({ request }) => batchSequences(request))).toEqual([[0, 1], [2]]);
    const refuse = (errorName: keyof typeof ERROR_CODES, request: ProduceRequest): ProduceResponse =>
      ({ ...OK, topics: [{ name: 't', partitions: [{ partition: request.topics[0]!.partitions[0]!.partition, errorCode: ERROR_CODES[errorName].code, baseOffset: -1, logStartOffset: -1 }] }] });
    held[0]!.answer(refuse('NOT_LEADER_OR_FOLLOWER', held[0]!.request));
    held[1]!.answer(refuse('OUT_OF_ORDER_SEQUENCE_NUMBER', held[1]!.request));
    expect((await Promise.all(sends)).map((result) => result.offset)).toEqual([0, 1, 2]);
    expect(broker.requestsOf(ApiKey.InitProducerId)).toHaveLength(1);
    expect(broker.produced.map((batch) => [batch.header.producer?.producerId, batch.header.producer?.baseSequence, decodeRecords(batch.bytes)[0]!.value![0]])).toEqual([[1000n, 0, 0], [1000n, 1, 1], [1000n, 2, 2]]);
    // The retried batches went one per request, after the failed requests.
    expect(broker.requestsOf(ApiKey.Produce).slice(2).map(batchSequences)).toEqual([[0], [1], [2]]);
    await producer.close();
  });

  it('keeps a partition\'s batch open while its pipeline is full, so sends made meanwhile leave together once an answer frees room', async () => {
    const { broker, producer } = setup({ t: 1 }, { lingerMs: 0 });
    // Each request is answered (appended) only when the test says so.
    const held: Array<{ request: ProduceRequest; answer: () => void }> = [];
    broker.handlers[ApiKey.Produce] = (request) => new Promise((answer) => held.push({
      request,
      answer: () => {
        const appended = broker.append(request);
        if (appended === null) throw new Error('acks 0 was not asked for');
        answer(appended);
      },
    }));
    const turns = async (count: number): Promise<void> => {
      for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
    };
    const sends: Array<Promise<RecordMetadata>> = [];
    // One send per turn of the event loop: each seals alone (lingerMs 0) while there is room.
    for (let index = 0; index < 5; index++) {
      sends.push(producer.send({ topic: 't', value: `early${index}` }));
      await turns(3);
    }
    expect(held.map(({ request }) => batchSequences(request))).toEqual([[0], [1], [2], [3], [4]]);
    // Five batches unanswered: the next 20 sends, over 20 turns, wait in one open batch.
    for (let index = 0; index < 20; index++) {
      sends.push(producer.send({ topic: 't', value: `late${index}` }));
      await turns(1);
    }
    await turns(10);
    expect(held).toHaveLength(5);
    held[0]!.answer();
    for (let turn = 0; turn < 100 && held.length < 6; turn++) await turns(1);
    expect(held).toHaveLength(6);
    expect(batchSequences(held[5]!.request)).toEqual([5]);
    for (const { answer } of held.slice(1)) answer();
    const results = await Promise.all(sends);
    expect(results.map((result) => result.offset)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(broker.produced.map((batch) => batch.header.recordCount)).toEqual([1, 1, 1, 1, 1, 20]);
    await producer.close();
  });

  it('takes a new producer id and restamps the batch after OUT_OF_ORDER_SEQUENCE_NUMBER (nothing was written)', async () => {
    const { broker, producer } = setup({ t: 1 });
    failFirstProduces(broker, 1, 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    await expect(producer.send({ topic: 't', value: 'x' })).resolves.toMatchObject({ offset: 0 });
    expect(broker.requestsOf(ApiKey.InitProducerId)).toHaveLength(2);
    expect(broker.produced[0]!.header.producer).toMatchObject({ producerId: 1001n, baseSequence: 0 });
    await producer.close();
  });

  it('sends a retry whose backoff ends while a drain runs (a clock that moves between readings)', async () => {
    // Each reading of the clock is 1 ms later than the last, as under heavy load, so for some
    // backoff a drain judges the retry not yet due and, by the end of the same drain, it is. It
    // must still be woken. Backoffs of 1 to 20 ms cover every such gap.
    for (let backoffMs = 1; backoffMs <= 20; backoffMs++) {
      let clockMs = 1_700_000_000_000;
      const { broker, producer } = setup({ t: 1 }, { nowMs: () => (clockMs += 1), retryBackoffMs: backoffMs, retryBackoffMsMax: backoffMs, random: () => 0.5 });
      failFirstProduces(broker, 1, 'REQUEST_TIMED_OUT');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        producer.send({ topic: 't', value: 'x' }),
        new Promise((resolve) => { timer = setTimeout(() => resolve('stranded'), 2_000); }),
      ]);
      clearTimeout(timer);
      expect(outcome, `backoff ${backoffMs} ms`).toMatchObject({ offset: 0 });
      expect(broker.requestsOf(ApiKey.Produce)).toHaveLength(2);
      await producer.close();
    }
  });

  it('fails the records with the last typed error once `retries` retries are spent', async () => {
    const { broker, producer } = setup({ t: 1 }, { retries: 3 });
    failFirstProduces(broker, 100, 'REQUEST_TIMED_OUT');
    const error = await producer.send({ topic: 't', value: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).errorName).toBe('REQUEST_TIMED_OUT');
    expect(broker.requestsOf(ApiKey.Produce)).toHaveLength(4);
    await producer.close();
  });

  it('does not retry an error that is not retriable', async () => {
    const { broker, producer } = setup({ t: 1 });
    failFirstProduces(broker, 100, 'MESSAGE_TOO_LARGE');
    await expect(producer.send({ topic: 't', value: 'x' })).rejects.toMatchObject({ errorName: 'MESSAGE_TOO_LARGE' });
    expect(broker.requestsOf(ApiKey.Produce)).toHaveLength(1);
    await producer.close();
  });

  it('fails sends to a topic the broker does not have, after retrying its metadata', async () => {
    const { broker, producer } = setup({}, { retries: 2 });
    await expect(producer.send({ topic: 'nope', value: 'x' })).rejects.toMatchObject({ errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(broker.requestsOf(ApiKey.Metadata)).toHaveLength(3);
    await producer.close();
  });

  it('keeps null-key records on one partition per batch and moves on after each batch', async () => {
    const { broker, producer } = setup({ t: 4 }, { lingerMs: 0, idempotent: false });
    for (let round = 0; round < 12; round++) await Promise.all(Array.from({ length: 5 }, () => producer.send({ topic: 't', value: 'n' })));
    expect(broker.produced.map((batch) => batch.header.recordCount)).toEqual(new Array(12).fill(5));
    const partitions = broker.produced.map((batch) => batch.partition);
    for (let index = 1; index < partitions.length; index++) expect(partitions[index]).not.toBe(partitions[index - 1]);
    await producer.close();
  });

  it('refuses bad input with invalid-argument before anything is sent, and sends after close with client-closed', async () => {
    const { broker, producer } = setup({ t: 1 });
    await expect(producer.send({ topic: '', value: 'x' })).rejects.toMatchObject({ reason: 'invalid-argument' });
    await expect(producer.send({ topic: 't', value: 42 as unknown as string })).rejects.toMatchObject({ reason: 'invalid-argument' });
    await expect(producer.send({ topic: 't', value: 'x', partition: -1 })).rejects.toMatchObject({ reason: 'invalid-argument' });
    expect(broker.requestsOf(ApiKey.Produce)).toHaveLength(0);
    await producer.close();
    await expect(producer.send({ topic: 't', value: 'x' })).rejects.toBeInstanceOf(SluiceClientError);
    expect(() => new Producer({ url: 'ws://fake:1', lingerMs: -1 })).toThrow('producer.lingerMs = -1');
    expect(() => new Producer({ url: 'ws://fake:1', acks: 2 as 1 })).toThrow('acks 2');
  });
});

describe("the consumer's committed offsets against a broker that does not serve them", () => {
  it("starts from fallbackPosition when OffsetFetch is not served, and commit() throws not-served", async () => {
    const broker = new FakeBroker();
    broker.topics.set('t', 1);
    broker.handlers[ApiKey.ListOffsets] = (request) => ({
      ...OK, partitions: request.partitions.map(({ topic, partition, spec }) => ({ topic, partition, errorCode: 0, found: true, offset: spec === 0 ? 5 : 42, timestamp: 0 })),
    });
    const consumer = new Consumer({ url: 'ws://fake:1', webSocketFactory: broker.factory, groupId: 'g', fallbackPosition: 'earliest', autoCommit: false });
    await consumer.subscribe(['t']);
    expect(consumer.progress()).toEqual([{ topic: 't', partition: 0, position: 5, highWatermark: 0 }]);
    expect(consumer.committedOffsetsAvailable).toBe(false);
    expect(broker.requestsOf(ApiKey.Subscribe)).toMatchObject([{ topic: 't', partition: 0, offset: 5 }]);
    const error = await consumer.commit().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SluiceClientError);
    expect((error as SluiceClientError).reason).toBe('not-served');
    expect((error as SluiceClientError).message).toContain('OffsetCommit');
    await consumer.close();
  });
});
