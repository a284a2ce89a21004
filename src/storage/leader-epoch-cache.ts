import { join } from 'node:path';
import { assert } from '../errors/assert.js';
import { formatCheckpoint, parseCheckpointText, parseNonNegativeInteger, readCheckpointFile, type CheckpointRead } from './checkpoint-text.js';
import { writeFileAtomically } from './durable-file.js';

/**
 * The leader-epoch cache of one partition (Kafka's LeaderEpochFileCache): for each leader epoch
 * that wrote to the log, the first offset it wrote. Followers use it, through
 * OffsetForLeaderEpoch, to find where their log diverges from the leader's (KIP-101).
 *
 * It is derived state: every batch carries its partitionLeaderEpoch, so the cache can always be
 * rebuilt from the log (log-loader.ts, loadLeaderEpochCache). The file only saves that scan.
 *
 * File `<partitionDir>/leader-epoch-checkpoint`, Kafka's LeaderEpochCheckpointFile text format:
 *
 *   0             version
 *   2             number of entries
 *   0 0           epoch, startOffset (one line each, epochs strictly increasing,
 *   3 1200                            start offsets non-decreasing)
 *
 * Written atomically (temp, fsync, rename, fsync directory), one write at a time. The owner
 * writes it *before* the bytes of a batch with a new epoch reach the log, so the file is never
 * behind the log; it may be ahead after a crash, which open repairs by dropping entries at or past
 * the recovered log end (truncateFromEnd).
 */

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';

/** The wire value of "no epoch" and "no offset" in an EpochEndOffset (Kafka's UNDEFINED_EPOCH(_OFFSET)). */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

/** One epoch and the first offset it wrote. */
export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

/**
 * The answer to "where does epoch E end?": the largest known epoch <= E and the offset after its
 * last record. Both are UNDEFINED (-1) when there is no answer. It keeps Kafka's -1 rather than
 * null because it goes onto the wire (OffsetForLeaderEpoch) exactly as it is.
 */
export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: number;
}

export const UNDEFINED_EPOCH_END_OFFSET: EpochEndOffset = Object.freeze({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET });

/** Writes the entries somewhere durable; the cache calls it one call at a time. */
export type EpochEntriesWriter = (entries: readonly EpochEntry[]) => Promise<void>;

/**
 * The ordered (epoch, startOffset) entries in memory, and their persistence. Changes are made in
 * memory at once and marked dirty; `flush()` makes them durable. Pure logic apart from `flush`, so
 * it is unit-tested with plain values.
 */
export class LeaderEpochCache {
  private list: EpochEntry[];
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  /** `entries` must be ordered (checked); `write` persists them (null: nothing is persisted). */
  constructor(entries: readonly EpochEntry[], private readonly write: EpochEntriesWriter | null) {
    const problem = orderProblem(entries);
    assert(problem === null, `leader epoch entries are ordered: ${problem}`);
    this.list = [...entries];
  }

  /** The entries, oldest first. */
  get entries(): readonly EpochEntry[] {
    return this.list;
  }

  /** The newest epoch that wrote to the log, or null when none did. */
  get latestEpoch(): number | null {
    return this.list.at(-1)?.epoch ?? null;
  }

  get latestEntry(): EpochEntry | null {
    return this.list.at(-1) ?? null;
  }

  get earliestEntry(): EpochEntry | null {
    return this.list[0] ?? null;
  }

  /** True when memory holds changes that `flush()` has not yet written. */
  get isDirty(): boolean {
    return this.dirty;
  }

