import { SluiceError } from '../errors/sluice-error.js';
import { ApiKey, type ProduceRequest, type ProduceResponse, type OrHeaderOnly } from '../protocol/index.js';
import { PRODUCER_SETTINGS, resolveSettings, type SettingValues } from './client-config.js';
import { groupByLeader } from './cluster-metadata.js';
import { Cluster, type ClientOptions } from './cluster.js';
import type { Connection } from './connection.js';
import { SluiceClientError, errorFromCode } from './errors.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { DefaultPartitioner } from './partitioner.js';
import { ProducerIdentity } from './producer-identity.js';
import {
  IN_FLIGHT_BATCHES_PER_PARTITION_MAX, isSendable, planAfterFailure, planRequests, produceTopicsOf, type PartitionQueue, type PlannedPartition, type ProducerBatch,
} from './produce-plan.js';
import { RecordAccumulator, partitionKey, type SealedBatch } from './record-accumulator.js';
import type { BytesInput, HeadersInput } from './record-input.js';
import { retryActionFor } from './retry-policy.js';
import { SendAdmission, type AdmissionEntry } from './send-admission.js';

/**
 * The producer: send() takes a record and resolves with its partition and offset once the
 * broker has acknowledged it (acks 1 or all: durable on the leader, or on every in-sync replica).
 *
 * Path of a record: send() → admission queue (send-admission.ts; FIFO: waits for the topic's
 * partition count and for room in `bufferBytesMax`, which is the backpressure) → partitioner →
 * accumulator (one open batch per partition; sealed by `batchBytes`, `lingerMs` or flush) →
 * partition queue → Produce request to the partition's leader (one outstanding per partition,
 * several partitions of one leader per request) → response → each record's promise. Retriable
 * errors and lost connections put batches back at the head of their partition with exponential
 * backoff, at most `retries` times; then their records fail with the last typed error.
 *
 * Cluster: the partition count and leaders come from Metadata (any broker; src/client/cluster.ts).
 * A batch whose partition has no usable leader waits for a metadata refresh (single-flight); a
 * leader error (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, the leader-epoch errors) or a lost
 * connection marks the topic's routes stale, so the retry, after its backoff, goes wherever the
 * refreshed metadata says the leader now is. A refresh or connect that fails counts as a failed
 * attempt of the batches waiting for it, so a cluster that stays away fails sends in bounded time.
 *
 * Idempotence (default on, needs acks 1 or all): the producer asks InitProducerId for an id and
 * stamps producerId, epoch and a per-partition baseSequence into each batch when it is first
 * sent; a retry resends the same bytes, so the broker answers a duplicate with its original
 * offset instead of writing it twice. Across a failover the retry goes to the new leader with the
 * same producer id, epoch and sequence (the new leader has the producer's state from the
 * replicated log), so a batch the old leader had replicated is answered as a duplicate and one it
 * had not is written once. A batch is restamped only after OUT_OF_ORDER_SEQUENCE_NUMBER or
 * UNKNOWN_PRODUCER_ID, which the leader answers without writing it. If the broker does not serve InitProducerId (a header-only
 * INVALID_REQUEST), the producer runs without it, says so in `idempotenceActive` and
 * `idempotenceFallbackReason`, and logs a warning. When a stamped batch fails for good, or the
 * broker reports a sequence gap or an unknown producer (nothing was written), the producer takes
 * a fresh id and the unsent batches start new sequences under it.
 *
 * acks 0: the broker answers nothing, so send() resolves with offset null once the request is
 * written, and nothing is retried. The broker still counts such a request as in flight until it
 * is durable; to stay inside its limit the producer sends every
 * ACKLESS_REQUESTS_PER_FENCE-th request with acks 1 and waits for it (src/client/connection.ts).
 */

export type Acks = 0 | 1 | -1 | 'all';

export interface ProducerRecord {
  readonly topic: string;
  readonly key?: BytesInput | null;
  readonly value: BytesInput | null;
  readonly headers?: HeadersInput;
  /** An explicit partition; otherwise the key's murmur2 partition, or the sticky one for a null key. */
  readonly partition?: number;
  /** Ms since the epoch; default now. */
  readonly timestamp?: number;
}

