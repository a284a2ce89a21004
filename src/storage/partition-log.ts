import type { Logger } from 'pino';
import { assert } from '../errors/assert.js';
import { SluiceError } from '../errors/sluice-error.js';
import { lastOffsetOf, stampBatch, validateProducedBatch, type RecordBatchHeader } from '../record/index.js';
import { fsyncDirectory } from './durable-file.js';
import { GroupCommitter, type GroupCommitStats, type SyncObserver } from './group-commit.js';
import type { EpochEndOffset, EpochEntry, LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { loadLeaderEpochCache, loadSegments, type LeaderEpochLoad, type LoadReport } from './log-loader.js';
import { LogSegment, type BatchToWrite } from './log-segment.js';
import { ProducerStateTable } from './producer-state.js';
import { splitReplicatedBatches } from './replicated-batches.js';
import { segmentsPastRetention } from './retention.js';
import { batchBoundaryAtOrBefore, firstRecordAtOrAfter, readSegment, type LogReadResult, type SegmentReadOptions } from './segment-reads.js';
import { TailCache, type CachedBatch } from './tail-cache.js';
import type { TailCacheBudget } from './tail-cache-budget.js';

export type { LogReadResult } from './segment-reads.js';

/** How many of the newest segments producer state is rebuilt from at open. */
export const PRODUCER_STATE_SEGMENTS = 2;

/** Everything a partition log is opened with. */
export interface PartitionLogOptions {
  readonly directory: string;
  readonly config: LogConfig;
  /** From the recovery-point checkpoint; null when there is none to trust (scan everything). */
  readonly recoveryPoint: number | null;
  /** From the high-watermark checkpoint, if any; clamped to what recovery kept. */
  readonly highWatermark: number | null;
  /**
   * True while this log is its partition's only replica: the high watermark is then simply the
   * flushed offset. Replication will set it from the ISR instead.
   */
  readonly highWatermarkFollowsFlush: boolean;
  readonly nowMs: () => number;
  readonly logger: Logger;
  /** Called once when a disk write or fsync fails; the owner must stop using the disk. */
  readonly onFatal: (error: Error) => void;
  /** Watches every group-commit fsync (metrics); none when absent. */
  readonly syncObserver?: SyncObserver;
  /** The broker-wide limit over every partition's tail cache; none when absent. */
  readonly tailCacheBudget?: TailCacheBudget<CachedBatch>;
}

/** Offsets a durable append was given. */
export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** True when an idempotent producer's retry matched a batch already written: nothing was written again. */
  readonly duplicate: boolean;
}

/** What a follower's append of replicated batches wrote. */
export interface ReplicatedAppendResult {
  /** baseOffset of the first batch (the log end before the append). */
  readonly firstOffset: number;
  /** Last offset of the last batch; the log end is now one past it. */
  readonly lastOffset: number;
  readonly batchCount: number;
}

/**
 * One partition's log: segments in order, appends through group commit, reads of whole batches.
 * The segments' `.log` files are authoritative; every offset here is derived from them:
 *
 *   logStartOffset <= highWatermark <= flushedOffset (= recovery point) <= logEndOffset
 *
 * where logEndOffset counts batches written to the file and flushedOffset those fsynced. (With
 * replication, the high watermark may trail the flushed offset; it never passes it here.)
 */
export class PartitionLog {
  private readonly committer: GroupCommitter<BatchToWrite>;
  private segments: LogSegment[];
  private nextOffsetToAssign: number;
  private flushed: number;
  private highWatermarkOffset: number;
  private closed = false;
  private readonly highWatermarkListeners = new Set<(highWatermark: number) => void>();
  private readonly logEndListeners = new Set<(logEndOffset: number) => void>();
  private readonly producerState = new ProducerStateTable();
  private readonly tailCache: TailCache;
  /** What every segment read needs, made once instead of per read. */
  private readonly readOptions: SegmentReadOptions;

