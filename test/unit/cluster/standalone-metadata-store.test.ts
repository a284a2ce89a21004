import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataEvent, PartitionState } from '../../../src/cluster/metadata-store.js';
import { CLUSTER_METADATA_FILE, CorruptMetadataFileError, decodeClusterMetadata } from '../../../src/cluster/cluster-metadata-file.js';
import { StandaloneMetadataStore, type StandaloneMetadataStoreOptions } from '../../../src/cluster/standalone-metadata-store.js';
import { SluiceError } from '../../../src/errors/sluice-error.js';
import { makeTempDir } from '../../helpers/storage.js';

let dir: string;
let cleanup: () => Promise<void>;
const stores: StandaloneMetadataStore[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir('sluice-metadata-'));
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await cleanup();
});

const BROKER = { brokerId: 1, host: 'localhost', port: 9092 };

function storeOptions(overrides: Partial<StandaloneMetadataStoreOptions> = {}): StandaloneMetadataStoreOptions {
  let clockMs = 1_700_000_000_000;
  return { dataDir: join(dir, 'data'), broker: BROKER, partitionCountMax: 100, nowMs: () => clockMs++, ...overrides };
}

async function openStore(overrides: Partial<StandaloneMetadataStoreOptions> = {}): Promise<StandaloneMetadataStore> {
  const store = await StandaloneMetadataStore.open(storeOptions(overrides));
  stores.push(store);
  return store;
}

async function reopen(store: StandaloneMetadataStore, overrides: Partial<StandaloneMetadataStoreOptions> = {}): Promise<StandaloneMetadataStore> {
  await store.close();
  stores.splice(stores.indexOf(store), 1);
  return openStore(overrides);
}

function metadataPath(): string {
  return join(dir, 'data', CLUSTER_METADATA_FILE);
}

async function readDocument(): Promise<any> {
  return JSON.parse(await readFile(metadataPath(), 'utf8'));
}

/** The error name a promise rejects with; fails the test if it resolves or throws something else. */
async function rejectionName(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => { throw new Error('expected a rejection'); }, (caught: unknown) => caught);
  if (!(error instanceof SluiceError)) throw error;
  return error.errorName;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('a fresh standalone cluster', () => {
  it('is this one broker and no topics, and writes its file at once', async () => {
    const store = await openStore();
    expect(await store.listBrokers()).toEqual([BROKER]);
    expect(await store.listTopics()).toEqual([]);
    expect(await readDocument()).toEqual({ version: 1, revision: 0, broker: BROKER, topics: [] });
  });
});

