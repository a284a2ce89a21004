import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { API_VERSION, ApiKey, FrameKind, REQUEST_ENCODERS, decodeProduceResponse, encodeFrame, type RequestByApiKey } from '../../src/protocol/index.js';
import { encodeRecordBatch } from '../../src/record/index.js';
import { healthzStatus, pollUntil } from '../helpers/broker-observer.js';
import { CliProcess } from '../helpers/process.js';
import { upgrade } from '../helpers/raw-websocket.js';
import { makeTempDir } from '../helpers/storage.js';
import { WireClient } from '../helpers/wire-client.js';

/**
 * Issue 5, item 8: every named limit of docs/protocol.md, "Limits", at its boundary — the last
 * value accepted and the first refused, with the documented outcome. Two broker processes: one
 * with small per-connection and per-request limits, one with a small maxConnections (whose
 * connections the other tests must not use up).
 */

const MAX_FRAME_BYTES = 64 * 1024;
const BATCH_BYTES_MAX = 8 * 1024;
const MAX_IN_FLIGHT = 4;
const MAX_SUBSCRIPTIONS = 3;
const CREDIT_BYTES_MAX = 64 * 1024;
const PARTITION_COUNT_MAX = 5;
const FETCH_WAIT_MS_MAX = 1_500;
const MAX_CONNECTIONS = 3;
const TOPIC = 'limits';
const EMPTY_TOPIC = 'limits-empty';

const CODE = {
  invalidRequest: ERROR_CODES.INVALID_REQUEST.code,
  invalidTopic: ERROR_CODES.INVALID_TOPIC_EXCEPTION.code,
  invalidPartitions: ERROR_CODES.INVALID_PARTITIONS.code,
  tooLarge: ERROR_CODES.MESSAGE_TOO_LARGE.code,
  responseTooLarge: ERROR_CODES.RESPONSE_TOO_LARGE.code,
};

const encoder = new TextEncoder();

interface RunningBroker {
  readonly process: CliProcess;
  readonly port: number;
  readonly cleanup: () => Promise<void>;
}

async function startBroker(flags: readonly string[]): Promise<RunningBroker> {
  const { dir, cleanup } = await makeTempDir('sluice-limits-');
  const process = CliProcess.start(['broker', '--port', '0', '--data-dir', dir, '--offsets-topic-partition-count', '1', ...flags]);
  const port = (await process.waitForLog('broker started')).port as number;
  return { process, port, cleanup };
}

let limited: RunningBroker;
let fewConnections: RunningBroker;

beforeAll(async () => {
  [limited, fewConnections] = await Promise.all([
    startBroker([
      '--max-frame-bytes', String(MAX_FRAME_BYTES), '--batch-bytes-max', String(BATCH_BYTES_MAX),
      '--max-in-flight-requests-per-connection', String(MAX_IN_FLIGHT), '--max-subscriptions-per-connection', String(MAX_SUBSCRIPTIONS),
      '--credit-bytes-max', String(CREDIT_BYTES_MAX), '--partition-count-max', String(PARTITION_COUNT_MAX), '--fetch-wait-ms-max', String(FETCH_WAIT_MS_MAX),
    ]),
    startBroker(['--max-connections', String(MAX_CONNECTIONS)]),
  ]);
  const admin = await WireClient.ready(limited.port);
  const created = await admin.request(ApiKey.CreateTopics, { topics: [
    { name: TOPIC, partitionCount: 1, replicationFactor: 1 }, { name: EMPTY_TOPIC, partitionCount: 1, replicationFactor: 1 },
  ] });
  if (created.headerOnly || created.results.some((result) => result.errorCode !== 0)) throw new Error(`could not create topics: ${JSON.stringify(created)}`);
  admin.close();
});

afterAll(async () => {
  for (const broker of [limited, fewConnections]) {
    if (broker === undefined) continue;
    expect(await broker.process.stop()).toBe(0);
    await broker.cleanup();
  }
});

function frameOf<K extends ApiKey>(apiKey: K, correlationId: number, request: RequestByApiKey[K]): Uint8Array {
  const encode = REQUEST_ENCODERS[apiKey] as (value: RequestByApiKey[K]) => Uint8Array;
  return encodeFrame({ kind: FrameKind.request, apiKey, apiVersion: API_VERSION, correlationId }, encode(request));
}

