import { partitionForKey } from './murmur2.js';

/**
 * Kafka's default partitioning (KIP-480 and its successor KIP-794, simplified):
 *
 * - a record with an explicit partition goes there;
 * - a record with a key goes to `toPositive(murmur2(key)) % partitionCount`, exactly as the Java
 *   client would put it, so a topic shared with Kafka tools agrees on where a key lives;
 * - a record without a key goes to the topic's *sticky* partition, which changes only when a
 *   batch for it is sealed (full or lingered): null-key records fill whole batches instead of
 *   spreading one record per partition, and over time spread evenly.
 *
 * State: one sticky partition per topic (derived, in memory). Randomness is injected.
 */
export class DefaultPartitioner {
  private readonly sticky = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random) {}

  /** The partition of a record of `topic` with `keyBytes` (null: no key). */
  partition(topic: string, keyBytes: Uint8Array | null, partitionCount: number): number {
    if (keyBytes !== null) return partitionForKey(keyBytes, partitionCount);
    const current = this.sticky.get(topic);
    if (current !== undefined && current < partitionCount) return current;
    const chosen = this.randomPartition(partitionCount);
    this.sticky.set(topic, chosen);
    return chosen;
  }

  /**
   * A batch of `topic`/`partition` was sealed: if that was the sticky partition, later null-key
   * records go to another one (chosen at random among the others).
   */
  onBatchSealed(topic: string, partition: number, partitionCount: number): void {
    if (this.sticky.get(topic) !== partition || partitionCount <= 1) return;
    const other = this.randomPartition(partitionCount - 1);
    this.sticky.set(topic, other >= partition ? other + 1 : other);
  }

  private randomPartition(count: number): number {
    return Math.min(count - 1, Math.floor(this.random() * count));
  }
}
