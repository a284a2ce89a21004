import type { Logger } from 'pino';
import type { MetadataStore, PartitionState, TopicConfig, Versioned } from '../../cluster/metadata-store.js';
import { SluiceError } from '../../errors/sluice-error.js';
import type { AppendResult, PartitionLog } from '../../storage/partition-log.js';
import { afterFetch, catchingUpFollowers, highWatermarkOf, laggingFollowers, unknownProgress, type FollowerProgress } from './isr-rules.js';

/** What a leader needs from the broker around it. */
export interface LeadershipDeps {
  readonly brokerId: number;
  readonly store: MetadataStore;
  readonly replicaLagTimeMaxMs: number;
  readonly nowMs: () => number;
  readonly logger: Logger;
  /** The state in the store says this broker no longer leads at this epoch; re-read and follow it. */
  readonly deposed: () => void;
  /** ISR shrinks and expands, for metrics. */
  readonly isrChanged?: (kind: 'shrink' | 'expand') => void;
}

/** `acks` as the leader applies it: 1 = durable here, -1 = durable on every ISR member. */
export type LeaderAcks = 1 | -1;

interface HighWatermarkWaiter {
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (error: SluiceError) => void;
}

/**
 * One partition this broker leads at one leader epoch: appends stamped with that epoch, the
 * followers' progress from their fetches, the high watermark (least log end over the ISR), and
 * the ISR itself, changed only through a compare-and-swap in the metadata store before it counts
 * (ARCHITECTURE.md section 4). A new epoch is a new object: nothing carries over but the log.
 */
