import { BASE_OFFSET_POSITION, PARTITION_LEADER_EPOCH_POSITION } from './record-batch-format.js';

/**
 * Writes baseOffset and partitionLeaderEpoch into a batch in place. Both lie outside the CRC,
 * which is why the leader can assign them to a client's bytes without re-encoding or
 * recomputing anything.
 */
export function stampBatch(batch: Uint8Array, baseOffset: number, partitionLeaderEpoch: number): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  view.setBigInt64(BASE_OFFSET_POSITION, BigInt(baseOffset));
  view.setInt32(PARTITION_LEADER_EPOCH_POSITION, partitionLeaderEpoch);
}
