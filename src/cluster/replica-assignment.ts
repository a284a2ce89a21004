import { SluiceError } from '../errors/sluice-error.js';

/**
 * Replicas for each partition of a new topic, preferred leader first. Partition p's preferred
 * leader is the broker at `(startIndex + p) mod n` of the sorted live brokers and its followers
 * the next ones round the ring, so the preferred leaders of one topic spread over the brokers
 * within one partition of each other. Callers pass a `startIndex` that moves with the number of
 * partitions already in the cluster (as Kafka's random start does), so many small topics do not
 * all prefer the first broker.
 */
export function assignReplicas(partitionCount: number, replicationFactor: number, liveBrokerIds: readonly number[], startIndex: number): number[][] {
  const brokers = [...new Set(liveBrokerIds)].sort((a, b) => a - b);
  if (replicationFactor < 1 || replicationFactor > brokers.length) {
    throw new SluiceError('INVALID_REPLICATION_FACTOR', `replication factor ${replicationFactor} with ${brokers.length} live broker${brokers.length === 1 ? '' : 's'}`);
  }
  const start = ((startIndex % brokers.length) + brokers.length) % brokers.length;
  return Array.from({ length: partitionCount }, (_, partition) =>
    Array.from({ length: replicationFactor }, (_, replica) => brokers[(start + partition + replica) % brokers.length]!));
}