describe('creating, reading and deleting topics', () => {
  it('creates a topic whose every partition this broker leads at epoch 0, with itself as the ISR', async () => {
    const store = await openStore({ nowMs: () => 1234 });
    const created = await store.createTopic({ name: 'orders', partitionCount: 3, replicationFactor: 1 });
    expect(created.name).toBe('orders');
    expect(created.topicId).toMatch(UUID);
    expect(created.createdAtMs).toBe(1234);
    expect(created.partitions).toEqual(Array.from({ length: 3 }, () => ({ leaderId: 1, leaderEpoch: 0, replicas: [1], isr: [1] })));
    expect(await store.getTopic('orders')).toEqual(created);
    expect(await store.getTopic('absent')).toBeNull();
  });

  it('lists topics by name, internal ones included', async () => {
    const store = await openStore();
    for (const name of ['zeta', 'alpha', 'mid']) await store.createTopic({ name, partitionCount: 1, replicationFactor: 1 });
    await store.createTopic({ name: '__consumer_offsets', partitionCount: 50, replicationFactor: 1, allowInternal: true });
    expect((await store.listTopics()).map((topic) => topic.name)).toEqual(['__consumer_offsets', 'alpha', 'mid', 'zeta']);
  });

  it('refuses bad requests with their typed errors and changes nothing', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'a.b', partitionCount: 1, replicationFactor: 1 });
    const before = await readFile(metadataPath(), 'utf8');
    const attempts: Array<[string, Promise<unknown>]> = [
      ['INVALID_TOPIC_EXCEPTION', store.createTopic({ name: 'a/b', partitionCount: 1, replicationFactor: 1 })],
      ['INVALID_TOPIC_EXCEPTION', store.createTopic({ name: 'x'.repeat(250), partitionCount: 1, replicationFactor: 1 })],
      ['INVALID_TOPIC_EXCEPTION', store.createTopic({ name: '__internal', partitionCount: 1, replicationFactor: 1 })],
      ['INVALID_TOPIC_EXCEPTION', store.createTopic({ name: 'a_b', partitionCount: 1, replicationFactor: 1 })],
      ['INVALID_PARTITIONS', store.createTopic({ name: 'p0', partitionCount: 0, replicationFactor: 1 })],
      ['INVALID_PARTITIONS', store.createTopic({ name: 'p101', partitionCount: 101, replicationFactor: 1 })],
      ['INVALID_REPLICATION_FACTOR', store.createTopic({ name: 'rf2', partitionCount: 1, replicationFactor: 2 })],
      ['INVALID_REPLICATION_FACTOR', store.createTopic({ name: 'rf0', partitionCount: 1, replicationFactor: 0 })],
      ['TOPIC_ALREADY_EXISTS', store.createTopic({ name: 'a.b', partitionCount: 1, replicationFactor: 1 })],
      ['UNKNOWN_TOPIC_OR_PARTITION', store.deleteTopic('absent')],
    ];
    for (const [expected, attempt] of attempts) expect(await rejectionName(attempt)).toBe(expected);
    expect(await readFile(metadataPath(), 'utf8')).toBe(before);
    expect((await store.listTopics()).map((topic) => topic.name)).toEqual(['a.b']);
  });

  it('accepts exactly partitionCountMax partitions', async () => {
    const store = await openStore();
    expect((await store.createTopic({ name: 'wide', partitionCount: 100, replicationFactor: 1 })).partitions).toHaveLength(100);
  });

  it('deletes a topic, after which its name is free and its colliding names too', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'a.b', partitionCount: 2, replicationFactor: 1 });
    await store.deleteTopic('a.b');
    expect(await store.getTopic('a.b')).toBeNull();
    expect(await store.getPartitionState('a.b', 0)).toBeNull();
    expect(await store.listTopics()).toEqual([]);
    expect(await rejectionName(store.deleteTopic('a.b'))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    await store.createTopic({ name: 'a_b', partitionCount: 1, replicationFactor: 1 });
    expect((await readDocument()).topics.map((topic: { name: string }) => topic.name)).toEqual(['a_b']);
  });

  it('gives a topic deleted and created again a new topic id', async () => {
    const store = await openStore();
    const first = await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    await store.deleteTopic('orders');
    const second = await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    expect(second.topicId).toMatch(UUID);
    expect(second.topicId).not.toBe(first.topicId);
  });

  it('hands out frozen snapshots that a caller cannot change', async () => {
    const store = await openStore();
    const created = await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    expect(() => { (created.partitions[0]!.isr as number[]).push(7); }).toThrow(TypeError);
    expect(() => { (created as { name: string }).name = 'other'; }).toThrow(TypeError);
    expect(() => { (created.partitions as PartitionState[]).push(created.partitions[0]!); }).toThrow(TypeError);
    expect(Object.isFrozen(await store.listTopics())).toBe(true);
    expect(Object.isFrozen(await store.listBrokers())).toBe(true);
    expect((await store.getTopic('orders'))!.partitions[0]!.isr).toEqual([1]);
  });
});

