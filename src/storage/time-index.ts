import { assert } from '../errors/assert.js';
import { SparseIndex } from './sparse-index.js';

/**
 * The `.timeindex` file of a segment: a sparse map from "largest timestamp so far" to the first
 * offset of the batch that raised it. On disk, as Kafka's TimeIndex:
 *
 *   entry (12 bytes) = timestamp i64 BE (ms) | relativeOffset u32 BE
 *
 * Entries are added at the same byte interval as the offset index, and only when the largest
 * timestamp grew, so both columns increase. Derived: rebuilt from the log like the offset index.
 */
export const TIME_INDEX_ENTRY_BYTES = 12;

/** Timestamp → offset for one segment. */
export class TimeIndex {
  private readonly index: SparseIndex;

  constructor(readonly baseOffset: number, indexBytesMax: number) {
    this.index = new SparseIndex(Math.floor(indexBytesMax / TIME_INDEX_ENTRY_BYTES));
  }

  get isFull(): boolean {
    return this.index.isFull;
  }

  /** The largest timestamp indexed, or null when empty. */
  get lastTimestamp(): number | null {
    return this.index.last()?.key ?? null;
  }

  /** The last entry, or null when empty. */
  lastEntry(): { timestamp: number; offset: number } | null {
    const entry = this.index.last();
    return entry === null ? null : { timestamp: entry.key, offset: entry.value };
  }

  /** Records that the batch at `offset` raised the largest timestamp to `timestamp`. */
  append(timestamp: number, offset: number): void {
    assert(offset - this.baseOffset <= 0xffffffff, 'relative offset fits in u32');
    this.index.append(timestamp, offset);
  }

  /**
   * An offset from which to scan for the first record with a timestamp of at least `timestamp`:
   * the offset of the last entry whose timestamp is below it (every record before that entry's
   * batch has a smaller timestamp), or the segment start.
   */
  lookup(timestamp: number): number {
    const entry = this.index.floor(timestamp - 1);
    return entry === null ? this.baseOffset : entry.value;
  }

  /** Forgets entries at or past `offset`. */
  truncateToOffset(offset: number): void {
    this.index.truncateFromValue(offset);
  }

  /** The file contents. */
  toBytes(): Buffer {
    const bytes = Buffer.alloc(this.index.entryCount * TIME_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.index.entryCount; i++) {
      const { key, value } = this.index.entry(i);
      bytes.writeBigInt64BE(BigInt(key), i * TIME_INDEX_ENTRY_BYTES);
      bytes.writeUInt32BE(value - this.baseOffset, i * TIME_INDEX_ENTRY_BYTES + 8);
    }
    return bytes;
  }

  /** Loads a file's contents, or says why they cannot be trusted. */
  static fromBytes(bytes: Uint8Array, baseOffset: number, indexBytesMax: number, nextOffset: number): TimeIndex | string {
    if (bytes.length % TIME_INDEX_ENTRY_BYTES !== 0) return `size ${bytes.length} is not a multiple of ${TIME_INDEX_ENTRY_BYTES}`;
    if (bytes.length > indexBytesMax) return `size ${bytes.length} exceeds indexBytesMax ${indexBytesMax}`;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const index = new TimeIndex(baseOffset, indexBytesMax);
    let previous = { timestamp: Number.NEGATIVE_INFINITY, offset: -1 };
    for (let at = 0; at < bytes.length; at += TIME_INDEX_ENTRY_BYTES) {
      const timestamp = Number(view.getBigInt64(at));
      const offset = baseOffset + view.getUint32(at + 8);
      if (timestamp <= previous.timestamp || offset <= previous.offset) return `entry ${at / TIME_INDEX_ENTRY_BYTES} does not increase`;
      if (offset >= nextOffset) return `entry ${at / TIME_INDEX_ENTRY_BYTES} names offset ${offset}, past the log's end ${nextOffset}`;
      index.append(timestamp, offset);
      previous = { timestamp, offset };
    }
    return index;
  }
}
