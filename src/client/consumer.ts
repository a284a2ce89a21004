import { SluiceError } from '../errors/sluice-error.js';
import { ApiKey, type SubscribePush } from '../protocol/index.js';
import { decodeRecordsAs, type RecordHeader } from '../record/index.js';
import { sleep } from './backoff.js';
import { CONSUMER_SETTINGS, resolveSettings, type SettingValues } from './client-config.js';
import { Cluster, type ClientOptions } from './cluster.js';
import { ConsumerCommits } from './consumer-commits.js';
import type { Connection } from './connection.js';
import { SluiceClientError, errorFromCode, isSluiceClientError } from './errors.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { checkGroupId, listOffsetsRouted, type OffsetToCommit, type TopicPartition } from './offsets.js';
import { retryActionFor } from './retry-policy.js';
import { partitionKey } from './record-accumulator.js';
import { verifiedBatches } from './record-batches.js';
import { Fifo } from './fifo.js';
import { checkWireString } from './record-input.js';
import { fallbackSpec, resolveStartOffsets, type FallbackPosition, type StartPosition } from './start-positions.js';

/**
 * The consumer: assign partitions (or subscribe to whole topics), then read records with
 * `for await (const record of consumer)`.
 *
 * Transport: Subscribe + Credit, not Fetch long-polls. The broker pushes batches as they become
 * readable, so there is no poll round trip between batches and no request per partition per
 * poll; flow control is the credit the consumer grants, in bytes. Per partition the consumer
 * keeps `creditTarget` = min(2 x batchBytesMax, the broker's creditBytesMax) covered by credit
 * granted plus bytes waiting in its queue: it grants more only as the application consumes, in
 * steps of at least half the target (so one Credit request per half target, not per push). That
 * bounds the consumer's memory to partitions x creditTarget, and since at least batchBytesMax of
 * credit is outstanding whenever the application has caught up, the broker can always push the
 * next batch (docs/protocol.md, Subscribe).
 *
 * Positions, per partition: `delivered` is the next offset to hand out (a pushed batch may start
 * below it; those records are skipped); `consumed` is the next offset whose predecessors the
 * application has finished with: a record counts as consumed when the application asks for
 * another (the same iterator's next(), or a new iterator), or calls markConsumed(). commit() and
 * auto-commit commit `consumed`, so a crash re-delivers at most the record being processed and
 * what followed it (at least once).
 *
 * The queue of pushed bytes is kept until fully read, so leaving a `for await` loop early and
 * starting another loses nothing.
 *
 * Cluster: each partition is subscribed at its leader (src/client/cluster.ts routes it), over one
 * connection per broker. When a leader's connection is lost, or a push ends a subscription with a
 * retriable error (NOT_LEADER_OR_FOLLOWER after a leader change, say), the partition's route is
 * marked stale and the partition is subscribed again — at whichever broker refreshed metadata
 * names as leader — from `fetchOffset`, the offset after the last byte received. Everything
 * below that is delivered or waiting in the queue, so nothing is skipped, and nothing already
 * delivered is delivered again (records below `delivered` are dropped). At most
 * `reconnectAttemptsMax` attempts in a row, with backoff; then the iterator throws the typed
 * error. Committed offsets go to the group's coordinator.
 */

export type { FallbackPosition, StartPosition } from './start-positions.js';

export interface ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Ms since the epoch. */
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
}

/** Records of one partition, in offset order, as batches() hands them out. */
export interface ConsumerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumerRecord[];
}

export interface PartitionAssignment extends TopicPartition {
  /** Default: the consumer's `from`. */
  readonly from?: StartPosition;
}

export interface ConsumerOptions extends ClientOptions {
  /** The group whose offsets commit() stores and 'committed' reads. */
  readonly groupId?: string;
  /** Default start position: 'committed' with a groupId, else fallbackPosition (or 'latest'). */
  readonly from?: StartPosition;
  /** Default 'latest', as Kafka's auto.offset.reset. */
  readonly fallbackPosition?: FallbackPosition;
  /** Commit consumed positions every autoCommitIntervalMs and on close; default true with a groupId. */
  readonly autoCommit?: boolean;
  readonly batchBytesMax?: number;
  readonly autoCommitIntervalMs?: number;
  readonly reconnectAttemptsMax?: number;
}

/** Per-partition progress, as lag() reports it. */
export interface PartitionProgress extends TopicPartition {
  /** The next offset the iterator will hand out. */
  readonly position: number;
  /** The broker's high watermark as last heard (subscribe or push). */
  readonly highWatermark: number;
}