describe('concurrent changes', () => {
  it('lets exactly one of many concurrent creates of one name win; the rest get TOPIC_ALREADY_EXISTS', async () => {
    const store = await openStore();
    const results = await Promise.allSettled(Array.from({ length: 25 }, (_, k) => (
      store.createTopic({ name: 'orders', partitionCount: k + 1, replicationFactor: 1 }))));
    const winners = results.filter((result) => result.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') expect((result.reason as SluiceError).errorName).toBe('TOPIC_ALREADY_EXISTS');
    }
    const reopened = await reopen(store);
    expect((await reopened.listTopics()).map((topic) => topic.topicId)).toEqual([(winners[0] as PromiseFulfilledResult<{ topicId: string }>).value.topicId]);
  });

  it('lets only one of two colliding names created at once win', async () => {
    const store = await openStore();
    const results = await Promise.allSettled([
      store.createTopic({ name: 'a.b', partitionCount: 1, replicationFactor: 1 }),
      store.createTopic({ name: 'a_b', partitionCount: 1, replicationFactor: 1 }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
    expect(((results[1] as PromiseRejectedResult).reason as SluiceError).errorName).toBe('INVALID_TOPIC_EXCEPTION');
  });

  it('of concurrent CASes from the same version, exactly one wins', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    const { value, version } = (await store.getPartitionState('orders', 0))!;
    const results = await Promise.all(Array.from({ length: 10 }, (_, k) => (
      store.compareAndSetPartitionState('orders', 0, version, { ...value, leaderEpoch: k + 1 }))));
    expect(results.filter((result) => result !== null)).toHaveLength(1);
    const winner = results.findIndex((result) => result !== null);
    expect((await store.getPartitionState('orders', 0))!.value.leaderEpoch).toBe(winner + 1);
  });
});

describe('compare-and-swap of partition state', () => {
  const LEADERLESS: PartitionState = { leaderId: null, leaderEpoch: 1, replicas: [1], isr: [] };

  it('succeeds with the current version, returning the new one, and fails with a stale one', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 2, replicationFactor: 1 });
    const read = (await store.getPartitionState('orders', 1))!;
    const newVersion = await store.compareAndSetPartitionState('orders', 1, read.version, LEADERLESS);
    expect(newVersion).not.toBeNull();
    expect(newVersion).not.toBe(read.version);
    expect(await store.getPartitionState('orders', 1)).toEqual({ value: LEADERLESS, version: newVersion });
    expect((await store.getTopic('orders'))!.partitions[1]).toEqual(LEADERLESS);
    const before = await readFile(metadataPath(), 'utf8');
    expect(await store.compareAndSetPartitionState('orders', 1, read.version, { ...LEADERLESS, leaderEpoch: 2 })).toBeNull();
    expect(await readFile(metadataPath(), 'utf8')).toBe(before);
    expect((await store.getPartitionState('orders', 1))!.value).toEqual(LEADERLESS);
  });

  it('changes only the partition it names', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 2, replicationFactor: 1 });
    const other = (await store.getPartitionState('orders', 0))!;
    const read = (await store.getPartitionState('orders', 1))!;
    await store.compareAndSetPartitionState('orders', 1, read.version, LEADERLESS);
    expect(await store.getPartitionState('orders', 0)).toEqual(other);
    expect(await store.compareAndSetPartitionState('orders', 0, other.version, { ...other.value, leaderEpoch: 5 })).not.toBeNull();
  });

  it('fails for a topic or partition that does not exist', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    const { version } = (await store.getPartitionState('orders', 0))!;
    expect(await store.getPartitionState('orders', 1)).toBeNull();
    expect(await store.compareAndSetPartitionState('orders', 1, version, LEADERLESS)).toBeNull();
    expect(await store.compareAndSetPartitionState('absent', 0, version, LEADERLESS)).toBeNull();
  });

  it('never lets a version read before a delete match the topic created again under that name', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    const stale = (await store.getPartitionState('orders', 0))!;
    await store.deleteTopic('orders');
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    expect((await store.getPartitionState('orders', 0))!.version).not.toBe(stale.version);
    expect(await store.compareAndSetPartitionState('orders', 0, stale.version, LEADERLESS)).toBeNull();
  });

  it('keeps versions across a reopen: the current one still wins, a stale one still loses', async () => {
    let store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    const stale = (await store.getPartitionState('orders', 0))!;
    const current = await store.compareAndSetPartitionState('orders', 0, stale.version, LEADERLESS);
    store = await reopen(store);
    expect(await store.getPartitionState('orders', 0)).toEqual({ value: LEADERLESS, version: current });
    expect(await store.compareAndSetPartitionState('orders', 0, stale.version, { ...LEADERLESS, leaderEpoch: 9 })).toBeNull();
    const next = await store.compareAndSetPartitionState('orders', 0, current!, { leaderId: 1, leaderEpoch: 2, replicas: [1], isr: [1] });
    expect(next).not.toBeNull();
    store = await reopen(store);
    // A topic created after a restart does not reuse a version handed out before it.
    await store.deleteTopic('orders');
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    expect([stale.version, current, next]).not.toContain((await store.getPartitionState('orders', 0))!.version);
  });

  it('treats a state that breaks the partition invariants as a bug (assertion), not a write', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    const { version } = (await store.getPartitionState('orders', 0))!;
    const broken: PartitionState[] = [
      { leaderId: 1, leaderEpoch: 1, replicas: [1], isr: [1, 2] },
      { leaderId: 2, leaderEpoch: 1, replicas: [1, 2], isr: [1] },
      { leaderId: 1, leaderEpoch: -1, replicas: [1], isr: [1] },
      { leaderId: 1, leaderEpoch: 1, replicas: [], isr: [] },
      { leaderId: 1, leaderEpoch: 1, replicas: [1, 1], isr: [1] },
    ];
    for (const state of broken) {
      await expect(store.compareAndSetPartitionState('orders', 0, version, state)).rejects.toThrow(/assertion failed/);
    }
    await store.compareAndSetPartitionState('orders', 0, version, { leaderId: 1, leaderEpoch: 3, replicas: [1], isr: [1] });
    const moved = (await store.getPartitionState('orders', 0))!;
    await expect(store.compareAndSetPartitionState('orders', 0, moved.version, { ...moved.value, leaderEpoch: 2 }))
      .rejects.toThrow(/leader epoch .* never decreases/);
  });
});

