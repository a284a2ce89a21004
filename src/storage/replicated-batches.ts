import { SluiceError } from '../errors/sluice-error.js';
import { checkBatchFraming, lastOffsetOf } from '../record/index.js';
import type { BatchToWrite } from './log-segment.js';

/**
 * A replicated batch that does not continue the log: its baseOffset is not the log end offset
 * (or the previous batch's last offset + 1). Typed so that a follower can tell it from damage
 * (CORRUPT_MESSAGE) and re-fetch from `expectedOffset` or truncate.
 */
export class ReplicaOffsetMismatchError extends SluiceError {
  constructor(readonly expectedOffset: number, readonly batchBaseOffset: number) {
    super('INVALID_RECORD', `replicated batch has baseOffset ${batchBaseOffset}, the log expects ${expectedOffset}`);
  }
}

/** Where the follower's log stands, for checking what the leader sent. */
export interface ReplicaLogEnd {
  /** The offset the first batch must start at (the log end offset). */
  readonly logEndOffset: number;
  /** The newest leader epoch in the log, or null for none. */
  readonly latestEpoch: number | null;
  readonly batchBytesMax: number;
}

/**
 * Splits the records of a replica fetch into batches and checks them as one unit, before any is
 * written: framing and CRC hold, offsets continue the log without a gap or overlap, and leader
 * epochs never go back. A batch with leader epoch -1 (written before epochs) is taken as it is.
 * The batches are views of `records`.
 */
export function splitReplicatedBatches(records: Uint8Array, end: ReplicaLogEnd): BatchToWrite[] {
  const checked: BatchToWrite[] = [];
  let expectedOffset = end.logEndOffset;
  let latestEpoch = end.latestEpoch ?? -1;
  for (let at = 0; at < records.length;) {
    const framing = checkBatchFraming(records, at, end.batchBytesMax);
    if (framing.kind === 'end') break;
    if (framing.kind !== 'valid') {
      const problem = framing.kind === 'corrupt' && framing.reason.startsWith('batch size') ? 'MESSAGE_TOO_LARGE' : 'CORRUPT_MESSAGE';
      throw new SluiceError(problem, `replicated batch at byte ${at} (expected offset ${expectedOffset}): ${framing.reason}`);
    }
    const header = framing.header;
    if (header.baseOffset !== expectedOffset) throw new ReplicaOffsetMismatchError(expectedOffset, header.baseOffset);
    if (header.lastOffsetDelta < 0) throw new SluiceError('INVALID_RECORD', `replicated batch at offset ${expectedOffset} has lastOffsetDelta ${header.lastOffsetDelta}`);
    if (header.partitionLeaderEpoch >= 0 && header.partitionLeaderEpoch < latestEpoch) {
      throw new SluiceError('INVALID_RECORD', `replicated batch at offset ${expectedOffset} has leader epoch ${header.partitionLeaderEpoch}, older than ${latestEpoch}`);
    }
    latestEpoch = Math.max(latestEpoch, header.partitionLeaderEpoch);
    checked.push({ bytes: records.subarray(at, at + framing.sizeBytes), header });
    expectedOffset = lastOffsetOf(header) + 1;
    at += framing.sizeBytes;
  }
  return checked;
}