/**
 * A one-record batch of exactly `sizeBytes` (at least 70): the value length is searched near its
 * estimate, with a one-byte key where a varint boundary skips a size.
 */
function batchOfExactly(sizeBytes: number): Uint8Array {
  const estimate = sizeBytes - 61 - 8;
  for (const key of [null, new Uint8Array(1)]) {
    for (let valueBytes = Math.max(0, estimate - 8); valueBytes <= estimate + 8; valueBytes++) {
      const batch = encodeRecordBatch({ records: [{ key, value: new Uint8Array(valueBytes).fill(0x6c), headers: [], timestamp: 1_700_000_000_000 }] });
      if (batch.length === sizeBytes) return batch;
    }
  }
  throw new Error(`no batch of exactly ${sizeBytes} bytes`);
}

/** A Produce frame of exactly `frameBytes` to TOPIC partition 0: batches of at most batchBytesMax, back to back. */
function produceFrameOfExactly(frameBytes: number, correlationId: number): Uint8Array {
  // frame header 8 | acks 1 | timeoutMs 4 | topics 4 | name 2+n | partitions 4 | partition 4 | records length 4
  let recordsBytes = frameBytes - 8 - 23 - encoder.encode(TOPIC).length;
  const batches: Uint8Array[] = [];
  while (recordsBytes > 0) {
    // Leave a remainder of at least 100 bytes, so that the last batch can still be made exactly.
    const size = recordsBytes <= BATCH_BYTES_MAX ? recordsBytes : Math.min(BATCH_BYTES_MAX, recordsBytes - 100);
    batches.push(batchOfExactly(size));
    recordsBytes -= size;
  }
  const records = new Uint8Array(batches.reduce((sum, batch) => sum + batch.length, 0));
  batches.reduce((at, batch) => { records.set(batch, at); return at + batch.length; }, 0);
  const frame = frameOf(ApiKey.Produce, correlationId, { acks: 1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition: 0, records }] }] });
  expect(frame.length).toBe(frameBytes);
  return frame;
}

async function producePartitionCode(client: WireClient, records: Uint8Array): Promise<number> {
  const response = await client.request(ApiKey.Produce, { acks: 1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partition: 0, records }] }] });
  if (response.headerOnly) throw new Error(`produce refused as a whole: ${response.errorCode}`);
  return response.topics[0]!.partitions[0]!.errorCode;
}

async function createTopicCode(client: WireClient, name: string, partitionCount = 1): Promise<number> {
  const response = await client.request(ApiKey.CreateTopics, { topics: [{ name, partitionCount, replicationFactor: 1 }] });
  if (response.headerOnly) throw new Error(`create refused as a whole: ${response.errorCode}`);
  return response.results[0]!.errorCode;
}

function longPoll(correlationId: number): Uint8Array {
  return frameOf(ApiKey.Fetch, correlationId, {
    replicaId: -1, maxWaitMs: FETCH_WAIT_MS_MAX, minBytes: 1, maxBytes: 1024, partitions: [{ topic: EMPTY_TOPIC, partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }],
  });
}