describe('persistence', () => {
  it('reopens with every topic, partition state, topic id and creation time', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 3, replicationFactor: 1 });
    await store.createTopic({ name: '__consumer_offsets', partitionCount: 2, replicationFactor: 1, allowInternal: true });
    const { version } = (await store.getPartitionState('orders', 2))!;
    await store.compareAndSetPartitionState('orders', 2, version, { leaderId: null, leaderEpoch: 4, replicas: [1], isr: [] });
    const topics = await store.listTopics();
    const reopened = await reopen(store);
    expect(await reopened.listTopics()).toEqual(topics);
    expect(await readdir(join(dir, 'data'))).toEqual([CLUSTER_METADATA_FILE]);
  });

  it('writes the documented format', async () => {
    const store = await openStore({ nowMs: () => 5, randomUuid: () => '00000000-0000-4000-8000-000000000001' });
    await store.createTopic({ name: 'orders', partitionCount: 2, replicationFactor: 1 });
    const { version } = (await store.getPartitionState('orders', 1))!;
    await store.compareAndSetPartitionState('orders', 1, version, { leaderId: null, leaderEpoch: 1, replicas: [1], isr: [] });
    expect(await readDocument()).toEqual({
      version: 1,
      revision: 2,
      broker: { brokerId: 1, host: 'localhost', port: 9092 },
      topics: [{
        name: 'orders',
        topicId: '00000000-0000-4000-8000-000000000001',
        createdAtMs: 5,
        config: { minInsyncReplicas: 1, uncleanLeaderElection: false },
        partitions: [
          { version: 1, leaderId: 1, leaderEpoch: 0, replicas: [1], isr: [1] },
          { version: 2, leaderId: null, leaderEpoch: 1, replicas: [1], isr: [] },
        ],
      }],
    });
  });

  it('reads a file written before topic configs existed with the default config', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'old', partitionCount: 1, replicationFactor: 1 });
    await store.close();
    const document = await readDocument() as { topics: Array<Record<string, unknown>> };
    delete document.topics[0]!['config'];
    await writeFile(metadataPath(), JSON.stringify(document));
    const reopened = await openStore();
    expect((await reopened.getTopic('old'))!.config).toEqual({ minInsyncReplicas: 1, uncleanLeaderElection: false });
  });

  it('refuses minInsyncReplicas above the replication factor with INVALID_CONFIG, and keeps one within it', async () => {
    const store = await openStore();
    await expect(store.createTopic({ name: 'strict', partitionCount: 1, replicationFactor: 1, config: { minInsyncReplicas: 2 } }))
      .rejects.toMatchObject({ errorName: 'INVALID_CONFIG' });
    expect((await store.createTopic({ name: 'strict', partitionCount: 1, replicationFactor: 1, config: { minInsyncReplicas: 1 } })).config.minInsyncReplicas).toBe(1);
  });

  it('registers its broker, reports it as controller, and elects it at once', async () => {
    const store = await openStore();
    await store.registerBroker({ brokerId: 1, host: '127.0.0.1', port: 19093 });
    expect(await store.listBrokers()).toEqual([{ brokerId: 1, host: '127.0.0.1', port: 19093 }]);
    await expect(store.registerBroker({ brokerId: 2, host: '127.0.0.1', port: 1 })).rejects.toMatchObject({ errorName: 'INVALID_REQUEST' });
    expect(await store.controllerId()).toBe(1);
    const elected = await new Promise<boolean>((resolve) => {
      void store.campaignForController(1, { elected: () => resolve(true), resigned: () => resolve(false) });
    });
    expect(elected).toBe(true);
  });

  it('records a new host and port of the same broker at open', async () => {
    const store = await openStore();
    const moved = { brokerId: 1, host: 'broker-a.internal', port: 19092 };
    const reopened = await reopen(store, { broker: moved });
    expect(await reopened.listBrokers()).toEqual([moved]);
    expect((await readDocument()).broker).toEqual(moved);
  });

  it('ignores a temp file left by a write that crashed', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    await writeFile(`${metadataPath()}.tmp`, '{"version": 1, "half-writ');
    const reopened = await reopen(store);
    expect((await reopened.listTopics()).map((topic) => topic.name)).toEqual(['orders']);
    await reopened.createTopic({ name: 'more', partitionCount: 1, replicationFactor: 1 });
    expect(await readdir(join(dir, 'data'))).toEqual([CLUSTER_METADATA_FILE]);
  });

  it('refuses to open a file written by another broker', async () => {
    const store = await openStore();
    await store.close();
    stores.splice(0);
    const error = await StandaloneMetadataStore.open(storeOptions({ broker: { ...BROKER, brokerId: 2 } })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptMetadataFileError);
    expect((error as Error).message).toMatch(/belongs to broker 1, not broker 2/);
  });

  it('stops serving after a failed write, leaving the last durable state in the file', async () => {
    const store = await openStore();
    await store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    const before = await readFile(metadataPath(), 'utf8');
    // A directory where the temp file goes makes the next write fail, as a full disk would.
    await mkdir(`${metadataPath()}.tmp`);
    expect(await rejectionName(store.createTopic({ name: 'doomed', partitionCount: 1, replicationFactor: 1 }))).toBe('KAFKA_STORAGE_ERROR');
    expect(await rejectionName(store.getTopic('orders'))).toBe('KAFKA_STORAGE_ERROR');
    expect(await rejectionName(store.deleteTopic('orders'))).toBe('KAFKA_STORAGE_ERROR');
    expect(await readFile(metadataPath(), 'utf8')).toBe(before);
  });
});

