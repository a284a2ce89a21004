import type {
  BrokerInfo, ControllerCallbacks, CreateTopicRequest, MetadataEvent, MetadataListener, MetadataStore,
  PartitionState, TopicConfig, TopicMetadata, Versioned,
} from '../../src/cluster/metadata-store.js';
import { DEFAULT_TOPIC_CONFIG } from '../../src/cluster/metadata-store.js';
import { assignReplicas } from '../../src/cluster/replica-assignment.js';
import { SluiceError } from '../../src/errors/sluice-error.js';

/**
 * An in-memory fake of the MetadataStore contract, FOR UNIT TESTS of logic that drives a store
 * (the controller). It is not a broker's store and stands in for no real process: integration
 * tests use etcd. It keeps the contract's rules that such logic depends on: versions are a
 * global revision counter that only grows, compare-and-swap refuses a stale version, every
 * change is one watch event delivered after it is visible, and every value is a frozen snapshot.
 *
 * What a test controls that a real store does not let it: which brokers are live
 * (`setBrokerLive`), topics with given partition states (`seedTopic`), writes by "another
 * writer" (`writePartitionState`), and a hook that runs just before a compare-and-swap is
 * checked (`beforeCompareAndSet`), to lose a race on purpose.
 */
export class InMemoryMetadataStore implements MetadataStore {
  private revision = 0;
  private readonly brokers = new Map<number, BrokerInfo>();
  private readonly topics = new Map<string, { metadata: TopicMetadata; versions: number[] }>();
  private readonly listeners = new Set<MetadataListener>();
  private controller: number | null = null;
  private closed = false;
  private topicSerial = 0;
  /** Compare-and-swaps asked for, won or lost. */
  compareAndSetCalls = 0;
  /** Runs (synchronously) before each compare-and-swap is checked; a write here makes it lose. */
  beforeCompareAndSet: ((topic: string, partition: number) => void) | null = null;
  /** When set, every read and write rejects with it (the store unreachable). */
  failWith: Error | null = null;

  /** Makes a broker live (registered) or dead (its session ended). */
  setBrokerLive(brokerId: number, live: boolean): void {
    if (live === this.brokers.has(brokerId)) return;
    if (live) this.brokers.set(brokerId, Object.freeze({ brokerId, host: '127.0.0.1', port: 9000 + brokerId }));
    else this.brokers.delete(brokerId);
    this.emit({ kind: 'brokers-changed', revision: ++this.revision });
  }

  /** Creates a topic with exactly these partition states. */
  seedTopic(name: string, partitions: readonly PartitionState[], config: Partial<TopicConfig> = {}): void {
    const revision = ++this.revision;
    const metadata = freezeTopic({
      name, topicId: `topic-${++this.topicSerial}`, createdAtMs: 0, config: { ...DEFAULT_TOPIC_CONFIG, ...config },
      partitions: partitions.map(freezeState),
    });
    this.topics.set(name, { metadata, versions: partitions.map(() => revision) });
    this.emit({ kind: 'topic-created', topic: name, topicId: metadata.topicId, revision });
  }

  /** A partition's current state, synchronously, for assertions. */
  stateOf(topic: string, partition: number): PartitionState {
    const value = this.topics.get(topic)?.metadata.partitions[partition];
    if (value === undefined) throw new Error(`no partition ${topic}-${partition}`);
    return value;
  }

  /** Another writer's unconditional write (a partition leader changing its ISR, say). */
  writePartitionState(topic: string, partition: number, state: PartitionState): void {
    const stored = this.topics.get(topic);
    if (stored === undefined || stored.metadata.partitions[partition] === undefined) throw new Error(`no partition ${topic}-${partition}`);
    const revision = ++this.revision;
    const partitions = stored.metadata.partitions.map((old, p) => (p === partition ? freezeState(state) : old));
    stored.metadata = freezeTopic({ ...stored.metadata, partitions });
    stored.versions = stored.versions.map((old, p) => (p === partition ? revision : old));
    this.emit({ kind: 'partition-changed', topic, topicId: stored.metadata.topicId, partition, revision });
  }

  /** Number of listeners watching; zero once every watcher stopped. */
  get watcherCount(): number {
    return this.listeners.size;
  }

  async registerBroker(info: BrokerInfo): Promise<void> {
    await this.turn();
    if (this.brokers.has(info.brokerId)) throw new SluiceError('INVALID_REQUEST', `broker ${info.brokerId} is live`);
    this.brokers.set(info.brokerId, Object.freeze({ ...info }));
    this.emit({ kind: 'brokers-changed', revision: ++this.revision });
  }