/** One assigned partition. All of it is in-memory, derived from the log and the consumer's progress. */
interface PartitionStream extends TopicPartition {
  delivered: number;
  consumed: number;
  committed: number | null;
  /** The offset the next push starts from (one past the last byte received). */
  fetchOffset: number;
  highWatermark: number;
  subscriptionId: number | null;
  /** The leader's connection the subscription lives on (null while there is none). */
  connection: Connection | null;
  /** A resubscription is under way. */
  recovering: boolean;
  /** Credit granted and not yet spent by pushes received (bytes). */
  creditOutstanding: number;
  /** Bytes of this partition's pushes in the queue. */
  queuedBytes: number;
  /** Subscription attempts that failed in a row. */
  failures: number;
}

interface QueueItem {
  readonly stream: PartitionStream;
  readonly records: Uint8Array;
}

export class Consumer implements AsyncIterable<ConsumerRecord> {
  private readonly settings: SettingValues<typeof CONSUMER_SETTINGS>;
  private readonly logger: ClientLogger;
  private readonly cluster: Cluster;
  private readonly groupId: string | null;
  private readonly fallback: FallbackPosition;
  private readonly defaultFrom: StartPosition;
  private readonly streams = new Map<string, PartitionStream>();
  private readonly queue = new Fifo<QueueItem>();
  /** Connections whose loss is being watched. */
  private readonly watched = new WeakSet<Connection>();
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private iterating = false;
  private closing = false;
  private readonly commits: ConsumerCommits;

  constructor(options: ConsumerOptions) {
    this.cluster = new Cluster(options, 'consumer');
    this.settings = resolveSettings(CONSUMER_SETTINGS, options, 'consumer');
    this.logger = options.logger ?? silentLogger;
    if (options.groupId !== undefined) checkGroupId(options.groupId);
    this.groupId = options.groupId ?? null;
    this.fallback = options.fallbackPosition ?? 'latest';
    if (!['earliest', 'latest', 'error'].includes(this.fallback)) {
      throw new SluiceClientError('invalid-argument', `fallbackPosition ${String(this.fallback)} must be 'earliest', 'latest' or 'error'`);
    }
    this.defaultFrom = options.from ?? (this.groupId !== null ? 'committed' : this.fallback === 'earliest' ? 'earliest' : 'latest');
    this.commits = new ConsumerCommits({
      cluster: this.cluster, groupId: this.groupId, autoCommit: options.autoCommit ?? this.groupId !== null,
      autoCommitIntervalMs: this.settings.autoCommitIntervalMs, logger: this.logger,
      positions: () => this.streams.values(),
      positionOf: (topic, partition) => this.streams.get(partitionKey(topic, partition)),
    });
  }

  /** False once a broker answered OffsetFetch or OffsetCommit as not served. */
  get committedOffsetsAvailable(): boolean {
    return this.commits.served;
  }

  /** Assigns partitions, each from its start position, and subscribes to them. */
  async assign(assignments: readonly PartitionAssignment[]): Promise<void> {
    if (this.closing) throw new SluiceClientError('client-closed', 'the consumer is closed');
    for (const { topic, partition } of assignments) {
      checkWireString(topic, 'topic');
      if (!Number.isInteger(partition) || partition < 0) throw new SluiceClientError('invalid-argument', `partition ${partition} of ${topic}`);
      if (this.streams.has(partitionKey(topic, partition))) throw new SluiceClientError('invalid-argument', `${topic}/${partition} is already assigned`);
    }
    const starts = await resolveStartOffsets({
      cluster: this.cluster, groupId: this.groupId, fallback: this.fallback, logger: this.logger,
      committedOffsetsNotServed: () => this.commits.markNotServed(),
    }, assignments.map((entry) => ({ ...entry, from: entry.from ?? this.defaultFrom })));
    const streams = assignments.map(({ topic, partition }, index) => this.newStream(topic, partition, starts[index]!));
    await Promise.all(streams.map((stream) => this.cluster.retrying([stream.topic], () => this.subscribeAtLeader(stream))));
    this.commits.arm();
  }

