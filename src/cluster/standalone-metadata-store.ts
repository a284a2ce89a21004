import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import { writeFileAtomically } from '../storage/durable-file.js';
import {
  CLUSTER_METADATA_FILE, CorruptMetadataFileError, encodeClusterMetadata, freezeTopic, readMetadataFile, sortedByName,
  type StoreState, type StoredTopic,
} from './cluster-metadata-file.js';
import {
  freezePartitionState, isBrokerId, partitionStateProblem,
  type BrokerInfo, type ControllerCallbacks, type CreateTopicRequest, type MetadataEvent, type MetadataListener, type MetadataStore,
  type PartitionState, type TopicConfig, type TopicMetadata, type Versioned,
} from './metadata-store.js';
import { topicConfigOf, validateNoTopicCollision, validatePartitionCount, validateReplicationFactor, validateTopicName } from './topic-rules.js';

/**
 * The metadata store of a broker running without etcd: the cluster is this one broker, which
 * leads every partition. The state is kept in memory and in `<dataDir>/cluster-metadata.json`,
 * rewritten whole and atomically (temp file, fsync, rename, fsync directory) on every change,
 * before the change is visible to any reader or watcher. The file is the authoritative copy;
 * the in-memory state is derived from it and is never ahead of it. The file's format, and why a
 * file that cannot be believed stops the broker: cluster-metadata-file.ts.
 */

/** What a standalone store is opened with. */
export interface StandaloneMetadataStoreOptions {
  readonly dataDir: string;
  /** This broker; its id must match the one the file was written by. */
  readonly broker: BrokerInfo;
  /** Most partitions a topic may be created with (config `partitionCountMax`). */
  readonly partitionCountMax: number;
  readonly nowMs: () => number;
  /** Topic ids; injectable so that tests can replay. */
  readonly randomUuid?: () => string;
}

export class StandaloneMetadataStore implements MetadataStore {
  private readonly listeners = new Set<{ readonly listener: MetadataListener }>();
  // Changes run one at a time, in call order: each sees the state the previous one committed.
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  // Set when a write of the file failed: what is on disk is then unknown, so nothing more is
  // written or served (as with a failed fsync of a log; docs/storage.md).
  private failure: SluiceError | null = null;

  private constructor(
    private readonly options: StandaloneMetadataStoreOptions,
    private readonly path: string,
    private state: StoreState,
  ) {}

  /** Loads `<dataDir>/cluster-metadata.json`, or starts a fresh cluster when there is none. */
  static async open(options: StandaloneMetadataStoreOptions): Promise<StandaloneMetadataStore> {
    assertBrokerInfo(options.broker);
    await mkdir(options.dataDir, { recursive: true });
    const path = join(options.dataDir, CLUSTER_METADATA_FILE);
    const loaded = await readMetadataFile(path);
    if (loaded !== null && loaded.broker.brokerId !== options.broker.brokerId) {
      throw new CorruptMetadataFileError(path, `it belongs to broker ${loaded.broker.brokerId}, not broker ${options.broker.brokerId}`);
    }
    const broker = Object.freeze({ ...options.broker });
    const state: StoreState = { revision: loaded?.revision ?? 0, broker, topics: loaded?.topics ?? new Map() };
    const store = new StandaloneMetadataStore(options, path, state);
    if (loaded === null || !sameBroker(loaded.broker, broker)) await store.persist(state);
    return store;
  }

  // The one broker is live while its store is open; registering records where it listens now.
  async registerBroker(info: BrokerInfo): Promise<void> {
    this.assertOpen();
    assertBrokerInfo(info);
    if (info.brokerId !== this.state.broker.brokerId) throw new SluiceError('INVALID_REQUEST', `this store belongs to broker ${this.state.broker.brokerId}, not ${info.brokerId}`);
    return this.serially(async () => {
      const current = this.state;
      const broker = Object.freeze({ ...info });
      if (sameBroker(current.broker, broker)) return;
      const revision = current.revision + 1;
      await this.commit({ ...current, revision, broker });
      this.emit({ kind: 'brokers-changed', revision });
    });
  }

  // The only broker is always the controller.
  async campaignForController(brokerId: number, callbacks: ControllerCallbacks): Promise<void> {
    this.assertOpen();
    assert(brokerId === this.state.broker.brokerId, 'only this store\'s broker campaigns');
    queueMicrotask(() => callbacks.elected());
  }

  async controllerId(): Promise<number | null> {
    this.assertUsable();
    return this.state.broker.brokerId;
  }

  async listBrokers(): Promise<readonly BrokerInfo[]> {
    this.assertUsable();
    return Object.freeze([this.state.broker]);
  }

  async listTopics(): Promise<readonly TopicMetadata[]> {
    this.assertUsable();
    return Object.freeze([...this.state.topics.values()].map((topic) => topic.metadata));
  }

  async getTopic(name: string): Promise<TopicMetadata | null> {
    this.assertUsable();
    return this.state.topics.get(name)?.metadata ?? null;
  }

  async getPartitionState(topic: string, partition: number): Promise<Versioned<PartitionState> | null> {
    this.assertUsable();
    const stored = this.state.topics.get(topic);
    const value = stored?.metadata.partitions[partition];
    if (stored === undefined || value === undefined) return null;
    return { value, version: stored.versions[partition]! };
  }