  /**
   * Records that `epoch` starts at `startOffset`. A no-op when `epoch` is already the latest
   * (and starts no later). Entries that would break the order (an epoch >= `epoch`, or a start
   * offset >= `startOffset`) are removed first, as Kafka does: they can only be left over from a
   * log end that has since been truncated. Returns true when anything changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    assert(Number.isSafeInteger(epoch) && epoch >= 0, `epoch ${epoch} is a non-negative integer`);
    assert(Number.isSafeInteger(startOffset) && startOffset >= 0, `startOffset ${startOffset} is a non-negative integer`);
    const latest = this.latestEntry;
    if (latest !== null && latest.epoch === epoch && latest.startOffset <= startOffset) return false;
    while (this.list.length > 0) {
      const last = this.list.at(-1)!;
      if (last.epoch < epoch && last.startOffset < startOffset) break;
      this.list.pop();
    }
    this.list.push({ epoch, startOffset });
    this.dirty = true;
    return true;
  }

  /**
   * Where `requestedEpoch` ends, with Kafka's semantics (LeaderEpochFileCache.endOffsetFor):
   * - UNDEFINED_EPOCH asked, or an epoch above every known one: UNDEFINED (-1, -1);
   * - the latest epoch: (it, logEndOffset), since it is still being written;
   * - an epoch below every known one: (requestedEpoch, start of the earliest known epoch) — the
   *   log before that is gone (retention), and a follower must not keep anything at or past it;
   * - otherwise: (the largest known epoch <= requestedEpoch, the start of the first known epoch
   *   > requestedEpoch). An unknown epoch between two known ones thus answers for the one below.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    if (requestedEpoch === UNDEFINED_EPOCH || this.list.length === 0) return UNDEFINED_EPOCH_END_OFFSET;
    if (requestedEpoch === this.latestEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higherIndex = this.list.findIndex((entry) => entry.epoch > requestedEpoch);
    if (higherIndex === -1) return UNDEFINED_EPOCH_END_OFFSET;
    const higher = this.list[higherIndex]!;
    if (higherIndex === 0) return { epoch: requestedEpoch, endOffset: higher.startOffset };
    return { epoch: this.list[higherIndex - 1]!.epoch, endOffset: higher.startOffset };
  }

  /** The log was truncated to end at `endOffset`: drops every entry starting at or after it. */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.list.length;
    while (this.list.length > 0 && this.list.at(-1)!.startOffset >= endOffset) this.list.pop();
    return this.markIf(this.list.length !== before);
  }

  /**
   * The log now starts at `startOffset` (retention): entries wholly before it go, and the epoch
   * that covers `startOffset` is kept with its start moved up to it (Kafka's truncateFromStart).
   */
  truncateFromStart(startOffset: number): boolean {
    let covering: EpochEntry | null = null;
    let removed = 0;
    while (this.list.length > 0 && this.list[0]!.startOffset <= startOffset) {
      covering = this.list.shift()!;
      removed += 1;
    }
    if (covering === null) return false;
    this.list.unshift({ epoch: covering.epoch, startOffset });
    return this.markIf(removed > 1 || covering.startOffset !== startOffset);
  }

  /** Makes the in-memory entries durable, after any write already under way; a no-op when clean. */
  flush(): Promise<void> {
    const next = this.writing.then(async () => {
      if (!this.dirty || this.write === null) return;
      // Cleared before the write: a change made during it marks the cache dirty again.
      this.dirty = false;
      try {
        await this.write([...this.list]);
      } catch (error) {
        this.dirty = true;
        throw error;
      }
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Makes the next `flush()` write even though nothing changed (to replace a bad or missing file). */
  markDirty(): void {
    this.dirty = true;
  }

  private markIf(changed: boolean): boolean {
    if (changed) this.dirty = true;
    return changed;
  }
}

/** Either the entries of a checkpoint, or why it could not be believed. */
export type LeaderEpochCheckpointRead = CheckpointRead<EpochEntry>;

/** The path of a partition directory's checkpoint. */
export function leaderEpochCheckpointPath(partitionDirectory: string): string {
  return join(partitionDirectory, LEADER_EPOCH_CHECKPOINT_FILE);
}

/** Writes the checkpoint atomically. */
export async function writeLeaderEpochCheckpoint(path: string, entries: readonly EpochEntry[]): Promise<void> {
  await writeFileAtomically(path, formatLeaderEpochCheckpoint(entries));
}

/** The checkpoint text of `entries`. */
export function formatLeaderEpochCheckpoint(entries: readonly EpochEntry[]): string {
  return formatCheckpoint(entries.map((entry) => `${entry.epoch} ${entry.startOffset}`));
}

/** Reads a checkpoint; never throws for bad contents, only reports them. */
export async function readLeaderEpochCheckpoint(path: string): Promise<LeaderEpochCheckpointRead> {
  return ordered(await readCheckpointFile(path, parseEpochEntry));
}

/** Parses checkpoint text; any deviation makes the whole file untrusted (it is rebuilt from the log). */
export function parseLeaderEpochCheckpoint(text: string): LeaderEpochCheckpointRead {
  return ordered(parseCheckpointText(text, parseEpochEntry));
}

function parseEpochEntry(line: string): EpochEntry | null {
  const fields = line.split(' ');
  const epoch = parseNonNegativeInteger(fields[0]);
  const startOffset = parseNonNegativeInteger(fields[1]);
  if (fields.length !== 2 || epoch === null || startOffset === null || epoch > 0x7fff_ffff) return null;
  return { epoch, startOffset };
}

function ordered(read: LeaderEpochCheckpointRead): LeaderEpochCheckpointRead {
  if (read.kind !== 'read') return read;
  const problem = orderProblem(read.entries);
  return problem === null ? read : { kind: 'invalid', reason: problem };
}

// Epochs strictly increase and start offsets never decrease; null when they do.
function orderProblem(entries: readonly EpochEntry[]): string | null {
  for (let i = 1; i < entries.length; i++) {
    const [previous, entry] = [entries[i - 1]!, entries[i]!];
    if (entry.epoch <= previous.epoch) return `epoch ${entry.epoch} follows epoch ${previous.epoch}`;
    if (entry.startOffset < previous.startOffset) return `epoch ${entry.epoch} starts at ${entry.startOffset}, before epoch ${previous.epoch} at ${previous.startOffset}`;
  }
  return null;
}
