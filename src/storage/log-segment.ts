import { writevSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../errors/assert.js';
import { lastOffsetOf, type RecordBatchHeader } from '../record/index.js';
import { unlinkIfPresent, writeFileAtomically } from './durable-file.js';
import { OffsetIndex } from './offset-index.js';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segmentFilePrefix } from './segment-names.js';
import { readExactly, scanSegment, walkVerifiedHeaders, type ScanStop, type ScannedBatch } from './segment-scanner.js';
import { TimeIndex } from './time-index.js';

/** A batch ready to be written: its stamped bytes and decoded header. */
export interface BatchToWrite {
  readonly bytes: Uint8Array;
  readonly header: RecordBatchHeader;
}

/** Index sizing and cadence a segment needs. */
export interface SegmentIndexConfig {
  readonly indexIntervalBytes: number;
  readonly indexBytesMax: number;
  readonly batchBytesMax: number;
}

/**
 * One `.log` file of record batches with its two sparse indexes. The `.log` file is the only
 * authoritative state; `sizeBytes`, `nextOffset`, the indexes and the timestamp bookkeeping are
 * derived from it. The segment knows nothing of group commit or durability promises: it writes
 * where it is told and fsyncs when it is told.
 *
 * The `.log` format is a plain concatenation of RecordBatch v2 batches (src/record), with
 * baseOffset and partitionLeaderEpoch stamped; the index formats are described in
 * offset-index.ts and time-index.ts.
 */
export class LogSegment {
  /** Bytes written to the file (not necessarily fsynced). */
  sizeBytes: number;
  /** One past the last offset written to this segment. */
  nextOffset: number;
  /** Largest record timestamp seen (ms), or null when empty. */
  maxTimestamp: number | null = null;
  /** Broker clock when the segment took its first batch; drives `segmentMs` rolls. */
  firstAppendAtMs: number | null;

  private bytesSinceIndexEntry = 0;
  private offsetRaisingMaxTimestamp = 0;
  private lastBatch: { offset: number; position: number } | null = null;
  /** The file size when the index files were last written (-1: not since open). */
  private indexesWrittenAtBytes = -1;
  /** Bumped by every truncation: a snapshot of the indexes taken before one is stale. */
  private indexGeneration = 0;
  /** The index files' writes, one after another in the order they were asked for (they share temp paths). */
  private indexWrites: Promise<void> = Promise.resolve();
  private deleted = false;

  private constructor(
    readonly directory: string,
    readonly baseOffset: number,
    private readonly handle: FileHandle,
    private readonly config: SegmentIndexConfig,
    public offsetIndex: OffsetIndex,
    public timeIndex: TimeIndex,
    sizeBytes: number,
    firstAppendAtMs: number | null,
  ) {
    this.sizeBytes = sizeBytes;
    this.nextOffset = baseOffset;
    this.firstAppendAtMs = firstAppendAtMs;
  }

  /** Creates an empty segment (the files must not exist). */
  static async create(directory: string, baseOffset: number, config: SegmentIndexConfig): Promise<LogSegment> {
    const handle = await open(join(directory, segmentFilePrefix(baseOffset) + LOG_SUFFIX), 'wx+');
    return new LogSegment(directory, baseOffset, handle, config,
      new OffsetIndex(baseOffset, config.indexBytesMax), new TimeIndex(baseOffset, config.indexBytesMax), 0, null);
  }

  /**
   * Opens an existing segment with empty indexes and `nextOffset` unknown: the loader then either
   * loads the index files and scans the tail, or rebuilds everything by a full scan.
   */
  static async open(directory: string, baseOffset: number, config: SegmentIndexConfig, nowMs: number): Promise<LogSegment> {
    const path = join(directory, segmentFilePrefix(baseOffset) + LOG_SUFFIX);
    const handle = await open(path, 'r+');
    const stats = await stat(path);
    const firstAppendAtMs = stats.size === 0 ? null : (stats.birthtimeMs > 0 ? stats.birthtimeMs : nowMs);
    return new LogSegment(directory, baseOffset, handle, config,
      new OffsetIndex(baseOffset, config.indexBytesMax), new TimeIndex(baseOffset, config.indexBytesMax), stats.size, firstAppendAtMs);
  }

  get logPath(): string {
    return join(this.directory, segmentFilePrefix(this.baseOffset) + LOG_SUFFIX);
  }

  get offsetIndexPath(): string {
    return join(this.directory, segmentFilePrefix(this.baseOffset) + INDEX_SUFFIX);
  }

