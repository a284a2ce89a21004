import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/client/murmur2.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';
import { call, dumpRecords } from './http-helpers.js';

const encoder = new TextEncoder();

let broker: CliProcess;
let port: number;
let dataDir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: dataDir, cleanup } = await makeTempDir('sluice-http-'));
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dataDir]);
  port = (await broker.waitForLog('broker started')).port as number;
});

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

async function createTopic(name: string, partitions: number): Promise<void> {
  const created = await call(port, 'POST', '/v1/topics', { name, partitions });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
}

describe('the HTTP API of a broker process', () => {
  it('answers /healthz', async () => {
    expect(await call(port, 'GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok', brokerId: 0 } });
  });

  it('creates, lists, describes and deletes topics, answering mistakes with typed errors', async () => {
    const created = await call(port, 'POST', '/v1/topics', { name: 'catalog', partitions: 3 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'catalog', internal: false });
    expect(created.json.partitions).toHaveLength(3);
    expect(created.json.partitions[2]).toEqual({
      partition: 2, leaderId: 0, leaderEpoch: 0, replicas: [0], isr: [0], logStartOffset: 0, highWatermark: 0, logEndOffset: 0,
    });
    expect(await call(port, 'POST', '/v1/topics', { name: 'catalog', partitions: 3 })).toMatchObject({ status: 409, json: { error: 'TOPIC_ALREADY_EXISTS' } });
    expect(await call(port, 'POST', '/v1/topics', { name: 'a/b', partitions: 1 })).toMatchObject({ status: 400, json: { error: 'INVALID_TOPIC_EXCEPTION' } });
    expect(await call(port, 'POST', '/v1/topics', { name: '__mine', partitions: 1 })).toMatchObject({ status: 400, json: { error: 'INVALID_TOPIC_EXCEPTION' } });
    expect(await call(port, 'POST', '/v1/topics', { name: 'zero', partitions: 0 })).toMatchObject({ status: 400, json: { error: 'INVALID_PARTITIONS' } });
    expect(await call(port, 'POST', '/v1/topics', { name: 'x', partitions: '2' })).toMatchObject({ status: 400, json: { error: 'INVALID_REQUEST' } });
    expect(await call(port, 'POST', '/v1/topics', { name: 'x', partitions: 1, retention: 5 })).toMatchObject({ status: 400, json: { error: 'INVALID_REQUEST' } });

    const listed = await call(port, 'GET', '/v1/topics');
    expect(listed.status).toBe(200);
    const names = listed.json.topics.map((topic: { name: string }) => topic.name);
    expect(names).toContain('catalog');
    expect(listed.json.topics.find((topic: { name: string }) => topic.name === '__consumer_offsets')).toMatchObject({ internal: true });
    expect(await call(port, 'GET', '/v1/topics/catalog')).toMatchObject({ status: 200, json: { name: 'catalog' } });

    expect(await call(port, 'DELETE', '/v1/topics/catalog')).toMatchObject({ status: 200, json: { name: 'catalog', deleted: true } });
    expect(await call(port, 'GET', '/v1/topics/catalog')).toMatchObject({ status: 404, json: { error: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(await call(port, 'DELETE', '/v1/topics/catalog')).toMatchObject({ status: 404, json: { error: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(await call(port, 'DELETE', '/v1/topics/__consumer_offsets')).toMatchObject({ status: 400, json: { error: 'INVALID_TOPIC_EXCEPTION' } });
  });

  it('stores produced records where a Kafka producer would put them and reads them back, as the log files hold them', async () => {
    await createTopic('events', 4);
    const keyed = Array.from({ length: 20 }, (_, i) => ({ key: `user-${i}`, value: `clicked ${i} ✓`, headers: { trace: `t${i}` } }));
    const unkeyed = Array.from({ length: 5 }, (_, i) => ({ value: `anonymous ${i}` }));
    const pinned = { key: 'user-0', value: 'pinned', partition: 3 };
    const tombstone = { key: 'user-1', value: null };
    const records = [...keyed, ...unkeyed, pinned, tombstone];
    const produced = await call(port, 'POST', '/v1/topics/events/records?acks=all', { records });
    expect(produced.status, JSON.stringify(produced.json)).toBe(200);
    const offsets: Array<{ partition: number; offset: number }> = produced.json.offsets;
    expect(offsets).toHaveLength(records.length);

    keyed.forEach((record, i) => expect(offsets[i]!.partition).toBe(partitionForKey(encoder.encode(record.key), 4)));
    expect(new Set(offsets.slice(20, 25).map((placement) => placement.partition)).size).toBe(1);
    expect(offsets[25]!.partition).toBe(3);
    expect(offsets[26]!.partition).toBe(partitionForKey(encoder.encode('user-1'), 4));
    // Offsets run 0, 1, 2, ... per partition, in request order.
    for (let partition = 0; partition < 4; partition++) {
      const mine = offsets.filter((placement) => placement.partition === partition).map((placement) => placement.offset);
      expect(mine).toEqual(mine.map((_, i) => i));
    }

    for (let partition = 0; partition < 4; partition++) {
      const expected = records.flatMap((record, i) => (offsets[i]!.partition === partition ? [{ offset: offsets[i]!.offset, record }] : []));
      const read = await call(port, 'GET', `/v1/topics/events/partitions/${partition}/records?offset=0`);
      expect(read.status).toBe(200);
      expect(read.json.highWatermark).toBe(expected.length);
      expect(read.json.nextOffset).toBe(expected.length);
      expect(read.json.records.map((r: { offset: number; key: string | null; value: string | null; headers: unknown }) => [r.offset, r.key, r.value, r.headers]))
        .toEqual(expected.map(({ offset, record }) => [offset, 'key' in record ? record.key : null, record.value, 'headers' in record ? Object.entries(record.headers as { [name: string]: string }).map(([key, value]) => ({ key, value })) : []]));
      const onDisk = await dumpRecords(dataDir, `events-${partition}`);
      expect(onDisk.map((r) => [r.offset, r.key, r.value])).toEqual(read.json.records.map((r: { offset: number; key: string | null; value: string | null }) => [r.offset, r.key, r.value]));
    }
  });

  it('reads from an offset inside a batch and stops at maxBytes after at least one batch', async () => {
    await createTopic('paged', 1);
    for (let request = 0; request < 3; request++) {
      const values = Array.from({ length: 10 }, (_, i) => ({ value: `r${request * 10 + i}`.padEnd(200, '.') }));
      expect((await call(port, 'POST', '/v1/topics/paged/records', { records: values })).status).toBe(200);
    }
    const middle = await call(port, 'GET', '/v1/topics/paged/partitions/0/records?offset=14&maxBytes=1');
    expect(middle.status).toBe(200);
    // One whole batch (offsets 10..19), of which the records from 14 on.
    expect(middle.json.records.map((r: { offset: number }) => r.offset)).toEqual([14, 15, 16, 17, 18, 19]);
    expect(middle.json.nextOffset).toBe(20);
    const rest = await call(port, 'GET', `/v1/topics/paged/partitions/0/records?offset=${middle.json.nextOffset}`);
    expect(rest.json.records.map((r: { value: string }) => r.value.replace(/\.+$/, ''))).toEqual(Array.from({ length: 10 }, (_, i) => `r${20 + i}`));
    const atEnd = await call(port, 'GET', '/v1/topics/paged/partitions/0/records?offset=30');
    expect(atEnd).toMatchObject({ status: 200, json: { records: [], nextOffset: 30, highWatermark: 30, logStartOffset: 0 } });
  });

  it('round-trips binary keys, values and header values with ?encoding=base64', async () => {
    await createTopic('binary', 1);
    const value = Buffer.from([0, 1, 2, 0xfe, 0xff]).toString('base64');
    const produced = await call(port, 'POST', '/v1/topics/binary/records?encoding=base64', { records: [{ key: 'AA==', value, headers: [{ key: 'h', value: '/w==' }] }] });
    expect(produced).toMatchObject({ status: 200, json: { offsets: [{ partition: 0, offset: 0 }] } });
    const asBase64 = await call(port, 'GET', '/v1/topics/binary/partitions/0/records?encoding=base64');
    expect(asBase64.json.records[0]).toMatchObject({ key: 'AA==', value, headers: [{ key: 'h', value: '/w==' }] });
    // The same bytes as text: lossy, as documented.
    const asText = await call(port, 'GET', '/v1/topics/binary/partitions/0/records');
    expect(asText.json.records[0].value).toBe('\u0000\u0001\u0002\ufffd\ufffd');
  });

  it('answers bad requests with the documented status and error name, writing nothing', async () => {
    await createTopic('strict', 2);
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/topics/missing/records', { records: [{ value: 'v' }] }, 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['GET', '/v1/topics/missing/partitions/0/records', undefined, 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['GET', '/v1/topics/strict/partitions/2/records', undefined, 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['POST', '/v1/topics/strict/records', '{"records": [', 400, 'INVALID_REQUEST'],
      ['POST', '/v1/topics/strict/records', { records: [{ key: 'k' }] }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/topics/strict/records', { records: [{ value: 'ok' }, { value: 5 }] }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/topics/strict/records', { records: [{ value: 'v', partition: 2 }] }, 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['POST', '/v1/topics/strict/records?acks=0', { records: [{ value: 'v' }] }, 400, 'INVALID_REQUIRED_ACKS'],
      ['POST', '/v1/topics/strict/records?acks=2', { records: [{ value: 'v' }] }, 400, 'INVALID_REQUIRED_ACKS'],
      ['POST', '/v1/topics/strict/records?encoding=hex', { records: [{ value: 'v' }] }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/topics/__consumer_offsets/records', { records: [{ value: 'v' }] }, 400, 'INVALID_TOPIC_EXCEPTION'],
      ['GET', '/v1/topics/strict/partitions/0/records?offset=1', undefined, 416, 'OFFSET_OUT_OF_RANGE'],
      ['GET', '/v1/topics/strict/partitions/0/records?offset=-1', undefined, 416, 'OFFSET_OUT_OF_RANGE'],
      ['GET', '/v1/topics/strict/partitions/0/records?offset=first', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/v1/topics/strict/partitions/zero/records', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/v1/topics/strict/partitions/0/records?maxBytes=0', undefined, 400, 'INVALID_FETCH_SIZE'],
      ['GET', '/v1/nothing-here', undefined, 404, 'NOT_FOUND'],
      ['GET', '/v1/topics/strict/records', undefined, 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [method, path, body, status, error] of cases) {
      const answer = await call(port, method, path, body);
      expect({ method, path, status: answer.status, error: answer.json.error }).toEqual({ method, path, status, error });
      expect(typeof answer.json.message).toBe('string');
      expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    }
    expect((await call(port, 'GET', '/v1/topics/strict/records')).headers.get('allow')).toBe('POST');
    const strict = await call(port, 'GET', '/v1/topics/strict');
    expect(strict.json.partitions.map((p: { logEndOffset: number }) => p.logEndOffset)).toEqual([0, 0]);
    expect(await call(port, 'GET', '/healthz')).toMatchObject({ status: 200 });
  });
});
