import { SluiceError } from '../errors/sluice-error.js';
import { LOG_OVERHEAD_BYTES, checkBatchFraming } from '../record/index.js';
import type { LeaderPartition } from './partition-manager.js';
import type { LeaderAcks } from './replication/partition-leadership.js';

/** Where a partition's records went. */
export interface PartitionAppendResult {
  readonly baseOffset: number;
  readonly logStartOffset: number;
}

/**
 * Appends the records of one partition of a Produce request: one or more RecordBatch v2 back to
 * back. Every batch is framed and validated before any is queued, so a request whose third
 * batch is damaged writes nothing; the promise settles as `acks` asks (1: durable on the
 * leader; -1: durable on every in-sync replica).
 */
export async function appendRecords(leader: LeaderPartition, records: Uint8Array, batchBytesMax: number, acks: LeaderAcks): Promise<PartitionAppendResult> {
  const results = await leader.appendBatches(splitBatches(records, batchBytesMax), acks);
  return { baseOffset: results[0]!.baseOffset, logStartOffset: leader.log.logStartOffset };
}

// Each batch is copied out of the frame: the log stamps offsets into the bytes it keeps, and the
// frame's buffer belongs to the connection.
function splitBatches(records: Uint8Array, batchBytesMax: number): Uint8Array[] {
  if (records.length === 0) throw new SluiceError('INVALID_RECORD', 'a produce request carries no record batch for a partition');
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const batches: Uint8Array[] = [];
  for (let position = 0; position < records.length;) {
    if (records.length - position >= LOG_OVERHEAD_BYTES) {
      const sizeBytes = view.getInt32(position + 8) + LOG_OVERHEAD_BYTES;
      if (sizeBytes > batchBytesMax) throw new SluiceError('MESSAGE_TOO_LARGE', `batch at byte ${position} declares ${sizeBytes} bytes, more than batchBytesMax ${batchBytesMax}`);
    }
    const framing = checkBatchFraming(records, position, batchBytesMax);
    if (framing.kind !== 'valid') throw new SluiceError('CORRUPT_MESSAGE', `batch at byte ${position}: ${framing.kind === 'end' ? 'nothing' : framing.reason}`);
    batches.push(records.slice(position, position + framing.sizeBytes));
    position += framing.sizeBytes;
  }
  return batches;
}
