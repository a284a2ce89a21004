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

// Bounds one replay read; the replay loops until the log end.
const REPLAY_READ_BYTES = 1024 * 1024;

/**
 * Committed consumer offsets, as group coordinator (ARCHITECTURE.md section 5). A group's offsets
 * live in one `__consumer_offsets` partition (by hash of the group id); this broker coordinates
 * the groups of the partitions it leads. Those partitions are authoritative; the maps here are
 * derived from them: replayed when this broker becomes their leader, dropped when it stops, and
 * updated only after a commit is durable on every in-sync replica, so a reader never sees an
 * offset that a crash or a failover could take back.
 */
export class GroupOffsetStore {
  /** The offsets of each loaded partition; a partition absent here is not coordinated by this broker. */
  private readonly partitions = new Map<number, Map<string, OffsetValue>>();
  /** Bumped on every load and unload, so a replay overtaken by a newer role change is thrown away. */
  private readonly generations = new Map<number, number>();

  constructor(
    private readonly partitionCount: number,
    private readonly append: OffsetsAppender,
    private readonly nowMs: () => number,
  ) {}

  /** The `__consumer_offsets` partition holding a group's offsets. */
  partitionOf(group: string): number {
    return offsetsPartitionFor(group, this.partitionCount);
  }

  /**
   * Takes up one offsets partition: replays its whole log (to the log end: as new leader it holds
   * every acknowledged commit, and what it holds beyond them will be committed by its followers).
   * Returns the number of commits applied.
   */
  async load(partition: number, log: PartitionLog, logger: Logger): Promise<number> {
    const generation = this.bump(partition);
    this.partitions.delete(partition);
    const offsets = new Map<string, OffsetValue>();
    let applied = 0;
    const end = log.logEndOffset;
    for (let offset = log.logStartOffset; offset < end;) {
      const read = await log.read(offset, REPLAY_READ_BYTES, end);
      if (read.batchCount === 0) break;
      for (const record of recordsOf(read.bytes)) {
        if (apply(offsets, record.key, record.value, logger)) applied += 1;
      }
      offset = read.nextOffset;
    }
    if (this.generations.get(partition) === generation) this.partitions.set(partition, offsets);
    return applied;
  }

  /** Gives up one offsets partition (another broker leads it now). */
  unload(partition: number): void {
    this.bump(partition);
    this.partitions.delete(partition);
  }

  /** Commits offsets for a group; resolves when durable on every in-sync replica (one batch). */
  async commit(group: string, generationId: number, offsets: readonly OffsetToCommit[]): Promise<void> {
    // Group membership (join, heartbeat, generations) is not built yet: only simple commits,
    // generation -1, are meaningful, and anything else must not be accepted silently.
    if (generationId !== -1) throw new SluiceError('ILLEGAL_GENERATION', `generation ${generationId}: this broker serves only simple commits (generation -1)`);
    const partition = this.partitionOf(group);
    this.coordinated(group, partition);
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
    await this.append(partition, encodeRecordBatch({ records }));
    // Leadership may have moved while the append waited: the new coordinator replays it.
    const loaded = this.partitions.get(partition);
    for (const entry of offsets) loaded?.set(mapKey(group, entry.topic, entry.partition), { offset: entry.offset, metadata: entry.metadata, commitTimestamp });
  }

  /** The committed offset of a group's partition, or null when none was committed. Throws NOT_COORDINATOR elsewhere. */
  committed(group: string, topic: string, partition: number): OffsetValue | null {
    return this.coordinated(group, this.partitionOf(group)).get(mapKey(group, topic, partition)) ?? null;
  }

  private coordinated(group: string, partition: number): Map<string, OffsetValue> {
    const loaded = this.partitions.get(partition);
    if (loaded === undefined) throw new SluiceError('NOT_COORDINATOR', `group ${JSON.stringify(group)} is coordinated by the leader of ${OFFSETS_TOPIC}-${partition}`);
    return loaded;
  }

  private bump(partition: number): number {
    const generation = (this.generations.get(partition) ?? 0) + 1;
    this.generations.set(partition, generation);
    return generation;
  }
}

// A record the replay cannot read is skipped with a warning: one bad commit must not take the
// others down with it.
function apply(offsets: Map<string, OffsetValue>, key: Uint8Array | null, value: Uint8Array | null, logger: Logger): boolean {
  if (key === null) return false;
  try {
    const decodedKey = decodeOffsetKey(key);
    const name = mapKey(decodedKey.group, decodedKey.topic, decodedKey.partition);
    if (value === null) offsets.delete(name);
    else offsets.set(name, decodeOffsetValue(value));
    return true;
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    logger.warn({ err: error }, 'skipping an unreadable record in __consumer_offsets');
    return false;
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