/** Where an acknowledged record went. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset; null only with acks 0 (the broker says nothing). */
  readonly offset: number | null;
}

export interface ProducerOptions extends ClientOptions {
  /** 1: the leader has it durably; 'all' / -1: every in-sync replica has (the default); 0: fire and forget. */
  readonly acks?: Acks;
  /** Default true; needs acks 1 or all. */
  readonly idempotent?: boolean;
  readonly lingerMs?: number;
  readonly batchBytes?: number;
  readonly bufferBytesMax?: number;
  readonly bufferWaitMsMax?: number;
  readonly sendQueueLengthMax?: number;
  readonly produceTimeoutMs?: number;
}

/**
 * How much longer the client waits for a Produce response than the broker may take to make it
 * durable (`produceTimeoutMs`), so that the broker's REQUEST_TIMED_OUT, which says more, comes
 * first.
 */
export const PRODUCE_RESPONSE_MARGIN_MS = 5_000;

/** With acks 0, every this-many requests one goes with acks 1 as a fence (see the comment above). */
export const ACKLESS_REQUESTS_PER_FENCE = 8;

/** The handle of one send(): how to answer it, and its place for flush(). */
interface SendTicket {
  /** Order of the send() call, for flush(). */
  readonly number: number;
  readonly topic: string;
  readonly resolve: (metadata: RecordMetadata) => void;
  readonly reject: (error: Error) => void;
  /** Bytes it holds of bufferBytesMax once admitted (0 before). */
  heldBytes: number;
  settled: boolean;
}

type Batch = ProducerBatch<SendTicket>;

export class Producer {
  private readonly settings: SettingValues<typeof PRODUCER_SETTINGS>;
  private readonly acks: 0 | 1 | -1;
  private readonly logger: ClientLogger;
  private readonly nowMs: () => number;
  private readonly random: () => number;
  private readonly partitioner: DefaultPartitioner;
  private readonly accumulator: RecordAccumulator<SendTicket>;
  private readonly queues = new Map<string, PartitionQueue<SendTicket>>();
  private readonly cluster: Cluster;
  private readonly admission: SendAdmission<SendTicket>;
  private readonly flushWaiters: Array<{ readonly lastNumber: number; remaining: number; readonly resolve: () => void }> = [];
  /** Brokers a connection is being opened to (their batches wait). */
  private readonly connectingTo = new Set<number>();
  /** Connections whose loss is being watched (marks their partitions' routes stale). */
  private readonly watched = new WeakSet<Connection>();
  /** A metadata refresh for leaderless partitions is under way. */
  private refreshingRoutes = false;
  private readonly identity: ProducerIdentity;
  private bufferedBytes = 0;
  private unsettledCount = 0;
  private acklessSinceFence = 0;
  private sendCount = 0;
  /** Batches sealed so far: each batch's `order`. */
  private sealCount = 0;
  /** Sends numbered up to this were made before a flush(): their batches do not linger. */
  private flushThrough = 0;
  private drainQueued = false;
  /** A drain is waiting for a producer id; others need not wait too. */
  private drainBlocked = false;
  /** Cancels the armed linger wake-up (a timer, or an immediate for a linger already over). */
  private lingerTimer: (() => void) | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private wakeTimerAtMs = Number.POSITIVE_INFINITY;
  private closing = false;

