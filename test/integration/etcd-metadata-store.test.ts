import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EtcdMetadataStore, type EtcdMetadataStoreOptions } from '../../src/cluster/etcd-metadata-store.js';
import type { BrokerInfo, MetadataEvent, PartitionState } from '../../src/cluster/metadata-store.js';
import { SluiceError } from '../../src/errors/sluice-error.js';
import { startEtcd, type EtcdProcess } from '../helpers/etcd.js';

// One real etcd for the file; every test works under a fresh prefix, so tests do not see each other.
let etcd: EtcdProcess;
let prefix: string;
const stores: EtcdMetadataStore[] = [];

beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });
beforeEach(() => { prefix = `/sluice-test-${randomBytes(6).toString('hex')}`; });
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** Short sessions, so that a lapsed one is noticed within seconds (etcd's own minimum TTL is 2 s). */
const SESSION_TIMEOUT_MS = 2_000;

async function openStore(overrides: Partial<EtcdMetadataStoreOptions> = {}): Promise<EtcdMetadataStore> {
  let clockMs = 1_700_000_000_000;
  const store = await EtcdMetadataStore.open({
    endpoints: [etcd.endpoint], prefix, brokerSessionTimeoutMs: SESSION_TIMEOUT_MS, partitionCountMax: 1_000,
    nowMs: () => clockMs++, ...overrides,
  });
  stores.push(store);
  return store;
}

function broker(brokerId: number): BrokerInfo {
  return { brokerId, host: '127.0.0.1', port: 9000 + brokerId };
}

/** A store with broker `brokerId` registered. */
async function brokerStore(brokerId: number, overrides: Partial<EtcdMetadataStoreOptions> = {}): Promise<EtcdMetadataStore> {
  const store = await openStore(overrides);
  await store.registerBroker(broker(brokerId));
  return store;
}

async function closeStore(store: EtcdMetadataStore): Promise<void> {
  stores.splice(stores.indexOf(store), 1);
  await store.close();
}

/** The error name a promise rejects with; fails the test if it resolves or throws something else. */
async function rejectionName(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => { throw new Error('expected a rejection'); }, (caught: unknown) => caught);
  if (!(error instanceof SluiceError)) throw error;
  return error.errorName;
}

