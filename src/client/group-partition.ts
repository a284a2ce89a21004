/**
 * Where a group's committed offsets live: the partition of `__consumer_offsets` whose leader is
 * the group's coordinator. The broker's own function is src/group/offset-commit-record.ts
 * (offsetsPartitionFor); the client may not import src/group (it runs in browsers and imports
 * only record and protocol), so the hash is repeated here, and
 * test/unit/client/group-partition.test.ts checks the two agree.
 */

/** The broker's internal topic of committed offsets. */
export const OFFSETS_TOPIC = '__consumer_offsets';

/**
 * The `__consumer_offsets` partition of `group`: Java's String.hashCode of the group id, made
 * non-negative as Kafka's Utils.abs does, modulo the partition count (Kafka's placement).
 */
export function offsetsPartitionFor(group: string, partitionCount: number): number {
  let hash = 0;
  for (let i = 0; i < group.length; i++) hash = (Math.imul(31, hash) + group.charCodeAt(i)) | 0;
  // Kafka's Utils.abs: Math.abs, except that Integer.MIN_VALUE maps to 0.
  return (hash === -(2 ** 31) ? 0 : Math.abs(hash)) % partitionCount;
}
