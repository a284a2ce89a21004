import { assert } from '../errors/assert.js';

/**
 * An in-memory sorted list of (key, value) pairs, both non-decreasing, answering "the last entry
 * whose key is at most k". The offset index and the time index are both this, with different
 * keys and on-disk encodings. Derived state: it can always be rebuilt from the log.
 */
export class SparseIndex {
  private keys: Float64Array;
  private values: Float64Array;
  private count = 0;

  constructor(readonly entriesMax: number, capacityInitial = 64) {
    assert(entriesMax > 0, 'an index holds at least one entry');
    this.keys = new Float64Array(Math.min(capacityInitial, entriesMax));
    this.values = new Float64Array(this.keys.length);
  }

  get entryCount(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.entriesMax;
  }

  /** The last entry, or null when empty. */
  last(): { key: number; value: number } | null {
    if (this.count === 0) return null;
    return { key: this.keys[this.count - 1]!, value: this.values[this.count - 1]! };
  }

  /** Entry `i` (0-based). */
  entry(i: number): { key: number; value: number } {
    assert(i >= 0 && i < this.count, `index entry ${i} of ${this.count}`);
    return { key: this.keys[i]!, value: this.values[i]! };
  }

  /** The values of every entry, in order: a view, valid until the next append or truncation. */
  valueList(): Float64Array {
    return this.values.subarray(0, this.count);
  }

  /** Appends an entry; keys and values must not decrease. */
  append(key: number, value: number): void {
    assert(!this.isFull, 'append to a full index');
    const last = this.last();
    assert(last === null || (key >= last.key && value >= last.value), `index entry (${key}, ${value}) goes backwards`);
    if (this.count === this.keys.length) this.grow();
    this.keys[this.count] = key;
    this.values[this.count] = value;
    this.count += 1;
  }

  /** The last entry whose key is at most `key`, or null when every key is larger. */
  floor(key: number): { key: number; value: number } | null {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.keys[middle]! <= key) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found === -1 ? null : { key: this.keys[found]!, value: this.values[found]! };
  }

  /** Drops every entry whose value is at least `value`. */
  truncateFromValue(value: number): void {
    while (this.count > 0 && this.values[this.count - 1]! >= value) this.count -= 1;
  }

  /** Drops every entry whose key is at least `key`. */
  truncateFromKey(key: number): void {
    while (this.count > 0 && this.keys[this.count - 1]! >= key) this.count -= 1;
  }

  private grow(): void {
    const capacity = Math.min(this.keys.length * 2, this.entriesMax);
    const keys = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    keys.set(this.keys);
    values.set(this.values);
    this.keys = keys;
    this.values = values;
  }
}
