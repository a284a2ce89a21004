import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { unlinkIfPresent, fsyncDirectory } from './durable-file.js';
import {
  LeaderEpochCache, leaderEpochCheckpointPath, readLeaderEpochCheckpoint, writeLeaderEpochCheckpoint, type EpochEntriesWriter,
} from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { LogSegment } from './log-segment.js';
import { OffsetIndex } from './offset-index.js';
import { INDEX_SUFFIX, TIME_INDEX_SUFFIX, parseLogFileName } from './segment-names.js';
import { TimeIndex } from './time-index.js';

/** What loading found and did, for the log line and for tests. */
export interface LoadReport {
  readonly segmentCount: number;
  /** Bytes of log scanned batch by batch (framing and CRC). */
  readonly bytesScanned: number;
  /** Bytes cut from torn or corrupt tails, and whole segments dropped after a cut. */
  readonly bytesTruncated: number;
  readonly segmentsDropped: number;
  /** Segments whose index files were missing or untrusted and were rebuilt from the log. */
  readonly indexesRebuilt: number;
}

/**
 * Opens a partition directory and brings it to a state that can be trusted (Kafka's LogLoader).
 * Segments wholly below the recovery point are trusted, with their index files checked for
 * sanity and rebuilt from the log if they fail. From the recovery point on, every batch is
 * scanned (framing, CRC-32C, offset continuity); at the first bad one the segment is cut and all
 * later segments are dropped. A clean close leaves the recovery point at the log end, so only
 * the few batches after the active segment's last index entry are read.
 */
export async function loadSegments(
  directory: string, config: LogConfig, recoveryPoint: number | null, nowMs: number, logger: Logger,
): Promise<{ segments: LogSegment[]; report: LoadReport }> {
  const baseOffsets = await listSegments(directory, logger);
  if (baseOffsets.length === 0) {
    if (recoveryPoint !== null && recoveryPoint > 0) {
      logger.error({ recoveryPoint }, 'recovery point checkpoint names offsets but the directory has no segments; starting an empty log');
    }
    const segment = await LogSegment.create(directory, 0, config);
    await fsyncDirectory(directory);
    return { segments: [segment], report: emptyReport(1) };
  }
  const segments: LogSegment[] = [];
  for (const baseOffset of baseOffsets) segments.push(await LogSegment.open(directory, baseOffset, config, nowMs));
  const loader = new SegmentLoader(config, logger, recoveryPoint ?? 0);
  const kept = await loader.load(segments);
  await fsyncDirectory(directory);
  return { segments: kept, report: loader.report(kept.length) };
}

/** How the leader-epoch cache was obtained at open, for the log line and for tests. */
export type LeaderEpochLoad = 'checkpoint' | 'rebuilt';

/**
 * Opens the leader-epoch cache of a recovered log (see leader-epoch-cache.ts). A checkpoint that
 * is missing or cannot be believed is rebuilt from the partitionLeaderEpoch of every batch: a
 * scan of every segment's headers (framing and CRC were checked by recovery or are trusted),
 * which for a large log reads all of it — rare, since the file is only missing for a log written
 * before it existed or one an operator damaged. Entries past the recovered log end (a crash
 * after the checkpoint was written but before its batch was durable) and before the log start
 * (a crash between retention and its checkpoint) are dropped. The result is written back when
 * it differs from the file.
 */
export async function loadLeaderEpochCache(
  directory: string, segments: readonly LogSegment[], logger: Logger,
): Promise<{ cache: LeaderEpochCache; load: LeaderEpochLoad }> {
  const path = leaderEpochCheckpointPath(directory);
  const write: EpochEntriesWriter = (entries) => writeLeaderEpochCheckpoint(path, entries);
  const read = await readLeaderEpochCheckpoint(path);
  let cache: LeaderEpochCache;
  let load: LeaderEpochLoad = 'checkpoint';
  if (read.kind === 'read') {
    cache = new LeaderEpochCache(read.entries, write);
  } else {
    if (read.kind === 'invalid') logger.warn({ reason: read.reason }, 'leader-epoch checkpoint cannot be believed; rebuilding it from the log');
    cache = await rebuildLeaderEpochCache(segments, write);
    load = 'rebuilt';
  }
  const logStartOffset = segments[0]!.baseOffset;
  const logEndOffset = segments.at(-1)!.nextOffset;
  const droppedPastEnd = cache.truncateFromEnd(logEndOffset);
  cache.truncateFromStart(logStartOffset);
  if (droppedPastEnd) logger.warn({ logEndOffset }, 'leader-epoch checkpoint named epochs past the recovered log end; dropped them');
  // A rebuild of a log with no epochs has nothing worth a file; a missing file is rebuilt again, at no cost.
  if (load === 'rebuilt' && (read.kind === 'invalid' || cache.entries.length > 0)) cache.markDirty();
  await cache.flush();
  return { cache, load };
}

