import { SluiceError } from '../errors/sluice-error.js';
import { ApiKey } from '../protocol/index.js';
import { backoffMs, sleep } from './backoff.js';
import { BrokerPool, bootstrapUrlsOf } from './broker-pool.js';
import { CLUSTER_SETTINGS, CONNECTION_SETTINGS, resolveSettings, type SettingValues } from './client-config.js';
import { ClusterMetadata } from './cluster-metadata.js';
import { expectOk, type Connection, type ConnectionOptions } from './connection.js';
import { SluiceClientError, errorFromCode } from './errors.js';
import { OFFSETS_TOPIC, offsetsPartitionFor } from './group-partition.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { retryActionFor } from './retry-policy.js';

/**
 * What Producer, Consumer and Admin share to follow a cluster: the bootstrap URLs, one
 * connection per broker (BrokerPool), the cached routes (ClusterMetadata), and the rules to
 * refresh them and retry.
 *
 * - Metadata comes from any broker. One Metadata request is in flight at a time (single-flight):
 *   a caller whose topics it covers waits for it, the others join the next one, which asks for
 *   all of their topics together.
 * - A request for a partition goes to its leader; for a group's offsets, to the leader of the
 *   group's `__consumer_offsets` partition (the coordinator). A broker that does not list that
 *   topic in Metadata (an older broker) answers offsets itself.
 * - `retrying` runs an operation at most `retries` + 1 times: after a routing error or a lost
 *   connection it marks the operation's topics stale (the next attempt refreshes them first),
 *   after any other retriable error it just waits; waits double from retryBackoffMs up to
 *   retryBackoffMsMax.
 */

/** Options every client takes: where the cluster is, how to connect, how to retry. */
export interface ClientOptions extends Omit<ConnectionOptions, 'url'> {
  /** Bootstrap URLs (`ws://host:port`, `/ws` is added): any broker of the cluster will do; the rest are found from Metadata. */
  readonly brokers?: readonly string[];
  /** One bootstrap URL: the same as `brokers: [url]` (the option of single-broker days, still accepted). */
  readonly url?: string;
  readonly metadataMaxAgeMs?: number;
  readonly retries?: number;
  readonly retryBackoffMs?: number;
  readonly retryBackoffMsMax?: number;
  /** Injected for tests: randomness (retry jitter) and the clock (ms). */
  readonly random?: () => number;
  readonly nowMs?: () => number;
}

/** The metadata says the topic or partition does not exist: retrying the same routes will not help. */
export class NoSuchPartitionError extends SluiceError {}

export class Cluster {
  readonly metadata = new ClusterMetadata();
  readonly pool: BrokerPool;
  readonly settings: SettingValues<typeof CLUSTER_SETTINGS>;
  readonly bootstrapUrls: readonly string[];
  private readonly logger: ClientLogger;
  private readonly random: () => number;
  private readonly nowMs: () => number;
  private refreshing: { readonly topics: ReadonlySet<string>; readonly done: Promise<void> } | null = null;
  private queued: { readonly topics: Set<string>; readonly done: Promise<void> } | null = null;
  private closedValue = false;

  /** Checks the options (failing with the setting's name); `context` names the client in messages. */
  constructor(options: ClientOptions, context: string) {
    resolveSettings(CONNECTION_SETTINGS, options, context);
    this.settings = resolveSettings(CLUSTER_SETTINGS, options, context);
    this.bootstrapUrls = bootstrapUrlsOf(options);
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.nowMs = options.nowMs ?? Date.now;
    const { brokers: _brokers, url: _url, ...connectionOptions } = options;
    this.pool = new BrokerPool(this.bootstrapUrls, { ...connectionOptions, logger: this.logger },
      (brokerId) => this.metadata.addressOf(brokerId), () => this.metadata.brokers());
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Asks a broker for the metadata of `topics` (and the brokers); joins a refresh in flight when it covers them. */
  refresh(topics: readonly string[]): Promise<void> {
    const current = this.refreshing;
    if (current === null) return this.startRefresh(new Set(topics));
    if (topics.every((topic) => current.topics.has(topic))) return current.done;
    if (this.queued !== null) {
      for (const topic of topics) this.queued.topics.add(topic);
      return this.queued.done;
    }
    const queuedTopics = new Set(topics);
    const done = current.done.catch(() => {}).then(() => {
      this.queued = null;
      return this.startRefresh(queuedTopics);
    });
    this.queued = { topics: queuedTopics, done };
    return done;
  }

  /** Refreshes those of `topics` that cannot be routed now; starts a background refresh of those past metadataMaxAgeMs. */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    const aged = this.metadata.topicsDueForRefresh(topics, this.nowMs(), this.settings.metadataMaxAgeMs);
    const needed = this.metadata.topicsToRefresh(topics);
    if (needed.length > 0) return this.refresh([...needed, ...aged]);
    if (aged.length > 0) this.refresh(aged).catch((error: unknown) => this.logger.debug({ err: error }, 'background metadata refresh failed'));
  }

