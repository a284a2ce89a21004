import { recordBytesBound } from '../record/index.js';
import { sleep } from './backoff.js';
import type { ClusterMetadata } from './cluster-metadata.js';
import { SluiceClientError, errorFromCode, isRetriable } from './errors.js';
import { Fifo } from './fifo.js';
import type { ProducerRecord } from './producer.js';
import type { AppendedRecord } from './record-accumulator.js';
import { bytesOf, checkBytesInput, checkWireString, headerInputsOf } from './record-input.js';

/** What admission needs of a send's ticket: its order among sends, and whether it has settled. */
export interface AdmissionTicket {
  /** Order of the send() call (1, 2, ...). */
  readonly number: number;
  readonly settled: boolean;
}

/**
 * One send() on its way into a batch: its checked record (the entry is the record the
 * accumulator appends: one object per send, not two) and where it goes.
 */
export interface AdmissionEntry<T extends AdmissionTicket> extends AppendedRecord {
  readonly topic: string;
  readonly partition: number | undefined;
  /** The key's bytes, for the partitioner; null without a key or with an explicit partition. */
  readonly keyBytes: Uint8Array | null;
  readonly ticket: T;
  /** When it fails with buffer-full if still not admitted (bufferWaitMsMax). */
  readonly deadlineMs: number;
}

/** Limits of admission, from the producer's settings. */
export interface AdmissionLimits {
  readonly bufferBytesMax: number;
  readonly bufferWaitMsMax: number;
  readonly sendQueueLengthMax: number;
}

/** What admission asks of the client's cluster view (src/client/cluster.ts). */
export interface AdmissionCluster {
  readonly metadata: Pick<ClusterMetadata, 'partitionCountOf' | 'topicErrorOf'>;
  readonly settings: { readonly retries: number };
  /** Asks a broker for these topics' metadata. */
  refresh(topics: readonly string[]): Promise<void>;
  backoffMs(attempt: number): number;
}

/** What admission needs from the producer around it. */
export interface SendAdmissionDeps<T extends AdmissionTicket> {
  readonly cluster: AdmissionCluster;
  readonly limits: AdmissionLimits;
  readonly nowMs: () => number;
  /** Bytes of records admitted and not yet settled. */
  readonly bufferedBytes: () => number;
  readonly closing: () => boolean;
  /** Sends numbered up to this were made before a flush(): their batches must not linger. */
  readonly flushThrough: () => number;
  /** Puts an admitted send into its partition's open batch. */
  readonly admit: (entry: AdmissionEntry<T>, partitionCount: number, nowMs: number) => void;
  /** Seals every open batch (sends made before a flush() were admitted late). */
  readonly sealAll: () => void;
  /** Settles a send that cannot be admitted. */
  readonly fail: (ticket: T, error: Error) => void;
}

/**
 * The producer's admission: sends enter their batches in the order they were made, each once its
 * topic's partition count is known and `bufferBytesMax` has room for it (the backpressure; a
 * record larger than the whole buffer goes in when the buffer is empty). Sends that wait longer
 * than `bufferWaitMsMax` fail with buffer-full, and at most `sendQueueLengthMax` may wait.
 */
export class SendAdmission<T extends AdmissionTicket> {
  private readonly waiting = new Fifo<AdmissionEntry<T>>();
  private readonly metadataLoads = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerFor: AdmissionEntry<T> | null = null;

  constructor(private readonly deps: SendAdmissionDeps<T>) {}

  /** Sends waiting to be admitted. */
  get length(): number {
    return this.waiting.length;
  }

  /** Checks a record's fields without encoding them: they are encoded once, into their batch. */
  entryOf(input: ProducerRecord, ticket: T, nowMs: number): AdmissionEntry<T> {
    checkWireString(input.topic, 'topic');
    if (input.partition !== undefined && (!Number.isInteger(input.partition) || input.partition < 0)) {
      throw new SluiceClientError('invalid-argument', `partition ${input.partition} must be a non-negative integer`);
    }
    const timestamp = input.timestamp ?? nowMs;
    if (!Number.isSafeInteger(timestamp)) throw new SluiceClientError('invalid-argument', `timestamp ${timestamp} must be an integer`);
    const key = checkBytesInput(input.key, 'key');
    const value = checkBytesInput(input.value, 'value');
    const headers = headerInputsOf(input.headers);
    return {
      topic: input.topic, partition: input.partition, ticket,
      keyBytes: key === null || input.partition !== undefined ? null : bytesOf(key, 'key'),
      timestamp, key, value, headers, boundBytes: recordBytesBound(key, value, headers),
      deadlineMs: nowMs + this.deps.limits.bufferWaitMsMax,
    };
  }

