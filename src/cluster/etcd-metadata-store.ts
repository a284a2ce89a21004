import { randomUUID } from 'node:crypto';
import { Etcd3, type IKeyValue, type IOptions, type IRequestOp, type ITxnResponse } from 'etcd3';
import { pino, type Logger } from 'pino';
import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import {
  decodeBroker, decodeController, decodePartition, decodeTopic, encodePartition, encodeTopic, initialPartitionState, type StoredTopicValue,
} from './etcd-codec.js';
import { etcdCall } from './etcd-errors.js';
import { DEFAULT_ETCD_PREFIX, EtcdKeys } from './etcd-keys.js';
import { EtcdMetadataWatch } from './etcd-metadata-watch.js';
import { EtcdSession } from './etcd-session.js';
import {
  freezePartitionState, partitionStateProblem,
  type BrokerInfo, type ControllerCallbacks, type CreateTopicRequest, type MetadataListener, type MetadataStore,
  type PartitionState, type TopicMetadata, type Versioned,
} from './metadata-store.js';
import { assignReplicas } from './replica-assignment.js';
import {
  topicConfigOf, validateNoTopicCollision, validatePartitionCount, validateReplicationFactor, validateTopicName,
} from './topic-rules.js';

/**
 * The cluster's metadata in etcd v3 (ARCHITECTURE.md section 4; key layout in etcd-keys.ts,
 * values in etcd-codec.ts, the whole design in docs/cluster.md "Metadata in etcd").
 *
 * etcd is the authoritative copy and the only one: every read is a linearizable etcd read, and
 * nothing is cached. Multi-key reads (a topic and its partitions) are one transaction, so they
 * see one revision. Every write is one transaction guarded by compares, so concurrent brokers
 * cannot both win: a topic is created only if neither its name nor its collision key exists; a
 * partition state changes only if its mod_revision is still the version the caller read.
 *
 * A partition's initial state is kept in its topic's key, not in a key of its own: creating a
 * topic writes two keys whatever its partition count (etcd refuses transactions of more than 128
 * operations by default, and `partitionCountMax` is far above that). The first change of a
 * partition creates its key. The version of a partition never changed is its topic key's
 * mod_revision (= its create revision: topic keys are written once); after that, its own key's
 * mod_revision. Both are etcd revisions, which never repeat, so a version is never reused.
 *
 * etcd failures become SluiceError REQUEST_TIMED_OUT (retriable; etcd-errors.ts).
 */

/** What an etcd store is opened with. */
export interface EtcdMetadataStoreOptions {
  /** etcd client URLs, `http://host:port`. */
  readonly endpoints: readonly string[];
  /** Every key of this cluster is under `<prefix>/`; default '/sluice'. */
  readonly prefix?: string;
  /** A broker is dead to the cluster this long after its last lease renewal; rounded up to whole seconds, at least 1 s. */
  readonly brokerSessionTimeoutMs: number;
  /** Most partitions a topic may be created with (config `partitionCountMax`). */
  readonly partitionCountMax: number;
  readonly nowMs: () => number;
  /** Topic ids; injectable so that tests can replay. */
  readonly randomUuid?: () => string;
  readonly logger?: Logger;
  /** Deadline of each attempt of an etcd request (not of watches or keepalives); default ETCD_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number;
}

/**
 * How long one attempt of an etcd request may take. A healthy etcd answers in milliseconds; an
 * election among etcd members takes about a second. etcd3 makes up to 3 attempts, so a request
 * fails with REQUEST_TIMED_OUT after at most about three times this.
 */
export const ETCD_REQUEST_TIMEOUT_MS = 5_000;

/** How long `open` waits for etcd to answer its first request. */
export const ETCD_DIAL_TIMEOUT_MS = 5_000;

type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

// A cockatiel policy that runs the call once, as it is (etcd3 only calls `execute`).
const PASS_THROUGH_POLICY = {
  execute: <T>(call: (context: { signal: AbortSignal }) => PromiseLike<T> | T) => Promise.resolve().then(() => call({ signal: new AbortController().signal })),
} as unknown as HostPolicy;

/** A partition read from etcd: its state, its version and the topic instance it belongs to. */
interface ReadPartition {
  readonly topicId: string;
  readonly state: PartitionState;
  readonly version: number;
  /** Whether the partition has a key of its own yet (see the top of this file). */
  readonly hasKey: boolean;
}

/** A MetadataStore kept in etcd; see the top of this file. */
export class EtcdMetadataStore implements MetadataStore {
  private readonly metadataWatch: EtcdMetadataWatch;
  private closed = false;

  private constructor(
    private readonly options: EtcdMetadataStoreOptions,
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly session: EtcdSession,
    private readonly logger: Logger,
  ) {
    this.metadataWatch = new EtcdMetadataWatch(client, keys, options.requestTimeoutMs ?? ETCD_REQUEST_TIMEOUT_MS, logger);
  }

