import { randomUUID } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import { writeFileAtomically } from '../storage/durable-file.js';
import {
  DEFAULT_TOPIC_CONFIG,
  type BrokerInfo, type ControllerCallbacks, type CreateTopicRequest, type MetadataEvent, type MetadataListener, type MetadataStore,
  type PartitionState, type TopicConfig, type TopicMetadata, type Versioned,
} from './metadata-store.js';
import {
  topicCollisionKey, topicConfigOf, validateNoTopicCollision, validatePartitionCount, validateReplicationFactor, validateTopicName,
} from './topic-rules.js';

/**
 * The metadata store of a broker running without etcd: the cluster is this one broker, which
 * leads every partition. The state is kept in memory and in `<dataDir>/cluster-metadata.json`,
 * rewritten whole and atomically (temp file, fsync, rename, fsync directory) on every change,
 * before the change is visible to any reader or watcher. The file is the authoritative copy;
 * the in-memory state is derived from it and is never ahead of it.
 *
 * File format (JSON, UTF-8; field order as written):
 *
 *   {
 *     "version": 1,                  format version; any other value refuses to start
 *     "revision": 7,                 the last revision handed out; every change takes the next one
 *     "broker": { "brokerId": 1, "host": "localhost", "port": 9092 },
 *     "topics": [                    ordered by name
 *       {
 *         "name": "orders",
 *         "topicId": "0b8f5c1e-...",  random UUID, new for every creation of the name
 *         "createdAtMs": 1700000000000,
 *         "config": { "minInsyncReplicas": 1, "uncleanLeaderElection": false },  (absent: the defaults)
 *         "partitions": [            index = partition number
 *           { "version": 7, "leaderId": 1, "leaderEpoch": 0, "replicas": [1], "isr": [1] }
 *         ]
 *       }
 *     ]
 *   }
 *
 * A partition's `version` is the revision of the change that last wrote its state (as etcd's
 * `mod_revision`). Revisions only grow, across restarts too, so a version is never reused: a
 * compare-and-swap based on a state read before a restart, or before its topic was deleted and
 * created again, fails. `leaderId` is null for a partition without a leader.
 *
 * A missing file is a fresh cluster. A file that cannot be read or believed stops the broker at
 * open with CorruptMetadataFileError: this file is the only record of which topics exist, and
 * starting with an empty one would silently orphan every partition log in the data directory.
 */

export const CLUSTER_METADATA_FILE = 'cluster-metadata.json';
export const CLUSTER_METADATA_FORMAT_VERSION = 1;

/**
 * Bounds the read at open. A partition costs under 100 bytes of JSON, so this holds hundreds of
 * thousands of partitions, far more than one standalone broker serves.
 */
export const CLUSTER_METADATA_FILE_BYTES_MAX = 64 * 1024 * 1024;

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

/** The metadata file exists but cannot be believed; the broker must not start on it. */
export class CorruptMetadataFileError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(
      `${path}: ${reason}. Refusing to start: this file is the only record of which topics exist, and ` +
      'starting without it would orphan every partition log in the data directory. Restore it from a ' +
      'backup or repair it by hand (its format is described at the top of src/cluster/standalone-metadata-store.ts).',
    );
    this.name = 'CorruptMetadataFileError';
  }
}

// In-memory state (derived: always what the file last persisted). Every object in it is frozen;
// a change builds a new StoreState and swaps it in once the file holds it.
/** A topic as the store keeps it: its metadata and the version of each partition's state. */
export interface StoredTopic {
  readonly metadata: TopicMetadata;
  /** `versions[p]` is the version of `metadata.partitions[p]`. */
  readonly versions: readonly number[];
}

/** Everything the file holds, decoded. */
export interface StoreState {
  readonly revision: number;
  readonly broker: BrokerInfo;
  readonly topics: ReadonlyMap<string, StoredTopic>;
}

