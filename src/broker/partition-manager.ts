import type { Logger } from 'pino';
import type { BrokerInfo, CreateTopicRequest, MetadataEvent, MetadataStore, PartitionState, TopicMetadata, Versioned } from '../cluster/metadata-store.js';
import { SluiceError } from '../errors/sluice-error.js';
import type { LogManager } from '../storage/log-manager.js';
import type { AppendResult, PartitionLog } from '../storage/partition-log.js';
import { parsePartitionDirName } from '../storage/segment-names.js';
import { PartitionLeadership, type LeaderAcks } from './replication/partition-leadership.js';
import { ReplicaFetcher, type ReplicaFetcherDeps } from './replication/replica-fetcher.js';

/** A partition this broker leads: its log, the epoch it stamps, and the append path. */
export interface LeaderPartition {
  readonly log: PartitionLog;
  readonly leaderEpoch: number;
  /** Appends (all or nothing) and resolves as `acks` asks; see PartitionLeadership. */
  appendBatches(batches: readonly Uint8Array[], acks: LeaderAcks): Promise<AppendResult[]>;
  /** A follower's fetch, which tells the leader how far that follower holds the log. */
  followerFetched(replicaId: number, fetchOffset: number): void;
}

/** Told when this broker starts or stops leading a partition (the group coordinator loads offsets). */
export type LeadershipListener = (topic: string, partition: number, leader: LeaderPartition | null) => void;

/** Settings of replication, from the broker config. */
export interface ReplicationSettings {
  readonly replicaLagTimeMaxMs: number;
  readonly fetcher: Omit<ReplicaFetcherDeps, 'brokerId' | 'logger'>;
  readonly nowMs: () => number;
  readonly isrChanged?: (kind: 'shrink' | 'expand') => void;
}

/**
 * Joins cluster metadata (which topics exist, who leads each partition at which epoch) to the
 * local logs, and gives each local replica its role: a PartitionLeadership where this broker
 * leads, a place in the ReplicaFetcher of the leader's broker where it follows. The metadata
 * store is authoritative; the topic map here is a cache refreshed by its watch, and each role
 * change re-reads the partition's state from the store, one change at a time per partition.
 */
export class PartitionManager {
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly leaderships = new Map<string, PartitionLeadership>();
  private readonly following = new Map<string, { leaderId: number; leaderEpoch: number }>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly roleChanges = new Map<string, Promise<void>>();
  private readonly leadershipListeners = new Set<LeadershipListener>();
  /** Replica fetches long-polling at this leader, woken by new records in any partition they replicate. */
  private readonly replicaWaiters = new Set<{ readonly replicaId: number; readonly wake: () => void }>();
  /** Per led partition: stops watching its log end for replicaWaiters. */
  private readonly logEndWatches = new Map<string, () => void>();
  private brokers = new Map<number, BrokerInfo>();
  private controller: number | null = null;
  private stopWatching: (() => void) | null = null;
  private lagTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  /** True while start() takes up the roles found in the store (see inheritedLeadership). */
  private starting = true;

  private constructor(
    private readonly logs: LogManager,
    private readonly metadata: MetadataStore,
    private readonly brokerId: number,
    private readonly replication: ReplicationSettings,
    private readonly logger: Logger,
  ) {}

  /** Loads the topics, opens (or creates) the logs this broker holds, takes up their roles, and follows changes. */
  static async start(logs: LogManager, metadata: MetadataStore, brokerId: number, replication: ReplicationSettings, logger: Logger): Promise<PartitionManager> {
    const manager = new PartitionManager(logs, metadata, brokerId, replication, logger);
    manager.stopWatching = await metadata.watch((event) => manager.onMetadataEvent(event));
    await manager.refreshBrokers();
    manager.controller = await metadata.controllerId();
    for (const topic of await metadata.listTopics()) await manager.adopt(topic);
    await manager.settled();
    manager.starting = false;
    manager.warnAboutOrphans();
    const checkEveryMs = Math.max(10, Math.floor(replication.replicaLagTimeMaxMs / 2));
    manager.lagTimer = setInterval(() => {
      for (const leadership of manager.leaderships.values()) leadership.checkLaggingFollowers();
    }, checkEveryMs);
    manager.lagTimer.unref();
    return manager;
  }

