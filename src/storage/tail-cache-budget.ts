import { assert } from '../errors/assert.js';

/** What the budget can ask of a cache it charged. */
export interface BudgetedCache<E> {
  /** Evicts the cache's oldest entries through `entry`, if it still holds it. */
  evictThrough(entry: E): void;
}

interface Charge<E> {
  readonly cache: BudgetedCache<E>;
  readonly entry: E;
}

/** Charges already settled are dropped from the queue in one copy once this many have piled up at its head. */
const COMPACT_AFTER_CHARGES = 1024;

/**
 * One broker-wide byte budget over every partition's tail cache (`tailCacheTotalBytesMax`), on
 * top of each cache's own `tailCacheBytesMax`: a broker holding thousands of partitions would
 * otherwise keep up to their sum in memory. When a new charge takes the total over the budget,
 * the oldest charged entries of any cache are evicted first, so memory goes to what was written
 * most recently, which is what readers at the tail ask for. Charges are kept in the order they
 * were made; a cache that frees an entry itself (its own limit, or a cut of its tail) releases
 * its bytes at once, and the stale charge is skipped when it reaches the head of the queue.
 */
export class TailCacheBudget<E = unknown> {
  private charges: Array<Charge<E> | undefined> = [];
  private head = 0;
  private usedBytes = 0;

  constructor(readonly bytesMax: number) {
    assert(Number.isSafeInteger(bytesMax) && bytesMax >= 0, 'tail cache budget is a non-negative integer');
  }

  /** Bytes charged and not yet released, over every cache. */
  get sizeBytes(): number {
    return this.usedBytes;
  }

  /** `cache` now holds `entry`, which keeps `costBytes` of memory alive; evicts the oldest entries while over budget. */
  charge(cache: BudgetedCache<E>, entry: E, costBytes: number): void {
    this.usedBytes += costBytes;
    this.charges.push({ cache, entry });
    while (this.usedBytes > this.bytesMax && this.head < this.charges.length) {
      const oldest = this.charges[this.head]!;
      this.charges[this.head] = undefined;
      this.head += 1;
      // Releases what it frees (release() below), through the cache's own eviction path.
      oldest.cache.evictThrough(oldest.entry);
    }
    if (this.head >= COMPACT_AFTER_CHARGES && this.head * 2 >= this.charges.length) {
      this.charges = this.charges.slice(this.head);
      this.head = 0;
    }
  }

  /** A cache freed `costBytes` it had been charged for. */
  release(costBytes: number): void {
    this.usedBytes -= costBytes;
    assert(this.usedBytes >= 0, 'a tail cache releases no more than it was charged');
  }
}