  /**
   * The leader of a partition as the cache has it. Throws NoSuchPartitionError (a SluiceError
   * UNKNOWN_TOPIC_OR_PARTITION) when the metadata says there is no such topic or partition, and
   * a retriable LEADER_NOT_AVAILABLE when it has no usable leader.
   */
  leaderFor(topic: string, partition: number): number {
    const topicError = this.metadata.topicErrorOf(topic);
    if (topicError !== null && topicError !== 0) throw new NoSuchPartitionError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} (${errorFromCode(topicError).errorName})`);
    const count = this.metadata.partitionCountOf(topic);
    if (count !== null && partition >= count) throw new NoSuchPartitionError('UNKNOWN_TOPIC_OR_PARTITION', `${topic} has ${count} partitions, not partition ${partition}`);
    const leader = this.metadata.leaderOf(topic, partition);
    if (leader === null) throw new SluiceError('LEADER_NOT_AVAILABLE', `${topic}/${partition}`);
    return leader;
  }

  /** A connection to the leader of a partition, refreshing the metadata first when it cannot route. */
  async leaderConnection(topic: string, partition: number): Promise<Connection> {
    await this.ensureTopics([topic]);
    return this.pool.connectionTo(this.leaderFor(topic, partition));
  }

  /** A connection to the coordinator of `group`: the leader of its `__consumer_offsets` partition. */
  async coordinatorConnection(group: string): Promise<Connection> {
    await this.ensureTopics([OFFSETS_TOPIC]);
    const partitionCount = this.metadata.partitionCountOf(OFFSETS_TOPIC);
    // A broker that does not list the internal topic keeps offsets itself (single broker).
    if (partitionCount === null) return this.pool.anyConnection();
    const partition = offsetsPartitionFor(group, partitionCount);
    const leader = this.metadata.leaderOf(OFFSETS_TOPIC, partition);
    if (leader === null) throw new SluiceError('COORDINATOR_NOT_AVAILABLE', `group ${group}: ${OFFSETS_TOPIC}/${partition} has no leader`);
    return this.pool.connectionTo(leader);
  }

  /** Any broker's connection (Metadata, topic admin, InitProducerId). */
  anyConnection(): Promise<Connection> {
    return this.pool.anyConnection();
  }

  /**
   * Runs `operation` until it succeeds, at most `retries` + 1 times (see the class comment).
   * `topics` are the ones whose routes it used; `retryWhen` may refuse to retry an error (a
   * request that is not safe to repeat).
   */
  async retrying<T>(topics: readonly string[], operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
    const retries = options.retries ?? this.settings.retries;
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        const action = error instanceof NoSuchPartitionError ? 'fail' : retryActionFor(error);
        if (action === 'fail' || attempt > retries || this.closedValue || options.retryWhen?.(error) === false) throw error;
        if (action === 'refresh-metadata') topics.forEach((topic) => this.routeFailed(topic, error));
        this.logger.debug({ topics, attempt, err: error }, 'retrying after a retriable error');
        await sleep(this.backoffMs(attempt));
      }
    }
  }

  /**
   * A request for `topic` failed with a routing error: its routes are stale. A broker that did not
   * know the topic at all (UNKNOWN_TOPIC_OR_PARTITION) makes the client forget it with its leader
   * epochs, so that a topic deleted and created again (its epochs start over) is routed afresh.
   */
  routeFailed(topic: string, error: unknown): void {
    if (error instanceof SluiceError && error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION') this.metadata.forgetTopic(topic);
    else this.metadata.markStale(topic);
  }

  /** The wait before retry number `attempt` (1 for the first). */
  backoffMs(attempt: number): number {
    return backoffMs(attempt, this.settings.retryBackoffMs, this.settings.retryBackoffMsMax, this.random);
  }

  /** Closes every connection; later requests fail with client-closed. */
  close(): void {
    this.closedValue = true;
    this.pool.close();
  }

  private startRefresh(topics: ReadonlySet<string>): Promise<void> {
    const done = this.requestMetadata([...topics]).finally(() => {
      if (this.refreshing?.done === done) this.refreshing = null;
    });
    this.refreshing = { topics, done };
    return done;
  }

  private async requestMetadata(topics: readonly string[]): Promise<void> {
    if (this.closedValue) throw new SluiceClientError('client-closed', 'the client is closed');
    const connection = await this.pool.anyConnection();
    const response = expectOk(await connection.request(ApiKey.Metadata, { allTopics: false, topics: [...topics] }));
    this.metadata.apply(response, this.nowMs());
    this.logger.debug({ topics, brokers: response.brokers.length }, 'metadata refreshed');
  }
}

export interface RetryOptions {
  /** Overrides the client's `retries` (close() commits once, without retrying). */
  readonly retries?: number;
  /** Return false to fail at once with `error` although it is retriable. */
  readonly retryWhen?: (error: unknown) => boolean;
}