describe('a metadata file that cannot be believed', () => {
  const GOOD = {
    version: 1, revision: 1, broker: BROKER,
    topics: [{ name: 'orders', topicId: 'id-1', createdAtMs: 0, partitions: [{ version: 1, leaderId: 1, leaderEpoch: 0, replicas: [1], isr: [1] }] }],
  };
  const withTopic = (topic: object): object => ({ ...GOOD, topics: [{ ...GOOD.topics[0], ...topic }] });
  const withPartition = (partition: object): object => withTopic({ partitions: [{ ...GOOD.topics[0]!.partitions[0], ...partition }] });

  it('accepts the well-formed baseline these cases break', () => {
    expect(typeof decodeClusterMetadata(JSON.stringify(GOOD))).toBe('object');
  });

  it.each<[string, string]>([
    ['an empty file', ''],
    ['a torn write', JSON.stringify(GOOD).slice(0, 40)],
    ['binary garbage', '\u0000\u0001\u00ff garbage'],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['an unknown format version', JSON.stringify({ ...GOOD, version: 2 })],
    ['no revision', JSON.stringify({ ...GOOD, revision: undefined })],
    ['no broker', JSON.stringify({ ...GOOD, broker: undefined })],
    ['topics not an array', JSON.stringify({ ...GOOD, topics: {} })],
    ['an invalid topic name', JSON.stringify(withTopic({ name: 'a/b' }))],
    ['a missing topic id', JSON.stringify(withTopic({ topicId: undefined }))],
    ['no partitions', JSON.stringify(withTopic({ partitions: [] }))],
    ['a partition version above the revision', JSON.stringify(withPartition({ version: 2 }))],
    ['a partition version of 0', JSON.stringify(withPartition({ version: 0 }))],
    ['an ISR outside the replicas', JSON.stringify(withPartition({ isr: [1, 2] }))],
    ['a leader outside the ISR', JSON.stringify(withPartition({ leaderId: 2, replicas: [1, 2] }))],
    ['a fractional leader epoch', JSON.stringify(withPartition({ leaderEpoch: 0.5 }))],
    ['a string leader id', JSON.stringify(withPartition({ leaderId: '1' }))],
    ['a topic listed twice', JSON.stringify({ ...GOOD, topics: [GOOD.topics[0], GOOD.topics[0]] })],
    ['colliding topics', JSON.stringify({ ...GOOD, topics: [GOOD.topics[0], { ...GOOD.topics[0], name: 'a.b', topicId: 'x' }, { ...GOOD.topics[0], name: 'a_b', topicId: 'y' }] })],
    ['a topic id used twice', JSON.stringify({ ...GOOD, topics: [GOOD.topics[0], { ...GOOD.topics[0], name: 'other' }] })],
  ])('stops the broker at open on %s, saying why and that logs would be orphaned', async (_what, text) => {
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(metadataPath(), text);
    const error = await StandaloneMetadataStore.open(storeOptions()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptMetadataFileError);
    const message = (error as Error).message;
    expect(message).toContain(metadataPath());
    expect(message).toMatch(/Refusing to start/);
    expect(message).toMatch(/orphan every partition log/);
    // The file is left exactly as found, for the operator to inspect.
    expect(await readFile(metadataPath(), 'utf8')).toBe(text);
  });

  it('reports a path that cannot be read as a file as unreadable', async () => {
    await mkdir(metadataPath(), { recursive: true });
    await expect(StandaloneMetadataStore.open(storeOptions())).rejects.toThrow(/unreadable.*Refusing to start/);
  });
});