/** A MetadataStore for one broker without etcd; see the top of this file. */
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
export function encodeClusterMetadata(state: StoreState): string {
  const topics = [...state.topics.values()].map(({ metadata, versions }) => ({
    name: metadata.name,
    topicId: metadata.topicId,
    createdAtMs: metadata.createdAtMs,
    config: { minInsyncReplicas: metadata.config.minInsyncReplicas, uncleanLeaderElection: metadata.config.uncleanLeaderElection },
    partitions: metadata.partitions.map((partition, p) => ({
      version: versions[p]!,
      leaderId: partition.leaderId,
      leaderEpoch: partition.leaderEpoch,
      replicas: partition.replicas,
      isr: partition.isr,
    })),
  }));
  const { brokerId, host, port } = state.broker;
  const document = { version: CLUSTER_METADATA_FORMAT_VERSION, revision: state.revision, broker: { brokerId, host, port }, topics };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Parses the file's text into a state, or says why it cannot be believed. Pure. */
export function decodeClusterMetadata(text: string): StoreState | string {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  if (!isRecord(document)) return 'not a JSON object';
  if (document['version'] !== CLUSTER_METADATA_FORMAT_VERSION) {
    return `format version ${JSON.stringify(document['version'])}, this build reads ${CLUSTER_METADATA_FORMAT_VERSION}`;
  }
  const revision = document['revision'];
  if (!isNonNegativeInteger(revision)) return '"revision" is not a non-negative integer';
  const broker = decodeBroker(document['broker']);
  if (typeof broker === 'string') return broker;
  const topics = document['topics'];
  if (!Array.isArray(topics)) return '"topics" is not an array';
  const decoded = new Map<string, StoredTopic>();
  for (const [index, topic] of topics.entries()) {
    const stored = decodeTopic(topic, revision);
    if (typeof stored === 'string') return `topics[${index}]: ${stored}`;
    const clash = checkUnique(stored, decoded);
    if (clash !== null) return `topics[${index}]: ${clash}`;
    decoded.set(stored.metadata.name, stored);
  }
  return { revision, broker, topics: sortedByName(decoded) };
}

async function readMetadataFile(path: string): Promise<StoreState | null> {
  let text: string;
  try {
    text = await readBounded(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (error instanceof CorruptMetadataFileError) throw error;
    throw new CorruptMetadataFileError(path, `unreadable (${(error as Error).message})`);
  }
  const state = decodeClusterMetadata(text);
  if (typeof state === 'string') throw new CorruptMetadataFileError(path, state);
  return state;
}

async function readBounded(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > CLUSTER_METADATA_FILE_BYTES_MAX) {
      throw new CorruptMetadataFileError(path, `${size} bytes is more than the ${CLUSTER_METADATA_FILE_BYTES_MAX} allowed`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function decodeBroker(value: unknown): BrokerInfo | string {
  if (!isRecord(value)) return '"broker" is not an object';
  const { brokerId, host, port } = value;
  if (!isNonNegativeInteger(brokerId) || typeof host !== 'string' || !isNonNegativeInteger(port) || port > 65_535) {
    return '"broker" needs a non-negative integer brokerId, a string host and a port in [0, 65535]';
  }
  return Object.freeze({ brokerId, host, port });
}

function decodeTopic(value: unknown, revision: number): StoredTopic | string {
  if (!isRecord(value)) return 'not an object';
  const { name, topicId, createdAtMs, partitions, config: storedConfig } = value;
  if (typeof name !== 'string') return '"name" is not a string';
  const invalidName = validateTopicName(name, { allowInternal: true });
  if (invalidName !== null) return invalidName.message;
  if (typeof topicId !== 'string' || topicId === '') return `${name}: "topicId" is not a non-empty string`;
  if (!isNonNegativeInteger(createdAtMs)) return `${name}: "createdAtMs" is not a non-negative integer`;
  if (!Array.isArray(partitions) || partitions.length === 0) return `${name}: "partitions" is not a non-empty array`;
  const config = decodeTopicConfig(storedConfig);
  if (typeof config === 'string') return `${name}: ${config}`;
  const states: PartitionState[] = [];
  const versions: number[] = [];
  for (const [p, partition] of partitions.entries()) {
    const decoded = decodePartition(partition, revision);
    if (typeof decoded === 'string') return `${name}-${p}: ${decoded}`;
    states.push(decoded.value);
    versions.push(decoded.version);
  }
  return freezeTopic({ name, topicId, createdAtMs, config, partitions: states }, versions);
}

// Files written before topic configs existed have none: their topics have the defaults.
function decodeTopicConfig(value: unknown): TopicConfig | string {
  if (value === undefined) return DEFAULT_TOPIC_CONFIG;
  if (!isRecord(value)) return '"config" is not an object';
  const { minInsyncReplicas, uncleanLeaderElection } = value;
  if (!isNonNegativeInteger(minInsyncReplicas) || minInsyncReplicas < 1) return '"config.minInsyncReplicas" is not a positive integer';
  if (typeof uncleanLeaderElection !== 'boolean') return '"config.uncleanLeaderElection" is not a boolean';
  return Object.freeze({ minInsyncReplicas, uncleanLeaderElection });
}

function decodePartition(value: unknown, revision: number): Versioned<PartitionState> | string {
  if (!isRecord(value)) return 'not an object';
  const { version, leaderId, leaderEpoch, replicas, isr } = value;
  if (!isNonNegativeInteger(version) || version < 1 || version > revision) return `"version" is not an integer in [1, revision ${revision}]`;
  if (leaderId !== null && !isNonNegativeInteger(leaderId)) return '"leaderId" is neither null nor a broker id';
  if (!isNonNegativeInteger(leaderEpoch)) return '"leaderEpoch" is not a non-negative integer';
  if (!isBrokerIdList(replicas) || replicas.length === 0) return '"replicas" is not a non-empty list of distinct broker ids';
  if (!isBrokerIdList(isr)) return '"isr" is not a list of distinct broker ids';
  const state = { leaderId, leaderEpoch, replicas, isr };
  const inconsistent = partitionStateProblem(state);
  if (inconsistent !== null) return inconsistent;
  return { value: freezePartitionState(state), version };
}

function checkUnique(topic: StoredTopic, seen: ReadonlyMap<string, StoredTopic>): string | null {
  const { name, topicId } = topic.metadata;
  for (const other of seen.values()) {
    if (other.metadata.name === name) return `topic ${JSON.stringify(name)} appears twice`;
    if (topicCollisionKey(other.metadata.name) === topicCollisionKey(name)) return `topics ${JSON.stringify(other.metadata.name)} and ${JSON.stringify(name)} collide`;
    if (other.metadata.topicId === topicId) return `topic id ${topicId} is used twice`;
  }
  return null;
}

// The invariants of a partition state: ISR within the replicas, the leader (if any) in the ISR.
function partitionStateProblem(state: PartitionState): string | null {
  if (!state.isr.every((id) => state.replicas.includes(id))) return `isr [${state.isr.join(',')}] is not within replicas [${state.replicas.join(',')}]`;
  if (state.leaderId !== null && !state.isr.includes(state.leaderId)) return `leader ${state.leaderId} is not in isr [${state.isr.join(',')}]`;
  return null;
}

function assertPartitionState(state: PartitionState): void {
  assert(state.leaderId === null || isNonNegativeInteger(state.leaderId), 'leaderId is null or a broker id');
  assert(isNonNegativeInteger(state.leaderEpoch), 'leaderEpoch is a non-negative integer');
  assert(isBrokerIdList(state.replicas) && state.replicas.length > 0, 'replicas are distinct broker ids, at least one');
  assert(isBrokerIdList(state.isr), 'isr members are distinct broker ids');
  const problem = partitionStateProblem(state);
  assert(problem === null, problem ?? '');
}

function assertBrokerInfo(broker: BrokerInfo): void {
  assert(isNonNegativeInteger(broker.brokerId), 'brokerId is a non-negative integer');
  assert(isNonNegativeInteger(broker.port) && broker.port <= 65_535, 'port is in [0, 65535]');
}

function freezePartitionState(state: PartitionState): PartitionState {
  return Object.freeze({
    leaderId: state.leaderId, leaderEpoch: state.leaderEpoch,
    replicas: Object.freeze([...state.replicas]), isr: Object.freeze([...state.isr]),
  });
}

function freezeTopic(metadata: TopicMetadata, versions: readonly number[]): StoredTopic {
  assert(versions.length === metadata.partitions.length, 'one version per partition');
  const frozen = Object.freeze({ ...metadata, partitions: Object.freeze([...metadata.partitions]), config: Object.freeze({ ...metadata.config }) });
  return Object.freeze({ metadata: frozen, versions: Object.freeze([...versions]) });
}

function sortedByName(topics: ReadonlyMap<string, StoredTopic>): ReadonlyMap<string, StoredTopic> {
  return new Map([...topics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sameBroker(a: BrokerInfo, b: BrokerInfo): boolean {
  return a.brokerId === b.brokerId && a.host === b.host && a.port === b.port;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isBrokerIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isNonNegativeInteger) && new Set(value).size === value.length;
}
