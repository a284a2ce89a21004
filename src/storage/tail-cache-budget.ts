import { assert } from '../errors/assert.js';

/** What the budget can ask of a cache it charged. */
export interface BudgetedCache<E> {
  /** Evicts the cache's oldest entries through `entry`, if it still holds it. */
  evictThrough(entry: E): void;
}

/**
 * One entry's charge against the budget. Released, it forgets its cache and entry at once, so a
 * charge waiting in the queue never keeps the memory of an entry its cache has freed.
 */
export interface BudgetCharge<E> {
  cache: BudgetedCache<E> | null;
  entry: E | null;
  readonly costBytes: number;
}

/** Released charges are dropped from the queue in one pass once this many have piled up (and they are most of it). */
const COMPACT_AFTER_RELEASED = 1024;

/**
 * One broker-wide byte budget over every partition's tail cache (`tailCacheTotalBytesMax`), on
 * top of each cache's own `tailCacheBytesMax`: a broker holding thousands of partitions would
 * otherwise keep up to their sum in memory. When a new charge takes the total over the budget,
 * the oldest charged entries of any cache are evicted first, so memory goes to what was written
 * most recently, which is what readers at the tail ask for. Charges are queued in the order they
 * were made; a cache that frees an entry itself (its own limit, or a cut of its tail) releases
 * its charge at once, and released charges are skipped at the head of the queue and dropped from
 * it in bulk, so the queue stays proportional to what is cached.
 */
export class TailCacheBudget<E = unknown> {
  private charges: Array<BudgetCharge<E> | undefined> = [];
  private head = 0;
  private usedBytes = 0;
  private releasedInQueue = 0;
  private evicting = false;

  constructor(readonly bytesMax: number) {
    assert(Number.isSafeInteger(bytesMax) && bytesMax >= 0, 'tail cache budget is a non-negative integer');
  }

  /** Bytes charged and not yet released, over every cache. */
  get sizeBytes(): number {
    return this.usedBytes;
  }

  /** Charges waiting in the queue, released ones included (for tests: it must stay bounded). */
  get queuedCharges(): number {
    return this.charges.length - this.head;
  }

  /**
   * `cache` now holds `entry`, which keeps `costBytes` of memory alive; evicts the oldest entries
   * while over budget. The cache must release the returned charge when it frees the entry.
   */
  charge(cache: BudgetedCache<E>, entry: E, costBytes: number): BudgetCharge<E> {
    const charge: BudgetCharge<E> = { cache, entry, costBytes };
    this.usedBytes += costBytes;
    this.charges.push(charge);
    this.evicting = true;
    while (this.usedBytes > this.bytesMax && this.head < this.charges.length) {
      const oldest = this.charges[this.head]!;
      this.charges[this.head] = undefined;
      this.head += 1;
      if (oldest.cache !== null) {
        // The cache releases what it frees (release() below) through its own eviction path. A
        // charge it did not release (its entry was evicted before the charge was made) is
        // released here, or nothing ever would.
        oldest.cache.evictThrough(oldest.entry!);
        this.release(oldest);
      }
      this.releasedInQueue -= 1;
    }
    this.evicting = false;
    this.compact();
    return charge;
  }

  /** The cache freed the entry of `charge`. */
  release(charge: BudgetCharge<E>): void {
    if (charge.cache === null) return;
    charge.cache = null;
    charge.entry = null;
    this.usedBytes -= charge.costBytes;
    this.releasedInQueue += 1;
    assert(this.usedBytes >= 0, 'a tail cache releases no more than it was charged');
    this.compact();
  }

  // Not while charge() walks the queue: its head must stay where it is.
  private compact(): void {
    if (this.evicting) return;
    if (this.head >= COMPACT_AFTER_RELEASED && this.head * 2 >= this.charges.length) {
      this.charges = this.charges.slice(this.head);
      this.head = 0;
    }
    if (this.releasedInQueue >= COMPACT_AFTER_RELEASED && this.releasedInQueue * 2 >= this.charges.length - this.head) {
      this.charges = this.charges.slice(this.head).filter((charge) => charge !== undefined && charge.cache !== null);
      this.head = 0;
      this.releasedInQueue = 0;
    }
  }
}