  /** Throws buffer-full when sendQueueLengthMax sends already wait. */
  refuseIfFull(): void {
    if (this.waiting.length >= this.deps.limits.sendQueueLengthMax) {
      throw new SluiceClientError('buffer-full', `${this.waiting.length} sends already wait (sendQueueLengthMax)`);
    }
  }

  /** Admits `entry` now if nothing waits ahead of it and it may go; queues it otherwise. */
  offer(entry: AdmissionEntry<T>, nowMs: number): void {
    if (this.waiting.length === 0) {
      // The common case: nothing waits ahead of this send, so it need not queue.
      const partitionCount = this.deps.cluster.metadata.partitionCountOf(entry.topic);
      if (partitionCount !== null && this.hasRoomFor(entry)) return this.deps.admit(entry, partitionCount, nowMs);
    }
    this.waiting.push(entry);
    this.pump();
  }

  /**
   * Admits waiting sends in order while their topic's partition count is known and the buffer
   * has room; called whenever either may have changed (a send settled, metadata arrived).
   */
  pump(): void {
    let admittedForFlush = false;
    while (this.waiting.length > 0) {
      const head = this.waiting.peek()!;
      if (head.ticket.settled) {
        this.waiting.shift();
        continue;
      }
      const partitionCount = this.deps.cluster.metadata.partitionCountOf(head.topic);
      if (partitionCount === null) {
        this.loadPartitionCount(head.topic);
        break;
      }
      if (!this.hasRoomFor(head)) break;
      this.waiting.shift();
      this.deps.admit(head, partitionCount, this.deps.nowMs());
      admittedForFlush ||= head.ticket.number <= this.deps.flushThrough();
    }
    // Sends made before a flush() that waited for metadata or room go out now, not after lingerMs.
    if (admittedForFlush) this.deps.sealAll();
    this.armTimer();
  }

  /** Takes every waiting send out (the producer is closing). */
  drain(): AdmissionEntry<T>[] {
    return this.waiting.drain();
  }

  /** Stops the deadline timer. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private hasRoomFor(entry: AdmissionEntry<T>): boolean {
    const buffered = this.deps.bufferedBytes();
    return buffered === 0 || buffered + entry.boundBytes <= this.deps.limits.bufferBytesMax;
  }

  // Sends that waited past bufferWaitMsMax fail; the queue is in arrival order, so they are a prefix.
  private armTimer(): void {
    const head = this.waiting.peek();
    if (head === this.timerFor && (head === undefined || this.timer !== null)) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerFor = head ?? null;
    if (head === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerFor = null;
      const now = this.deps.nowMs();
      while (this.waiting.length > 0 && this.waiting.peek()!.deadlineMs <= now) {
        const expired = this.waiting.shift()!;
        this.deps.fail(expired.ticket, new SluiceClientError('buffer-full',
          `send to ${expired.topic} waited more than bufferWaitMsMax ${this.deps.limits.bufferWaitMsMax} ms for buffer room or topic metadata`));
      }
      this.pump();
    }, Math.max(0, head.deadlineMs - this.deps.nowMs()));
  }

  private loadPartitionCount(topic: string): void {
    if (this.metadataLoads.has(topic)) return;
    this.metadataLoads.add(topic);
    void this.fetchPartitionCount(topic).then(() => {}, (error: unknown) => {
      for (const entry of this.waiting) if (entry.topic === topic) this.deps.fail(entry.ticket, error instanceof Error ? error : new Error(String(error)));
    }).finally(() => {
      this.metadataLoads.delete(topic);
      this.pump();
    });
  }

  // Bounded: at most `retries` + 1 Metadata requests, with backoff between them. An unknown
  // topic is retried too (it may be being created, or not yet known to the broker asked).
  private async fetchPartitionCount(topic: string): Promise<number> {
    const cluster = this.deps.cluster;
    for (let attempt = 0; ; attempt++) {
      try {
        await cluster.refresh([topic]);
        const count = cluster.metadata.partitionCountOf(topic);
        if (count !== null) return count;
        const errorCode = cluster.metadata.topicErrorOf(topic);
        if (errorCode === null) throw new SluiceClientError('protocol-violation', `Metadata response does not list ${topic}`);
        throw errorFromCode(errorCode, `topic ${topic}`);
      } catch (error) {
        if (this.deps.closing() || !isRetriable(error) || attempt >= cluster.settings.retries) throw error;
        await sleep(cluster.backoffMs(attempt + 1));
      }
    }
  }
}