  constructor(options: ProducerOptions) {
    this.cluster = new Cluster(options, 'producer');
    this.settings = resolveSettings(PRODUCER_SETTINGS, options, 'producer');
    this.acks = acksOf(options.acks ?? 'all');
    this.logger = options.logger ?? silentLogger;
    this.nowMs = options.nowMs ?? Date.now;
    this.random = options.random ?? Math.random;
    this.partitioner = new DefaultPartitioner(this.random);
    this.accumulator = new RecordAccumulator(this.settings.batchBytes, this.settings.lingerMs);
    const idempotent = options.idempotent ?? true;
    this.identity = new ProducerIdentity(idempotent, this.acks, this.cluster, this.logger);
    this.admission = new SendAdmission<SendTicket>({
      cluster: this.cluster, limits: this.settings, nowMs: this.nowMs,
      bufferedBytes: () => this.bufferedBytes,
      closing: () => this.closing,
      flushThrough: () => this.flushThrough,
      admit: (entry, partitionCount, nowMs) => this.admit(entry, partitionCount, nowMs),
      sealAll: () => this.sealed(this.accumulator.sealAll()),
      fail: (ticket, error) => this.settle(ticket, error),
    });
  }

  /** True once the broker granted a producer id and batches carry sequences. */
  get idempotenceActive(): boolean {
    return this.identity.active;
  }

  /** Why idempotence is off although it was asked for (null when it is on, or was not asked for). */
  get idempotenceFallbackReason(): string | null {
    return this.identity.fallbackReason;
  }

  /** The producer id the broker granted, or null. */
  get producerId(): bigint | null {
    return this.identity.producerId;
  }

  /** Bytes of records accepted and not yet acknowledged (at most bufferBytesMax, plus one record). */
  get bufferedBytesCount(): number {
    return this.bufferedBytes;
  }

  /** Connects and settles idempotence now, instead of at the first send. */
  async connect(): Promise<void> {
    await this.cluster.anyConnection();
    await this.identity.ensure();
  }

