import { assert } from '../errors/assert.js';
import { SparseIndex } from './sparse-index.js';

/**
 * The `.index` file of a segment: a sparse map from offset to file position, one entry per
 * `indexIntervalBytes` of log. On disk, as Kafka's OffsetIndex:
 *
 *   entry (8 bytes) = relativeOffset u32 BE (offset - segment base offset) | position u32 BE
 *
 * An entry names the first offset of a batch and where that batch starts. The file is derived:
 * it is rewritten from memory at roll and close, and rebuilt from the log when it is missing,
 * torn or insane.
 */
export const OFFSET_INDEX_ENTRY_BYTES = 8;

/** Offset → position for one segment. */
export class OffsetIndex {
  private readonly index: SparseIndex;

  constructor(readonly baseOffset: number, indexBytesMax: number) {
    this.index = new SparseIndex(Math.floor(indexBytesMax / OFFSET_INDEX_ENTRY_BYTES));
  }

  get entryCount(): number {
    return this.index.entryCount;
  }

  get isFull(): boolean {
    return this.index.isFull;
  }

  /** Records that the batch starting at `offset` starts at byte `position`. */
  append(offset: number, position: number): void {
    assert(offset - this.baseOffset <= 0xffffffff, 'relative offset fits in u32');
    this.index.append(offset, position);
  }

  /** Where to start scanning for `offset`: the position of the last indexed batch at or before it. */
  lookup(offset: number): { offset: number; position: number } {
    const entry = this.index.floor(offset);
    return entry === null ? { offset: this.baseOffset, position: 0 } : { offset: entry.key, position: entry.value };
  }

  /** The positions of every entry, in order (starts of batches): a view, valid until the index changes. */
  positions(): Float64Array {
    return this.index.valueList();
  }

  /** The last entry, or the segment start when there is none. */
  lastEntry(): { offset: number; position: number } {
    const entry = this.index.last();
    return entry === null ? { offset: this.baseOffset, position: 0 } : { offset: entry.key, position: entry.value };
  }

  /** Forgets entries at or past `position` (the log was truncated there). */
  truncateToPosition(position: number): void {
    this.index.truncateFromValue(position);
  }

  /** The file contents. */
  toBytes(): Buffer {
    const bytes = Buffer.alloc(this.index.entryCount * OFFSET_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.index.entryCount; i++) {
      const { key, value } = this.index.entry(i);
      bytes.writeUInt32BE(key - this.baseOffset, i * OFFSET_INDEX_ENTRY_BYTES);
      bytes.writeUInt32BE(value, i * OFFSET_INDEX_ENTRY_BYTES + 4);
    }
    return bytes;
  }

  /**
   * Loads a file's contents, or says why they cannot be trusted: a size that is not a whole
   * number of entries, entries that go backwards, or a position at or past the log's end.
   */
  static fromBytes(bytes: Uint8Array, baseOffset: number, indexBytesMax: number, logSizeBytes: number): OffsetIndex | string {
    if (bytes.length % OFFSET_INDEX_ENTRY_BYTES !== 0) return `size ${bytes.length} is not a multiple of ${OFFSET_INDEX_ENTRY_BYTES}`;
    if (bytes.length > indexBytesMax) return `size ${bytes.length} exceeds indexBytesMax ${indexBytesMax}`;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const index = new OffsetIndex(baseOffset, indexBytesMax);
    let previous = { offset: -1, position: -1 };
    for (let at = 0; at < bytes.length; at += OFFSET_INDEX_ENTRY_BYTES) {
      const offset = baseOffset + view.getUint32(at);
      const position = view.getUint32(at + 4);
      if (offset <= previous.offset || position <= previous.position) return `entry ${at / OFFSET_INDEX_ENTRY_BYTES} does not increase`;
      if (position >= logSizeBytes) return `entry ${at / OFFSET_INDEX_ENTRY_BYTES} points at ${position}, past the log's ${logSizeBytes} bytes`;
      index.append(offset, position);
      previous = { offset, position };
    }
    return index;
  }
}