  private constructor(
    private readonly options: PartitionLogOptions, segments: LogSegment[], readonly loadReport: LoadReport,
    private readonly epochCache: LeaderEpochCache,
    /** Whether open read the leader-epoch checkpoint or rebuilt it from the log (for tests and logs). */
    readonly leaderEpochLoad: LeaderEpochLoad,
  ) {
    this.segments = segments;
    const logEndOffset = this.activeSegment.nextOffset;
    this.nextOffsetToAssign = logEndOffset;
    this.flushed = logEndOffset;
    this.highWatermarkOffset = options.highWatermarkFollowsFlush ? logEndOffset : clamp(options.highWatermark ?? 0, this.logStartOffset, logEndOffset);
    this.tailCache = new TailCache(options.config.tailCacheBytesMax, options.tailCacheBudget ?? null);
    this.readOptions = { batchBytesMax: options.config.batchBytesMax, indexIntervalBytes: options.config.indexIntervalBytes, logger: options.logger };
    this.committer = new GroupCommitter(
      { write: (batches) => this.writeGroup(batches), sync: () => this.syncActive() },
      options.config.groupCommitBytesMax,
      (error) => this.options.onFatal(error),
      options.syncObserver ?? null,
    );
  }

  /** Opens (creating if empty) and recovers the log in `options.directory`. */
  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    const { segments, report } = await loadSegments(options.directory, options.config, options.recoveryPoint, options.nowMs(), options.logger);
    // Recovery read what it kept; make it durable so the recovery point can move to the end.
    for (const segment of segments) await segment.flush();
    const { cache, load } = await loadLeaderEpochCache(options.directory, segments, options.logger);
    const log = new PartitionLog(options, segments, report, cache, load);
    await log.rebuildProducerState();
    options.logger.info({
      logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, ...report, producers: log.producerState.producerCount,
      leaderEpochs: load, latestEpoch: cache.latestEpoch,
    }, 'partition log loaded');
    return log;
  }

  get logStartOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  /** One past the last offset written to the file (not necessarily durable). */
  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  /** One past the last offset fsynced; also the recovery point. */
  get flushedOffset(): number {
    return this.flushed;
  }

  get highWatermark(): number {
    return this.highWatermarkOffset;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Total bytes of all segment files. */
  get sizeBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
  }

  /** Memory held by this log's tail cache. */
  get tailCacheBytes(): number {
    return this.tailCache.sizeBytes;
  }

  get commitStats(): Readonly<GroupCommitStats> {
    return this.committer.stats;
  }

  /**
   * The newest leader epoch that wrote to this log (or was begun with beginLeaderEpoch), or null
   * when none has. This is the epoch a follower asks the leader about before fetching.
   */
  get latestEpoch(): number | null {
    return this.epochCache.latestEpoch;
  }

  /** The leader-epoch cache's entries, oldest first: each epoch with the first offset it wrote. */
  get epochEntries(): readonly EpochEntry[] {
    return this.epochCache.entries;
  }

  /**
   * Where `epoch` ends in this log (OffsetForLeaderEpoch, answered by a leader): the largest
   * epoch <= `epoch` this log knows and the offset after its last record; the log end offset
   * for the latest epoch; UNDEFINED (-1, -1) for -1 or an epoch above every known one. The full
   * rules are on LeaderEpochCache.endOffsetFor.
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochCache.endOffsetFor(epoch, this.logEndOffset);
  }

  /**
   * Records that `epoch` starts at the current log end, durably (Kafka's
   * maybeAssignEpochStartOffset). A broker that becomes leader calls it before accepting appends,
   * so that OffsetForLeaderEpoch can answer for the previous epoch (its end is where this one
   * starts) even before the new leader has written anything. A no-op for an epoch not newer
   * than the latest; FENCED_LEADER_EPOCH for an older one.
   */
  async beginLeaderEpoch(epoch: number): Promise<void> {
    this.assertOpen();
    this.checkEpochNotFenced(epoch);
    this.epochCache.assign(epoch, this.nextOffsetToAssign);
    await this.epochCache.flush();
  }

  /** Sets the high watermark (replication's job; never past the flushed offset). */
  updateHighWatermark(offset: number): void {
    assert(offset >= this.logStartOffset && offset <= this.flushed, `highWatermark ${offset} within [${this.logStartOffset}, ${this.flushed}]`);
    this.setHighWatermark(offset);
  }

  /**
   * Calls `listener` whenever the high watermark advances (new data readable by consumers), for
   * long-polling fetches and pushing subscriptions. Returns the function that stops it.
   */
  watchHighWatermark(listener: (highWatermark: number) => void): () => void {
    this.highWatermarkListeners.add(listener);
    return () => this.highWatermarkListeners.delete(listener);
  }

  /**
   * Calls `listener` whenever batches are written (before their fsync), for followers'
   * long-polling fetches: they read to the log end, and their next fetch is what moves the high
   * watermark, so waiting for it would deadlock. Returns the function that stops it.
   */
  watchLogEnd(listener: (logEndOffset: number) => void): () => void {
    this.logEndListeners.add(listener);
    return () => this.logEndListeners.delete(listener);
  }

  /**
   * Appends one producer batch as leader: validates it, assigns offsets and stamps them with
   * `partitionLeaderEpoch` into the batch's own bytes (outside the CRC), and resolves once the
   * batch is fsynced. The caller must not touch `batch` afterwards.
   */
  async append(batch: Uint8Array, partitionLeaderEpoch = 0): Promise<AppendResult> {
    const [result] = await this.appendBatches([batch], partitionLeaderEpoch);
    return result!;
  }

  /**
   * Appends several producer batches as one unit of validation: if any is invalid, none is
   * written. They get contiguous offsets in order and share group commits.
   */
  async appendBatches(batches: readonly Uint8Array[], partitionLeaderEpoch = 0): Promise<AppendResult[]> {
    this.assertOpen();
    const produced = batches.map((batch) => validateProducedBatch(batch, this.options.config.batchBytesMax));
    this.checkEpochNotFenced(partitionLeaderEpoch);
    const verdicts = this.producerState.checkAll(produced);
    const pending = batches.map((batch, index) => {
      const verdict = verdicts[index]!;
      if (verdict.kind === 'duplicate') {
        const { original } = verdict;
        return original.durable.then(() => ({ baseOffset: original.baseOffset, lastOffset: original.lastOffset, duplicate: true }));
      }
      const baseOffset = this.nextOffsetToAssign;
      // In memory now; the checkpoint is written before these bytes are (writeGroup).
      this.epochCache.assign(partitionLeaderEpoch, baseOffset);
      stampBatch(batch, baseOffset, partitionLeaderEpoch);
      const header: RecordBatchHeader = { ...produced[index]!, baseOffset, partitionLeaderEpoch };
      const lastOffset = lastOffsetOf(header);
      this.nextOffsetToAssign = lastOffset + 1;
      const durable = this.committer.commit({ bytes: batch, header }, batch.length);
      if (header.producer !== null) this.producerState.record(header.producer, header.recordCount, { baseOffset, lastOffset, durable });
      return durable.then(() => ({ baseOffset, lastOffset, duplicate: false }));
    });
    return Promise.all(pending);
  }

  /**
   * Appends batches replicated from the leader, as a follower: `records` holds whole RecordBatch
   * v2 batches back to back, exactly as the leader's Fetch returned them. They keep the leader's
   * baseOffsets and partitionLeaderEpochs byte for byte. Each batch's framing and CRC-32C are
   * checked (CORRUPT_MESSAGE, MESSAGE_TOO_LARGE), and the first must start at the log end offset
   * and each next one right after the previous (ReplicaOffsetMismatchError, INVALID_RECORD);
   * partitionLeaderEpochs must not go backwards (INVALID_RECORD). All are checked before any is
   * written. The leader-epoch cache follows the batches' own epochs, and producer state records
   * them (without judging sequences: the leader did), so that this replica, once leader, answers
   * idempotent retries. Resolves once every batch is fsynced. The caller must not touch `records`
   * afterwards. Empty `records` is a no-op.
   */
  async appendReplicated(records: Uint8Array): Promise<ReplicatedAppendResult> {
    this.assertOpen();
    const firstOffset = this.nextOffsetToAssign;
    const checked = splitReplicatedBatches(records, {
      logEndOffset: this.nextOffsetToAssign, latestEpoch: this.epochCache.latestEpoch, batchBytesMax: this.options.config.batchBytesMax,
    });
    if (checked.length === 0) return { firstOffset, lastOffset: firstOffset - 1, batchCount: 0 };
    const pending = checked.map(({ bytes, header }) => {
      if (header.partitionLeaderEpoch >= 0) this.epochCache.assign(header.partitionLeaderEpoch, header.baseOffset);
      const baseOffset = header.baseOffset;
      const lastOffset = lastOffsetOf(header);
      this.nextOffsetToAssign = lastOffset + 1;
      const durable = this.committer.commit({ bytes, header }, bytes.length);
      if (header.producer !== null && header.recordCount > 0) this.producerState.record(header.producer, header.recordCount, { baseOffset, lastOffset, durable });
      return durable;
    });
    await Promise.all(pending);
    return { firstOffset, lastOffset: this.nextOffsetToAssign - 1, batchCount: checked.length };
  }

  /**
   * Reads whole batches starting with the one that holds `startOffset`, up to `maxBytes` (but at
   * least one batch, so that a batch bigger than `maxBytes` cannot stall a reader), and only
   * batches that end before `maxOffset` (the high watermark, for consumers). Every batch is
   * CRC-checked before it is returned.
   */
  async read(startOffset: number, maxBytes: number, maxOffset = this.logEndOffset): Promise<LogReadResult> {
    if (this.committer.failed !== null) throw new SluiceError('KAFKA_STORAGE_ERROR', this.committer.failed.message);
    this.assertOpen();
    try {
      return await this.readOpen(startOffset, maxBytes, maxOffset);
    } catch (error) {
      // Retention may delete (and close) a segment while a read of it is in flight; to the
      // reader that is an offset that has just left the log.
      if (error instanceof SluiceError || startOffset >= this.logStartOffset) throw error;
      throw new SluiceError('OFFSET_OUT_OF_RANGE', `offset ${startOffset} was deleted by retention during the read`, { cause: error });
    }
  }

  private async readOpen(startOffset: number, maxBytes: number, maxOffset: number): Promise<LogReadResult> {
    if (startOffset < this.logStartOffset || startOffset > this.logEndOffset) {
      throw new SluiceError('OFFSET_OUT_OF_RANGE', `offset ${startOffset} is outside [${this.logStartOffset}, ${this.logEndOffset}]`);
    }
    const bound = Math.min(maxOffset, this.logEndOffset);
    const cached = this.tailCache.read(startOffset, maxBytes, bound);
    if (cached !== null) return cached;
    for (let index = this.segmentIndexFor(startOffset); index < this.segments.length && startOffset < bound; index++) {
      const segment = this.segments[index]!;
      if (startOffset >= segment.nextOffset) continue;
      const result = await readSegment(segment, startOffset, maxBytes, bound, this.readOptions);
      if (result.batchCount > 0 || result.nextOffset >= bound) return result;
    }
    return { bytes: new Uint8Array(0), batchCount: 0, nextOffset: startOffset };
  }

  /** The first offset whose record timestamp is at least `timestamp`, or null when none is. */
  async offsetForTimestamp(timestamp: number): Promise<number | null> {
    for (const segment of this.segments) {
      if (segment.maxTimestamp === null || segment.maxTimestamp < timestamp) continue;
      const fromOffset = segment.timeIndex.lookup(timestamp);
      const found = await firstRecordAtOrAfter(segment, fromOffset, timestamp, this.readOptions);
      if (found !== null) return found;
    }
    return null;
  }

  /**
   * Removes every batch at or after `offset` (replication's divergence truncation). A batch that
   * straddles `offset` goes whole, so the new log end may be below `offset`; it is returned.
   */
  async truncateTo(offset: number): Promise<number> {
    this.assertOpen();
    await this.committer.exclusive(() => this.truncateExclusive(offset));
    return this.logEndOffset;
  }

  /**
   * Deletes whole old segments past `retentionMs` or beyond `retentionBytes`, oldest first,
   * never the active segment and never one holding offsets at or above the high watermark.
   * Returns how many were deleted.
   */
  async applyRetention(): Promise<number> {
    this.assertOpen();
    const { retentionBytes, retentionMs } = this.options.config;
    const doomed = segmentsPastRetention(this.segments, { retentionBytes, retentionMs, nowMs: this.options.nowMs(), highWatermark: this.highWatermarkOffset });
    if (doomed.length === 0) return 0;
    this.segments = this.segments.slice(doomed.length);
    for (const segment of doomed) {
      this.options.logger.info({ segment: segment.baseOffset, sizeBytes: segment.sizeBytes, maxTimestamp: segment.maxTimestamp }, 'retention deleted a segment');
      await segment.delete();
    }
    await fsyncDirectory(this.options.directory);
    this.epochCache.truncateFromStart(this.logStartOffset);
    await this.epochCache.flush();
    return doomed.length;
  }

  /**
   * Writes the active segment's index files as they stand (the log manager does it with every
   * checkpoint). Without them a crash left the active segment with no index, and recovery
   * rebuilt it by scanning the whole segment, whatever the recovery point said; with them it
   * starts at the index entry at or before the recovery point. Entries past the recovery point
   * may name bytes a power loss took; the loader checks the entry it starts from.
   */
  async writeActiveIndexes(): Promise<void> {
    if (this.closed) return;
    // Not exclusive with appends: the group commit would wait for four fsyncs (two files, each
    // with its directory), and every produce to a busy partition with it, once per checkpoint.
    // The segment snapshots its indexes now and writes its snapshots in order, so a roll's
    // final write of the same files still lands last.
    const segment = this.activeSegment;
    if (!segment.indexesWritten) await segment.writeIndexes();
  }

  /** Waits for queued appends, writes the index files and closes every file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.committer.failed === null) {
      await this.committer.exclusive(async () => {
        await this.activeSegment.flush();
        this.activeSegment.sealIndexes();
        await this.activeSegment.writeIndexes();
      });
    }
    for (const segment of this.segments) await segment.close();
    this.tailCache.clear();
  }

  // An epoch older than the log's latest means the caller's leadership is stale: another broker
  // has led since, and this one must not write.
  private checkEpochNotFenced(epoch: number): void {
    const latest = this.epochCache.latestEpoch;
    if (latest !== null && epoch < latest) {
      throw new SluiceError('FENCED_LEADER_EPOCH', `leader epoch ${epoch} is older than epoch ${latest}, the latest in this log`);
    }
  }

  // Producer state is derived from the batch headers of the last PRODUCER_STATE_SEGMENTS
  // segments: enough to answer the retries of any producer active before a restart, and bounded
  // work at open. Producers silent for longer are forgotten (their next batch must start at 0).
  private async rebuildProducerState(): Promise<void> {
    const settled = Promise.resolve();
    // The loader has verified these bytes: only the batch headers are read.
    for (const segment of this.segments.slice(-PRODUCER_STATE_SEGMENTS)) {
      await segment.walkHeaders((header) => {
        if (header.producer !== null) {
          this.producerState.record(header.producer, header.recordCount, { baseOffset: header.baseOffset, lastOffset: lastOffsetOf(header), durable: settled });
        }
      });
    }
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  private assertOpen(): void {
    if (this.closed) throw new SluiceError('KAFKA_STORAGE_ERROR', 'the log is closed');
  }

  // Binary search: the last segment whose base offset is at most `offset`.
  private segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  // Group commit's write step: rolls where needed, then one writev per segment touched. A new
  // epoch's checkpoint goes first, so that the file is never behind the log. The flush is
  // awaited even when clean: a write started elsewhere (retention) may hold the new epoch.
  private async writeGroup(batches: readonly BatchToWrite[]): Promise<void> {
    await this.epochCache.flush();
    let run: BatchToWrite[] = [];
    let runBytes = 0;
    for (const batch of batches) {
      if (this.shouldRoll(this.activeSegment.sizeBytes + runBytes, batch)) {
        if (run.length > 0) await this.appendRun(run, runBytes);
        await this.roll(batch.header.baseOffset);
        run = [];
        runBytes = 0;
      }
      run.push(batch);
      runBytes += batch.bytes.length;
    }
    await this.appendRun(run, runBytes);
    if (this.logEndListeners.size === 0) return;
    const logEndOffset = this.activeSegment.nextOffset;
    // Outside the group-commit step: a failing listener is its own bug, not a failed write.
    queueMicrotask(() => {
      for (const listener of this.logEndListeners) listener(logEndOffset);
    });
  }

  private async appendRun(run: readonly BatchToWrite[], runBytes: number): Promise<void> {
    await this.activeSegment.append(run, this.options.nowMs(), runBytes <= this.options.config.inlineWriteBytesMax);
    this.tailCache.add(run, this.activeSegment.baseOffset);
  }

  // Group commit's sync step. Rolled segments were fsynced at the roll; only the active one
  // holds unsynced bytes, and nothing else writes while this runs.
  private async syncActive(): Promise<void> {
    await this.activeSegment.flush();
    this.flushed = this.activeSegment.nextOffset;
    if (this.options.highWatermarkFollowsFlush) this.setHighWatermark(this.flushed);
  }

  private setHighWatermark(offset: number): void {
    const advanced = offset > this.highWatermarkOffset;
    this.highWatermarkOffset = offset;
    if (!advanced) return;
    // Outside the group-commit step: a failing listener is its own bug, not a failed fsync.
    queueMicrotask(() => {
      for (const listener of this.highWatermarkListeners) listener(offset);
    });
  }

  private shouldRoll(sizeBytes: number, batch: BatchToWrite): boolean {
    if (sizeBytes === 0) return false;
    const segment = this.activeSegment;
    const config = this.options.config;
    return sizeBytes + batch.bytes.length > config.segmentBytes
      || segment.indexIsFull
      || lastOffsetOf(batch.header) - segment.baseOffset > 0xffffffff
      || (segment.firstAppendAtMs !== null && this.options.nowMs() - segment.firstAppendAtMs >= config.segmentMs);
  }

  // Seals the active segment (fsynced, final index entries written) and starts a new one.
  private async roll(baseOffset: number): Promise<void> {
    const old = this.activeSegment;
    await old.flush();
    old.sealIndexes();
    await old.writeIndexes();
    const segment = await LogSegment.create(this.options.directory, baseOffset, this.options.config);
    await fsyncDirectory(this.options.directory);
    this.segments.push(segment);
    this.options.logger.info({ segment: baseOffset, previousSizeBytes: old.sizeBytes }, 'rolled to a new segment');
  }

  private async truncateExclusive(offset: number): Promise<void> {
    if (offset >= this.logEndOffset) return;
    this.tailCache.clear();
    const keep = this.segments.filter((segment) => segment.baseOffset < offset || segment === this.segments[0]);
    for (const segment of this.segments.slice(keep.length)) await segment.delete();
    this.segments = keep;
    const segment = this.activeSegment;
    const cut = await batchBoundaryAtOrBefore(segment, offset);
    await segment.truncateTo(cut.position, cut.offset);
    await segment.writeIndexes();
    await fsyncDirectory(this.options.directory);
    this.nextOffsetToAssign = segment.nextOffset;
    this.producerState.truncateTo(segment.nextOffset);
    // After the log: a crash in between leaves the checkpoint ahead of the log, which open repairs.
    this.epochCache.truncateFromEnd(segment.nextOffset);
    await this.epochCache.flush();
    this.flushed = Math.min(this.flushed, segment.nextOffset);
    this.highWatermarkOffset = Math.min(this.highWatermarkOffset, segment.nextOffset);
    this.options.logger.warn({ requestedOffset: offset, logEndOffset: segment.nextOffset }, 'log truncated');
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}