  /** Sends one record; resolves with its partition and offset once acknowledged (see acks). */
  send(input: ProducerRecord): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) => {
      if (this.closing) throw new SluiceClientError('client-closed', 'the producer is closed');
      const ticket: SendTicket = { number: this.sendCount + 1, topic: input.topic, resolve, reject, heldBytes: 0, settled: false };
      const now = this.nowMs();
      const entry = this.admission.entryOf(input, ticket, now);
      this.admission.refuseIfFull();
      this.sendCount += 1;
      this.unsettledCount += 1;
      this.admission.offer(entry, now);
    });
  }

  /** Sends everything accepted so far now (ignoring lingerMs) and waits until each record is acknowledged or failed. */
  flush(): Promise<void> {
    const done = new Promise<void>((resolve) => {
      if (this.unsettledCount === 0) return resolve();
      // Every unsettled send is one made before now, and each one made before now settles once.
      this.flushWaiters.push({ lastNumber: this.sendCount, remaining: this.unsettledCount, resolve });
    });
    this.flushThrough = this.sendCount;
    this.sealed(this.accumulator.sealAll());
    return done;
  }

  /**
   * Flushes (waiting at most `timeoutMs`), then fails whatever is left with client-closed and
   * closes the connection. Later sends fail at once.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.closing && this.cluster.closed) return;
    this.closing = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    await Promise.race([this.flush(), timeout]);
    if (timer !== null) clearTimeout(timer);
    this.abandonAll(new SluiceClientError('client-closed', 'the producer was closed before this record was acknowledged'));
    this.lingerTimer?.();
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.admission.close();
    this.lingerTimer = this.wakeTimer = null;
    this.wakeTimerAtMs = Number.POSITIVE_INFINITY;
    // Connections still being opened are closed as soon as they are.
    this.cluster.close();
  }

  // ---- admission (send-admission.ts) places each send into its partition's open batch ----

  private admit(entry: AdmissionEntry<SendTicket>, partitionCount: number, nowMs: number): void {
    const ticket = entry.ticket;
    if (entry.partition !== undefined && entry.partition >= partitionCount) {
      return this.settle(ticket, new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `${entry.topic} has ${partitionCount} partitions, not partition ${entry.partition}`));
    }
    const partition = entry.partition ?? this.partitioner.partition(entry.topic, entry.keyBytes, partitionCount);
    const sealed = this.accumulator.append(entry.topic, partition, entry, ticket, nowMs);
    ticket.heldBytes = this.accumulator.lastAppendBytes;
    this.bufferedBytes += ticket.heldBytes;
    if (sealed.length > 0) this.sealed(sealed);
    this.armLingerTimer();
  }

  // ---- batches: sealing, linger ----

  private sealed(batches: readonly SealedBatch<SendTicket>[]): void {
    for (const sealed of batches) {
      const partitionCount = this.cluster.metadata.partitionCountOf(sealed.topic) ?? 1;
      this.partitioner.onBatchSealed(sealed.topic, sealed.partition, partitionCount);
      this.queueOf(sealed.topic, sealed.partition).ready.push({
        topic: sealed.topic, partition: sealed.partition, tickets: sealed.tickets, builder: sealed.builder, sizeBytes: sealed.sizeBytes,
        order: this.sealCount++, bytes: null, sequence: null, attempts: 0, notBeforeMs: 0,
      });
    }
    if (batches.length > 0) this.scheduleDrain();
  }

  private queueOf(topic: string, partition: number): PartitionQueue<SendTicket> {
    const key = partitionKey(topic, partition);
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = { topic, partition, ready: [], inFlight: new Set() };
      this.queues.set(key, queue);
    }
    return queue;
  }

  // A partition whose batches cannot go now (its pipeline is full, or batches already wait) keeps
  // its open batch open past the linger, so that records arriving meanwhile join it, as Kafka's
  // accumulator keeps appending to a batch until the sender drains it. Sealing at every linger
  // instead queued batches of a record or two behind the in-flight cap: at a steady rate above
  // cap / round trip (5,000 records/s at acks=all, RF 3) the queue and the latency grew without
  // bound. The next drain after room frees up seals what was held.
  private readonly mayGo = (topic: string, partition: number): boolean => {
    const queue = this.queues.get(partitionKey(topic, partition));
    if (queue === undefined) return true;
    return queue.ready.length === 0 && queue.inFlight.size < (this.pipelined ? IN_FLIGHT_BATCHES_PER_PARTITION_MAX : 1);
  };

  // Seals the open batches whose linger is over and whose partitions may send, then re-arms.
  private sealLingered(): void {
    this.sealed(this.accumulator.sealExpired(this.nowMs(), this.mayGo));
    this.armLingerTimer();
  }

  // A timer already armed is for the oldest open batch (batches open in time order), so only an
  // unarmed timer needs the scan; if that batch was sealed by size meanwhile, the timer finds
  // nothing expired and arms for the next.
  private armLingerTimer(): void {
    if (this.lingerTimer !== null) return;
    const endsAtMs = this.accumulator.nextLingerEndMs(this.mayGo);
    if (endsAtMs === null) return;
    const fire = (): void => {
      this.lingerTimer = null;
      this.sealLingered();
    };
    // Node clamps setTimeout to at least 1 ms: a linger that is already over (lingerMs 0) goes on
    // the next turn of the event loop instead, or every batch would wait a millisecond.
    const delayMs = endsAtMs - this.nowMs();
    if (delayMs <= 0) {
      const immediate = setImmediate(fire);
      this.lingerTimer = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(fire, delayMs);
      this.lingerTimer = () => clearTimeout(timer);
    }
  }

  // ---- sending ----

  private scheduleDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    queueMicrotask(() => {
      this.drainQueued = false;
      this.drain();
    });
  }

  // Sends what may go now: each partition's batches to its leader, over that broker's connection.
  // Partitions without a usable leader wait for a metadata refresh; those whose leader has no
  // open connection wait for it to open.
  private drain(): void {
    // Every change that can free a partition (an answer, a failure, a connection) ends in a drain.
    this.sealLingered();
    if (this.drainBlocked || !this.hasSendable()) return;
    if (this.identity.pending) return this.drainAfter(this.identity.ensure());
    const now = this.nowMs();
    const pipelined = this.pipelined;
    const sendable = [...this.queues.values()].filter((queue) => isSendable(queue, now, pipelined));
    const metadata = this.cluster.metadata;
    const { byLeader, leaderless } = groupByLeader(sendable, (queue) => metadata.leaderOf(queue.topic, queue.partition));
    if (leaderless.length > 0) this.refreshRoutes(leaderless);
    for (const [brokerId, queues] of byLeader) {
      const connection = this.cluster.pool.openConnectionTo(brokerId);
      if (connection === null) {
        this.connectTo(brokerId, queues);
        continue;
      }
      this.watch(connection);
      for (const planned of planRequests(queues, now, connection.limits.maxFrameBytes, pipelined)) this.sendRequest(connection, planned);
    }
    const aged = metadata.topicsDueForRefresh(new Set(sendable.map((queue) => queue.topic)), now, this.cluster.settings.metadataMaxAgeMs);
    if (aged.length > 0) void this.cluster.ensureTopics(aged).catch(() => { /* the next error refreshes again */ });
    // The same `now` that judged the batches: a backoff that ends while this drain runs must
    // still get its wake-up (judged with a later clock it looked due, and nothing sent it).
    this.armWakeTimer(now);
  }

  // One drain waits for the producer id; when that fails, the waiting batches count one failed
  // attempt each.
  private drainAfter(ready: Promise<unknown>): void {
    this.drainBlocked = true;
    ready.then(() => {
      this.drainBlocked = false;
      this.scheduleDrain();
    }, (error: unknown) => {
      this.drainBlocked = false;
      this.sendFailedBeforeRequest(this.queues.values(), asError(error));
    });
  }

  // Single-flight: one refresh for every leaderless partition. Those still without a leader after
  // it (or all of them, when it fails) count one failed attempt, and retry after their backoff.
  private refreshRoutes(queues: readonly PartitionQueue<SendTicket>[]): void {
    if (this.refreshingRoutes) return;
    this.refreshingRoutes = true;
    const metadata = this.cluster.metadata;
    this.cluster.refresh([...new Set(queues.map((queue) => queue.topic))]).then(() => {
      for (const queue of queues) {
        if (metadata.leaderOf(queue.topic, queue.partition) !== null) continue;
        const topicError = metadata.topicErrorOf(queue.topic) ?? 0;
        const error = topicError !== 0 ? errorFromCode(topicError, `topic ${queue.topic}`) : new SluiceError('LEADER_NOT_AVAILABLE', `${queue.topic}/${queue.partition}`);
        this.sendFailedBeforeRequest([queue], error);
      }
    }, (error: unknown) => this.sendFailedBeforeRequest(queues, asError(error))).finally(() => {
      this.refreshingRoutes = false;
      this.scheduleDrain();
    });
  }

  // Opens the connection to a leader (single-flight per broker); when that fails, the partitions
  // waiting for it count one failed attempt and their routes are refreshed before the retry.
  private connectTo(brokerId: number, queues: readonly PartitionQueue<SendTicket>[]): void {
    if (this.connectingTo.has(brokerId)) return;
    this.connectingTo.add(brokerId);
    this.cluster.pool.connectionTo(brokerId).then(() => {}, (error: unknown) => {
      this.cluster.metadata.markBrokerStale(brokerId);
      this.sendFailedBeforeRequest(queues, asError(error));
    }).finally(() => {
      this.connectingTo.delete(brokerId);
      this.scheduleDrain();
    });
  }

  // A lost connection makes the routes to its broker stale: the retries go where a refresh says.
  private watch(connection: Connection): void {
    if (this.watched.has(connection)) return;
    this.watched.add(connection);
    connection.onClose((error) => {
      this.cluster.metadata.markBrokerStale(connection.limits.brokerId);
      this.logger.info({ url: connection.url, brokerId: connection.limits.brokerId, reason: error.message }, 'producer connection closed');
    });
  }

  private hasSendable(): boolean {
    for (const queue of this.queues.values()) if (queue.ready.length > 0) return true;
    return false;
  }

  // Several requests per partition may be outstanding only where sequence numbers keep them in
  // order (see produce-plan.ts).
  private get pipelined(): boolean {
    return this.identity.active;
  }

  private sendRequest(connection: Connection, planned: PlannedPartition<SendTicket>[]): void {
    for (const { batches } of planned) for (const batch of batches) this.encode(batch);
    const fence = this.acks === 0 && this.acklessSinceFence >= ACKLESS_REQUESTS_PER_FENCE;
    const request: ProduceRequest = {
      acks: fence ? 1 : this.acks, timeoutMs: this.settings.produceTimeoutMs,
      topics: produceTopicsOf(planned, (batch) => batch.bytes!),
    };
    if (this.acks === 0 && !fence) {
      this.acklessSinceFence += 1;
      connection.sendWithoutResponse(ApiKey.Produce, request).then(
        () => planned.forEach((entry) => this.completed(entry, null)),
        (error: unknown) => planned.forEach((entry) => this.partitionFailed(entry, asError(error))),
      );
      return;
    }
    if (fence) this.acklessSinceFence = 0;
    connection.request(ApiKey.Produce, request, { timeoutMs: this.settings.produceTimeoutMs + PRODUCE_RESPONSE_MARGIN_MS }).then(
      (response) => this.answered(planned, response),
      (error: unknown) => planned.forEach((entry) => this.partitionFailed(entry, asError(error))),
    );
  }

  // Encodes a batch at its first send, stamped with the current producer id and the partition's
  // next sequence. A retry resends the same bytes; only a new identity re-encodes.
  private encode(batch: Batch): void {
    if (batch.bytes !== null) return;
    batch.sequence = this.identity.stamp(partitionKey(batch.topic, batch.partition), batch.tickets.length);
    batch.bytes = batch.builder.build({ producer: batch.sequence });
  }

  private answered(planned: readonly PlannedPartition<SendTicket>[], response: OrHeaderOnly<ProduceResponse>): void {
    for (const entry of planned) {
      if (response.headerOnly) {
        this.partitionFailed(entry, errorFromCode(response.errorCode, response.errorMessage));
        continue;
      }
      const result = response.topics.find((topic) => topic.name === entry.queue.topic)
        ?.partitions.find((partition) => partition.partition === entry.queue.partition);
      if (result === undefined) {
        this.partitionFailed(entry, new SluiceClientError('protocol-violation', `Produce response has no result for ${entry.queue.topic}/${entry.queue.partition}`));
      } else if (result.errorCode !== 0) {
        this.partitionFailed(entry, errorFromCode(result.errorCode, `${entry.queue.topic}/${entry.queue.partition}`));
      } else {
        this.completed(entry, result.baseOffset);
      }
    }
  }

  // The batches of one partition were written from `baseOffset` on, back to back (null: acks 0).
  private completed(entry: PlannedPartition<SendTicket>, baseOffset: number | null): void {
    for (const batch of entry.batches) entry.queue.inFlight.delete(batch);
    // The partition's next batches go out before this one's sends are answered, so the broker
    // writes and fsyncs them while the application handles the answers and produces more.
    this.drain();
    let offset = baseOffset;
    for (const batch of entry.batches) {
      for (const ticket of batch.tickets) {
        this.settle(ticket, { topic: batch.topic, partition: batch.partition, offset });
        if (offset !== null) offset += 1;
      }
    }
  }

  private partitionFailed(entry: PlannedPartition<SendTicket>, error: Error): void {
    const queue = entry.queue;
    for (const batch of entry.batches) queue.inFlight.delete(batch);
    if (retryActionFor(error) === 'refresh-metadata') this.cluster.routeFailed(queue.topic, error);
    const { restamp, retry, fail } = planAfterFailure(queue, entry.batches, error, this.acks, this.cluster.settings.retries);
    const now = this.nowMs();
    for (const batch of retry) {
      if (restamp) this.unstamp(batch);
      batch.notBeforeMs = now + this.backoff(batch.attempts);
    }
    for (const batch of fail) this.failBatch(batch, error);
    if (restamp) this.identity.markStale();
    if (retry.length > 0) {
      // Answers of a partition's pipelined requests may fail in any order; the queue keeps seal order.
      queue.ready.push(...retry);
      queue.ready.sort((a, b) => a.order - b.order);
      this.logger.debug({ topic: queue.topic, partition: queue.partition, err: error }, 'retrying batches');
    }
    this.scheduleDrain();
    this.armWakeTimer();
  }

  // A batch that fails for good leaves a gap in its partition's sequences (if it was stamped);
  // the batches after it go under a new producer id.
  private failBatch(batch: Batch, error: Error): void {
    if (batch.sequence !== null) this.identity.markStale();
    for (const ticket of batch.tickets) this.settle(ticket, error);
  }

  private unstamp(batch: Batch): void {
    batch.bytes = null;
    batch.sequence = null;
  }

  // No request could be made for `queues` (no connection, no leader, no producer id): each batch
  // waiting to be sent counts one failed attempt, so a cluster that stays away fails the sends in
  // bounded time.
  private sendFailedBeforeRequest(queues: Iterable<PartitionQueue<SendTicket>>, error: Error): void {
    const now = this.nowMs();
    for (const queue of queues) {
      if (queue.inFlight.size > 0 || queue.ready.length === 0) continue;
      const head = queue.ready[0]!;
      if (head.notBeforeMs > now) continue;
      const retriable = retryActionFor(error) !== 'fail';
      for (const batch of queue.ready) {
        batch.attempts += 1;
        batch.notBeforeMs = now + this.backoff(batch.attempts);
      }
      const failed = queue.ready.filter((batch) => !retriable || batch.attempts > this.cluster.settings.retries);
      for (const batch of failed) {
        queue.ready.splice(queue.ready.indexOf(batch), 1);
        this.failBatch(batch, error);
      }
    }
    this.logger.warn({ err: error }, 'cannot send to the partition leader');
    // A partition whose waiting batches just failed for good may seal what it held back.
    this.sealLingered();
    this.armWakeTimer();
  }

  // Wakes the sender when the earliest batch in backoff (at `now`) may go.
  private armWakeTimer(now = this.nowMs()): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const queue of this.queues.values()) {
      const head = queue.ready[0];
      if (queue.inFlight.size === 0 && head !== undefined && head.notBeforeMs > now) earliest = Math.min(earliest, head.notBeforeMs);
    }
    if (earliest === Number.POSITIVE_INFINITY || earliest >= this.wakeTimerAtMs) return;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeTimerAtMs = earliest;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeTimerAtMs = Number.POSITIVE_INFINITY;
      this.drain();
      this.armWakeTimer();
    }, Math.max(0, earliest - this.nowMs()));
  }

  // ---- settling ----

  private settle(ticket: SendTicket, outcome: RecordMetadata | Error): void {
    if (ticket.settled) return;
    ticket.settled = true;
    this.bufferedBytes -= ticket.heldBytes;
    ticket.heldBytes = 0;
    this.unsettledCount -= 1;
    if (outcome instanceof Error) ticket.reject(outcome);
    else ticket.resolve(outcome);
    for (let index = this.flushWaiters.length - 1; index >= 0; index--) {
      const waiter = this.flushWaiters[index]!;
      if (ticket.number > waiter.lastNumber) continue;
      waiter.remaining -= 1;
      if (waiter.remaining <= 0) {
        this.flushWaiters.splice(index, 1);
        waiter.resolve();
      }
    }
    if (this.admission.length > 0) this.admission.pump();
  }

  private abandonAll(error: SluiceClientError): void {
    for (const entry of this.admission.drain()) this.settle(entry.ticket, error);
    for (const sealed of this.accumulator.sealAll()) for (const ticket of sealed.tickets) this.settle(ticket, error);
    for (const queue of this.queues.values()) {
      for (const batch of queue.ready.splice(0)) for (const ticket of batch.tickets) this.settle(ticket, error);
    }
    // Batches in flight are settled by their requests failing when the connection closes.
  }

  private backoff(attempt: number): number {
    return this.cluster.backoffMs(attempt);
  }
}

function acksOf(acks: Acks): 0 | 1 | -1 {
  if (acks === 'all' || acks === -1) return -1;
  if (acks === 0 || acks === 1) return acks;
  throw new SluiceClientError('invalid-argument', `acks ${String(acks)} must be 0, 1, -1 or 'all'`);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
