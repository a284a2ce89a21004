import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Producer, SluiceClientError } from '../../src/client/index.js';
import { nodeWebSocket } from '../../src/client/node.js';
import { SluiceError } from '../../src/errors/index.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';

let broker: CliProcess;
let url: string;
let port: number;
let cleanup: () => Promise<void>;
let admin: Admin;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await makeTempDir('sluice-client-admin-'));
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dir]);
  port = (await broker.waitForLog('broker started')).port as number;
  url = `ws://127.0.0.1:${port}`;
  admin = new Admin({ url, webSocketFactory: nodeWebSocket, clientId: 'admin-test' });
});

afterAll(async () => {
  admin?.close();
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

const errorName = (error: unknown): string | undefined => (error instanceof SluiceError ? error.errorName : undefined);

describe('Admin against a real broker', () => {
  it('creates, lists, describes and deletes topics', async () => {
    await expect(admin.createTopics([{ name: 'alpha', partitions: 3 }, { name: 'beta', partitions: 1 }])).resolves.toEqual([
      { name: 'alpha', error: null }, { name: 'beta', error: null },
    ]);
    expect(await admin.listTopics()).toEqual(['alpha', 'beta']);
    expect(await admin.listTopics({ includeInternal: true })).toContain('__consumer_offsets');
    const [alpha] = await admin.describeTopics(['alpha']);
    expect(alpha!.partitions.map((p) => [p.partition, p.leaderId, p.isr, p.error])).toEqual([[0, 0, [0], null], [1, 0, [0], null], [2, 0, [0], null]]);
    await expect(admin.describeCluster()).resolves.toEqual([{ brokerId: 0, host: '127.0.0.1', port }]);

    await admin.deleteTopic('beta');
    expect(await admin.listTopics()).toEqual(['alpha']);
  });

  it('reports what the broker refuses as typed errors', async () => {
    const outcomes = await admin.createTopics([{ name: 'alpha', partitions: 1 }, { name: 'bad/name', partitions: 1 }, { name: 'zero', partitions: 0 }]);
    expect(outcomes.map((outcome) => [outcome.name, outcome.error?.errorName ?? null])).toEqual([
      ['alpha', 'TOPIC_ALREADY_EXISTS'], ['bad/name', 'INVALID_TOPIC_EXCEPTION'], ['zero', 'INVALID_PARTITIONS'],
    ]);
    expect(errorName(await admin.createTopic('alpha', 1).catch((error: unknown) => error))).toBe('TOPIC_ALREADY_EXISTS');
    expect(errorName(await admin.describeTopics(['missing']).catch((error: unknown) => error))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(errorName(await admin.deleteTopic('missing').catch((error: unknown) => error))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    await expect(admin.createTopic('x'.repeat(40_000), 1)).rejects.toBeInstanceOf(SluiceClientError);
  });

  it('lists earliest, latest and by-timestamp offsets', async () => {
    await admin.createTopic('timeline', 1);
    const producer = new Producer({ url, webSocketFactory: nodeWebSocket });
    for (let index = 0; index < 5; index++) await producer.send({ topic: 'timeline', value: `t${index}`, timestamp: 1_000_000 + index * 1_000 });
    await producer.close();
    const listed = await admin.listOffsets([
      { topic: 'timeline', partition: 0, spec: 'earliest' },
      { topic: 'timeline', partition: 0, spec: 'latest' },
      { topic: 'timeline', partition: 0, spec: { timestamp: 1_002_500 } },
      { topic: 'timeline', partition: 0, spec: { timestamp: 9_000_000 } },
    ]);
    expect(listed.map((entry) => entry.offset)).toEqual([0, 5, 3, null]);
    expect(errorName(await admin.listOffsets([{ topic: 'timeline', partition: 7, spec: 'latest' }]).catch((error: unknown) => error))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('reads and sets committed offsets of a group', async () => {
    await expect(admin.fetchCommittedOffsets('admins', [{ topic: 'timeline', partition: 0 }])).resolves.toEqual([
      { topic: 'timeline', partition: 0, offset: null, metadata: null },
    ]);
    await admin.commitOffsets('admins', [{ topic: 'timeline', partition: 0, offset: 3, metadata: 'by hand' }]);
    await expect(admin.fetchCommittedOffsets('admins', [{ topic: 'timeline', partition: 0 }])).resolves.toEqual([
      { topic: 'timeline', partition: 0, offset: 3, metadata: 'by hand' },
    ]);
  });
});