// Every batch says which leader epoch wrote it; -1 (no epoch) is skipped, as Kafka does.
async function rebuildLeaderEpochCache(segments: readonly LogSegment[], write: EpochEntriesWriter): Promise<LeaderEpochCache> {
  const cache = new LeaderEpochCache([], write);
  for (const segment of segments) {
    await segment.scan(0, ({ header }) => {
      if (header.partitionLeaderEpoch >= 0) cache.assign(header.partitionLeaderEpoch, header.baseOffset);
      return 'continue';
    });
  }
  return cache;
}

class SegmentLoader {
  private bytesScanned = 0;
  private bytesTruncated = 0;
  private segmentsDropped = 0;
  private indexesRebuilt = 0;

  constructor(private readonly config: LogConfig, private readonly logger: Logger, private readonly recoveryPoint: number) {}

  async load(found: LogSegment[]): Promise<LogSegment[]> {
    const { segments, endUnknown } = await this.removeEmptyBeforeLast(found);
    const firstToRecover = Math.max(0, findLastIndex(segments, (segment) => segment.baseOffset <= this.recoveryPoint));
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const previous = segments[i - 1];
      if (previous !== undefined && previous.nextOffset !== segment.baseOffset) {
        this.logger.warn({ segment: segment.baseOffset, expected: previous.nextOffset }, 'segment does not start where the previous one ends');
        await this.drop(segments.slice(i), previous);
        return segments.slice(0, i);
      }
      const indexesLoaded = await this.loadIndexes(segment, segments[i + 1]?.baseOffset ?? Number.MAX_SAFE_INTEGER);
      const trusted = i < firstToRecover && indexesLoaded && !endUnknown.has(segment);
      const cut = trusted
        ? this.trustUpTo(segment, segments[i + 1]!)
        : await this.recover(segment, indexesLoaded);
      if (!indexesLoaded || !trusted) await segment.writeIndexes();
      if (cut) {
        await this.drop(segments.slice(i + 1), segment);
        return segments.slice(0, i + 1);
      }
    }
    return segments;
  }

  // An empty .log before the last holds no data, and no roll leaves one (a new segment stays the
  // last until it takes a batch): it is debris, or a segment whose data was lost. Either way it
  // must not say where the segment before it ends, so it is deleted and that segment is scanned
  // to its end instead of trusted to end where the next one begins.
  private async removeEmptyBeforeLast(segments: readonly LogSegment[]): Promise<{ segments: LogSegment[]; endUnknown: Set<LogSegment> }> {
    const kept: LogSegment[] = [];
    const endUnknown = new Set<LogSegment>();
    for (const [i, segment] of segments.entries()) {
      if (!segment.isEmpty || i === segments.length - 1) {
        kept.push(segment);
        continue;
      }
      this.logger.warn({ segment: segment.baseOffset }, 'removing an empty segment that is not the last');
      await segment.delete();
      const before = kept.at(-1);
      if (before !== undefined) endUnknown.add(before);
    }
    return { segments: kept, endUnknown };
  }

  report(segmentCount: number): LoadReport {
    return {
      segmentCount, bytesScanned: this.bytesScanned, bytesTruncated: this.bytesTruncated,
      segmentsDropped: this.segmentsDropped, indexesRebuilt: this.indexesRebuilt,
    };
  }

  // A trusted segment ends where the next begins; nothing is read.
  private trustUpTo(segment: LogSegment, next: LogSegment): boolean {
    segment.nextOffset = next.baseOffset;
    return false;
  }

  // Scans from the recovery point (or the start), cutting at the first bad batch. Returns true
  // when anything was cut, so that later segments must go.
  private async recover(segment: LogSegment, indexesLoaded: boolean): Promise<boolean> {
    // An empty segment has nothing to scan or cut, and its indexes nothing to name.
    if (segment.isEmpty) {
      segment.adoptIndexes(new OffsetIndex(segment.baseOffset, this.config.indexBytesMax), new TimeIndex(segment.baseOffset, this.config.indexBytesMax));
      return false;
    }
    const indexed = indexesLoaded ? segment.offsetIndex.lookup(Math.max(this.recoveryPoint, segment.baseOffset)) : null;
    // An index entry is derived and may be wrong though sane; cutting the log where it points
    // would destroy good data. Start there only if a batch with that base offset does.
    const indexTrusted = indexed !== null && await batchStartsAt(segment, indexed);
    if (indexed !== null && !indexTrusted) {
      this.logger.warn({ segment: segment.baseOffset, position: indexed.position, offset: indexed.offset }, 'index entry does not name a batch; rebuilding the index from the log');
      segment.adoptIndexes(new OffsetIndex(segment.baseOffset, this.config.indexBytesMax), new TimeIndex(segment.baseOffset, this.config.indexBytesMax));
    }
    const from = indexTrusted ? indexed : { offset: segment.baseOffset, position: 0 };
    const sizeBefore = segment.sizeBytes;
    const { stop, bytesTruncated } = await segment.recover(from);
    this.bytesScanned += sizeBefore - from.position;
    if (!indexTrusted) this.indexesRebuilt += 1;
    if (bytesTruncated === 0) return false;
    this.bytesTruncated += bytesTruncated;
    this.logger.warn({
      segment: segment.baseOffset, position: stop.position, offset: segment.nextOffset, bytesTruncated,
      reason: stop.kind === 'end' || stop.kind === 'stopped' ? stop.kind : `${stop.kind}: ${stop.reason}`,
    }, 'recovery truncated the log at the first invalid batch');
    return true;
  }

  private async drop(later: readonly LogSegment[], cutAt: LogSegment): Promise<void> {
    for (const segment of later) {
      this.bytesTruncated += segment.sizeBytes;
      this.segmentsDropped += 1;
      this.logger.warn({ segment: segment.baseOffset, sizeBytes: segment.sizeBytes, after: cutAt.baseOffset }, 'recovery dropped a segment that follows a cut');
      await segment.delete();
    }
  }

  // Loads both index files if they pass a sanity check; false means "rebuild from the log".
  // `nextOffsetMax` bounds the offsets an index may name: the next segment's base, if any.
  private async loadIndexes(segment: LogSegment, nextOffsetMax: number): Promise<boolean> {
    const offsetBytes = await readIfPresent(segment.offsetIndexPath);
    const timeBytes = await readIfPresent(segment.timeIndexPath);
    if (offsetBytes === null || timeBytes === null) {
      if (segment.sizeBytes > 0) this.logger.info({ segment: segment.baseOffset }, 'index file missing; rebuilding it from the log');
      return false;
    }
    const offsetIndex = OffsetIndex.fromBytes(offsetBytes, segment.baseOffset, this.config.indexBytesMax, segment.sizeBytes);
    const timeIndex = TimeIndex.fromBytes(timeBytes, segment.baseOffset, this.config.indexBytesMax, nextOffsetMax);
    if (typeof offsetIndex === 'string' || typeof timeIndex === 'string') {
      const reason = typeof offsetIndex === 'string' ? `offset index: ${offsetIndex}` : `time index: ${String(timeIndex)}`;
      this.logger.warn({ segment: segment.baseOffset, reason }, 'index file fails its sanity check; rebuilding it from the log');
      return false;
    }
    segment.adoptIndexes(offsetIndex, timeIndex);
    return true;
  }
}