  async listBrokers(): Promise<readonly BrokerInfo[]> {
    await this.turn();
    return Object.freeze([...this.brokers.values()].sort((a, b) => a.brokerId - b.brokerId));
  }

  async campaignForController(brokerId: number, callbacks: ControllerCallbacks): Promise<void> {
    await this.turn();
    if (this.controller !== null) return;
    this.controller = brokerId;
    this.emit({ kind: 'controller-changed', controllerId: brokerId, revision: ++this.revision });
    queueMicrotask(() => callbacks.elected());
  }

  async controllerId(): Promise<number | null> {
    await this.turn();
    return this.controller;
  }

  async listTopics(): Promise<readonly TopicMetadata[]> {
    await this.turn();
    return Object.freeze([...this.topics.values()].map((topic) => topic.metadata).sort((a, b) => (a.name < b.name ? -1 : 1)));
  }

  async getTopic(name: string): Promise<TopicMetadata | null> {
    await this.turn();
    return this.topics.get(name)?.metadata ?? null;
  }

  async createTopic(request: CreateTopicRequest): Promise<TopicMetadata> {
    await this.turn();
    if (this.topics.has(request.name)) throw new SluiceError('TOPIC_ALREADY_EXISTS', request.name);
    const assignment = assignReplicas(request.partitionCount, request.replicationFactor, [...this.brokers.keys()], this.topics.size);
    this.seedTopic(request.name, assignment.map((replicas) => ({ leaderId: replicas[0]!, leaderEpoch: 0, replicas, isr: replicas })), request.config);
    return this.topics.get(request.name)!.metadata;
  }

  async deleteTopic(name: string): Promise<void> {
    await this.turn();
    const doomed = this.topics.get(name);
    if (doomed === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', name);
    this.topics.delete(name);
    this.emit({ kind: 'topic-deleted', topic: name, topicId: doomed.metadata.topicId, revision: ++this.revision });
  }

  async getPartitionState(topic: string, partition: number): Promise<Versioned<PartitionState> | null> {
    await this.turn();
    const stored = this.topics.get(topic);
    const value = stored?.metadata.partitions[partition];
    if (stored === undefined || value === undefined) return null;
    return { value, version: stored.versions[partition]! };
  }

  async compareAndSetPartitionState(topic: string, partition: number, expectedVersion: number, state: PartitionState): Promise<number | null> {
    await this.turn();
    this.compareAndSetCalls += 1;
    this.beforeCompareAndSet?.(topic, partition);
    const stored = this.topics.get(topic);
    if (stored === undefined || stored.versions[partition] !== expectedVersion) return null;
    const previous = stored.metadata.partitions[partition]!;
    if (state.leaderEpoch < previous.leaderEpoch) throw new Error(`leader epoch of ${topic}-${partition} went back`);
    if (state.leaderId !== null && !state.isr.includes(state.leaderId)) throw new Error('leader outside the isr');
    if (!state.isr.every((id) => state.replicas.includes(id))) throw new Error('isr outside the replicas');
    this.writePartitionState(topic, partition, state);
    return stored.versions[partition]!;
  }

  async watch(listener: MetadataListener): Promise<() => void> {
    await this.turn();
    const subscription: MetadataListener = (event) => listener(event);
    this.listeners.add(subscription);
    return () => { this.listeners.delete(subscription); };
  }

  async allocateProducerId(): Promise<bigint> {
    await this.turn();
    return BigInt(++this.revision);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  // Every call yields once, as a real store's network round trip would, so that callers
  // interleave; then fails if the test made the store unreachable.
  private async turn(): Promise<void> {
    await Promise.resolve();
    if (this.closed) throw new Error('in-memory metadata store is closed');
    if (this.failWith !== null) throw this.failWith;
  }

  private emit(event: MetadataEvent): void {
    const frozen = Object.freeze(event);
    for (const listener of [...this.listeners]) listener(frozen);
  }
}

function freezeState(state: PartitionState): PartitionState {
  return Object.freeze({ leaderId: state.leaderId, leaderEpoch: state.leaderEpoch, replicas: Object.freeze([...state.replicas]), isr: Object.freeze([...state.isr]) });
}

function freezeTopic(metadata: TopicMetadata): TopicMetadata {
  return Object.freeze({ ...metadata, partitions: Object.freeze([...metadata.partitions]), config: Object.freeze({ ...metadata.config }) });
}