describe('watching changes', () => {
  it('reports creates, partition changes and deletes in order, each after it is durable', async () => {
    const store = await openStore();
    const events: MetadataEvent[] = [];
    const durable: boolean[] = [];
    await store.watch((event) => {
      events.push(event);
      // Read synchronously: a listener is synchronous, and the change must already be on disk.
      const names = JSON.parse(readFileSync(metadataPath(), 'utf8')).topics.map((topic: { name: string }) => topic.name);
      if (event.kind === 'brokers-changed' || event.kind === 'controller-changed') return;
      durable.push(event.kind === 'topic-deleted' ? !names.includes(event.topic) : names.includes(event.topic));
    });
    const created = await store.createTopic({ name: 'orders', partitionCount: 2, replicationFactor: 1 });
    const { value, version } = (await store.getPartitionState('orders', 1))!;
    await store.compareAndSetPartitionState('orders', 1, version, { ...value, leaderEpoch: 1 });
    await store.compareAndSetPartitionState('orders', 1, version, { ...value, leaderEpoch: 2 });
    await store.deleteTopic('orders');
    await store.createTopic({ name: 'bad name', partitionCount: 1, replicationFactor: 1 }).catch(() => undefined);
    const topicId = created.topicId;
    expect(events).toEqual([
      { kind: 'topic-created', topic: 'orders', topicId, revision: 1 },
      { kind: 'partition-changed', topic: 'orders', topicId, partition: 1, revision: 2 },
      { kind: 'topic-deleted', topic: 'orders', topicId, revision: 3 },
    ]);
    expect(durable).toEqual([true, true, true]);
  });

  it('sees the new state from inside a listener', async () => {
    const store = await openStore();
    const seen: Array<number | undefined> = [];
    await store.watch((event) => {
      if (event.kind === 'topic-created') void store.getTopic(event.topic).then((topic) => seen.push(topic?.partitions.length));
    });
    await store.createTopic({ name: 'orders', partitionCount: 4, replicationFactor: 1 });
    await store.getTopic('orders');
    expect(seen).toEqual([4]);
  });

  it('stops calling a listener once unsubscribed, and calls every subscriber', async () => {
    const store = await openStore();
    const first: string[] = [];
    const second: string[] = [];
    const topicOf = (event: MetadataEvent): string => ('topic' in event ? event.topic : event.kind);
    const stopFirst = await store.watch((event) => first.push(topicOf(event)));
    await store.watch((event) => second.push(topicOf(event)));
    await store.createTopic({ name: 'a', partitionCount: 1, replicationFactor: 1 });
    stopFirst();
    stopFirst();
    await store.createTopic({ name: 'b', partitionCount: 1, replicationFactor: 1 });
    expect(first).toEqual(['a']);
    expect(second).toEqual(['a', 'b']);
  });
});

describe('closing', () => {
  it('waits for changes under way, and refuses use afterwards as a bug', async () => {
    const store = await StandaloneMetadataStore.open(storeOptions());
    const creating = store.createTopic({ name: 'orders', partitionCount: 1, replicationFactor: 1 });
    await store.close();
    await expect(creating).resolves.toMatchObject({ name: 'orders' });
    await expect(store.listTopics()).rejects.toThrow(/assertion failed/);
    await expect(store.watch(() => undefined)).rejects.toThrow(/assertion failed/);
    await store.close();
    const reopened = await openStore();
    expect((await reopened.listTopics()).map((topic) => topic.name)).toEqual(['orders']);
  });
});
