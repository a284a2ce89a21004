import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { API_VERSION, ApiKey, FrameKind, ListOffsetsSpec, PROTOCOL_VERSION, encodeFrame } from '../../src/protocol/index.js';
import { decodeRecords, encodeRecordBatch, type StoredRecord } from '../../src/record/index.js';
import { CliProcess, runCli } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';
import { WireClient } from '../helpers/wire-client.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

let broker: CliProcess;
let port: number;
let dataDir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = await makeTempDir('sluice-protocol-'));
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir, '--max-in-flight-requests-per-connection', '8']);
  port = (await broker.waitForLog('broker started')).port as number;
});

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

function batchOf(values: readonly string[]): Uint8Array {
  return encodeRecordBatch({ records: values.map((value, i) => ({ key: encoder.encode(`k${i}`), value: encoder.encode(value), headers: [], timestamp: 1_700_000_000_000 + i })) });
}

function recordsIn(bytes: Uint8Array): StoredRecord[] {
  const records: StoredRecord[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = new DataView(bytes.buffer, bytes.byteOffset + at).getInt32(8) + 12;
    records.push(...decodeRecords(bytes.subarray(at, at + size)));
    at += size;
  }
  return records;
}

async function createTopic(client: WireClient, name: string, partitionCount = 1): Promise<void> {
  const response = await client.request(ApiKey.CreateTopics, { topics: [{ name, partitionCount, replicationFactor: 1 }] });
  expect(response.errorCode).toBe(0);
  if (response.headerOnly) throw new Error('unexpected header-only response');
  expect(response.results[0]!.errorCode).toBe(0);
}