describe('maxFrameBytes', () => {
  it('accepts a frame of exactly maxFrameBytes and closes with 1009 on one byte more', async () => {
    const client = await WireClient.ready(limited.port);
    const atLimit = produceFrameOfExactly(MAX_FRAME_BYTES, 101);
    const answer = decodeProduceResponse(await client.sendRaw(atLimit, 101, ApiKey.Produce));
    if (answer.headerOnly) throw new Error(`refused as a whole: ${answer.errorCode}`);
    expect(answer.topics[0]!.partitions[0]!.errorCode).toBe(0);
    const metadata = await client.request(ApiKey.Metadata, { allTopics: false, topics: [TOPIC] });
    expect(metadata.errorCode).toBe(0);
    client.socket.send(produceFrameOfExactly(MAX_FRAME_BYTES + 1, 102));
    expect(await client.closedWith()).toBe(1009);
  });

  it('accepts a string of stringBytesMax (32,767) bytes and refuses one of 32,768 with INVALID_REQUEST', async () => {
    const client = await WireClient.ready(limited.port);
    const longest = await client.request(ApiKey.Metadata, { allTopics: false, topics: ['s'.repeat(32_767)] });
    if (longest.headerOnly) throw new Error(`header-only: ${longest.errorCode}`);
    expect(longest.topics[0]).toMatchObject({ errorCode: ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION.code });
    // allTopics 0 | topics count 1 | string length 32,768 | the bytes: a u16 could hold it, the protocol refuses it.
    const body = new Uint8Array(1 + 4 + 2 + 32_768).fill(0x73);
    new DataView(body.buffer).setUint8(0, 0);
    new DataView(body.buffer).setUint32(1, 1);
    new DataView(body.buffer).setUint16(5, 32_768);
    const refused = await client.sendRaw(encodeFrame({ kind: FrameKind.request, apiKey: ApiKey.Metadata, apiVersion: API_VERSION, correlationId: 103 }, body), 103, ApiKey.Metadata);
    expect(new DataView(refused.buffer, refused.byteOffset).getInt16(0)).toBe(CODE.invalidRequest);
    client.close();
  });

  it('never sends a frame larger than maxFrameBytes: a Metadata answer that would not fit is RESPONSE_TOO_LARGE', async () => {
    const client = await WireClient.ready(limited.port);
    const receivedBytes: number[] = [];
    client.socket.on('message', (data: Buffer) => receivedBytes.push(data.length));
    // 261 unknown names of 249 characters: a 65,524-byte request; each comes back with 6 bytes more.
    const names = Array.from({ length: 261 }, (_, i) => `unknown-${i}-`.padEnd(249, 'x'));
    const response = await client.request(ApiKey.Metadata, { allTopics: false, topics: names });
    expect(response).toMatchObject({ headerOnly: true, errorCode: CODE.responseTooLarge });
    // A smaller request on the same connection is answered in full.
    expect((await client.request(ApiKey.Metadata, { allTopics: false, topics: names.slice(0, 200) })).errorCode).toBe(0);
    client.close();
    expect(Math.max(...receivedBytes)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  });

  it('refuses a DeleteTopics whose answer could not fit before deleting anything', async () => {
    const client = await WireClient.ready(limited.port);
    const kept = 'kept-by-refused-delete';
    expect((await client.request(ApiKey.CreateTopics, { topics: [{ name: kept, partitionCount: 1, replicationFactor: 1 }] })).errorCode).toBe(0);
    // 9,000 names: a request of about 63 KB whose answer (4 more bytes a name) would be about 99 KB.
    const names = [kept, ...Array.from({ length: 8_999 }, (_, i) => `d${i}`)];
    const refused = await client.request(ApiKey.DeleteTopics, { names });
    expect(refused).toMatchObject({ headerOnly: true, errorCode: CODE.responseTooLarge });
    const metadata = await client.request(ApiKey.Metadata, { allTopics: false, topics: [kept] });
    if (metadata.headerOnly) throw new Error(`metadata refused: ${metadata.errorCode}`);
    expect(metadata.topics[0]!.errorCode).toBe(0);
    client.close();
  });

  it('answers a CreateTopics whose error messages would not fit with the codes alone', async () => {
    const client = await WireClient.ready(limited.port);
    const receivedBytes: number[] = [];
    client.socket.on('message', (data: Buffer) => receivedBytes.push(data.length));
    // 200 invalid names of 249 characters: each error message quotes its name, doubling the answer.
    const names = Array.from({ length: 200 }, (_, i) => `bad!${i}-`.padEnd(249, 'x'));
    const response = await client.request(ApiKey.CreateTopics, { topics: names.map((name) => ({ name, partitionCount: 1, replicationFactor: 1 })) });
    if (response.headerOnly) throw new Error(`refused as a whole: ${response.errorCode}`);
    expect(response.results).toHaveLength(200);
    for (const result of response.results) expect(result).toMatchObject({ errorCode: CODE.invalidTopic, errorMessage: null });
    // With few enough names the messages stay.
    const few = await client.request(ApiKey.CreateTopics, { topics: names.slice(0, 2).map((name) => ({ name, partitionCount: 1, replicationFactor: 1 })) });
    if (few.headerOnly) throw new Error(`refused as a whole: ${few.errorCode}`);
    expect(few.results[0]!.errorMessage).toContain('only [a-zA-Z0-9._-] are allowed');
    client.close();
    expect(Math.max(...receivedBytes)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  });
});

describe('batchBytesMax', () => {
  it('accepts a batch of exactly batchBytesMax and refuses one byte more with MESSAGE_TOO_LARGE', async () => {
    const client = await WireClient.ready(limited.port);
    expect(await producePartitionCode(client, batchOfExactly(BATCH_BYTES_MAX))).toBe(0);
    expect(await producePartitionCode(client, batchOfExactly(BATCH_BYTES_MAX + 1))).toBe(CODE.tooLarge);
    client.close();
  });
});

describe('maxInFlightRequestsPerConnection', () => {
  it('keeps a connection with exactly N requests outstanding, and closes one that sends N + 1 with 1008', async () => {
    const client = await WireClient.ready(limited.port);
    const outstanding = Array.from({ length: MAX_IN_FLIGHT }, (_, i) => client.sendRaw(longPoll(200 + i), 200 + i, ApiKey.Fetch, 10_000));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.closeCode).toBeNull();
    // They all end at fetchWaitMsMax with no data, and the slots are free again.
    for (const answer of await Promise.all(outstanding)) expect(new DataView(answer.buffer, answer.byteOffset).getInt16(0)).toBe(0);
    expect((await client.request(ApiKey.Metadata, { allTopics: true, topics: [] })).errorCode).toBe(0);

    const flooding = await WireClient.ready(limited.port);
    const pending = Array.from({ length: MAX_IN_FLIGHT + 1 }, (_, i) => flooding.sendRaw(longPoll(300 + i), 300 + i, ApiKey.Fetch, 1_000).catch(() => null));
    expect(await flooding.closedWith()).toBe(1008);
    await Promise.all(pending);
    client.close();
  });
});

describe('maxSubscriptionsPerConnection', () => {
  it('allows N subscriptions on a connection, refuses N + 1 with INVALID_REQUEST, and frees a slot on Unsubscribe', async () => {
    const client = await WireClient.ready(limited.port);
    const subscribe = (): ReturnType<WireClient['request']> => client.request(ApiKey.Subscribe, { topic: EMPTY_TOPIC, partition: 0, offset: 0, creditBytes: 1024 });
    const ids: number[] = [];
    for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) {
      const subscribed = await client.request(ApiKey.Subscribe, { topic: EMPTY_TOPIC, partition: 0, offset: 0, creditBytes: 1024 });
      if (subscribed.headerOnly) throw new Error(`subscription ${i} refused: ${subscribed.errorCode}`);
      ids.push(subscribed.subscriptionId);
    }
    expect((await subscribe()).errorCode).toBe(CODE.invalidRequest);
    // Another connection has its own N.
    const other = await WireClient.ready(limited.port);
    expect((await other.request(ApiKey.Subscribe, { topic: EMPTY_TOPIC, partition: 0, offset: 0, creditBytes: 1024 })).errorCode).toBe(0);
    expect((await client.request(ApiKey.Unsubscribe, { subscriptionId: ids[0]! })).errorCode).toBe(0);
    expect((await subscribe()).errorCode).toBe(0);
    expect((await subscribe()).errorCode).toBe(CODE.invalidRequest);
    other.close();
    client.close();
  });
});