  get timeIndexPath(): string {
    return join(this.directory, segmentFilePrefix(this.baseOffset) + TIME_INDEX_SUFFIX);
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /** True when either index has no room for another entry. */
  get indexIsFull(): boolean {
    return this.offsetIndex.isFull || this.timeIndex.isFull;
  }

  /**
   * Writes batches at the end of the file in one writev; indexes follow. Not fsynced. `inline`
   * writes on the calling thread (writevSync): a small write to the page cache costs less than
   * the thread-pool round trip it saves.
   */
  async append(batches: readonly BatchToWrite[], nowMs: number, inline = false): Promise<void> {
    assert(batches.length > 0, 'append writes at least one batch');
    assert(batches[0]!.header.baseOffset === this.nextOffset, `batch at ${batches[0]!.header.baseOffset} appended at ${this.nextOffset}`);
    const totalBytes = batches.reduce((sum, batch) => sum + batch.bytes.length, 0);
    const buffers = batches.map((batch) => batch.bytes);
    const bytesWritten = inline ? writevSync(this.handle.fd, buffers, this.sizeBytes) : (await this.handle.writev(buffers, this.sizeBytes)).bytesWritten;
    if (bytesWritten !== totalBytes) throw new Error(`short write: ${bytesWritten} of ${totalBytes} bytes to ${this.logPath}`);
    let position = this.sizeBytes;
    for (const batch of batches) {
      this.track({ position, header: batch.header, sizeBytes: batch.bytes.length });
      position += batch.bytes.length;
    }
    this.sizeBytes = position;
    this.firstAppendAtMs ??= nowMs;
  }

  /** fdatasync: the bytes written so far survive a crash once this resolves. */
  async flush(): Promise<void> {
    await this.handle.datasync();
  }

  /** Reads up to `length` bytes at `position`, never past what was written. */
  async read(position: number, length: number): Promise<Buffer> {
    const bounded = Math.max(0, Math.min(length, this.sizeBytes - position));
    return readExactly(this.handle, position, bounded);
  }

  /** Visits the header of every batch (verified bytes only: no CRC, large bodies not read). */
  async walkHeaders(visit: (header: RecordBatchHeader) => void): Promise<void> {
    await walkVerifiedHeaders(this.handle, 0, this.sizeBytes, visit, this.offsetIndex.positions());
  }

  /** Scans batches from `fromPosition`, checking framing and CRC, up to the written size. */
  async scan(fromPosition: number, visit: (batch: ScannedBatch) => 'continue' | 'stop'): Promise<ScanStop> {
    return scanSegment(this.handle, fromPosition, this.sizeBytes, this.config.batchBytesMax, visit);
  }

  /**
   * Scans from `fromPosition` (an index entry at `fromOffset`, or the start) to the end, tracking
   * every batch into the indexes, and cuts the file at the first torn or corrupt batch or
   * offset gap. Returns how the scan ended and how many bytes were cut.
   */
  async recover(from: { offset: number; position: number }): Promise<{ stop: ScanStop; bytesTruncated: number }> {
    // The entry at `from` itself stays: it names the batch the scan starts with.
    this.offsetIndex.truncateToPosition(from.position + 1);
    this.timeIndex.truncateToOffset(from.offset + 1);
    this.resumeTimestampTracking();
    this.nextOffset = from.offset;
    this.bytesSinceIndexEntry = 0;
    this.lastBatch = null;
    let gap: string | null = null;
    const stop = await this.scan(from.position, (batch) => {
      if (batch.header.baseOffset !== this.nextOffset) {
        gap = `batch at position ${batch.position} has baseOffset ${batch.header.baseOffset}, expected ${this.nextOffset}`;
        return 'stop';
      }
      this.track(batch);
      return 'continue';
    });
    const verdict: ScanStop = stop.kind === 'stopped' && gap !== null ? { kind: 'corrupt', position: stop.position, reason: gap } : stop;
    const bytesTruncated = this.sizeBytes - verdict.position;
    if (bytesTruncated > 0) await this.truncateToPosition(verdict.position);
    // As Kafka's LogSegment.recover: final entries for what was scanned, so that index files
    // written from here name the largest timestamp even if this segment is never sealed again.
    this.sealIndexes();
    return { stop: verdict, bytesTruncated };
  }

  /** Cuts the file at a batch boundary `position` whose batch starts at `offset`. */
  async truncateTo(position: number, offset: number): Promise<void> {
    assert(position <= this.sizeBytes, 'truncate only shrinks');
    this.offsetIndex.truncateToPosition(position);
    this.indexesWrittenAtBytes = -1;
    this.indexGeneration += 1;
    this.timeIndex.truncateToOffset(offset);
    this.lastBatch = null;
    await this.truncateToPosition(position);
    // Re-read the kept batches after the last index entry: the time index lags behind them, so
    // only they can say what the largest timestamp now is.
    await this.recover(this.offsetIndex.lastEntry());
    if (this.sizeBytes === 0) this.firstAppendAtMs = null;
  }

  /** Replaces the in-memory indexes with ones loaded from disk (already sanity-checked). */
  adoptIndexes(offsetIndex: OffsetIndex, timeIndex: TimeIndex): void {
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    this.resumeTimestampTracking();
  }

  // After the time index changed under it, the largest-timestamp bookkeeping restarts from the
  // index's last entry; batches scanned or appended after that raise it again.
  private resumeTimestampTracking(): void {
    const last = this.timeIndex.lastEntry();
    this.maxTimestamp = last?.timestamp ?? null;
    this.offsetRaisingMaxTimestamp = last?.offset ?? this.baseOffset;
  }

  /**
   * Adds final index entries: the last batch to the offset index, so that the next open of a
   * cleanly closed log re-reads only that batch; the largest timestamp to the time index, which
   * interval-driven entries may lag behind (Kafka does this when a segment stops being active).
   */
  sealIndexes(): void {
    const lastEntry = this.offsetIndex.lastEntry();
    if (this.lastBatch !== null && this.lastBatch.position > lastEntry.position && !this.offsetIndex.isFull) {
      this.offsetIndex.append(this.lastBatch.offset, this.lastBatch.position);
    }
    const lastIndexed = this.timeIndex.lastTimestamp ?? Number.NEGATIVE_INFINITY;
    if (this.maxTimestamp !== null && this.maxTimestamp > lastIndexed && !this.timeIndex.isFull) {
      this.timeIndex.append(this.maxTimestamp, this.offsetRaisingMaxTimestamp);
    }
  }

  /**
   * Writes both index files as the indexes stand now (a snapshot taken at the call) and fsyncs
   * them. Appends may go on meanwhile: the files are only a shortcut for recovery, which checks
   * the entry it starts from. Writes of one segment land in the order they were asked for, so
   * the last snapshot asked for (a roll's, a close's) is the one left on disk; none lands after
   * delete().
   */
  writeIndexes(): Promise<void> {
    const sizeBytes = this.sizeBytes;
    const generation = this.indexGeneration;
    const offsetIndexBytes = this.offsetIndex.toBytes();
    const timeIndexBytes = this.timeIndex.toBytes();
    const written = this.indexWrites.then(async () => {
      if (this.deleted) return;
      await writeFileAtomically(this.offsetIndexPath, offsetIndexBytes);
      await writeFileAtomically(this.timeIndexPath, timeIndexBytes);
      if (generation === this.indexGeneration) this.indexesWrittenAtBytes = sizeBytes;
    });
    this.indexWrites = written.catch(() => undefined);
    return written;
  }

  /** True when the index files on disk were written since the last append. */
  get indexesWritten(): boolean {
    return this.indexesWrittenAtBytes === this.sizeBytes;
  }

  /** Closes the file handle once the index writes asked for have landed. */
  async close(): Promise<void> {
    await this.indexWrites;
    await this.handle.close();
  }

  /** Closes and removes all three files; index writes not yet begun are dropped. */
  async delete(): Promise<void> {
    this.deleted = true;
    await this.close();
    await unlinkIfPresent(this.logPath);
    await unlinkIfPresent(this.offsetIndexPath);
    await unlinkIfPresent(this.timeIndexPath);
  }

  private async truncateToPosition(position: number): Promise<void> {
    await this.handle.truncate(position);
    await this.handle.datasync();
    this.sizeBytes = position;
  }

  // Index cadence as Kafka's LogSegment: an entry once more than indexIntervalBytes of log went by.
  private track(batch: ScannedBatch): void {
    const header = batch.header;
    if (this.maxTimestamp === null || header.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = header.maxTimestamp;
      this.offsetRaisingMaxTimestamp = header.baseOffset;
    }
    if (this.bytesSinceIndexEntry > this.config.indexIntervalBytes) {
      if (!this.offsetIndex.isFull) this.offsetIndex.append(header.baseOffset, batch.position);
      const lastIndexed = this.timeIndex.lastTimestamp;
      if (!this.timeIndex.isFull && this.maxTimestamp > (lastIndexed ?? Number.NEGATIVE_INFINITY)) {
        this.timeIndex.append(this.maxTimestamp, this.offsetRaisingMaxTimestamp);
      }
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += batch.sizeBytes;
    this.nextOffset = lastOffsetOf(header) + 1;
    this.lastBatch = { offset: header.baseOffset, position: batch.position };
  }
}