/** Polls `check` until it returns a value other than undefined, at most `timeoutMs`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadlineMs = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1_000 && Date.now() < deadlineMs; attempt++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

async function brokerIds(store: EtcdMetadataStore): Promise<number[]> {
  return (await store.listBrokers()).map((info) => info.brokerId);
}

function electionRecorder(): { elected: number; resigned: number; callbacks: { elected(): void; resigned(): void } } {
  const recorder = {
    elected: 0,
    resigned: 0,
    callbacks: { elected: () => { recorder.elected++; }, resigned: () => { recorder.resigned++; } },
  };
  return recorder;
}

describe('topics', () => {
  it('a created topic is read back with its replicas spread, led by its preferred replica at epoch 0, all in sync', async () => {
    const store = await brokerStore(1);
    await brokerStore(2);
    await brokerStore(3);
    const created = await store.createTopic({ name: 'orders', partitionCount: 6, replicationFactor: 2, config: { minInsyncReplicas: 2 } });
    expect(created.partitions).toHaveLength(6);
    expect(created.config).toEqual({ minInsyncReplicas: 2, uncleanLeaderElection: false });
    for (const partition of created.partitions) {
      expect(partition.replicas).toHaveLength(2);
      expect(new Set(partition.replicas).size).toBe(2);
      expect(partition).toEqual({ leaderId: partition.replicas[0], leaderEpoch: 0, replicas: partition.replicas, isr: partition.replicas });
    }
    const leaders = created.partitions.map((partition) => partition.leaderId);
    for (const id of [1, 2, 3]) expect(leaders.filter((leader) => leader === id)).toHaveLength(2);
    expect(await store.getTopic('orders')).toEqual(created);
    expect(Object.isFrozen(created) && Object.isFrozen(created.partitions[0])).toBe(true);
    const other = await openStore();
    expect(await other.getTopic('orders')).toEqual(created);
  });

  it('lists every topic by name, internal ones included', async () => {
    const store = await brokerStore(1);
    for (const name of ['b', '__consumer_offsets', 'a']) {
      await store.createTopic({ name, partitionCount: 2, replicationFactor: 1, allowInternal: true });
    }
    expect((await store.listTopics()).map((topic) => topic.name)).toEqual(['__consumer_offsets', 'a', 'b']);
    expect(await store.getTopic('c')).toBeNull();
    expect(await store.getTopic('no/such')).toBeNull();
  });

  it('refuses bad names, partition counts, replication factors and configs, duplicates and collisions', async () => {
    const store = await brokerStore(1);
    await brokerStore(2);
    const create = (name: string, partitionCount = 1, replicationFactor = 1, config = {}) =>
      rejectionName(store.createTopic({ name, partitionCount, replicationFactor, config }));
    expect(await create('bad/name')).toBe('INVALID_TOPIC_EXCEPTION');
    expect(await create('__internal')).toBe('INVALID_TOPIC_EXCEPTION');
    expect(await create('t', 0)).toBe('INVALID_PARTITIONS');
    expect(await create('t', 1_001)).toBe('INVALID_PARTITIONS');
    expect(await create('t', 1, 3)).toBe('INVALID_REPLICATION_FACTOR');
    expect(await create('t', 1, 2, { minInsyncReplicas: 3 })).toBe('INVALID_CONFIG');
    await store.createTopic({ name: 'a.b', partitionCount: 1, replicationFactor: 2 });
    expect(await create('a.b')).toBe('TOPIC_ALREADY_EXISTS');
    expect(await create('a_b')).toBe('INVALID_TOPIC_EXCEPTION');
    expect((await store.listTopics()).map((topic) => topic.name)).toEqual(['a.b']);
  });

  it('creates a topic of more partitions than one etcd transaction may write', async () => {
    const store = await brokerStore(1);
    const created = await store.createTopic({ name: 'wide', partitionCount: 500, replicationFactor: 1 });
    expect((await store.getTopic('wide'))?.partitions).toHaveLength(500);
    expect((await store.getPartitionState('wide', 499))?.value).toEqual(created.partitions[499]);
  });

  it('of concurrent creates of one name from two brokers, exactly one succeeds', async () => {
    const first = await brokerStore(1);
    const second = await brokerStore(2);
    const attempts = Array.from({ length: 8 }, (_, i) =>
      (i % 2 === 0 ? first : second).createTopic({ name: 'race', partitionCount: 3, replicationFactor: 2 }).then(() => 'created', (error: SluiceError) => error.errorName));
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'TOPIC_ALREADY_EXISTS')).toHaveLength(7);
    const colliding = await Promise.all(['x.y', 'x_y', 'x.y', 'x_y'].map((name, i) =>
      (i % 2 === 0 ? first : second).createTopic({ name, partitionCount: 1, replicationFactor: 1 }).then(() => 'created', (error: SluiceError) => error.errorName)));
    expect(colliding.filter((outcome) => outcome === 'created')).toHaveLength(1);
    expect((await first.listTopics()).map((topic) => topic.name).filter((name) => name.startsWith('x'))).toHaveLength(1);
  });

  it('moves the first preferred leader of each new topic with the partitions already in the cluster', async () => {
    const store = await brokerStore(1);
    await brokerStore(2);
    await brokerStore(3);
    const leaders: Array<number | null> = [];
    for (const name of ['t0', 't1', 't2', 't3']) {
      leaders.push((await store.createTopic({ name, partitionCount: 1, replicationFactor: 1 })).partitions[0]!.leaderId);
    }
    expect(leaders).toEqual([1, 2, 3, 1]);
  });

  it('deletes a topic and its partition states; a topic created again under the name is a new one', async () => {
    const store = await brokerStore(1);
    const old = await store.createTopic({ name: 'gone', partitionCount: 2, replicationFactor: 1 });
    const read = (await store.getPartitionState('gone', 1))!;
    const changed = await store.compareAndSetPartitionState('gone', 1, read.version, { ...read.value, leaderEpoch: 1 });
    expect(changed).not.toBeNull();
    await store.deleteTopic('gone');
    expect(await store.getTopic('gone')).toBeNull();
    expect(await store.getPartitionState('gone', 1)).toBeNull();
    expect(await rejectionName(store.deleteTopic('gone'))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const again = await store.createTopic({ name: 'gone', partitionCount: 2, replicationFactor: 1 });
    expect(again.topicId).not.toBe(old.topicId);
    expect(again.partitions[1]!.leaderEpoch).toBe(0);
    for (const partition of [0, 1]) {
      const fresh = (await store.getPartitionState('gone', partition))!;
      expect([read.version, changed]).not.toContain(fresh.version);
      expect(await store.compareAndSetPartitionState('gone', partition, read.version, fresh.value)).toBeNull();
      expect(await store.compareAndSetPartitionState('gone', partition, changed!, fresh.value)).toBeNull();
    }
    // The collision claim went with the topic.
    await store.deleteTopic('gone');
    await store.createTopic({ name: 'gone', partitionCount: 1, replicationFactor: 1 });
  });
});

describe('partition state', () => {
  it('changes only by compare-and-set on the version last read; versions only grow', async () => {
    const store = await brokerStore(1);
    await brokerStore(2);
    await store.createTopic({ name: 'cas', partitionCount: 2, replicationFactor: 2 });
    const initial = (await store.getPartitionState('cas', 0))!;
    const shrunk: PartitionState = { ...initial.value, isr: [initial.value.leaderId!] };
    const v1 = await store.compareAndSetPartitionState('cas', 0, initial.version, shrunk);
    expect(v1).toBeGreaterThan(initial.version);
    expect(await store.getPartitionState('cas', 0)).toEqual({ value: shrunk, version: v1 });
    // A stale version never writes.
    expect(await store.compareAndSetPartitionState('cas', 0, initial.version, initial.value)).toBeNull();
    expect((await store.getPartitionState('cas', 0))!.value).toEqual(shrunk);
    const follower = initial.value.replicas[1]!;
    const moved: PartitionState = { leaderId: follower, leaderEpoch: 1, replicas: initial.value.replicas, isr: [follower] };
    const v2 = await store.compareAndSetPartitionState('cas', 0, v1!, moved);
    expect(v2).toBeGreaterThan(v1!);
    expect((await store.getTopic('cas'))!.partitions[0]).toEqual(moved);
    // The other partition is untouched and keeps its version.
    expect(await store.getPartitionState('cas', 1)).toEqual({ value: (await store.getTopic('cas'))!.partitions[1], version: initial.version });
    expect(await store.compareAndSetPartitionState('cas', 9, v2!, moved)).toBeNull();
    expect(await store.compareAndSetPartitionState('nothing', 0, v2!, moved)).toBeNull();
    expect(await store.getPartitionState('cas', 2)).toBeNull();
  });

  it('of two writers of one version, exactly one wins', async () => {
    const first = await brokerStore(1);
    const second = await brokerStore(2);
    await first.createTopic({ name: 'contended', partitionCount: 1, replicationFactor: 2 });
    for (let round = 0; round < 3; round++) {
      const read = (await first.getPartitionState('contended', 0))!;
      const next = { ...read.value, leaderEpoch: read.value.leaderEpoch + 1 };
      const results = await Promise.all([first, second].map((store) => store.compareAndSetPartitionState('contended', 0, read.version, next)));
      expect(results.filter((result) => result !== null)).toHaveLength(1);
    }
    expect((await second.getPartitionState('contended', 0))!.value.leaderEpoch).toBe(3);
  });

  it('treats a leader epoch going down as a bug', async () => {
    const store = await brokerStore(1);
    await store.createTopic({ name: 'epochs', partitionCount: 1, replicationFactor: 1 });
    const read = (await store.getPartitionState('epochs', 0))!;
    const version = (await store.compareAndSetPartitionState('epochs', 0, read.version, { ...read.value, leaderEpoch: 5 }))!;
    await expect(store.compareAndSetPartitionState('epochs', 0, version, { ...read.value, leaderEpoch: 4 })).rejects.toThrow(/never decreases/);
  });
});

describe('watch', () => {
  it('reports every change after it resolves, in commit order, with etcd revisions', async () => {
    const store = await brokerStore(1);
    const events: MetadataEvent[] = [];
    await store.watch((event) => events.push(event));
    const writer = await brokerStore(2);
    const topic = await writer.createTopic({ name: 'watched', partitionCount: 2, replicationFactor: 2 });
    const read = (await writer.getPartitionState('watched', 1))!;
    const version = (await writer.compareAndSetPartitionState('watched', 1, read.version, { ...read.value, leaderEpoch: 1 }))!;
    await writer.deleteTopic('watched');
    await closeStore(writer);
    const expected = [
      { kind: 'brokers-changed' },
      { kind: 'topic-created', topic: 'watched', topicId: topic.topicId, revision: read.version },
      { kind: 'partition-changed', topic: 'watched', topicId: topic.topicId, partition: 1, revision: version },
      { kind: 'topic-deleted', topic: 'watched', topicId: topic.topicId },
      { kind: 'brokers-changed' },
    ];
    await eventually('all events', () => (events.length >= expected.length ? true : undefined));
    expect(events).toHaveLength(expected.length);
    expected.forEach((fields, i) => expect(events[i]).toMatchObject(fields));
    const revisions = events.map((event) => event.revision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(new Set(revisions).size).toBe(revisions.length);
  });

  it('watch, then list, misses no topic created meanwhile', async () => {
    const store = await brokerStore(1);
    const writer = await openStore();
    const creating = Promise.all(Array.from({ length: 20 }, (_, i) => writer.createTopic({ name: `t${i}`, partitionCount: 1, replicationFactor: 1 })));
    const seen = new Set<string>();
    await store.watch((event) => { if (event.kind === 'topic-created') seen.add(event.topic); });
    for (const topic of await store.listTopics()) seen.add(topic.name);
    await creating;
    await eventually('every topic seen', () => (seen.size === 20 ? true : undefined));
  });

  it('stops calling a listener once it is unsubscribed; other listeners go on', async () => {
    const store = await brokerStore(1);
    const calls: MetadataEvent[] = [];
    const stop = await store.watch((event) => calls.push(event));
    const after: MetadataEvent[] = [];
    await store.watch((event) => after.push(event));
    await store.createTopic({ name: 'one', partitionCount: 1, replicationFactor: 1 });
    await eventually('first event', () => (calls.length === 1 && after.length === 1 ? true : undefined));
    stop();
    await store.createTopic({ name: 'two', partitionCount: 1, replicationFactor: 1 });
    await eventually('second event', () => (after.length === 2 ? true : undefined));
    expect(calls).toHaveLength(1);
  });
});

describe('brokers', () => {
  it('two brokers on one etcd see each other; a duplicate id is refused while its holder lives', async () => {
    const first = await brokerStore(1);
    const second = await brokerStore(2);
    expect(await first.listBrokers()).toEqual([broker(1), broker(2)]);
    expect(await second.listBrokers()).toEqual([broker(1), broker(2)]);
    const impostor = await openStore();
    expect(await rejectionName(impostor.registerBroker({ ...broker(1), port: 1 }))).toBe('INVALID_REQUEST');
    expect(await second.listBrokers()).toEqual([broker(1), broker(2)]);
    // Registering again from the holder updates where it listens.
    await first.registerBroker({ ...broker(1), port: 7777 });
    expect((await second.listBrokers())[0]).toEqual({ ...broker(1), port: 7777 });
  });

  it('a closed store\'s broker is gone at once (its lease revoked), and its id is free again', async () => {
    const first = await brokerStore(1);
    const second = await brokerStore(2);
    await closeStore(second);
    expect(await brokerIds(first)).toEqual([1]);
    await brokerStore(2);
    expect(await brokerIds(first)).toEqual([1, 2]);
  });

  it('a broker process stopped past its session disappears; resumed, it registers again and gives up the controller role', async () => {
    const observer = await brokerStore(1);
    const child = spawnBrokerProcess(7);
    try {
      await eventually('child registered and elected', () => (child.lines().includes('elected') ? true : undefined));
      expect(await observer.controllerId()).toBe(7);
      const recorder = electionRecorder();
      await observer.campaignForController(1, recorder.callbacks);
      process.kill(child.pid, 'SIGSTOP');
      await eventually('child gone', async () => ((await brokerIds(observer)).includes(7) ? undefined : true));
      await eventually('observer elected', () => (recorder.elected === 1 ? true : undefined));
      expect(await observer.controllerId()).toBe(1);
      process.kill(child.pid, 'SIGCONT');
      await eventually('child resigned', () => (child.lines().includes('resigned') ? true : undefined));
      await eventually('child registered again', async () => ((await brokerIds(observer)).includes(7) ? true : undefined));
      expect(child.lines().filter((line) => line === 'elected')).toHaveLength(1);
      expect(await observer.controllerId()).toBe(1);
      expect(recorder.resigned).toBe(0);
    } finally {
      await child.stop();
    }
  });
});

describe('controller', () => {
  it('exactly one of two brokers is elected; when it closes, the other is', async () => {
    const first = await brokerStore(1);
    const second = await brokerStore(2);
    expect(await first.controllerId()).toBeNull();
    const recorders = [electionRecorder(), electionRecorder()];
    await first.campaignForController(1, recorders[0]!.callbacks);
    await second.campaignForController(2, recorders[1]!.callbacks);
    const winner = await eventually('one elected', () => {
      const elected = recorders.findIndex((recorder) => recorder.elected === 1);
      return elected === -1 ? undefined : elected;
    });
    const loser = 1 - winner;
    expect(recorders[loser]!.elected).toBe(0);
    expect(await first.controllerId()).toBe(winner + 1);
    const events: MetadataEvent[] = [];
    const survivor = [first, second][loser]!;
    await survivor.watch((event) => events.push(event));
    await closeStore([first, second][winner]!);
    expect(recorders[winner]).toMatchObject({ elected: 1, resigned: 1 });
    await eventually('the other elected', () => (recorders[loser]!.elected === 1 ? true : undefined));
    expect(await survivor.controllerId()).toBe(loser + 1);
    await eventually('controller events', () => (events.filter((event) => event.kind === 'controller-changed').length === 2 ? true : undefined));
    expect(events.filter((event) => event.kind === 'controller-changed').map((event) => (event as { controllerId: number | null }).controllerId)).toEqual([null, loser + 1]);
  });
});

describe('producer ids and isolation', () => {
  it('producer ids only grow, across stores', async () => {
    const first = await openStore();
    const second = await openStore();
    const ids: bigint[] = [];
    for (let i = 0; i < 10; i++) ids.push(await (i % 2 === 0 ? first : second).allocateProducerId());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it('clusters under different prefixes share an etcd without seeing each other, even when one prefix starts the other', async () => {
    const base = prefix;
    const first = await brokerStore(1, { prefix: base });
    const second = await brokerStore(2, { prefix: `${base}x` });
    const events: MetadataEvent[] = [];
    await first.watch((event) => events.push(event));
    await second.createTopic({ name: 'mine', partitionCount: 1, replicationFactor: 1 });
    await second.campaignForController(2, electionRecorder().callbacks);
    await eventually('second elected', async () => ((await second.controllerId()) === 2 ? true : undefined));
    expect(await brokerIds(first)).toEqual([1]);
    expect(await first.listTopics()).toEqual([]);
    expect(await first.controllerId()).toBeNull();
    await first.createTopic({ name: 'mine', partitionCount: 1, replicationFactor: 1 });
    await eventually('own event', () => (events.length > 0 ? true : undefined));
    expect(events.map((event) => event.kind)).toEqual(['topic-created']);
  });

  it('fails with a retriable REQUEST_TIMED_OUT while etcd does not answer', async () => {
    const store = await openStore({ requestTimeoutMs: 300 });
    await etcd.pause();
    try {
      const error = await store.listTopics().then(() => null, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(SluiceError);
      expect(error).toMatchObject({ errorName: 'REQUEST_TIMED_OUT', retriable: true });
    } finally {
      etcd.resume();
    }
    await eventually('etcd answers again', async () => (await store.listTopics().then(() => true, () => undefined)));
  });
});

/** A broker-like child process: registers `brokerId` through the compiled store, campaigns, prints elected/resigned. */
function spawnBrokerProcess(brokerId: number): { pid: number; lines: () => string[]; stop: () => Promise<void> } {
  const moduleUrl = new URL('../../dist/src/cluster/etcd-metadata-store.js', import.meta.url).href;
  const script = `
    const { EtcdMetadataStore } = await import(${JSON.stringify(moduleUrl)});
    const store = await EtcdMetadataStore.open({
      endpoints: [${JSON.stringify(etcd.endpoint)}], prefix: ${JSON.stringify(prefix)}, brokerSessionTimeoutMs: 1000,
      partitionCountMax: 10, nowMs: Date.now,
    });
    await store.registerBroker({ brokerId: ${brokerId}, host: '127.0.0.1', port: 1 });
    await store.campaignForController(${brokerId}, { elected: () => console.log('elected'), resigned: () => console.log('resigned') });
    process.on('SIGTERM', () => { void store.close().then(() => process.exit(0)); });
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    lines: () => output.split('\n').filter((line) => line !== ''),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGCONT');
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