describe('creditBytesMax', () => {
  it('clamps a grant that would exceed it: the Credit response reports exactly creditBytesMax', async () => {
    const client = await WireClient.ready(limited.port);
    const credit = async (subscriptionId: number, creditBytes: number): Promise<number> => {
      const response = await client.request(ApiKey.Credit, { subscriptionId, creditBytes });
      if (response.headerOnly) throw new Error(`credit refused: ${response.errorCode}`);
      return response.creditBytes;
    };
    const subscribe = async (creditBytes: number): Promise<number> => {
      const response = await client.request(ApiKey.Subscribe, { topic: EMPTY_TOPIC, partition: 0, offset: 0, creditBytes });
      if (response.headerOnly) throw new Error(`subscribe refused: ${response.errorCode}`);
      return response.subscriptionId;
    };
    const fromZero = await subscribe(0);
    expect(await credit(fromZero, CREDIT_BYTES_MAX - 1)).toBe(CREDIT_BYTES_MAX - 1);
    expect(await credit(fromZero, 1)).toBe(CREDIT_BYTES_MAX);
    expect(await credit(fromZero, 1)).toBe(CREDIT_BYTES_MAX);
    expect(await credit(fromZero, 0xffff_ffff)).toBe(CREDIT_BYTES_MAX);
    const overGranted = await subscribe(CREDIT_BYTES_MAX + 1);
    expect(await credit(overGranted, 0)).toBe(CREDIT_BYTES_MAX);
    const justOver = await subscribe(0);
    expect(await credit(justOver, CREDIT_BYTES_MAX + 1)).toBe(CREDIT_BYTES_MAX);
    client.close();
  });
});

