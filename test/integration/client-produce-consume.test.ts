import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, partitionForKey, type ConsumerRecord, type RecordMetadata } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { CliProcess } from '../helpers/process.js';
import { mulberry32 } from '../helpers/random.js';
import { makeTempDir } from '../helpers/storage.js';

/**
 * The client library against a real broker process: Producer → broker → Consumer, byte for
 * byte, with Admin to set up. Each wait is bounded (AbortSignal.timeout on the iterators,
 * vitest's timeouts on the tests).
 */

const SEED = 0x5eed_c11e;
const RECORD_COUNT = 100_000;
const VALUE_BYTES = 100;
const CONSUME_DEADLINE_MS = 60_000;
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : new TextDecoder().decode(bytes));

let broker: CliProcess;
let url: string;
let cleanup: () => Promise<void>;
let admin: Admin;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await makeTempDir('sluice-client-'));
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dir]);
  url = `ws://127.0.0.1:${(await broker.waitForLog('broker started')).port as number}`;
  admin = new Admin({ url, webSocketFactory: nodeWebSocket });
});

afterAll(async () => {
  admin?.close();
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

/** Reads until `count` records arrived (or the deadline); returns them in arrival order. */
async function consumeCount(consumer: Consumer, count: number): Promise<ConsumerRecord[]> {
  const records: ConsumerRecord[] = [];
  if (count === 0) return records;
  for await (const record of consumer.records({ signal: AbortSignal.timeout(CONSUME_DEADLINE_MS) })) {
    records.push(record);
    if (records.length >= count) break;
  }
  expect(records.length, 'records consumed before the deadline').toBe(count);
  return records;
}

function bytesEqual(a: Uint8Array | null, b: Uint8Array): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A value of VALUE_BYTES: its index in the first 4 bytes, then seeded random bytes. */
function valueOf(index: number, random: () => number): Uint8Array {
  const value = new Uint8Array(VALUE_BYTES);
  new DataView(value.buffer).setUint32(0, index);
  for (let i = 4; i < VALUE_BYTES; i++) value[i] = Math.floor(random() * 256);
  return value;
}

describe('the client library against a real broker', () => {
  it(`produces ${RECORD_COUNT.toLocaleString('en')} records of ${VALUE_BYTES} bytes over 3 partitions and consumes them all back, byte-equal, in order per partition`, async () => {
    await admin.createTopic('bulk', 3);
    const random = mulberry32(SEED);
    const values = Array.from({ length: RECORD_COUNT }, (_, index) => valueOf(index, random));
    const producer = new Producer({ url, webSocketFactory: nodeWebSocket, clientId: 'bulk-producer', random: mulberry32(SEED + 1) });
    const acknowledged: RecordMetadata[] = await Promise.all(values.map((value) => producer.send({ topic: 'bulk', value })));
    expect(producer.idempotenceActive).toBe(true);
    await producer.close();

    // Per partition, acknowledged offsets follow the order of the send() calls without gaps.
    // (Plain loops and one expect each: 100,000 expect() calls cost seconds.)
    const sentByPartition: number[][] = [[], [], []];
    const offsetsOutOfOrder: string[] = [];
    acknowledged.forEach((metadata, index) => {
      const sent = sentByPartition[metadata.partition]!;
      if (metadata.offset !== sent.length) offsetsOutOfOrder.push(`send ${index}: ${metadata.partition}/${metadata.offset}, expected offset ${sent.length}`);
      sent.push(index);
    });
    expect(offsetsOutOfOrder.slice(0, 5)).toEqual([]);
    for (const sent of sentByPartition) expect(sent.length, 'every partition got records').toBeGreaterThan(0);

    const consumer = new Consumer({ url, webSocketFactory: nodeWebSocket, from: 'earliest' });
    await consumer.subscribe(['bulk']);
    const consumed = await consumeCount(consumer, RECORD_COUNT);
    await consumer.close();
    const seen = [0, 0, 0];
    const mismatches: string[] = [];
    for (const record of consumed) {
      const position = seen[record.partition]!;
      const index = sentByPartition[record.partition]![position]!;
      if (record.offset !== position) mismatches.push(`${record.partition}/${record.offset} arrived where offset ${position} was due`);
      else if (!bytesEqual(record.value, values[index]!)) mismatches.push(`${record.partition}/${record.offset} is not the bytes of send ${index}`);
      seen[record.partition] = position + 1;
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(seen).toEqual(sentByPartition.map((sent) => sent.length));
  }, 120_000);

  it('puts a keyed record on the partition Kafka would: toPositive(murmur2(key)) % partitions', async () => {
    await admin.createTopics([{ name: 'keyed-5', partitions: 5 }, { name: 'keyed-50', partitions: 50 }]);
    const producer = new Producer({ url, webSocketFactory: nodeWebSocket, lingerMs: 1 });
    // Kafka UtilsTest: murmur2("foobar") = -790332482; toPositive(-790332482) % 50 = 16.
    await expect(producer.send({ topic: 'keyed-50', key: 'foobar', value: 'x' })).resolves.toMatchObject({ partition: 16 });
    const keys = Array.from({ length: 500 }, (_, index) => `customer-${index % 37}`);
    const results = await Promise.all(keys.map((key, index) => producer.send({ topic: 'keyed-5', key, value: `order ${index}` })));
    results.forEach((result, index) => expect(result.partition).toBe(partitionForKey(utf8(keys[index]!), 5)));
    await producer.close();

    const consumer = new Consumer({ url, webSocketFactory: nodeWebSocket, from: 'earliest' });
    await consumer.subscribe(['keyed-5']);
    const consumed = await consumeCount(consumer, keys.length);
    await consumer.close();
    for (const record of consumed) expect(record.partition).toBe(partitionForKey(record.key!, 5));
    expect(consumed.map((record) => text(record.value)).sort()).toEqual(keys.map((_, index) => `order ${index}`).sort());
  });

  it('carries headers, null keys and values, explicit partitions and timestamps through unchanged', async () => {
    await admin.createTopic('shapes', 2);
    const producer = new Producer({ url, webSocketFactory: nodeWebSocket, acks: 1 });
    const sent = await Promise.all([
      producer.send({ topic: 'shapes', partition: 1, key: null, value: null, timestamp: 1_600_000_000_000 }),
      producer.send({ topic: 'shapes', partition: 1, key: 'k', value: new Uint8Array([0, 255, 1]), headers: [{ key: 'trace', value: 'abc' }, { key: 'trace', value: null }], timestamp: 1_600_000_000_123 }),
      producer.send({ topic: 'shapes', partition: 0, value: 'ü', headers: { 'content-type': 'text/plain' } }),
    ]);
    expect(sent.map((metadata) => [metadata.partition, metadata.offset])).toEqual([[1, 0], [1, 1], [0, 0]]);
    await expect(producer.send({ topic: 'shapes', partition: 2, value: 'x' })).rejects.toMatchObject({ errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await producer.close();

    const consumer = new Consumer({ url, webSocketFactory: nodeWebSocket });
    await consumer.assign([{ topic: 'shapes', partition: 1, from: 0 }]);
    const [first, second] = await consumeCount(consumer, 2);
    await consumer.close();
    expect(first).toMatchObject({ partition: 1, offset: 0, key: null, value: null, timestamp: 1_600_000_000_000, headers: [] });
    expect(second).toMatchObject({ offset: 1, timestamp: 1_600_000_000_123 });
    expect(text(second!.key)).toBe('k');
    expect([...second!.value!]).toEqual([0, 255, 1]);
    expect(second!.headers.map((header) => [header.key, text(header.value)])).toEqual([['trace', 'abc'], ['trace', null]]);
  });

  it('skips the records of a batch below the requested start offset', async () => {
    await admin.createTopic('mid-batch', 1);
    const producer = new Producer({ url, webSocketFactory: nodeWebSocket, lingerMs: 50 });
    await Promise.all(Array.from({ length: 10 }, (_, index) => producer.send({ topic: 'mid-batch', value: `v${index}` })));
    await producer.close();
    const consumer = new Consumer({ url, webSocketFactory: nodeWebSocket });
    await consumer.assign([{ topic: 'mid-batch', partition: 0, from: 7 }]);
    const records = await consumeCount(consumer, 3);
    await consumer.close();
    expect(records.map((record) => [record.offset, text(record.value)])).toEqual([[7, 'v7'], [8, 'v8'], [9, 'v9']]);
  });

  it('with acks 0 resolves sends without offsets, and the records still arrive', async () => {
    await admin.createTopic('no-acks', 1);
    const producer = new Producer({ url, webSocketFactory: nodeWebSocket, acks: 0, batchBytes: 4_096 });
    const results = await Promise.all(Array.from({ length: 5_000 }, (_, index) => producer.send({ topic: 'no-acks', value: `fire-${index}` })));
    expect(producer.idempotenceActive).toBe(false);
    expect(producer.idempotenceFallbackReason).toContain('acks');
    expect(results.some((result) => result.offset === null)).toBe(true);
    await producer.close();
    const consumer = new Consumer({ url, webSocketFactory: nodeWebSocket, from: 'earliest' });
    await consumer.subscribe(['no-acks']);
    const records = await consumeCount(consumer, 5_000);
    await consumer.close();
    expect(records.map((record) => text(record.value))).toEqual(Array.from({ length: 5_000 }, (_, index) => `fire-${index}`));
  });

  it('applies backpressure: send() waits while bufferBytesMax is full and resolves as acks free room', async () => {
    await admin.createTopic('pressure', 1);
    const producer = new Producer({ url, webSocketFactory: nodeWebSocket, bufferBytesMax: 16 * 1024, batchBytes: 4 * 1024 });
    let bufferedMax = 0;
    const sends = Array.from({ length: 2_000 }, (_, index) => {
      const send = producer.send({ topic: 'pressure', value: new Uint8Array(200).fill(index % 256) });
      bufferedMax = Math.max(bufferedMax, producer.bufferedBytesCount);
      return send;
    });
    const results = await Promise.all(sends);
    expect(bufferedMax).toBeLessThanOrEqual(16 * 1024);
    expect(results.map((result) => result.offset)).toEqual(Array.from({ length: 2_000 }, (_, index) => index));
    expect(producer.bufferedBytesCount).toBe(0);
    await producer.close();
  });

  it("commit() stores the consumed position, and a new consumer of the group starts from it ('committed')", async () => {
    await admin.createTopic('resume', 1);
    const producer = new Producer({ url, webSocketFactory: nodeWebSocket });
    await Promise.all(Array.from({ length: 100 }, (_, index) => producer.send({ topic: 'resume', value: `r${index}` })));
    await producer.close();

    const first = new Consumer({ url, webSocketFactory: nodeWebSocket, groupId: 'resumers', fallbackPosition: 'earliest', autoCommit: false });
    await first.subscribe(['resume']);
    const read = await consumeCount(first, 40);
    first.markConsumed(read[39]!);
    await first.commit();
    await first.close();
    await expect(admin.fetchCommittedOffsets('resumers', [{ topic: 'resume', partition: 0 }])).resolves.toEqual([{ topic: 'resume', partition: 0, offset: 40, metadata: null }]);

    const second = new Consumer({ url, webSocketFactory: nodeWebSocket, groupId: 'resumers' });
    await second.subscribe(['resume']);
    const [next] = await consumeCount(second, 1);
    expect(next!.offset).toBe(40);
    // Auto-commit (on by default with a group) commits on close: the record after `next` is where a restart begins.
    await consumeCount(second, 1);
    await second.close();
    await expect(admin.fetchCommittedOffsets('resumers', [{ topic: 'resume', partition: 0 }])).resolves.toMatchObject([{ offset: 41 }]);

    const fresh = new Consumer({ url, webSocketFactory: nodeWebSocket, groupId: 'never-committed', fallbackPosition: 'latest' });
    await fresh.subscribe(['resume']);
    expect(fresh.progress()).toEqual([{ topic: 'resume', partition: 0, position: 100, highWatermark: 100 }]);
    await fresh.close();
  });
});