  async createTopic(request: CreateTopicRequest): Promise<TopicMetadata> {
    this.assertOpen();
    // Checks of the request alone fail at once; those against existing topics run in order.
    const invalid = validateTopicName(request.name, { allowInternal: request.allowInternal === true })
      ?? validatePartitionCount(request.partitionCount, this.options.partitionCountMax)
      ?? validateReplicationFactor(request.replicationFactor, 1);
    if (invalid !== null) throw invalid;
    const config = topicConfigOf(request.config, request.replicationFactor);
    return this.serially(async () => {
      const current = this.state;
      if (current.topics.has(request.name)) throw new SluiceError('TOPIC_ALREADY_EXISTS', JSON.stringify(request.name));
      const collision = validateNoTopicCollision(request.name, current.topics.keys());
      if (collision !== null) throw collision;
      const revision = current.revision + 1;
      const topic = this.newTopic(request.name, request.partitionCount, config, revision);
      const topics = new Map(current.topics).set(request.name, topic);
      await this.commit({ ...current, revision, topics: sortedByName(topics) });
      this.emit({ kind: 'topic-created', topic: request.name, topicId: topic.metadata.topicId, revision });
      return topic.metadata;
    });
  }

  async allocateProducerId(): Promise<bigint> {
    this.assertOpen();
    return this.serially(async () => {
      const current = this.state;
      const revision = current.revision + 1;
      await this.commit({ ...current, revision });
      return BigInt(revision);
    });
  }

  async deleteTopic(name: string): Promise<void> {
    this.assertOpen();
    return this.serially(async () => {
      const current = this.state;
      const doomed = current.topics.get(name);
      if (doomed === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `no topic ${JSON.stringify(name)}`);
      const topics = new Map(current.topics);
      topics.delete(name);
      const revision = current.revision + 1;
      await this.commit({ ...current, revision, topics });
      this.emit({ kind: 'topic-deleted', topic: name, topicId: doomed.metadata.topicId, revision });
    });
  }

  async compareAndSetPartitionState(topic: string, partition: number, expectedVersion: number, state: PartitionState): Promise<number | null> {
    this.assertOpen();
    assertPartitionState(state);
    return this.serially(async () => {
      const current = this.state;
      const stored = current.topics.get(topic);
      const previous = stored?.metadata.partitions[partition];
      if (stored === undefined || previous === undefined || stored.versions[partition] !== expectedVersion) return null;
      assert(state.leaderEpoch >= previous.leaderEpoch, `leader epoch of ${topic}-${partition} never decreases (${previous.leaderEpoch} -> ${state.leaderEpoch})`);
      const revision = current.revision + 1;
      const partitions = stored.metadata.partitions.map((old, p) => (p === partition ? freezePartitionState(state) : old));
      const versions = stored.versions.map((old, p) => (p === partition ? revision : old));
      const replaced = freezeTopic({ ...stored.metadata, partitions }, versions);
      await this.commit({ ...current, revision, topics: new Map(current.topics).set(topic, replaced) });
      this.emit({ kind: 'partition-changed', topic, topicId: stored.metadata.topicId, partition, revision });
      return revision;
    });
  }

  async watch(listener: MetadataListener): Promise<() => void> {
    this.assertOpen();
    const subscription = { listener };
    this.listeners.add(subscription);
    return () => { this.listeners.delete(subscription); };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    this.listeners.clear();
  }

  private newTopic(name: string, partitionCount: number, config: TopicConfig, revision: number): StoredTopic {
    const brokerId = this.state.broker.brokerId;
    const partitions = Array.from({ length: partitionCount }, () => freezePartitionState({
      leaderId: brokerId, leaderEpoch: 0, replicas: [brokerId], isr: [brokerId],
    }));
    const topicId = (this.options.randomUuid ?? randomUUID)();
    assert(![...this.state.topics.values()].some((topic) => topic.metadata.topicId === topicId), `topic id ${topicId} is unique`);
    return freezeTopic({ name, topicId, partitions, config, createdAtMs: this.options.nowMs() }, partitions.map(() => revision));
  }

  private async commit(next: StoreState): Promise<void> {
    assert(next.revision > this.state.revision, 'every change takes a new revision');
    await this.persist(next);
    this.state = next;
  }

  private async persist(next: StoreState): Promise<void> {
    try {
      await writeFileAtomically(this.path, encodeClusterMetadata(next));
    } catch (error) {
      this.failure = new SluiceError('KAFKA_STORAGE_ERROR', `writing ${this.path} failed; its contents are unknown until a restart reads it`, { cause: error });
      throw this.failure;
    }
  }

  // Listeners run after the change is durable and visible. A throwing listener is a bug of its
  // own; it is rethrown outside the store so that the change, already committed, stands.
  private emit(event: MetadataEvent): void {
    const frozen = Object.freeze(event);
    for (const { listener } of [...this.listeners]) {
      try {
        listener(frozen);
      } catch (error) {
        queueMicrotask(() => { throw error; });
      }
    }
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.failure !== null) throw this.failure;
      return task();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  private assertOpen(): void {
    assert(!this.closed, 'metadata store is open');
  }

  private assertUsable(): void {
    this.assertOpen();
    if (this.failure !== null) throw this.failure;
  }
}

/** The file's text for a state; see the format at the top of this file. */

function assertPartitionState(state: PartitionState): void {
  const problem = partitionStateProblem(state);
  assert(problem === null, problem ?? '');
}

function assertBrokerInfo(broker: BrokerInfo): void {
  assert(isBrokerId(broker.brokerId), 'brokerId is a non-negative integer');
  assert(isBrokerId(broker.port) && broker.port <= 65_535, 'port is in [0, 65535]');
}

function sameBroker(a: BrokerInfo, b: BrokerInfo): boolean {
  return a.brokerId === b.brokerId && a.host === b.host && a.port === b.port;
}
