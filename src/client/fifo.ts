/**
 * A first-in first-out queue with O(1) push and shift (Array.prototype.shift is O(n), which makes
 * draining a queue of n entries O(n^2)). Entries live in an array from `head` on; the consumed
 * prefix is dropped once it is at least half of the array.
 */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest entry, or undefined when empty. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T;
    this.head += 1;
    if (this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes the first entry equal to `item`; true when one was removed. */
  remove(item: T): boolean {
    const index = this.items.indexOf(item, this.head);
    if (index === -1) return false;
    this.items.splice(index, 1);
    return true;
  }

  /** Removes and returns every entry, oldest first. */
  drain(): T[] {
    const drained = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return drained;
  }

  [Symbol.iterator](): Iterator<T> {
    return this.items.slice(this.head)[Symbol.iterator]();
  }
}
