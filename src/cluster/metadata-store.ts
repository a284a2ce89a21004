/**
 * The cluster metadata a broker agrees on with the others: which brokers exist, which topics,
 * and each partition's `{leaderId, leaderEpoch, replicas, isr}`. Two implementations: etcd (the
 * place where a cluster agrees by consensus; ARCHITECTURE.md section 4) and, without `--etcd`,
 * a standalone store kept in the broker's data directory (standalone-metadata-store.ts).
 *
 * The interface is shaped so that etcd v3 can implement it directly:
 * - everything is async;
 * - a partition's state changes only by compare-and-swap on its version, which plays the role of
 *   etcd's `mod_revision`: it changes on every write of that partition's state and is never
 *   reused, not even by a topic of the same name created after a delete, so a CAS based on a
 *   stale read can never succeed;
 * - changes are observed through `watch`, like an etcd watch on the metadata prefix.
 *
 * Everything returned is a frozen snapshot; a change produces new objects, never mutates old ones.
 */

/** A broker as clients and other brokers reach it. */
export interface BrokerInfo {
  readonly brokerId: number;
  readonly host: string;
  readonly port: number;
}

/** Who leads a partition and which replicas are in sync. */
export interface PartitionState {
  /** The leader's broker id, or null when the partition has no leader (LEADER_NOT_AVAILABLE). */
  readonly leaderId: number | null;
  /** Bumped at every leader change; stamped into every batch the leader appends. */
  readonly leaderEpoch: number;
  /** The brokers assigned a copy, preferred leader first. */
  readonly replicas: readonly number[];
  /** The replicas caught up with the leader; always a subset of `replicas`. */
  readonly isr: readonly number[];
}

/** Per-topic settings fixed at creation. */
/**
 * Null when a partition state is well formed: broker ids are non-negative integers, replicas
 * non-empty and distinct, the ISR within the replicas, the leader (if any) in the ISR; else what
 * is wrong. Both metadata stores check what they read and what they are asked to write with it.
 */
export function partitionStateProblem(state: PartitionState): string | null {
  if (state.leaderId !== null && !isBrokerId(state.leaderId)) return 'leaderId is neither null nor a broker id';
  if (!isBrokerId(state.leaderEpoch)) return 'leaderEpoch is not a non-negative integer';
  if (!isBrokerIdList(state.replicas) || state.replicas.length === 0) return 'replicas are not distinct broker ids, at least one';
  if (!isBrokerIdList(state.isr)) return 'isr members are not distinct broker ids';
  if (!state.isr.every((id) => state.replicas.includes(id))) return `isr [${state.isr.join(',')}] is not within replicas [${state.replicas.join(',')}]`;
  if (state.leaderId !== null && !state.isr.includes(state.leaderId)) return `leader ${state.leaderId} is not in isr [${state.isr.join(',')}]`;
  return null;
}

/** A frozen copy of a partition state, lists included. */
export function freezePartitionState(state: PartitionState): PartitionState {
  return Object.freeze({
    leaderId: state.leaderId, leaderEpoch: state.leaderEpoch,
    replicas: Object.freeze([...state.replicas]), isr: Object.freeze([...state.isr]),
  });
}

/** A non-negative safe integer, as broker ids and epochs are. */
export function isBrokerId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A list of distinct broker ids. */
export function isBrokerIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isBrokerId) && new Set(value).size === value.length;
}

export interface TopicConfig {
  /** acks=all is refused with NOT_ENOUGH_REPLICAS while the ISR is smaller than this. */
  readonly minInsyncReplicas: number;
  /**
   * Whether a live replica outside the ISR may become leader when no ISR member is live. Off by
   * default: such a leader may lack acknowledged records, which are then lost.
   */
  readonly uncleanLeaderElection: boolean;
}

/** The config a topic gets when CreateTopics says nothing. */
export const DEFAULT_TOPIC_CONFIG: TopicConfig = Object.freeze({ minInsyncReplicas: 1, uncleanLeaderElection: false });

/** A topic and the state of its partitions. */
export interface TopicMetadata {
  readonly name: string;
  /**
   * A random UUID chosen at creation. A topic deleted and created again under the same name is a
   * different topic with a different id, so nothing about the old one (logs, offsets, leaders)
   * can be mistaken for the new one's.
   */
  readonly topicId: string;
  /** Indexed by partition number: `partitions[3]` is partition 3. */
  readonly partitions: readonly PartitionState[];
  readonly config: TopicConfig;
  readonly createdAtMs: number;
}

/**
 * A value with the version it was read at. Versions are opaque: compare them for equality only
 * (an etcd implementation uses the key's `mod_revision`, which jumps by other keys' writes too).
 */
export interface Versioned<T> {
  readonly value: T;
  readonly version: number;
}