// Segment base offsets in order; removes debris of interrupted writes and orphaned indexes.
async function listSegments(directory: string, logger: Logger): Promise<number[]> {
  const names = await readdir(directory);
  const baseOffsets: number[] = [];
  for (const name of names) {
    const baseOffset = parseLogFileName(name);
    if (baseOffset !== null) baseOffsets.push(baseOffset);
  }
  const logPrefixes = new Set(baseOffsets.map((offset) => String(offset).padStart(20, '0')));
  for (const name of names) {
    const orphanIndex = (name.endsWith(INDEX_SUFFIX) || name.endsWith(TIME_INDEX_SUFFIX)) && !logPrefixes.has(name.slice(0, 20));
    if (name.endsWith('.tmp') || orphanIndex) {
      logger.info({ file: name }, 'removing leftover file');
      await unlinkIfPresent(join(directory, name));
    }
  }
  return baseOffsets.sort((a, b) => a - b);
}

// True when the bytes at `entry.position` are a batch starting at `entry.offset`, or a torn tail
// (which recovery must then cut where the index says a batch starts).
async function batchStartsAt(segment: LogSegment, entry: { offset: number; position: number }): Promise<boolean> {
  const seen = { baseOffset: null as number | null };
  const stop = await segment.scan(entry.position, (batch) => {
    seen.baseOffset = batch.header.baseOffset;
    return 'stop';
  });
  return stop.kind === 'torn' || seen.baseOffset === entry.offset;
}

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}

function emptyReport(segmentCount: number): LoadReport {
  return { segmentCount, bytesScanned: 0, bytesTruncated: 0, segmentsDropped: 0, indexesRebuilt: 0 };
}