export class PartitionLeadership {
  private readonly progress = new Map<number, FollowerProgress>();
  private readonly waiters: HighWatermarkWaiter[] = [];
  private state: PartitionState;
  private version: number;
  private isrChange: Promise<void> | null = null;
  private stopped: SluiceError | null = null;
  /** The log end when this epoch began: a follower that fetched past it has truncated. */
  readonly epochStartOffset: number;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: PartitionLog,
    current: Versioned<PartitionState>,
    readonly config: TopicConfig,
    private readonly deps: LeadershipDeps,
  ) {
    this.state = current.value;
    this.version = current.version;
    this.epochStartOffset = log.logEndOffset;
    const nowMs = deps.nowMs();
    for (const replica of this.state.replicas) if (replica !== deps.brokerId) this.progress.set(replica, unknownProgress(nowMs));
    this.advanceHighWatermark();
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  get isr(): readonly number[] {
    return this.state.isr;
  }

  get replicas(): readonly number[] {
    return this.state.replicas;
  }

  /**
   * Appends batches stamped with this epoch (all or nothing) and resolves as `acks` asks. With
   * acks -1, an ISR smaller than minInsyncReplicas refuses before writing (NOT_ENOUGH_REPLICAS).
   */
  async appendBatches(batches: readonly Uint8Array[], acks: LeaderAcks): Promise<AppendResult[]> {
    this.checkLeading();
    if (acks === -1 && this.state.isr.length < this.config.minInsyncReplicas) {
      throw new SluiceError('NOT_ENOUGH_REPLICAS', `${this.name}: ISR [${this.state.isr.join(',')}] is smaller than minInsyncReplicas ${this.config.minInsyncReplicas}`);
    }
    const results = await this.log.appendBatches(batches, this.state.leaderEpoch);
    this.advanceHighWatermark();
    if (acks === -1) {
      const last = results[results.length - 1]!;
      await this.highWatermarkReaches(last.lastOffset + 1);
    }
    return results;
  }

  /** A follower fetched from `fetchOffset`: it holds (fsynced) everything before it. */
  followerFetched(replicaId: number, fetchOffset: number): void {
    if (this.stopped !== null || !this.state.replicas.includes(replicaId) || replicaId === this.deps.brokerId) return;
    const previous = this.progress.get(replicaId) ?? unknownProgress(this.deps.nowMs());
    this.progress.set(replicaId, afterFetch(previous, fetchOffset, this.log.logEndOffset, this.deps.nowMs()));
    this.advanceHighWatermark();
    const joining = catchingUpFollowers(this.state.replicas, this.state.isr, this.progress, this.log.highWatermark, this.epochStartOffset);
    if (joining.length > 0) this.proposeIsr([...this.state.isr, ...joining], 'expand');
  }

  /** Drops followers that have lagged past replicaLagTimeMaxMs from the ISR (called on a timer). */
  checkLaggingFollowers(): void {
    if (this.stopped !== null) return;
    const lagging = laggingFollowers(this.state.isr, this.deps.brokerId, this.progress, this.deps.nowMs(), this.deps.replicaLagTimeMaxMs);
    if (lagging.length > 0) this.proposeIsr(this.state.isr.filter((member) => !lagging.includes(member)), 'shrink');
  }

  /**
   * The store holds a newer state of this partition at the same epoch (the controller shrank a
   * dead broker out of the ISR): adopt it. A different leader or epoch is for the caller.
   */
  stateChanged(current: Versioned<PartitionState>): void {
    if (current.value.leaderId !== this.deps.brokerId || current.value.leaderEpoch !== this.state.leaderEpoch) return;
    this.state = current.value;
    this.version = current.version;
    this.advanceHighWatermark();
  }

  /** Ends this leadership: waiting acks=all appends fail with `error` (NOT_LEADER_OR_FOLLOWER). */
  stop(error: SluiceError): void {
    if (this.stopped !== null) return;
    this.stopped = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  private checkLeading(): void {
    if (this.stopped !== null) throw this.stopped;
  }

  private highWatermarkReaches(offset: number): Promise<void> {
    if (this.log.highWatermark >= offset && this.state.isr.length >= this.config.minInsyncReplicas) return Promise.resolve();
    if (this.stopped !== null) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
  }

  private advanceHighWatermark(): void {
    const next = highWatermarkOf(this.log.highWatermark, this.log.flushedOffset, this.state.isr, this.deps.brokerId, this.progress);
    if (next > this.log.highWatermark) this.log.updateHighWatermark(next);
    // An ISR that shrank below minInsyncReplicas while acks=all appends waited lets the high
    // watermark pass them with fewer copies than promised: they wait (or time out) until enough
    // replicas are back in the ISR, as Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND check.
    if (this.waiters.length === 0 || this.state.isr.length < this.config.minInsyncReplicas) return;
    const reached = this.log.highWatermark;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.offset <= reached) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  // One ISR change at a time; a change proposed while one is in flight is decided again after it.
  private proposeIsr(isr: readonly number[], kind: 'shrink' | 'expand'): void {
    if (this.isrChange !== null || this.stopped !== null) return;
    const ordered = this.state.replicas.filter((replica) => isr.includes(replica));
    const proposed: PartitionState = { ...this.state, isr: ordered };
    this.isrChange = this.writeIsr(proposed, kind).finally(() => { this.isrChange = null; });
  }

  private async writeIsr(proposed: PartitionState, kind: 'shrink' | 'expand'): Promise<void> {
    try {
      const version = await this.deps.store.compareAndSetPartitionState(this.topic, this.partition, this.version, proposed);
      if (version !== null) {
        this.deps.logger.info({ topic: this.topic, partition: this.partition, leaderEpoch: proposed.leaderEpoch, from: this.state.isr, to: proposed.isr }, `ISR ${kind}`);
        this.state = proposed;
        this.version = version;
        this.deps.isrChanged?.(kind);
        // A shrink can let the high watermark move: the slow follower no longer holds it back.
        this.advanceHighWatermark();
        return;
      }
      // Someone else wrote this partition: if it is still ours at this epoch, adopt and go on.
      const current = await this.deps.store.getPartitionState(this.topic, this.partition);
      if (current !== null && current.value.leaderId === this.deps.brokerId && current.value.leaderEpoch === this.state.leaderEpoch) {
        this.stateChanged(current);
      } else {
        this.deps.deposed();
      }
    } catch (error) {
      // The store is unreachable: the ISR stays as it was, which is safe (acks=all waits).
      this.deps.logger.warn({ err: error, topic: this.topic, partition: this.partition }, `ISR ${kind} could not be written; will retry`);
    }
  }
}