/** What CreateTopics asks for. */
export interface CreateTopicRequest {
  readonly name: string;
  readonly partitionCount: number;
  readonly replicationFactor: number;
  /** Defaults to DEFAULT_TOPIC_CONFIG; minInsyncReplicas must be within [1, replicationFactor]. */
  readonly config?: Partial<TopicConfig>;
  /** Allows a `__`-prefixed name; only the broker sets it, for its internal topics. */
  readonly allowInternal?: boolean;
}

/**
 * One committed change. `revision` orders changes: it increases with every change of the store,
 * so a watcher can tell whether an event is newer than a snapshot it holds.
 */
export type MetadataEvent =
  | { readonly kind: 'topic-created'; readonly topic: string; readonly topicId: string; readonly revision: number }
  | { readonly kind: 'topic-deleted'; readonly topic: string; readonly topicId: string; readonly revision: number }
  | {
    readonly kind: 'partition-changed'; readonly topic: string; readonly topicId: string;
    readonly partition: number; readonly revision: number;
  }
  /** A broker registered, re-registered or its session ended; re-read `listBrokers`. */
  | { readonly kind: 'brokers-changed'; readonly revision: number }
  /** Another broker (or none, null) is controller now. */
  | { readonly kind: 'controller-changed'; readonly controllerId: number | null; readonly revision: number };

export type MetadataListener = (event: MetadataEvent) => void;

/** What a broker is told about its controller role. */
export interface ControllerCallbacks {
  /** This broker won the election; it must act as controller until `resigned`. */
  elected(): void;
  /** This broker is no longer controller (its session was lost, or the store closes). */
  resigned(): void;
}

/** The cluster's metadata, as every broker sees it. */
export interface MetadataStore {
  /**
   * Makes this broker live: visible in `listBrokers` until the store closes or its session ends
   * (etcd: a key under a lease of brokerSessionTimeoutMs, kept alive; a lost lease is replaced by
   * a new one and the key written again). Resolves once the registration is durable. Throws
   * SluiceError INVALID_REQUEST when a live broker already has this id.
   */
  registerBroker(info: BrokerInfo): Promise<void>;

  /** The live brokers, ordered by id. */
  listBrokers(): Promise<readonly BrokerInfo[]>;

  /**
   * Enters this broker in the controller election and returns at once; `callbacks` say when it
   * wins and when it stops being controller. At most one broker is controller at a time, as
   * etcd's election guarantees. Call after `registerBroker` (etcd: the campaign uses the
   * broker's lease). Standalone: elected at once.
   */
  campaignForController(brokerId: number, callbacks: ControllerCallbacks): Promise<void>;

  /** The controller's broker id, or null while there is none. */
  controllerId(): Promise<number | null>;

  /** Every topic, internal ones included, ordered by name. */
  listTopics(): Promise<readonly TopicMetadata[]>;

  /** A topic, or null when there is none of that name. */
  getTopic(name: string): Promise<TopicMetadata | null>;

  /**
   * Creates a topic with every partition led by one of its replicas at epoch 0, its ISR all of
   * its replicas. Replicas are assigned across the live brokers by `assignReplicas`
   * (replica-assignment.ts): the preferred leaders spread evenly. Throws a SluiceError: INVALID_TOPIC_EXCEPTION (naming rules, internal names, a
   * collision such as `a.b` with `a_b`), INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR or
   * TOPIC_ALREADY_EXISTS. Of concurrent creates of one name, exactly one succeeds.
   */
  createTopic(request: CreateTopicRequest): Promise<TopicMetadata>;

  /** Deletes a topic; UNKNOWN_TOPIC_OR_PARTITION when there is none of that name. */
  deleteTopic(name: string): Promise<void>;

  /** A partition's state and its version, or null when the topic or partition does not exist. */
  getPartitionState(topic: string, partition: number): Promise<Versioned<PartitionState> | null>;

  /**
   * Replaces a partition's state if its version is still `expectedVersion`. Returns the new
   * version, or null when the version has moved on (another writer won; re-read and decide
   * again) or the partition no longer exists. Never writes on a mismatch.
   */
  compareAndSetPartitionState(topic: string, partition: number, expectedVersion: number, state: PartitionState): Promise<number | null>;

  /**
   * Calls `listener` with every change committed after the returned promise resolves (an etcd
   * watch must be established first), in commit order, each once it is durable. So "watch, then
   * list" misses nothing, though an event may then repeat what the list already showed (a
   * topic-created whose topicId was listed, a partition-changed at a version already read).
   * Resolves to a function that stops the calls. A listener must not throw; one that does has a
   * bug, which is rethrown outside the store so that the change itself stands.
   */
  watch(listener: MetadataListener): Promise<() => void>;

  /**
   * A producer id never handed out before, for an idempotent producer: the revision of a
   * durable write, so ids only grow and survive restarts (with etcd, the revision of a put).
   */
  allocateProducerId(): Promise<bigint>;

  /** Waits for changes under way, then releases the store; no call may follow. */
  close(): Promise<void>;
}