  /** Connects to etcd and checks that it answers; REQUEST_TIMED_OUT when it does not. */
  static async open(options: EtcdMetadataStoreOptions): Promise<EtcdMetadataStore> {
    assert(options.endpoints.length > 0, 'at least one etcd endpoint');
    assert(Number.isFinite(options.brokerSessionTimeoutMs) && options.brokerSessionTimeoutMs > 0, 'brokerSessionTimeoutMs is positive');
    const requestTimeoutMs = options.requestTimeoutMs ?? ETCD_REQUEST_TIMEOUT_MS;
    const client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: ETCD_DIAL_TIMEOUT_MS,
      // Streams (watches, keepalives) live as long as the store; single requests get a deadline.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      // etcd3's default circuit breaker refuses every call for 5 s after three failures: after a
      // blip of a single etcd, even lease keepalives would be refused until the session expired.
      // Each call tries etcd instead; etcd3's global policy still retries a failed call
      // (3 attempts, on another endpoint when there are several).
      faultHandling: { host: () => PASS_THROUGH_POLICY },
    });
    const keys = new EtcdKeys(options.prefix ?? DEFAULT_ETCD_PREFIX);
    const logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'etcd-metadata' });
    const leaseTtlS = Math.max(1, Math.ceil(options.brokerSessionTimeoutMs / 1000));
    const session = new EtcdSession({ client, keys, leaseTtlS, logger });
    try {
      await etcdCall('a first read', () => client.kv.range({ key: keys.controller }));
    } catch (error) {
      client.close();
      throw error;
    }
    logger.info({ endpoints: options.endpoints, prefix: keys.root, leaseTtlS }, 'metadata store opened on etcd');
    return new EtcdMetadataStore(options, client, keys, session, logger);
  }

  async registerBroker(info: BrokerInfo): Promise<void> {
    this.assertOpen();
    assert(isId(info.brokerId) && isId(info.port) && info.port <= 65_535, 'broker id and port are valid');
    await this.session.register(info);
  }

  async listBrokers(): Promise<readonly BrokerInfo[]> {
    this.assertOpen();
    const { brokers } = this.keys;
    const response = await etcdCall('listing brokers', () => this.client.kv.range({ key: brokers.key, range_end: brokers.rangeEnd }));
    const list = response.kvs.map((kv) => decodeBroker(kv.key, kv.value)).sort((a, b) => a.brokerId - b.brokerId);
    return Object.freeze(list);
  }

  async campaignForController(brokerId: number, callbacks: ControllerCallbacks): Promise<void> {
    this.assertOpen();
    this.session.campaignForController(brokerId, callbacks);
  }

  async controllerId(): Promise<number | null> {
    this.assertOpen();
    const response = await etcdCall('reading the controller', () => this.client.kv.range({ key: this.keys.controller }));
    const kv = response.kvs[0];
    return kv === undefined ? null : decodeController(kv.key, kv.value);
  }

  async listTopics(): Promise<readonly TopicMetadata[]> {
    this.assertOpen();
    const { topics, partitions } = this.keys;
    const response = await this.read('listing topics', [
      { request_range: { key: topics.key, range_end: topics.rangeEnd } },
      { request_range: { key: partitions.key, range_end: partitions.rangeEnd } },
    ]);
    const partitionKvs = groupPartitionKvs(this.keys, rangeKvs(response, 1));
    const list = rangeKvs(response, 0).map((kv) => {
      const parsed = this.keys.parse(kv.key);
      assert(parsed.kind === 'topic', 'a topic key');
      return this.topicMetadata(parsed.topic, kv, partitionKvs.get(parsed.topic) ?? []);
    });
    return Object.freeze(list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }

  async getTopic(name: string): Promise<TopicMetadata | null> {
    this.assertOpen();
    if (validateTopicName(name, { allowInternal: true }) !== null) return null;
    const partitions = this.keys.partitionsOf(name);
    const response = await this.read(`reading topic ${JSON.stringify(name)}`, [
      { request_range: { key: this.keys.topic(name) } },
      { request_range: { key: partitions.key, range_end: partitions.rangeEnd } },
    ]);
    const topicKv = rangeKvs(response, 0)[0];
    return topicKv === undefined ? null : this.topicMetadata(name, topicKv, rangeKvs(response, 1));
  }

  async getPartitionState(topic: string, partition: number): Promise<Versioned<PartitionState> | null> {
    this.assertOpen();
    const read = await this.readPartition(topic, partition);
    return read === null ? null : Object.freeze({ value: read.state, version: read.version });
  }

  async createTopic(request: CreateTopicRequest): Promise<TopicMetadata> {
    this.assertOpen();
    const { name, partitionCount, replicationFactor } = request;
    const invalid = validateTopicName(name, { allowInternal: request.allowInternal === true })
      ?? validatePartitionCount(partitionCount, this.options.partitionCountMax);
    if (invalid !== null) throw invalid;
    const { brokerIds, topicNames, clusterPartitionCount } = await this.readForCreate();
    if (topicNames.includes(name)) throw new SluiceError('TOPIC_ALREADY_EXISTS', JSON.stringify(name));
    const collision = validateNoTopicCollision(name, topicNames)
      ?? validateReplicationFactor(replicationFactor, brokerIds.length);
    if (collision !== null) throw collision;
    const config = topicConfigOf(request.config, replicationFactor);
    const topic: StoredTopicValue = {
      topicId: (this.options.randomUuid ?? randomUUID)(),
      createdAtMs: this.options.nowMs(),
      config,
      replicas: assignReplicas(partitionCount, replicationFactor, brokerIds, clusterPartitionCount),
    };
    await this.writeNewTopic(name, topic);
    return freezeTopic(name, topic, topic.replicas.map(initialPartitionState));
  }

  async deleteTopic(name: string): Promise<void> {
    this.assertOpen();
    const unknown = new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `no topic ${JSON.stringify(name)}`);
    if (validateTopicName(name, { allowInternal: true }) !== null) throw unknown;
    const topicKey = this.keys.topic(name);
    const partitions = this.keys.partitionsOf(name);
    // While a topic exists, the claim on its collision key is its own (createTopic checks both).
    const response = await etcdCall(`deleting topic ${JSON.stringify(name)}`, () => this.client.kv.txn({
      compare: [{ key: topicKey, target: 'Create', result: 'Greater', create_revision: 0 }],
      success: [
        { request_delete_range: { key: topicKey } },
        { request_delete_range: { key: this.keys.topicClaim(name) } },
        { request_delete_range: { key: partitions.key, range_end: partitions.rangeEnd } },
      ],
    }));
    if (!response.succeeded) throw unknown;
    this.logger.info({ topic: name, revision: Number(response.header.revision) }, 'topic deleted');
  }

  async compareAndSetPartitionState(topic: string, partition: number, expectedVersion: number, state: PartitionState): Promise<number | null> {
    this.assertOpen();
    const problem = partitionStateProblem(state);
    assert(problem === null, `partition state to write is well formed: ${problem}`);
    const current = await this.readPartition(topic, partition);
    if (current === null || current.version !== expectedVersion) return null;
    assert(state.leaderEpoch >= current.state.leaderEpoch, `leader epoch of ${topic}-${partition} never decreases (${current.state.leaderEpoch} -> ${state.leaderEpoch})`);
    const key = this.keys.partition(topic, partition);
    // A partition without its own key is at its topic's version: the topic key must be unchanged
    // (same topic instance) and the partition key still absent.
    const compare = current.hasKey
      ? [{ key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: expectedVersion }]
      : [
        { key: this.keys.topic(topic), target: 'Mod' as const, result: 'Equal' as const, mod_revision: expectedVersion },
        { key, target: 'Create' as const, result: 'Equal' as const, create_revision: 0 },
      ];
    const response = await etcdCall(`changing ${topic}-${partition}`, () => this.client.kv.txn({
      compare,
      success: [{ request_put: { key, value: encodePartition(current.topicId, state) } }],
    }));
    if (!response.succeeded) return null;
    const version = Number(response.header.revision);
    assert(version > expectedVersion, 'a write takes a newer revision');
    return version;
  }

  async watch(listener: MetadataListener): Promise<() => void> {
    this.assertOpen();
    return this.metadataWatch.subscribe(listener);
  }

  async allocateProducerId(): Promise<bigint> {
    this.assertOpen();
    const response = await etcdCall('allocating a producer id', () => this.client.kv.put({ key: this.keys.producerId, value: Buffer.alloc(0) }));
    return BigInt(response.header.revision);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.close();
    this.metadataWatch.close();
    this.client.close();
    this.logger.info('metadata store closed');
  }

  private async readForCreate(): Promise<{ brokerIds: number[]; topicNames: string[]; clusterPartitionCount: number }> {
    const { brokers, topics } = this.keys;
    const response = await this.read('reading brokers and topics', [
      { request_range: { key: brokers.key, range_end: brokers.rangeEnd } },
      { request_range: { key: topics.key, range_end: topics.rangeEnd } },
    ]);
    const brokerIds = rangeKvs(response, 0).map((kv) => decodeBroker(kv.key, kv.value).brokerId);
    let clusterPartitionCount = 0;
    const topicNames = rangeKvs(response, 1).map((kv) => {
      clusterPartitionCount += decodeTopic(kv.key, kv.value).replicas.length;
      const parsed = this.keys.parse(kv.key);
      assert(parsed.kind === 'topic', 'a topic key');
      return parsed.topic;
    });
    return { brokerIds, topicNames, clusterPartitionCount };
  }

  // One transaction: of concurrent creates of one name (or of colliding names), one wins.
  private async writeNewTopic(name: string, topic: StoredTopicValue): Promise<void> {
    const topicKey = this.keys.topic(name);
    const claimKey = this.keys.topicClaim(name);
    const response = await etcdCall(`creating topic ${JSON.stringify(name)}`, () => this.client.kv.txn({
      compare: [
        { key: topicKey, target: 'Create', result: 'Equal', create_revision: 0 },
        { key: claimKey, target: 'Create', result: 'Equal', create_revision: 0 },
      ],
      success: [
        { request_put: { key: topicKey, value: encodeTopic(topic) } },
        { request_put: { key: claimKey, value: Buffer.from(name, 'utf8') } },
      ],
      failure: [{ request_range: { key: topicKey } }, { request_range: { key: claimKey } }],
    }));
    if (response.succeeded) {
      this.logger.info({ topic: name, topicId: topic.topicId, revision: Number(response.header.revision) }, 'topic created');
      return;
    }
    if (rangeKvs(response, 0).length > 0) throw new SluiceError('TOPIC_ALREADY_EXISTS', JSON.stringify(name));
    const claimant = rangeKvs(response, 1)[0]?.value.toString('utf8') ?? '(deleted since)';
    throw validateNoTopicCollision(name, [claimant])
      ?? new SluiceError('TOPIC_ALREADY_EXISTS', `${JSON.stringify(name)} (its name was claimed concurrently)`);
  }

  private async readPartition(topic: string, partition: number): Promise<ReadPartition | null> {
    if (validateTopicName(topic, { allowInternal: true }) !== null || !isId(partition)) return null;
    const response = await this.read(`reading ${topic}-${partition}`, [
      { request_range: { key: this.keys.topic(topic) } },
      { request_range: { key: this.keys.partition(topic, partition) } },
    ]);
    const topicKv = rangeKvs(response, 0)[0];
    if (topicKv === undefined) return null;
    const stored = decodeTopic(topicKv.key, topicKv.value);
    const replicas = stored.replicas[partition];
    if (replicas === undefined) return null;
    const partitionKv = rangeKvs(response, 1)[0];
    if (partitionKv === undefined) {
      return { topicId: stored.topicId, state: initialPartitionState(replicas), version: Number(topicKv.mod_revision), hasKey: false };
    }
    const { topicId, state } = decodePartition(partitionKv.key, partitionKv.value);
    assert(topicId === stored.topicId, `partition ${topic}-${partition} belongs to its topic`);
    return { topicId, state, version: Number(partitionKv.mod_revision), hasKey: true };
  }

  private topicMetadata(name: string, topicKv: IKeyValue, partitionKvs: readonly IKeyValue[]): TopicMetadata {
    const stored = decodeTopic(topicKv.key, topicKv.value);
    const states = stored.replicas.map(initialPartitionState);
    for (const kv of partitionKvs) {
      const parsed = this.keys.parse(kv.key);
      assert(parsed.kind === 'partition' && parsed.topic === name && parsed.partition < states.length, 'a partition key of this topic');
      const { topicId, state } = decodePartition(kv.key, kv.value);
      assert(topicId === stored.topicId, `partition ${name}-${parsed.partition} belongs to its topic`);
      states[parsed.partition] = state;
    }
    return freezeTopic(name, stored, states);
  }

  // Several ranges at one revision: a transaction with no compares runs its success branch.
  private read(what: string, ranges: IRequestOp[]): Promise<ITxnResponse> {
    return etcdCall(what, () => this.client.kv.txn({ compare: [], success: ranges }));
  }

  private assertOpen(): void {
    assert(!this.closed, 'metadata store is open');
  }
}

function rangeKvs(response: ITxnResponse, index: number): IKeyValue[] {
  return response.responses[index]?.response_range?.kvs ?? [];
}

function groupPartitionKvs(keys: EtcdKeys, kvs: readonly IKeyValue[]): Map<string, IKeyValue[]> {
  const byTopic = new Map<string, IKeyValue[]>();
  for (const kv of kvs) {
    const parsed = keys.parse(kv.key);
    if (parsed.kind !== 'partition') continue;
    const list = byTopic.get(parsed.topic) ?? [];
    list.push(kv);
    byTopic.set(parsed.topic, list);
  }
  return byTopic;
}

function freezeTopic(name: string, stored: StoredTopicValue, partitions: readonly PartitionState[]): TopicMetadata {
  return Object.freeze({
    name,
    topicId: stored.topicId,
    partitions: Object.freeze(partitions.map(freezePartitionState)),
    config: Object.freeze({ ...stored.config }),
    createdAtMs: stored.createdAtMs,
  });
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