describe('the broker over WebSocket', () => {
  it('creates a topic, lists it in metadata, and refuses a bad name with a typed error', async () => {
    const client = await WireClient.ready(port);
    await createTopic(client, 'orders', 3);
    const metadata = await client.request(ApiKey.Metadata, { allTopics: false, topics: ['orders', 'nope'] });
    if (metadata.headerOnly) throw new Error('header-only');
    expect(metadata.brokers).toEqual([{ brokerId: 0, host: '127.0.0.1', port }]);
    expect(metadata.topics[0]).toMatchObject({ errorCode: 0, name: 'orders' });
    expect(metadata.topics[0]!.partitions.map((p) => [p.partition, p.leaderId, p.isr])).toEqual([[0, 0, [0]], [1, 0, [0]], [2, 0, [0]]]);
    expect(metadata.topics[1]).toMatchObject({ errorCode: ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION.code, partitions: [] });
    const bad = await client.request(ApiKey.CreateTopics, { topics: [{ name: 'bad/name', partitionCount: 1, replicationFactor: 1 }, { name: 'orders', partitionCount: 1, replicationFactor: 1 }] });
    if (bad.headerOnly) throw new Error('header-only');
    expect(bad.results.map((r) => r.errorCode)).toEqual([ERROR_CODES.INVALID_TOPIC_EXCEPTION.code, ERROR_CODES.TOPIC_ALREADY_EXISTS.code]);
    client.close();
  });

  it('acknowledges a produce only with durable offsets, and fetches the same bytes back', async () => {
    const client = await WireClient.ready(port);
    await createTopic(client, 'events');
    const produced = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'events', partitions: [{ partition: 0, records: batchOf(['a', 'b', 'c']) }] }] });
    if (produced.headerOnly) throw new Error('header-only');
    expect(produced.topics[0]!.partitions[0]).toMatchObject({ partition: 0, errorCode: 0, baseOffset: 0 });
    const second = await client.request(ApiKey.Produce, { acks: -1, timeoutMs: 10_000, topics: [{ name: 'events', partitions: [{ partition: 0, records: new Uint8Array([...batchOf(['d']), ...batchOf(['e', 'f'])]) }] }] });
    if (second.headerOnly) throw new Error('header-only');
    expect(second.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, baseOffset: 3 });

    const fetched = await client.request(ApiKey.Fetch, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, partitions: [{ topic: 'events', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] });
    if (fetched.headerOnly) throw new Error('header-only');
    const result = fetched.partitions[0]!;
    expect(result).toMatchObject({ errorCode: 0, highWatermark: 6, logStartOffset: 0 });
    expect(recordsIn(result.records).map((r) => [r.offset, decoder.decode(r.value!)])).toEqual([[0, 'a'], [1, 'b'], [2, 'c'], [3, 'd'], [4, 'e'], [5, 'f']]);

    const latest = await client.request(ApiKey.ListOffsets, { partitions: [{ topic: 'events', partition: 0, spec: ListOffsetsSpec.latest, timestamp: 0 }, { topic: 'events', partition: 0, spec: ListOffsetsSpec.byTimestamp, timestamp: 1_700_000_000_001 }] });
    if (latest.headerOnly) throw new Error('header-only');
    expect(latest.partitions.map((p) => [p.found, p.offset])).toEqual([[true, 6], [true, 1]]);
    client.close();

    const dump = await runCli(['dump-log', join(dataDir, 'events-0'), '--verify']);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain('offsets [0, 6) problems 0');
  });

  it('gives per-partition typed errors: unknown partition, damaged batch, offset out of range', async () => {
    const client = await WireClient.ready(port);
    await createTopic(client, 'typed');
    const damaged = batchOf(['x']);
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 0x01;
    const produced = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'typed', partitions: [{ partition: 7, records: batchOf(['y']) }, { partition: 0, records: damaged }] }] });
    if (produced.headerOnly) throw new Error('header-only');
    expect(produced.topics[0]!.partitions.map((p) => [p.errorCode, p.baseOffset])).toEqual([[ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION.code, -1], [ERROR_CODES.CORRUPT_MESSAGE.code, -1]]);
    const fetched = await client.request(ApiKey.Fetch, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024, partitions: [{ topic: 'typed', partition: 0, fetchOffset: 5, partitionMaxBytes: 1024 }] });
    if (fetched.headerOnly) throw new Error('header-only');
    expect(fetched.partitions[0]!.errorCode).toBe(ERROR_CODES.OFFSET_OUT_OF_RANGE.code);
    const badAcks = await client.request(ApiKey.Produce, { acks: 2, timeoutMs: 1000, topics: [] });
    expect(badAcks.errorCode).toBe(ERROR_CODES.INVALID_REQUIRED_ACKS.code);
    client.close();
  });

  it('long-polls a fetch until data arrives, and pushes a subscription within its credit', async () => {
    const producer = await WireClient.ready(port);
    const consumer = await WireClient.ready(port);
    await createTopic(producer, 'live');
    const waiting = consumer.request(ApiKey.Fetch, { replicaId: -1, maxWaitMs: 10_000, minBytes: 1, maxBytes: 1 << 20, partitions: [{ topic: 'live', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] });
    const first = batchOf(['one']);
    await producer.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'live', partitions: [{ partition: 0, records: first }] }] });
    const fetched = await waiting;
    if (fetched.headerOnly) throw new Error('header-only');
    expect(recordsIn(fetched.partitions[0]!.records).map((r) => decoder.decode(r.value!))).toEqual(['one']);

    // Credit for exactly one batch: the second waits until more is granted.
    const subscribed = await consumer.request(ApiKey.Subscribe, { topic: 'live', partition: 0, offset: 0, creditBytes: first.length });
    if (subscribed.headerOnly) throw new Error('header-only');
    await producer.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'live', partitions: [{ partition: 0, records: batchOf(['two']) }] }] });
    await until(() => consumer.pushes.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(consumer.pushes).toHaveLength(1);
    const credit = await consumer.request(ApiKey.Credit, { subscriptionId: subscribed.subscriptionId, creditBytes: 1 << 20 });
    expect(credit.errorCode).toBe(0);
    await until(() => consumer.pushes.length >= 2);
    const values = consumer.pushes.flatMap(({ push }) => recordsIn(push.records).map((r) => decoder.decode(r.value!)));
    expect(values).toEqual(['one', 'two']);
    expect(consumer.pushes.every(({ subscriptionId }) => subscriptionId === subscribed.subscriptionId)).toBe(true);
    producer.close();
    consumer.close();
  });

  it('pushes a backlog larger than batchBytesMax (1 MiB) in pushes of at most batchBytesMax, in order', async () => {
    const producer = await WireClient.ready(port);
    const consumer = await WireClient.ready(port);
    await createTopic(producer, 'backlog');
    const values = ['a', 'b', 'c', 'd', 'e'].map((letter) => letter.repeat(400 * 1024));
    for (const value of values) {
      const produced = await producer.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'backlog', partitions: [{ partition: 0, records: batchOf([value]) }] }] });
      if (produced.headerOnly) throw new Error('header-only');
      expect(produced.topics[0]!.partitions[0]!.errorCode).toBe(0);
    }
    // Credit for everything at once: the broker still cuts it into pushes a consumer can overlap.
    const subscribed = await consumer.request(ApiKey.Subscribe, { topic: 'backlog', partition: 0, offset: 0, creditBytes: 8 << 20 });
    if (subscribed.headerOnly) throw new Error('header-only');
    const received = () => consumer.pushes.flatMap(({ push }) => recordsIn(push.records).map((r) => decoder.decode(r.value!)));
    await until(() => received().length >= values.length);
    expect(received()).toEqual(values);
    expect(consumer.pushes.length).toBeGreaterThanOrEqual(3);
    for (const { push } of consumer.pushes) expect(push.records.length).toBeLessThanOrEqual(1 << 20);
    producer.close();
    consumer.close();
  });

  it('grants fresh producer ids, and answers a retried idempotent batch with its original offset', async () => {
    const client = await WireClient.ready(port);
    await createTopic(client, 'idempotent');
    const first = await client.request(ApiKey.InitProducerId, {});
    const second = await client.request(ApiKey.InitProducerId, {});
    if (first.headerOnly || second.headerOnly) throw new Error('header-only');
    expect(second.producerId).toBeGreaterThan(first.producerId);
    const producer = { producerId: BigInt(first.producerId), producerEpoch: first.producerEpoch, baseSequence: 0 };
    const batch = encodeRecordBatch({ records: [{ key: null, value: encoder.encode('once'), headers: [], timestamp: 1 }], producer });
    const produce = () => client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'idempotent', partitions: [{ partition: 0, records: batch.slice() }] }] });
    const original = await produce();
    const retried = await produce();
    if (original.headerOnly || retried.headerOnly) throw new Error('header-only');
    expect(original.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(retried.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const gap = encodeRecordBatch({ records: [{ key: null, value: encoder.encode('gap'), headers: [], timestamp: 1 }], producer: { ...producer, baseSequence: 5 } });
    const refused = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: 'idempotent', partitions: [{ partition: 0, records: gap }] }] });
    if (refused.headerOnly) throw new Error('header-only');
    expect(refused.topics[0]!.partitions[0]!.errorCode).toBe(ERROR_CODES.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
    client.close();
  });

  it('closes with the documented codes: request before handshake, text frame, short frame, wrong protocol version', async () => {
    const early = await WireClient.connect(port);
    early.socket.send(encodeFrame({ kind: FrameKind.request, apiKey: ApiKey.Metadata, apiVersion: API_VERSION, correlationId: 1 }, new Uint8Array([1, 0, 0, 0, 0])));
    expect(await early.closedWith()).toBe(1008);
    const text = await WireClient.connect(port);
    text.socket.send('hello');
    expect(await text.closedWith()).toBe(1003);
    const short = await WireClient.connect(port);
    short.socket.send(new Uint8Array([1, 2, 3]));
    expect(await short.closedWith()).toBe(1002);
    const wrongVersion = await WireClient.connect(port);
    const response = await wrongVersion.request(ApiKey.Handshake, { protocolVersion: PROTOCOL_VERSION + 1, clientId: 'future' });
    expect(response.errorCode).toBe(ERROR_CODES.UNSUPPORTED_VERSION.code);
    expect(await wrongVersion.closedWith()).toBe(4001);
  });

  it('answers an unknown request type and a malformed body with typed errors and keeps the connection', async () => {
    const client = await WireClient.ready(port);
    const unknown = await client.sendRaw(encodeFrame({ kind: FrameKind.request, apiKey: 200, apiVersion: API_VERSION, correlationId: 77 }, new Uint8Array(0)), 77, ApiKey.Metadata);
    expect(new DataView(unknown.buffer, unknown.byteOffset).getInt16(0)).toBe(ERROR_CODES.INVALID_REQUEST.code);
    const malformed = await client.sendRaw(encodeFrame({ kind: FrameKind.request, apiKey: ApiKey.Produce, apiVersion: API_VERSION, correlationId: 78 }, new Uint8Array([1, 0, 0])), 78, ApiKey.Produce);
    expect(new DataView(malformed.buffer, malformed.byteOffset).getInt16(0)).toBe(ERROR_CODES.INVALID_REQUEST.code);
    const metadata = await client.request(ApiKey.Metadata, { allTopics: true, topics: [] });
    expect(metadata.errorCode).toBe(0);
    client.close();
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