  /** Assigns every partition of `topics` (as the broker lists them now). No group rebalancing. */
  async subscribe(topics: readonly string[], from: StartPosition = this.defaultFrom): Promise<void> {
    topics.forEach((topic) => checkWireString(topic, 'topic'));
    if (this.closing) throw new SluiceClientError('client-closed', 'the consumer is closed');
    await this.cluster.retrying([...topics], () => this.cluster.refresh(topics), { retryWhen: (error) => isSluiceClientError(error) });
    const assignments: PartitionAssignment[] = [];
    for (const topic of topics) {
      const count = this.cluster.metadata.partitionCountOf(topic);
      if (count === null) throw errorFromCode(this.cluster.metadata.topicErrorOf(topic) ?? -1, `topic ${topic}`);
      for (let partition = 0; partition < count; partition++) assignments.push({ topic, partition, from });
    }
    await this.assign(assignments);
  }

  /** The records of every assigned partition, in offset order per partition. */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    return this.records();
  }

  /**
   * The records, as an async generator. It ends when the consumer is closed or `signal` aborts,
   * and throws when a partition fails for good. One iterator at a time (records() or batches()).
   */
  async *records(options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<ConsumerRecord, void, undefined> {
    const signal = options.signal;
    for await (const { stream, records } of this.deliveries(signal)) {
      for (const record of records) {
        if (signal?.aborted === true || this.closing) return;
        stream.delivered = record.offset + 1;
        yield record;
        stream.consumed = record.offset + 1;
      }
    }
  }

  /**
   * The records a pushed chunk at a time (one or more RecordBatches of one partition, in order):
   * one await per chunk rather than per record, for applications that process in bulk. The
   * records of a chunk count as consumed when the next chunk is asked for. Same ending and
   * errors as records(); one iterator at a time.
   */
  async *batches(options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<ConsumerBatch, void, undefined> {
    for await (const { stream, records } of this.deliveries(options.signal)) {
      stream.delivered = records[records.length - 1]!.offset + 1;
      yield { topic: stream.topic, partition: stream.partition, records };
      stream.consumed = Math.max(stream.consumed, stream.delivered);
    }
  }

  // Each queued push, decoded: its records from the partition's delivered position on. A chunk
  // is released (and credit granted again) when the caller comes back for the next one.
  private async *deliveries(signal: AbortSignal | undefined): AsyncGenerator<{ readonly stream: PartitionStream; readonly records: readonly ConsumerRecord[] }, void, undefined> {
    if (this.iterating) throw new SluiceClientError('invalid-argument', 'the consumer is already being iterated');
    this.iterating = true;
    // Asking for records again means the application is done with those it was given.
    for (const stream of this.streams.values()) stream.consumed = Math.max(stream.consumed, stream.delivered);
    const onAbort = (): void => this.notify();
    signal?.addEventListener('abort', onAbort);
    try {
      // Ends on close or abort; between items it waits for a push (each wait ends on an event).
      for (;;) {
        const item = await this.nextItem(signal);
        if (item === null) return;
        const stream = item.stream;
        const records: ConsumerRecord[] = [];
        if (this.isAssigned(stream)) {
          const { topic, partition } = stream;
          const make = (offset: number, timestamp: number, key: Uint8Array | null, value: Uint8Array | null, headers: readonly RecordHeader[]): ConsumerRecord =>
            ({ topic, partition, offset, timestamp, key, value, headers });
          for (const batch of verifiedBatches(item.records, Number.MAX_SAFE_INTEGER)) {
            for (const record of decodeRecordsAs(batch, make)) if (record.offset >= stream.delivered) records.push(record);
          }
        }
        // The caller moves `delivered` as it hands records out: one that stops inside a chunk
        // gets the rest of it from the next iterator, since the chunk stays queued until then.
        if (records.length > 0) yield { stream, records };
        this.itemDone(item);
        if (signal?.aborted === true || this.closing) return;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.iterating = false;
    }
  }

  /**
   * Marks `record` (and everything before it in its partition) as processed, so that commit()
   * includes it. Without this, a record counts as processed when the iterator is asked for the
   * next one; call it before leaving a `for await` loop whose last record should be committed.
   */
  markConsumed(record: Pick<ConsumerRecord, 'topic' | 'partition' | 'offset'>): void {
    const stream = this.streams.get(partitionKey(record.topic, record.partition));
    if (stream === undefined) throw new SluiceClientError('invalid-argument', `${record.topic}/${record.partition} is not assigned`);
    if (record.offset >= stream.delivered) throw new SluiceClientError('invalid-argument', `offset ${record.offset} of ${record.topic}/${record.partition} was not delivered yet`);
    stream.consumed = Math.max(stream.consumed, record.offset + 1);
  }

  /** Per partition: the next offset to be handed out and the high watermark last heard. */
  progress(): PartitionProgress[] {
    return [...this.streams.values()].map((stream) => ({
      topic: stream.topic, partition: stream.partition, position: stream.delivered, highWatermark: stream.highWatermark,
    }));
  }

  /**
   * Commits offsets for the group: by default the consumed position of every assigned partition.
   * Throws not-served (a SluiceClientError) when the broker does not serve OffsetCommit.
   */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    await this.commits.commit(offsets);
  }

  /** Stops reading: commits consumed positions (with autoCommit), ends the iterator, closes the connection. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.commits.close([...this.streams.values()].some((stream) => stream.connection?.isOpen === true));
    this.cluster.close();
    this.notify();
  }

  // ---- subscriptions and credit ----

  private newStream(topic: string, partition: number, start: number): PartitionStream {
    const stream: PartitionStream = {
      topic, partition, delivered: start, consumed: start, committed: null, fetchOffset: start, highWatermark: start,
      subscriptionId: null, connection: null, recovering: false, creditOutstanding: 0, queuedBytes: 0, failures: 0,
    };
    this.streams.set(partitionKey(topic, partition), stream);
    return stream;
  }

  private creditTarget(connection: Connection): number {
    return Math.min(2 * this.settings.batchBytesMax, connection.limits.creditBytesMax);
  }

  // Subscribes at the partition's leader from the stream's fetch offset. OFFSET_OUT_OF_RANGE
  // moves it to the fallback position once and tries again; other errors throw (routing errors
  // and lost connections are retried by the caller).
  private async subscribeAtLeader(stream: PartitionStream): Promise<void> {
    if (this.closing) throw new SluiceClientError('client-closed', 'the consumer is closed');
    const connection = await this.cluster.leaderConnection(stream.topic, stream.partition);
    this.watch(connection);
    for (let attempt = 0; attempt < 2; attempt++) {
      const creditBytes = Math.max(0, this.creditTarget(connection) - stream.queuedBytes);
      const response = await connection.request(ApiKey.Subscribe, { topic: stream.topic, partition: stream.partition, offset: stream.fetchOffset, creditBytes }, {
        onResponse: (answer) => {
          if (answer.headerOnly || answer.errorCode !== 0) return;
          const subscriptionId = answer.subscriptionId;
          connection.setPushHandler(subscriptionId, (push) => this.pushed(connection, subscriptionId, stream, push));
          stream.subscriptionId = subscriptionId;
          stream.connection = connection;
          stream.creditOutstanding = creditBytes;
          stream.highWatermark = answer.highWatermark;
        },
      });
      if (response.errorCode === 0) return;
      const error = errorFromCode(response.errorCode, `${response.errorMessage ?? ''} (subscribe to ${stream.topic}/${stream.partition} at ${stream.fetchOffset})`);
      if (error.errorName !== 'OFFSET_OUT_OF_RANGE' || attempt > 0) throw error;
      await this.resetToFallback(stream, error.message);
    }
  }

  private async resetToFallback(stream: PartitionStream, why: string): Promise<void> {
    const spec = fallbackSpec(this.fallback, stream, why);
    const [listed] = await listOffsetsRouted(this.cluster, [{ topic: stream.topic, partition: stream.partition, spec }]);
    const offset = listed!.offset ?? stream.fetchOffset;
    this.logger.warn({ topic: stream.topic, partition: stream.partition, from: stream.fetchOffset, to: offset }, 'position out of range: reset to the fallback position');
    stream.fetchOffset = stream.delivered = stream.consumed = offset;
  }

  private pushed(connection: Connection, subscriptionId: number, stream: PartitionStream, push: SubscribePush): void {
    // A push of a subscription this stream has left (it moved to another leader) is not wanted.
    if (stream.connection !== connection || stream.subscriptionId !== subscriptionId) return;
    if (push.errorCode !== 0) {
      connection.removePushHandler(subscriptionId);
      this.unsubscribed(stream);
      void this.subscriptionEnded(stream, errorFromCode(push.errorCode, `push for ${stream.topic}/${stream.partition}`));
      return;
    }
    stream.creditOutstanding -= push.records.length;
    stream.fetchOffset = push.nextOffset;
    stream.highWatermark = push.highWatermark;
    stream.failures = 0;
    if (push.records.length === 0) return;
    stream.queuedBytes += push.records.length;
    this.queue.push({ stream, records: push.records });
    this.notify();
  }

  private unsubscribed(stream: PartitionStream): void {
    stream.subscriptionId = null;
    stream.connection = null;
    stream.creditOutstanding = 0;
  }

  // The broker ended a subscription with an error: reset (out of range), subscribe again at the
  // leader (retriable: a leader change, say; bounded), or fail the iterator.
  private async subscriptionEnded(stream: PartitionStream, error: SluiceError): Promise<void> {
    stream.failures += 1;
    const action = retryActionFor(error);
    if (stream.failures > this.settings.reconnectAttemptsMax || (action === 'fail' && error.errorName !== 'OFFSET_OUT_OF_RANGE')) {
      this.fail(error);
      return;
    }
    if (action === 'refresh-metadata') this.cluster.routeFailed(stream.topic, error);
    if (error.errorName === 'OFFSET_OUT_OF_RANGE') {
      try {
        await this.resetToFallback(stream, error.message);
      } catch (failure) {
        this.fail(failure as Error);
        return;
      }
    }
    await this.resubscribe(stream, error, stream.failures);
  }

  // A lost connection ends every subscription on it: each of its partitions is subscribed again
  // at its leader, found by a metadata refresh.
  private watch(connection: Connection): void {
    if (this.watched.has(connection)) return;
    this.watched.add(connection);
    connection.onClose((error) => {
      const orphans = [...this.streams.values()].filter((stream) => stream.connection === connection);
      orphans.forEach((stream) => this.unsubscribed(stream));
      if (this.closing || error.reason === 'client-closed' || orphans.length === 0) return;
      this.cluster.metadata.markBrokerStale(connection.limits.brokerId);
      this.logger.warn({ url: connection.url, brokerId: connection.limits.brokerId, reason: error.message }, 'consumer connection lost: reconnecting');
      for (const stream of orphans) void this.resubscribe(stream, error, 1);
    });
  }

  // Bounded: at most reconnectAttemptsMax attempts from `firstAttempt` on, with backoff before
  // each; then the iterator fails with the last error.
  private async resubscribe(stream: PartitionStream, cause: Error, firstAttempt: number): Promise<void> {
    if (stream.recovering) return;
    stream.recovering = true;
    let lastError: Error = cause;
    try {
      for (let attempt = firstAttempt; attempt <= this.settings.reconnectAttemptsMax; attempt++) {
        await sleep(this.cluster.backoffMs(attempt));
        if (this.closing || !this.isAssigned(stream)) return;
        try {
          await this.subscribeAtLeader(stream);
          return;
        } catch (error) {
          lastError = error as Error;
          const action = retryActionFor(error);
          if (action === 'fail') break;
          if (action === 'refresh-metadata') this.cluster.routeFailed(stream.topic, lastError);
        }
      }
      this.fail(lastError);
    } finally {
      stream.recovering = false;
    }
  }

  private itemDone(item: QueueItem): void {
    if (this.queue.peek() === item) this.queue.shift();
    const stream = item.stream;
    stream.queuedBytes -= item.records.length;
    const connection = stream.connection;
    if (connection === null || !connection.isOpen || stream.subscriptionId === null) return;
    const target = this.creditTarget(connection);
    const deficit = target - stream.creditOutstanding - stream.queuedBytes;
    if (deficit < target / 2) return;
    stream.creditOutstanding += deficit;
    const subscriptionId = stream.subscriptionId;
    connection.request(ApiKey.Credit, { subscriptionId, creditBytes: deficit }).then((response) => {
      // INVALID_REQUEST: the subscription just ended; its error push says why.
      if (response.errorCode !== 0) this.logger.debug({ subscriptionId, errorCode: response.errorCode }, 'credit refused');
    }, () => { /* the connection closed: its partitions are subscribed again */ });
  }

  private isAssigned(stream: PartitionStream): boolean {
    return this.streams.get(partitionKey(stream.topic, stream.partition)) === stream;
  }

  // ---- iterator plumbing ----

  private async nextItem(signal: AbortSignal | undefined): Promise<QueueItem | null> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.closing || signal?.aborted === true) return null;
      const head = this.queue.peek();
      if (head !== undefined) return head;
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private fail(error: Error): void {
    if (this.failure !== null || this.closing) return;
    this.logger.error({ err: error }, 'consumer failed');
    this.failure = error;
    this.notify();
  }
}