describe('topic name rules', () => {
  it('accepts 249 characters of [a-zA-Z0-9._-] and refuses 250, empty, . and .., internal and other characters', async () => {
    const client = await WireClient.ready(limited.port);
    expect(await createTopicCode(client, 'n'.repeat(249))).toBe(0);
    expect(await createTopicCode(client, 'x')).toBe(0);
    expect(await createTopicCode(client, 'Az09._-mixed')).toBe(0);
    for (const name of ['n'.repeat(250), '', '.', '..', '__internal', 'has space', 'slash/name', 'é']) {
      expect(await createTopicCode(client, name), JSON.stringify(name.slice(0, 20))).toBe(CODE.invalidTopic);
    }
    client.close();
  });
});

describe('partitionCountMax', () => {
  it('creates a topic of exactly partitionCountMax partitions and refuses one more, zero and negative with INVALID_PARTITIONS', async () => {
    const client = await WireClient.ready(limited.port);
    expect(await createTopicCode(client, 'widest', PARTITION_COUNT_MAX)).toBe(0);
    expect(await createTopicCode(client, 'too-wide', PARTITION_COUNT_MAX + 1)).toBe(CODE.invalidPartitions);
    expect(await createTopicCode(client, 'no-partitions', 0)).toBe(CODE.invalidPartitions);
    expect(await createTopicCode(client, 'negative-partitions', -1)).toBe(CODE.invalidPartitions);
    const metadata = await client.request(ApiKey.Metadata, { allTopics: false, topics: ['widest', 'too-wide'] });
    if (metadata.headerOnly) throw new Error(`header-only: ${metadata.errorCode}`);
    expect(metadata.topics.map((topic) => [topic.name, topic.partitions.length])).toEqual([['widest', PARTITION_COUNT_MAX], ['too-wide', 0]]);
    client.close();
  });
});

describe('fetchWaitMsMax', () => {
  it('clamps a longer maxWaitMs: a fetch that cannot be satisfied returns after fetchWaitMsMax', async () => {
    const client = await WireClient.ready(limited.port);
    const startedMs = Date.now();
    const fetched = await client.request(ApiKey.Fetch, { replicaId: -1, maxWaitMs: 60_000, minBytes: 1, maxBytes: 1024, partitions: [{ topic: EMPTY_TOPIC, partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }, 20_000);
    const elapsedMs = Date.now() - startedMs;
    expect(fetched.errorCode).toBe(0);
    expect(elapsedMs).toBeGreaterThanOrEqual(FETCH_WAIT_MS_MAX - 50);
    expect(elapsedMs).toBeLessThan(FETCH_WAIT_MS_MAX + 5_000);
    client.close();
  });
});

describe('maxConnections', () => {
  it('lets N clients connect, refuses the upgrade of the next with HTTP 503, and admits a new one once one closes', async () => {
    const port = fewConnections.port;
    const clients = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => WireClient.ready(port)));
    const refused = await upgrade(port);
    refused.socket.destroy();
    expect(refused.status).toBe(503);
    // Plain HTTP is not a connection in this sense.
    expect(await healthzStatus(port)).toBe(200);

    clients[0]!.close();
    await clients[0]!.closedWith();
    const admitted = await pollUntil(() => upgrade(port), (result) => {
      if (result.status !== 101) result.socket.destroy();
      return result.status === 101;
    }, 5_000, 20);
    expect(admitted.status).toBe(101);
    const again = await upgrade(port);
    again.socket.destroy();
    expect(again.status).toBe(503);
    admitted.socket.destroy();
    for (const client of clients.slice(1)) client.close();
    // Once they are gone, all N fit again.
    const next = await pollUntil(async () => {
      const attempt = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => WireClient.ready(port).catch(() => null)));
      for (const client of attempt) client?.close();
      return attempt.filter((client) => client !== null).length;
    }, (count) => count === MAX_CONNECTIONS, 5_000, 50);
    expect(next).toBe(MAX_CONNECTIONS);
  });
});