  /** The partition this broker leads, or the typed reason it cannot serve it. */
  leader(topic: string, partition: number): LeaderPartition {
    const state = this.topics.get(topic)?.partitions[partition];
    if (state === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition}`);
    const leadership = this.leaderships.get(key(topic, partition));
    if (leadership !== undefined) return leadership;
    if (state.leaderId === null) throw new SluiceError('LEADER_NOT_AVAILABLE', `${topic}-${partition}`);
    if (state.leaderId !== this.brokerId) throw new SluiceError('NOT_LEADER_OR_FOLLOWER', `${topic}-${partition} is led by broker ${state.leaderId}`);
    // The metadata names this broker, and the role change is still under way.
    throw new SluiceError('LEADER_NOT_AVAILABLE', `${topic}-${partition}: becoming leader`);
  }

  /** Every local log with the role this broker plays for it now and the leader epoch it acts at (GET /v1/replicas). */
  localReplicas(): Array<{ topic: string; partition: number; role: 'leader' | 'follower' | 'none'; leaderEpoch: number | null; log: PartitionLog }> {
    const replicas = [];
    for (const [name, log] of this.logs.partitions) {
      const parsed = parsePartitionDirName(name);
      if (parsed === null) continue;
      const leadership = this.leaderships.get(key(parsed.topic, parsed.partition));
      const followed = this.following.get(key(parsed.topic, parsed.partition));
      const role = leadership !== undefined ? 'leader' as const : followed !== undefined ? 'follower' as const : 'none' as const;
      replicas.push({ ...parsed, role, leaderEpoch: leadership?.leaderEpoch ?? followed?.leaderEpoch ?? null, log });
    }
    return replicas.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /** Topics by name (all of them when `names` is null); unknown names map to null. */
  describe(names: readonly string[] | null): Array<{ name: string; topic: TopicMetadata | null }> {
    if (names === null) return [...this.topics.values()].sort((a, b) => a.name.localeCompare(b.name)).map((topic) => ({ name: topic.name, topic }));
    return names.map((name) => ({ name, topic: this.topics.get(name) ?? null }));
  }

  /** The live brokers as last read from the store, ordered by id. */
  liveBrokers(): BrokerInfo[] {
    return [...this.brokers.values()].sort((a, b) => a.brokerId - b.brokerId);
  }

  /** Partitions led here whose ISR is smaller than their replica set (a metric). */
  underReplicatedCount(): number {
    let count = 0;
    for (const leadership of this.leaderships.values()) {
      const replicas = this.topics.get(leadership.topic)?.partitions[leadership.partition]?.replicas.length ?? 0;
      if (leadership.isr.length < replicas) count += 1;
    }
    return count;
  }

  /** The controller's broker id as last seen in the store, or null while there is none. */
  get controllerId(): number | null {
    return this.controller;
  }

  /** Calls `listener` at every start and end of leadership, and at once for every partition led now. */
  /**
   * Calls `wake` when records arrive in any partition this broker leads and `replicaId`
   * replicates, whether or not that follower's long-polling fetch asked for it: a follower that
   * has just started to follow a new partition then fetches again at once with it, instead of
   * waiting out a long poll on its other partitions. Returns the function that stops it.
   */
  watchReplicaData(replicaId: number, wake: () => void): () => void {
    const waiter = { replicaId, wake };
    this.replicaWaiters.add(waiter);
    return () => this.replicaWaiters.delete(waiter);
  }

  onLeadership(listener: LeadershipListener): () => void {
    this.leadershipListeners.add(listener);
    for (const leadership of this.leaderships.values()) listener(leadership.topic, leadership.partition, leadership);
    return () => this.leadershipListeners.delete(listener);
  }

  /** Resolves once every role change under way has finished (tests, startup). */
  async settled(): Promise<void> {
    while (this.roleChanges.size > 0) await Promise.all(this.roleChanges.values());
  }

  /** Creates a topic and, before returning, the logs and roles of the partitions this broker holds. */
  async createTopic(request: CreateTopicRequest): Promise<TopicMetadata> {
    const topic = await this.metadata.createTopic(request);
    await this.adopt(topic);
    return topic;
  }

  /** Deletes a user topic and its local logs. Internal (`__`) topics cannot be deleted. */
  async deleteTopic(name: string): Promise<void> {
    if (name.startsWith('__')) throw new SluiceError('INVALID_TOPIC_EXCEPTION', `${name} is an internal topic`);
    const topic = this.topics.get(name) ?? (await this.metadata.getTopic(name));
    await this.metadata.deleteTopic(name);
    if (topic !== null) await this.forget(topic);
  }

  /** Stops following metadata changes and every role: leaders refuse, fetchers stop. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWatching?.();
    this.stopWatching = null;
    if (this.lagTimer !== null) clearInterval(this.lagTimer);
    await Promise.all(this.roleChanges.values());
    for (const fetcher of this.fetchers.values()) await fetcher.stop();
    this.fetchers.clear();
    for (const leadership of this.leaderships.values()) leadership.stop(new SluiceError('NOT_LEADER_OR_FOLLOWER', 'the broker is stopping'));
    this.leaderships.clear();
  }

  private async adopt(topic: TopicMetadata): Promise<void> {
    this.topics.set(topic.name, topic);
    const changes: Promise<void>[] = [];
    for (const [partition, state] of topic.partitions.entries()) {
      if (!state.replicas.includes(this.brokerId)) continue;
      await this.logs.getOrCreateLog(topic.name, partition);
      changes.push(this.reconcile(topic, partition));
    }
    await Promise.all(changes);
  }

  private async forget(topic: TopicMetadata): Promise<void> {
    if (this.topics.get(topic.name)?.topicId === topic.topicId) this.topics.delete(topic.name);
    for (const partition of topic.partitions.keys()) {
      await this.roleChanges.get(key(topic.name, partition));
      await this.leaveRoles(topic.name, partition);
      await this.logs.deleteLog(topic.name, partition);
    }
  }

  // Role changes of one partition run one after another, each on a fresh read of its state.
  private reconcile(topic: TopicMetadata, partition: number): Promise<void> {
    const partitionKey = key(topic.name, partition);
    const previous = this.roleChanges.get(partitionKey) ?? Promise.resolve();
    const next = previous.then(() => this.takeRole(topic, partition)).catch((error: unknown) => {
      // Usually etcd was briefly unreachable. Nothing else may come to retry it (no further
      // change of this partition), so retry after a pause, from the latest known topic.
      this.logger.error({ err: error, topic: topic.name, partition }, 'could not take up the role of a partition; retrying');
      const retry = setTimeout(() => {
        const latest = this.topics.get(topic.name);
        if (!this.stopped && latest !== undefined && latest.topicId === topic.topicId) void this.reconcile(latest, partition);
      }, ROLE_RETRY_BACKOFF_MS);
      retry.unref();
    });
    this.roleChanges.set(partitionKey, next);
    void next.finally(() => {
      if (this.roleChanges.get(partitionKey) === next) this.roleChanges.delete(partitionKey);
    });
    return next;
  }

  private async takeRole(topic: TopicMetadata, partition: number): Promise<void> {
    if (this.stopped) return;
    const current = this.starting ? await this.inheritedLeadership(topic.name, partition) : await this.metadata.getPartitionState(topic.name, partition);
    const log = this.logs.log(topic.name, partition);
    if (current === null || log === undefined || !current.value.replicas.includes(this.brokerId)) return this.leaveRoles(topic.name, partition);
    const state = current.value;
    const partitionKey = key(topic.name, partition);
    if (state.leaderId === this.brokerId) {
      const existing = this.leaderships.get(partitionKey);
      if (existing !== undefined && existing.leaderEpoch === state.leaderEpoch) return existing.stateChanged(current);
      await this.leaveRoles(topic.name, partition);
      // Batches of this epoch start at today's log end: what OffsetForLeaderEpoch answers followers.
      await log.beginLeaderEpoch(state.leaderEpoch);
      const leadership = new PartitionLeadership(topic.name, partition, log, current, topic.config, {
        brokerId: this.brokerId, store: this.metadata, replicaLagTimeMaxMs: this.replication.replicaLagTimeMaxMs,
        nowMs: this.replication.nowMs, logger: this.logger, isrChanged: this.replication.isrChanged,
        deposed: () => void this.reconcile(this.topics.get(topic.name) ?? topic, partition),
      });
      this.leaderships.set(partitionKey, leadership);
      this.logEndWatches.set(partitionKey, log.watchLogEnd(() => {
        for (const waiter of this.replicaWaiters) if (leadership.replicas.includes(waiter.replicaId)) waiter.wake();
      }));
      this.logger.info({ topic: topic.name, partition, leaderEpoch: state.leaderEpoch, logEndOffset: log.logEndOffset, isr: state.isr }, 'leading');
      for (const listener of this.leadershipListeners) listener(topic.name, partition, leadership);
      return;
    }
    const followed = this.following.get(partitionKey);
    if (state.leaderId !== null && followed?.leaderId === state.leaderId && followed.leaderEpoch === state.leaderEpoch) return;
    await this.leaveRoles(topic.name, partition);
    if (state.leaderId === null) return;
    const leaderInfo = this.brokers.get(state.leaderId);
    // The leader is not registered (yet): its registration's event brings us back here.
    if (leaderInfo === undefined) return;
    this.fetcherFor(leaderInfo).add(topic.name, partition, log, state.leaderEpoch);
    this.following.set(partitionKey, { leaderId: state.leaderId, leaderEpoch: state.leaderEpoch });
    this.logger.info({ topic: topic.name, partition, leader: state.leaderId, leaderEpoch: state.leaderEpoch, logEndOffset: log.logEndOffset }, 'following');
  }

  /**
   * The partition's state, read at startup. A leadership found then was granted to this broker's
   * previous run, which may have lost its unflushed tail (a crash): followers can hold records of
   * that epoch this log no longer has, and leading on at the same epoch would write other records
   * at those offsets under the same epoch, a divergence the followers' epoch check cannot see.
   * So the leader moves itself to the next epoch first (Kafka bumps the epoch when a leader
   * restarts), by compare-and-swap: a concurrent write by the controller wins and is re-read.
   */
  private async inheritedLeadership(topic: string, partition: number): Promise<Versioned<PartitionState> | null> {
    for (let attempt = 0; attempt < INHERITED_EPOCH_ATTEMPTS_MAX; attempt++) {
      const current = await this.metadata.getPartitionState(topic, partition);
      // A single replica has no follower to diverge from.
      if (current === null || current.value.leaderId !== this.brokerId || current.value.replicas.length < 2) return current;
      const bumped: PartitionState = { ...current.value, leaderEpoch: current.value.leaderEpoch + 1 };
      const version = await this.metadata.compareAndSetPartitionState(topic, partition, current.version, bumped);
      if (version !== null) {
        this.logger.info({ topic, partition, from: current.value.leaderEpoch, to: bumped.leaderEpoch }, 'led by this broker before it restarted; leading at the next epoch');
        return { value: bumped, version };
      }
    }
    this.logger.warn({ topic, partition }, 'could not move an inherited leadership to the next epoch; taking the role as the store has it');
    return this.metadata.getPartitionState(topic, partition);
  }

  // Ends whatever role this broker has for a partition: leadership (waiting acks=all appends fail
  // with NOT_LEADER_OR_FOLLOWER) or following (once no replicated append is under way).
  private async leaveRoles(topic: string, partition: number): Promise<void> {
    const partitionKey = key(topic, partition);
    const leadership = this.leaderships.get(partitionKey);
    if (leadership !== undefined) {
      this.leaderships.delete(partitionKey);
      this.logEndWatches.get(partitionKey)?.();
      this.logEndWatches.delete(partitionKey);
      leadership.stop(new SluiceError('NOT_LEADER_OR_FOLLOWER', `${topic}-${partition}: this broker no longer leads it`));
      for (const listener of this.leadershipListeners) listener(topic, partition, null);
    }
    const followed = this.following.get(partitionKey);
    if (followed !== undefined) {
      this.following.delete(partitionKey);
      const fetcher = this.fetchers.get(followed.leaderId);
      if (fetcher !== undefined) {
        await fetcher.remove(topic, partition);
        // While it was being removed, the fetcher may have been replaced (its leader came back on
        // another address): only this one is stopped, and the map keeps its successor.
        if (fetcher.size === 0) {
          if (this.fetchers.get(followed.leaderId) === fetcher) this.fetchers.delete(followed.leaderId);
          await fetcher.stop();
        }
      }
    }
  }

  private fetcherFor(leader: BrokerInfo): ReplicaFetcher {
    let fetcher = this.fetchers.get(leader.brokerId);
    if (fetcher !== undefined && (fetcher.leader.host !== leader.host || fetcher.leader.port !== leader.port)) {
      // The leader came back on another address: a new fetcher. Every partition the old one
      // followed takes its role again, so that none is left following nothing.
      void fetcher.stop();
      fetcher = undefined;
      for (const [partitionKey, followed] of [...this.following]) {
        if (followed.leaderId !== leader.brokerId) continue;
        this.following.delete(partitionKey);
        const [topicName, partitionText] = partitionKey.split('\u0000') as [string, string];
        const topic = this.topics.get(topicName);
        if (topic !== undefined) queueMicrotask(() => void this.reconcile(topic, Number(partitionText)));
      }
    }
    if (fetcher === undefined) {
      fetcher = new ReplicaFetcher(leader, { ...this.replication.fetcher, brokerId: this.brokerId, logger: this.logger.child({ fetcher: leader.brokerId }) });
      this.fetchers.set(leader.brokerId, fetcher);
    }
    return fetcher;
  }

  private async refreshBrokers(): Promise<void> {
    this.brokers = new Map((await this.metadata.listBrokers()).map((broker) => [broker.brokerId, broker]));
  }

  // Changes made through this broker were applied already; this catches the rest (and, with
  // etcd, other brokers' changes).
  private onMetadataEvent(event: MetadataEvent): void {
    if (this.stopped) return;
    if (event.kind === 'controller-changed') {
      this.controller = event.controllerId;
      return;
    }
    const apply = async (): Promise<void> => {
      if (event.kind === 'brokers-changed') {
        await this.refreshBrokers();
        // Partitions whose leader was unknown may now have somewhere to fetch from.
        for (const topic of this.topics.values()) {
          for (const [partition, state] of topic.partitions.entries()) {
            if (state.replicas.includes(this.brokerId) && state.leaderId !== this.brokerId) void this.reconcile(topic, partition);
          }
        }
        return;
      }
      if (event.kind === 'topic-deleted') {
        const known = this.topics.get(event.topic);
        if (known !== undefined && known.topicId === event.topicId) await this.forget(known);
        return;
      }
      const topic = await this.metadata.getTopic(event.topic);
      if (topic !== null && topic.topicId === event.topicId) await this.adopt(topic);
    };
    apply().catch((error: unknown) => this.logger.error({ err: error, event }, 'could not apply a metadata change'));
  }

  private warnAboutOrphans(): void {
    for (const name of this.logs.partitions.keys()) {
      const parsed = parsePartitionDirName(name);
      if (parsed !== null && this.topics.get(parsed.topic)?.partitions[parsed.partition] === undefined) {
        this.logger.warn({ partitionDir: name }, 'a partition log on disk belongs to no known topic; it is kept but not served');
      }
    }
  }
}

/** Compare-and-swap attempts to move an inherited leadership to the next epoch at startup. */
const INHERITED_EPOCH_ATTEMPTS_MAX = 5;

/** Pause before a role change that failed is tried again. */
const ROLE_RETRY_BACKOFF_MS = 1_000;

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
