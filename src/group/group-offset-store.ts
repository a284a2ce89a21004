import type { Logger } from 'pino';
import { SluiceError } from '../errors/sluice-error.js';
import { decodeRecords, encodeRecordBatch, type Record } from '../record/index.js';
import type { PartitionLog } from '../storage/partition-log.js';
import {
  decodeOffsetKey, decodeOffsetValue, encodeOffsetKey, encodeOffsetValue, offsetsPartitionFor, type OffsetValue,
} from './offset-commit-record.js';

/** The internal topic holding committed offsets. */
export const OFFSETS_TOPIC = '__consumer_offsets';

/** One offset to commit. */
export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string | null;
}

/** Appends one batch to an offsets partition and resolves when it is durable. */
export type OffsetsAppender = (partition: number, batch: Uint8Array) => Promise<void>;

// Bounds one replay read; the replay loops until the high watermark.
const REPLAY_READ_BYTES = 1024 * 1024;

/**
 * Committed consumer offsets, as group coordinator (ARCHITECTURE.md section 5). The
 * `__consumer_offsets` partitions are authoritative; the map here is derived from them: replayed
 * at start, and updated only after a commit is durable, so a reader never sees an offset that a
 * crash could take back.
 */
export class GroupOffsetStore {
  private readonly offsets = new Map<string, OffsetValue>();

  constructor(
    private readonly partitionCount: number,
    private readonly append: OffsetsAppender,
    private readonly nowMs: () => number,
  ) {}

  /** Replays one offsets partition into memory (call for each partition at start). */
  async replay(log: PartitionLog, logger: Logger): Promise<number> {
    let applied = 0;
    for (let offset = log.logStartOffset; offset < log.highWatermark;) {
      const read = await log.read(offset, REPLAY_READ_BYTES, log.highWatermark);
      if (read.batchCount === 0) break;
      for (const record of recordsOf(read.bytes)) {
        if (this.apply(record.key, record.value, logger)) applied += 1;
      }
      offset = read.nextOffset;
    }
    return applied;
  }

  /** Commits offsets for a group; resolves when durable (one batch, one fsync). */
  async commit(group: string, generationId: number, offsets: readonly OffsetToCommit[]): Promise<void> {
    // Group membership (join, heartbeat, generations) is not built yet: only simple commits,
    // generation -1, are meaningful, and anything else must not be accepted silently.
    if (generationId !== -1) throw new SluiceError('ILLEGAL_GENERATION', `generation ${generationId}: this broker serves only simple commits (generation -1)`);
    if (offsets.length === 0) return;
    const commitTimestamp = this.nowMs();
    const records: Record[] = offsets.map((entry) => {
      if (entry.offset < 0) throw new SluiceError('INVALID_REQUEST', `negative offset ${entry.offset} for ${entry.topic}-${entry.partition}`);
      return {
        key: encodeOffsetKey({ group, topic: entry.topic, partition: entry.partition }),
        value: encodeOffsetValue({ offset: entry.offset, metadata: entry.metadata, commitTimestamp }),
        headers: [],
        timestamp: commitTimestamp,
      };
    });
    await this.append(offsetsPartitionFor(group, this.partitionCount), encodeRecordBatch({ records }));
    for (const entry of offsets) this.offsets.set(mapKey(group, entry.topic, entry.partition), { offset: entry.offset, metadata: entry.metadata, commitTimestamp });
  }

  /** The committed offset of a group's partition, or null when none was committed. */
  committed(group: string, topic: string, partition: number): OffsetValue | null {
    return this.offsets.get(mapKey(group, topic, partition)) ?? null;
  }

  // A record the replay cannot read is skipped with a warning: one bad commit must not take the
  // others down with it.
  private apply(key: Uint8Array | null, value: Uint8Array | null, logger: Logger): boolean {
    if (key === null) return false;
    try {
      const decodedKey = decodeOffsetKey(key);
      const name = mapKey(decodedKey.group, decodedKey.topic, decodedKey.partition);
      if (value === null) this.offsets.delete(name);
      else this.offsets.set(name, decodeOffsetValue(value));
      return true;
    } catch (error) {
      if (!(error instanceof SluiceError)) throw error;
      logger.warn({ err: error }, 'skipping an unreadable record in __consumer_offsets');
      return false;
    }
  }
}

function mapKey(group: string, topic: string, partition: number): string {
  return `${group}\u0000${topic}\u0000${partition}`;
}

function* recordsOf(bytes: Uint8Array): Generator<{ key: Uint8Array | null; value: Uint8Array | null }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length;) {
    const size = view.getInt32(at + 8) + 12;
    yield* decodeRecords(bytes.subarray(at, at + size));
    at += size;
  }
}
